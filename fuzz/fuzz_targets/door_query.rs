//! Fuzz target: any bytes as an API query of the MTProto door, decoded at layer 229 or 158
//! and run, as a signed-in device or an auth key that is not signed in. The door must answer
//! every input with a TL result or an `rpc_error` with a code and a message — never panic.
//!
//! The work is `secretchat_server::fuzzing::handle_arbitrary_query`, shared with the stable
//! replay test `server/tests/fuzz_corpus.rs`, which runs every file of
//! `fuzz/corpus/door_query/` exactly as this target does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = secretchat_server::fuzzing::handle_arbitrary_query(data) {
        panic!("{failure}");
    }
});
