//! Replays the corpus of the `session_plaintext` fuzz target (`fuzz/corpus/session_plaintext/`)
//! in the ordinary test run, through the same driver the target calls
//! (`session_support/session_ops.rs`), so every seed and every crash ever found stays a
//! regression test without cargo-fuzz.
//!
//! Any file must run without breaking an invariant. Seeds named `ok-*` are well-behaved
//! clients: nothing is refused, and every answer reaches its client. Seeds named `bad-*`
//! break a rule: something must be refused.

#[path = "session_support/session_ops.rs"]
mod session_ops;

use std::fs;
use std::path::Path;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fuzz/corpus/session_plaintext"
);

#[test]
fn every_session_corpus_file_runs_without_breaking_an_invariant() {
    let (mut ok, mut bad) = (0, 0);
    for entry in fs::read_dir(Path::new(CORPUS)).expect("the corpus directory") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let outcome = session_ops::run(&fs::read(&path).unwrap());
        if name.starts_with("ok-") {
            assert!(outcome.refusals.is_empty(), "{name}: {outcome:?}");
            assert_eq!(outcome.results, outcome.answered, "{name}: {outcome:?}");
            assert!(outcome.received > 0, "{name} did nothing: {outcome:?}");
            ok += 1;
        }
        if name.starts_with("bad-") {
            assert!(!outcome.refusals.is_empty(), "{name}: {outcome:?}");
            bad += 1;
        }
    }
    assert!(ok >= 8 && bad >= 4, "seeds missing: {ok} ok, {bad} bad");
}

#[test]
fn an_empty_or_truncated_input_is_a_quiet_run() {
    for data in [&[][..], &[0x00][..], &[0x05, 0x01][..]] {
        let outcome = session_ops::run(data);
        assert_eq!(outcome.calls, 0, "{data:?}");
    }
}
