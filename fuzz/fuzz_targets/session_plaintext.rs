//! Fuzzes the MTProto session, server side: any bytes become a sequence of decrypted client
//! messages (service messages, containers, gzip, calls in their wrappers, duplicates, skewed
//! msg_ids, wrong salts) plus clock, answer, reconnect and timer steps, fed to one auth key's
//! `AuthKeySessions`.
//!
//! The driver and its invariants live in `mtproto/tests/session_support/session_ops.rs`,
//! shared with `mtproto/tests/session_fuzz_corpus.rs`, which replays
//! `corpus/session_plaintext/` in the ordinary test run. It panics when an invariant breaks:
//! the session panics; something it sends does not decode or has an even or non-increasing
//! msg_id; a call is handed out twice; an answer to a waiting call is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../mtproto/tests/session_support/session_ops.rs"]
mod session_ops;

fuzz_target!(|data: &[u8]| {
    session_ops::run(data);
});
