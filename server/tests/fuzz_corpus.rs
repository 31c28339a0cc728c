//! The `server_request` fuzz corpus, replayed: every file of `fuzz/corpus/server_request/`
//! goes through `secretchat_server::fuzzing::handle_arbitrary_request`, the very function
//! the fuzz target calls, so an input the fuzzer once crashed on stays fixed in the
//! ordinary `cargo test`.

use std::path::PathBuf;

use secretchat_server::fuzzing::{handle_arbitrary_request, input_for, Lab};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/server_request");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_server_request_corpus_file_is_answered_with_json_and_no_5xx() {
    let files = corpus();
    assert!(
        files.len() >= 10,
        "the corpus lost its seeds: {} files",
        files.len()
    );
    for (name, input) in files {
        if let Err(failure) = handle_arbitrary_request(&input) {
            panic!("{name}: {failure}");
        }
    }
}

#[test]
fn the_fuzzing_lab_has_an_accepted_chat_that_a_well_formed_send_reaches() {
    let lab = Lab::new().expect("the lab starts");
    let body = serde_json::json!({
        "peer": lab.chat,
        "random_id": "77",
        "data": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
    });
    let input = input_for("messages.sendEncrypted", &body).expect("a served method");
    let answer = lab.handle(&input).expect("answered");
    assert_eq!(answer["_"], "messages.sentEncryptedMessage", "{answer}");
}

#[test]
fn every_door_query_corpus_file_gets_a_result_or_a_well_formed_error() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/door_query");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the door_query corpus") {
        let path = entry.expect("a directory entry").path();
        let input = std::fs::read(&path).expect("a corpus file");
        if let Err(failure) = secretchat_server::fuzzing::handle_arbitrary_query(&input) {
            panic!("{}: {failure}", path.display());
        }
        count += 1;
    }
    assert!(count >= 10, "the corpus lost its seeds: {count} files");
}
