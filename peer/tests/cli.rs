//! The `secretchat-peer` command line as a user runs it: `vectors`, `decode`, `encode`,
//! including their answers to bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn peer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn repo_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/vectors.json")
}

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_vectors()).unwrap()).unwrap()
}

fn vector(name: &str) -> Value {
    vectors()["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

/// Writes `content` to a fresh file under the target directory and returns its path.
fn scratch_file(name: &str, content: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn one_vector_file(name: &str, vector: Value) -> PathBuf {
    scratch_file(
        name,
        &serde_json::json!({ "vectors": [vector] }).to_string(),
    )
}

#[test]
fn every_vector_in_the_repository_passes() {
    let output = peer(&["vectors", repo_vectors().to_str().unwrap()]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    let total = vectors()["vectors"].as_array().unwrap().len();
    assert_eq!(
        text.lines().last(),
        Some(format!("{total} passed, 0 failed").as_str())
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("pass  ")).count(),
        total
    );
}

#[test]
fn a_wrong_expected_output_fails_and_names_the_field() {
    let mut v = vector("kdf_v2_keyA_x0");
    v["outputs"]["aes_iv"] = Value::String("00".repeat(32));
    let path = one_vector_file("wrong_iv.json", v);
    let output = peer(&["vectors", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert!(!output.status.success());
    assert!(
        text.contains("FAIL  kdf_v2/kdf_v2_keyA_x0: aes_iv differs"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn a_negative_vector_that_a_receiver_would_accept_fails() {
    // The control message of the decrypt vectors, relabelled as one that must be refused.
    let mut v = vector("v2_control_good_parity");
    v["kind"] = Value::String("decrypt_negative".into());
    let path = one_vector_file("relabelled.json", v);
    let output = peer(&["vectors", path.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stdout(&output).contains("expected rejected, got accepted"));
}

#[test]
fn an_unknown_kind_is_a_failure_not_a_skip() {
    let path = one_vector_file(
        "unknown_kind.json",
        serde_json::json!({"kind": "quantum_kdf", "name": "x", "inputs": {}, "outputs": {}}),
    );
    let output = peer(&["vectors", path.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stdout(&output).contains("unknown vector kind \"quantum_kdf\""));
}

#[test]
fn unreadable_and_malformed_files_fail_with_their_path() {
    let malformed = scratch_file("malformed.json", "{\"vectors\": 3}");
    let output = peer(&[
        "vectors",
        "/nonexistent/vectors.json",
        malformed.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert!(!output.status.success());
    assert!(
        text.contains("/nonexistent/vectors.json: cannot read"),
        "{text}"
    );
    assert!(text.contains("malformed.json: not a vector file"), "{text}");
    assert_eq!(text.lines().last(), Some("0 passed, 2 failed"));
}

#[test]
fn decode_shows_version_x_keys_and_the_object() {
    let v = vector("v2_tsc_text_from_originator");
    let key = v["inputs"]["key"].as_str().unwrap();
    let wire = v["outputs"]["wire"].as_str().unwrap();
    let output = peer(&["decode", "--key", key, wire]);
    assert!(output.status.success());
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["version"], "v2");
    assert_eq!(shown["x"], 0);
    assert_eq!(shown["sender"], "creator");
    assert_eq!(shown["msg_key"], v["outputs"]["msg_key"]);
    assert_eq!(shown["aes_key"], v["outputs"]["aes_key"]);
    assert_eq!(shown["aes_iv"], v["outputs"]["aes_iv"]);
    assert_eq!(shown["object"]["_"], "decryptedMessageLayer");
    assert_eq!(shown["object"]["message"]["message"], "hello v2");
    assert_eq!(shown["sequence"]["sender_by_parity"], "creator");
    // Every field where it lies in le_u32(L) ‖ TL ‖ padding, with its SPEC section.
    let fields = shown["fields"].as_array().expect("fields");
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(field("length")["start"], 0);
    assert_eq!(field("decryptedMessageLayer#1be31789")["start"], 4);
    assert_eq!(field("out_seq_no")["spec"], "3.1");
    assert_eq!(field("padding")["end"], fields.last().unwrap()["end"]);
}

#[test]
fn decode_of_a_tampered_message_says_which_check_failed_for_each_attempt() {
    let v = vector("v2_tsc_text_from_originator");
    let key = v["inputs"]["key"].as_str().unwrap();
    let mut wire = hex::decode(v["outputs"]["wire"].as_str().unwrap()).unwrap();
    let last = wire.len() - 1;
    wire[last] ^= 1;
    let output = peer(&["decode", "--key", key, &hex::encode(&wire)]);
    assert_eq!(output.status.code(), Some(1));
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    for attempt in ["v1", "v2_from_creator", "v2_from_participant"] {
        assert!(shown["attempts"][attempt].is_string(), "{shown}");
    }
}

#[test]
fn decode_with_the_wrong_key_reports_both_fingerprints() {
    let v = vector("v2_tsc_text_from_originator");
    let wire = v["outputs"]["wire"].as_str().unwrap();
    let output = peer(&["decode", "--key", &"11".repeat(256), wire]);
    assert_eq!(output.status.code(), Some(1));
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["wire_key_fingerprint"], "ba339667bf6f3709");
}

#[test]
fn bad_command_line_input_is_refused_with_exit_status_2() {
    let wire = "00".repeat(64);
    for args in [
        vec!["decode", "--key", "xyz", wire.as_str()],
        vec!["decode", "--key", "00", wire.as_str()],
        vec!["decode", "--key", &"00".repeat(256)[..], "not-hex"],
        vec!["encode", "--key", &"00".repeat(256)[..], "{not json"],
        vec![
            "encode",
            "--key",
            &"00".repeat(256)[..],
            "{\"_\":\"noSuchConstructor\"}",
        ],
    ] {
        let output = peer(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!output.stderr.is_empty());
    }
}

#[test]
fn encode_with_the_vectors_padding_reproduces_the_vectors_wire() {
    for name in ["v2_tsc_long_from_participant", "v1_layer73_text_originator"] {
        let v = vector(name);
        let key = v["inputs"]["key"].as_str().unwrap();
        // decode without a key reads plain TL: the vector's payload as a JSON object.
        let plain = peer(&["decode", v["inputs"]["plaintext_tl"].as_str().unwrap()]);
        assert!(plain.status.success());
        let object = serde_json::from_slice::<Value>(&plain.stdout).unwrap()["object"].to_string();
        let (version, sender) = if name.starts_with("v1") {
            ("v1", "creator")
        } else if v["inputs"]["sender_is_originator"] == true {
            ("v2", "creator")
        } else {
            ("v2", "participant")
        };
        let output = peer(&[
            "encode",
            "--key",
            key,
            "--version",
            version,
            "--sender",
            sender,
            "--padding",
            v["inputs"]["padding"].as_str().unwrap(),
            "--wire-only",
            &object,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stdout(&output).trim(),
            v["outputs"]["wire"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn encode_with_a_seed_is_reproducible_and_decodes_back() {
    let key = "42".repeat(256);
    let object = r#"{"_":"decryptedMessageLayer","random_bytes":"AAAAAAAAAAAAAAAAAAAA","layer":144,"in_seq_no":0,"out_seq_no":1,"message":{"_":"decryptedMessage","random_id":"5","ttl":0,"message":"hi"}}"#;
    let run = || {
        stdout(&peer(&[
            "encode",
            "--key",
            &key,
            "--seed",
            "9",
            "--wire-only",
            object,
        ]))
    };
    let wire = run();
    assert_eq!(wire, run());
    let output = peer(&["decode", "--key", &key, wire.trim()]);
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["object"]["message"]["message"], "hi");
}
