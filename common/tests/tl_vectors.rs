//! Known-answer tests for the TL codec, from `vectors/vectors.json`:
//! every `tl` vector (object → exact bytes, bytes → the same object), the official
//! client's plaintext (`tl_parse_only`), and the TL inside the `mtproto*_encrypt` vectors.

use secretchat_common::tl::e2e::{enums, types, Object};
use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/vectors.json");

fn vectors_of_kind(kind: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).expect("vectors.json is readable");
    let all: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    let vectors: Vec<Value> = all["vectors"]
        .as_array()
        .expect("vectors is an array")
        .iter()
        .filter(|v| v["kind"] == kind)
        .cloned()
        .collect();
    assert!(!vectors.is_empty(), "no vectors of kind {kind}");
    vectors
}

fn hex_field(vector: &Value, path: &[&str]) -> Vec<u8> {
    let mut value = vector;
    for key in path {
        value = &value[key];
    }
    hex::decode(value.as_str().expect("a hex string")).expect("valid hex")
}

#[test]
fn every_tl_vector_object_encodes_to_the_exact_bytes() {
    let vectors = vectors_of_kind("tl");
    assert_eq!(vectors.len(), 15);
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let object = Object::from_json(&vector["inputs"]["object"])
            .unwrap_or_else(|e| panic!("{name}: vector JSON does not read: {e}"));
        let expected = hex_field(vector, &["outputs", "tl"]);
        assert_eq!(
            hex::encode(object.to_bytes()),
            hex::encode(&expected),
            "{name}"
        );
        assert_eq!(
            expected.len() as u64,
            vector["outputs"]["length"].as_u64().unwrap()
        );
    }
}

#[test]
fn every_tl_vector_bytes_decode_to_the_vector_object() {
    for vector in &vectors_of_kind("tl") {
        let name = vector["name"].as_str().unwrap();
        let expected = Object::from_json(&vector["inputs"]["object"]).unwrap();
        let decoded = Object::from_bytes(&hex_field(vector, &["outputs", "tl"]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, expected, "{name}");
    }
}

#[test]
fn every_tl_vector_inner_message_decodes_on_its_own() {
    for vector in &vectors_of_kind("tl") {
        let name = vector["name"].as_str().unwrap();
        let Some(inner) = vector["outputs"]["inner_message_tl"].as_str() else {
            continue;
        };
        let bytes = hex::decode(inner).unwrap();
        let message =
            enums::DecryptedMessage::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(message.to_bytes(), bytes, "{name}");
    }
}

#[test]
fn every_tl_vector_survives_our_json_form() {
    for vector in &vectors_of_kind("tl") {
        let name = vector["name"].as_str().unwrap();
        let object = Object::from_json(&vector["inputs"]["object"]).unwrap();
        let json = object.to_json();
        assert_eq!(Object::from_json(&json).unwrap(), object, "{name}");
    }
}

#[test]
fn layer_143_document_vector_uses_the_document143_alias_for_6abd9782() {
    let vector = vectors_of_kind("tl")
        .into_iter()
        .find(|v| v["name"] == "layer143_media_document143")
        .unwrap();
    let Object::DecryptedMessageLayer(layer) =
        Object::from_json(&vector["inputs"]["object"]).unwrap()
    else {
        panic!("not a decryptedMessageLayer");
    };
    let enums::DecryptedMessage::DecryptedMessage(message) = layer.message else {
        panic!("not the layer-73 decryptedMessage");
    };
    let Some(enums::DecryptedMessageMedia::DecryptedMessageMediaDocument(document)) = message.media
    else {
        panic!("not the layer-143 document");
    };
    assert_eq!(
        types::DecryptedMessageMediaDocument::CONSTRUCTOR_ID,
        0x6abd9782
    );
    assert_eq!(document.size, 5_000_000_000);
}

#[test]
fn official_client_plaintext_decodes_after_its_length_prefix() {
    let vectors = vectors_of_kind("tl_parse_only");
    assert_eq!(vectors.len(), 1);
    let vector = &vectors[0];
    let plaintext = hex_field(vector, &["inputs", "plaintext_with_len"]);
    let (length, tl) = plaintext.split_at(4);
    let length = u32::from_le_bytes(length.try_into().unwrap()) as usize;
    assert_eq!(length, tl.len());
    assert_eq!(
        length as u64,
        vector["outputs"]["length_prefix"].as_u64().unwrap()
    );

    let layer = types::DecryptedMessageLayer::from_bytes(tl).unwrap();
    let expected_json = &vector["outputs"]["parse"]["telethon-secret-chat"]["object"];
    let expected = types::DecryptedMessageLayer::from_json(expected_json).unwrap();
    assert_eq!(layer, expected);
    assert_eq!(layer.layer, 46);
    assert_eq!((layer.in_seq_no, layer.out_seq_no), (1, 98));
    let enums::DecryptedMessage::DecryptedMessage46(message) = &layer.message else {
        panic!("expected decryptedMessage46, got {}", layer.message.name());
    };
    assert_eq!(message.message, "Test12");
    assert_eq!(layer.to_bytes(), tl);
}

#[test]
fn plaintext_tl_of_every_encrypt_vector_decodes_and_reencodes_identically() {
    let mut seen = 0;
    for kind in ["mtproto1_encrypt", "mtproto2_encrypt"] {
        for vector in &vectors_of_kind(kind) {
            let name = vector["name"].as_str().unwrap();
            let tl = hex_field(vector, &["inputs", "plaintext_tl"]);
            let layer = types::DecryptedMessageLayer::from_bytes(&tl)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(layer.to_bytes(), tl, "{name}");
            // Where a library's parse is recorded, it must be the same object.
            if let Some(parsed) =
                vector["outputs"]["tl_parse"]["telethon-secret-chat"]["object"].as_object()
            {
                let expected =
                    types::DecryptedMessageLayer::from_json(&Value::Object(parsed.clone()))
                        .unwrap();
                assert_eq!(layer, expected, "{name}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 9);
}
