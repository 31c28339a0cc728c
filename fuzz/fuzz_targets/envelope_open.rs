//! Fuzzes `envelope::open_any`: any bytes claimed to be an encrypted message must be
//! refused with an error, never a panic.
//!
//! The key is the vectors' key A, so the seeds in `corpus/envelope_open/` (real wires from
//! `vectors.json`) pass the fingerprint check and the fuzzer explores the decrypting steps.
//! `common/tests/envelope_fuzz_corpus.rs` replays the corpus in the ordinary test run.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use secretchat_common::{envelope, ChatKey};

/// Key A of `vectors/vectors.json` (the same constant as in `envelope_fuzz_corpus.rs`).
const KEY_HEX: &str = "20422e31ce781649d224775e4205384ced25c77b911a9ea2b1e83b982f90208c9e6589abf153613816f2f172a0fbc381de1fc9205d82c5409a0cff3581c3b10ea4bfcb38617334b6a2c09241b1f64ac23885b35316862e4e0a7ba122db3ba9e43510822d7cfbb360221003cc2d988af181a0164f5339a4a89892eb233ea9c7cb94a2b7dc3c1bf65013b909ea7b097da51e6adcfa0623c7cf94d1adffcf3fe33bddfec1b8035b2fb4ee7e18a710a8298a4713cb7df1f2b2096b5f3efaa77e053e6a89f95344324b28b3c4c198ee5563c0d6ba91f7eef6b607ceb663010b25ef7d46399d79d7e3c9159970e03e02a6e19e34a991e1a07e939aa42e3a7225437d27";

fn fixed_key() -> &'static ChatKey {
    static KEY: OnceLock<ChatKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let bytes: Vec<u8> = (0..KEY_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&KEY_HEX[i..i + 2], 16).expect("constant hex"))
            .collect();
        ChatKey::from_bytes(&bytes).expect("constant 256-byte key")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = envelope::open_any(fixed_key(), data);
});
