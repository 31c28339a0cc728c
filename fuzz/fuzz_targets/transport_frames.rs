//! Fuzzes the MTProto transports' frame decoders: any bytes become a TCP stream read by a
//! server (transport detection from the first bytes — each tag, full, obfuscated2, HTTP,
//! TLS — then frames), a stream read by a client of one of ten flavours, or a stream of real
//! frames of a flavour with one bit flipped or cut short, fed in chunks of any size.
//!
//! The driver and its invariants live in `mtproto/tests/transport_support/frames.rs`, shared
//! with `mtproto/tests/transport_fuzz_corpus.rs`, which replays `corpus/transport_frames/` in
//! the ordinary test run. It panics when an invariant breaks: a frame empty or over the
//! limit, an error that does not stay, an untampered stream that does not deliver exactly
//! what was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../mtproto/tests/transport_support/frames.rs"]
mod frames;

fuzz_target!(|data: &[u8]| {
    frames::run(data);
});
