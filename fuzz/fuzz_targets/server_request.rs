//! Fuzz target: any bytes as the body of any client API method, through the whole router
//! (token check, JSON parsing into the generated TL function type, the method itself).
//! The first byte picks the method; the rest is the body. The server must answer every
//! input with a TL result or a Telegram-shaped `rpc_error` — never panic, never a 5xx.
//!
//! The work is `secretchat_server::fuzzing::handle_arbitrary_request`, shared with the
//! stable replay test `server/tests/fuzz_corpus.rs`, which runs every file of
//! `fuzz/corpus/server_request/` exactly as this target does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = secretchat_server::fuzzing::handle_arbitrary_request(data) {
        panic!("{failure}");
    }
});
