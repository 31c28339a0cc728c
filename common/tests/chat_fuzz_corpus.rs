//! Replays the corpus of the `chat_ops` fuzz target (`fuzz/corpus/chat_ops/`) in the
//! ordinary test run, through the same driver the target calls
//! (`chat_support/chat_ops.rs`), so every seed and every crash ever found stays a
//! regression test without cargo-fuzz.
//!
//! Any file must run without breaking an invariant. Seeds named `honest-*` are fault-free
//! conversations: both sides must deliver something and neither may abort. Seeds named
//! `hostile-*` end with a rule broken on purpose: at least one side must have aborted.

#[path = "chat_support/chat_ops.rs"]
mod chat_ops;

use std::fs;
use std::path::Path;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/chat_ops");

#[test]
fn every_chat_ops_corpus_file_runs_without_breaking_an_invariant() {
    let mut files = 0;
    for entry in fs::read_dir(Path::new(CORPUS)).expect("the corpus directory") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let outcome = chat_ops::run(&fs::read(&path).unwrap());
        if name.starts_with("honest-") {
            assert!(
                outcome.delivered.iter().all(|&n| n > 0) && outcome.closed == [false, false],
                "{name}: {outcome:?}"
            );
        }
        if name.starts_with("hostile-") {
            assert!(outcome.closed.contains(&true), "{name}: {outcome:?}");
        }
        files += 1;
    }
    assert!(files >= 10, "only {files} corpus files");
}

#[test]
fn an_empty_or_truncated_input_is_a_quiet_run() {
    for data in [&[][..], &[0xff][..], &[0x03, 0x00][..]] {
        let outcome = chat_ops::run(data);
        assert_eq!(outcome.closed, [false, false], "{data:?}");
    }
}
