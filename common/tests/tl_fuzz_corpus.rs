//! Replays the `tl_decode` fuzz corpus on stable Rust through the very function the fuzz
//! target calls, [`decode_and_check_roundtrip`]: no input may panic it.

use std::path::Path;

use secretchat_common::tl::decode_and_check_roundtrip;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/tl_decode");

#[test]
fn every_corpus_input_decodes_or_fails_without_panicking() {
    let mut replayed = 0;
    let mut seeds = 0;
    for entry in std::fs::read_dir(Path::new(CORPUS)).expect("the corpus directory exists") {
        let path = entry.expect("a readable directory entry").path();
        if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        let data = std::fs::read(&path).expect("a readable corpus file");
        let result = decode_and_check_roundtrip(&data);
        replayed += 1;
        // Seeds made from the known-answer vectors end in `.bin` and are all valid TL;
        // files the fuzzer adds are named by hash and may be anything.
        if path.extension().is_some_and(|ext| ext == "bin") {
            seeds += 1;
            if let Err(err) = result {
                panic!("seed {} does not decode: {err}", path.display());
            }
        }
    }
    assert!(seeds >= 38, "only {seeds} vector seeds in {CORPUS}");
    assert!(replayed >= seeds);
}
