//! Replays the fuzz corpus of `fuzz/fuzz_targets/envelope_open.rs` in the ordinary test run,
//! so every seed and every crash ever found stays a regression test without cargo-fuzz.
//!
//! Seeds named `ok-*` are authentic messages and must open; `bad-*` must be refused; any
//! other file (a fuzzer find) only has to come back without a panic.

use std::fs;
use std::path::Path;

use secretchat_common::{envelope, ChatKey};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/envelope_open");

/// Key A of `vectors/vectors.json`, the fuzz target's fixed key.
const KEY_HEX: &str = "20422e31ce781649d224775e4205384ced25c77b911a9ea2b1e83b982f90208c9e6589abf153613816f2f172a0fbc381de1fc9205d82c5409a0cff3581c3b10ea4bfcb38617334b6a2c09241b1f64ac23885b35316862e4e0a7ba122db3ba9e43510822d7cfbb360221003cc2d988af181a0164f5339a4a89892eb233ea9c7cb94a2b7dc3c1bf65013b909ea7b097da51e6adcfa0623c7cf94d1adffcf3fe33bddfec1b8035b2fb4ee7e18a710a8298a4713cb7df1f2b2096b5f3efaa77e053e6a89f95344324b28b3c4c198ee5563c0d6ba91f7eef6b607ceb663010b25ef7d46399d79d7e3c9159970e03e02a6e19e34a991e1a07e939aa42e3a7225437d27";

#[test]
fn every_corpus_file_is_opened_or_refused_as_its_name_says() {
    let key = ChatKey::from_bytes(&hex::decode(KEY_HEX).unwrap()).unwrap();
    let mut counts = (0, 0, 0);
    for entry in fs::read_dir(Path::new(CORPUS)).expect("the corpus directory") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let data = fs::read(&path).unwrap();
        let result = envelope::open_any(&key, &data);
        if name.starts_with("ok-") {
            assert!(result.is_ok(), "{name}: {result:?}");
            counts.0 += 1;
        } else if name.starts_with("bad-") {
            assert!(result.is_err(), "{name} opened");
            counts.1 += 1;
        } else {
            counts.2 += 1;
        }
    }
    assert!(counts.0 >= 5 && counts.1 >= 5, "seeds missing: {counts:?}");
}
