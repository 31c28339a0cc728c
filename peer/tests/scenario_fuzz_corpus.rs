//! The `scenario_parse` fuzz corpus, replayed: every file of `fuzz/corpus/scenario_parse/`
//! is read as a scenario file the way the fuzz target reads it, so an input that once
//! crashed the reader stays fixed in the ordinary `cargo test`. Files named `ok-*` are real
//! scenarios and must parse; `bad-*` ones must be refused with an error naming the file.

use std::path::{Path, PathBuf};

use secretchat_peer::scenario::parse::parse;

#[test]
fn every_scenario_corpus_file_parses_or_is_refused_with_its_file_named() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/scenario_parse");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus lost its seeds: {files:?}");
    let input = Path::new("fuzz/input.toml");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&file).unwrap();
        let result = parse(input, &String::from_utf8_lossy(&bytes));
        match (name.starts_with("ok-"), result) {
            (true, Ok(scenario)) => assert!(!scenario.steps.is_empty(), "{name}"),
            (false, Err(error)) => {
                assert_eq!(error.path, input, "{name}");
                assert!(!error.message.is_empty(), "{name}");
            }
            (true, Err(error)) => panic!("{name} should parse: {error}"),
            (false, Ok(_)) => panic!("{name} should be refused"),
        }
    }
}
