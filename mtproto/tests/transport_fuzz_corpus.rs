//! Replays the corpus of the `transport_frames` fuzz target (`fuzz/corpus/transport_frames/`)
//! in the ordinary test run, through the driver the target calls
//! (`transport_support/frames.rs`), so every seed and every crash ever found stays a
//! regression test without cargo-fuzz.
//!
//! Every file must run without breaking an invariant. Seeds named `ok-*` are well-formed
//! streams: at least one packet arrives and nothing is refused. Seeds named `bad-*` are
//! refused with an error.

#[path = "transport_support/frames.rs"]
mod frames;

use std::fs;
use std::path::Path;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fuzz/corpus/transport_frames"
);

#[test]
fn every_transport_corpus_file_runs_without_breaking_an_invariant() {
    let (mut ok, mut bad) = (0, 0);
    for entry in fs::read_dir(Path::new(CORPUS)).expect("the corpus directory") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let outcome = frames::run(&fs::read(&path).unwrap());
        if name.starts_with("ok-") {
            ok += 1;
            assert_eq!(outcome.error, None, "{name}");
            assert!(outcome.packets > 0, "{name}: no packet arrived");
        } else if name.starts_with("bad-") {
            bad += 1;
            assert!(outcome.error.is_some(), "{name}: nothing was refused");
        }
    }
    assert!(ok >= 10 && bad >= 8, "seeds missing: {ok} ok, {bad} bad");
}
