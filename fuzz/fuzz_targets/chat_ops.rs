//! Fuzzes the secret-chat state machine: any bytes become a sequence of operations on two
//! chats joined by an in-memory network (send, deliver, drop, duplicate, reorder, tamper,
//! advance time, re-key, hostile actions, raw bytes to `handle_encrypted`).
//!
//! The driver and its invariants live in `common/tests/chat_support/chat_ops.rs`, shared
//! with `common/tests/chat_fuzz_corpus.rs`, which replays `corpus/chat_ops/` in the ordinary
//! test run. It panics when an invariant breaks: a chat panics; a chat that has not aborted
//! delivers a random_id twice; a delivered message is not one the other side sent.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../common/tests/chat_support/chat_ops.rs"]
mod chat_ops;

fuzz_target!(|data: &[u8]| {
    chat_ops::run(data);
});
