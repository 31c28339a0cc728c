//! Fuzz the strict TL decoder: any bytes must decode to an object or a `DecodeError`,
//! never a panic, and whatever decodes must re-encode stably. The seed corpus in
//! `corpus/tl_decode/` is the TL of the known-answer vectors; `common/tests/tl_fuzz_corpus.rs`
//! replays it through the same function on stable Rust.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = secretchat_common::tl::decode_and_check_roundtrip(data);
});
