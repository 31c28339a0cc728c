//! Fuzz target: any bytes as a scenario file (`secretchat-peer run FILE`). The reader must
//! answer every input with a checked scenario or a `ScenarioFileError` naming the file —
//! never panic — and whatever it accepts must say which file it came from.
//!
//! The stable replay test `peer/tests/scenario_fuzz_corpus.rs` parses every file of
//! `fuzz/corpus/scenario_parse/` the same way.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz/input.toml");
    match secretchat_peer::scenario::parse::parse(path, &text) {
        Ok(scenario) => {
            assert_eq!(scenario.path, path);
            assert!(!scenario.steps.is_empty() && !scenario.actors.is_empty());
        }
        Err(error) => assert_eq!(error.path, path),
    }
});
