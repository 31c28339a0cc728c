//! Reading `vectors/vectors.json` (the known-answer vectors) in the crypto, envelope and DH tests.
#![allow(dead_code)] // each test binary uses a different part

use secretchat_common::ChatKey;
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/vectors.json"
));

/// One vector: its name and the `inputs` / `outputs` objects.
pub struct Vector {
    pub name: String,
    pub inputs: Value,
    pub outputs: Value,
}

impl Vector {
    pub fn input_hex(&self, field: &str) -> Vec<u8> {
        hex_of(&self.inputs, field, &self.name)
    }

    pub fn output_hex(&self, field: &str) -> Vec<u8> {
        hex_of(&self.outputs, field, &self.name)
    }

    pub fn input_array<const N: usize>(&self, field: &str) -> [u8; N] {
        self.input_hex(field)
            .try_into()
            .unwrap_or_else(|v: Vec<u8>| panic!("{}: {field} is {} bytes", self.name, v.len()))
    }

    pub fn key(&self) -> ChatKey {
        ChatKey::from_bytes(&self.input_hex("key")).expect("256-byte key")
    }

    pub fn input_bool(&self, field: &str) -> bool {
        self.inputs[field]
            .as_bool()
            .unwrap_or_else(|| panic!("{}: {field} is not a bool", self.name))
    }

    pub fn input_u64(&self, field: &str) -> u64 {
        self.inputs[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: {field} is not a number", self.name))
    }

    pub fn output_i64(&self, field: &str) -> i64 {
        self.outputs[field]
            .as_i64()
            .unwrap_or_else(|| panic!("{}: {field} is not a number", self.name))
    }
}

fn hex_of(object: &Value, field: &str, name: &str) -> Vec<u8> {
    let text = object[field]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {field} is not a string"));
    hex::decode(text).unwrap_or_else(|e| panic!("{name}: {field} is not hex: {e}"))
}

/// Every vector of one kind; fails if there is none, so a renamed kind cannot pass silently.
pub fn vectors(kind: &str) -> Vec<Vector> {
    let all: Value = serde_json::from_str(VECTORS).expect("vectors.json is JSON");
    let found: Vec<Vector> = all["vectors"]
        .as_array()
        .expect("a `vectors` array")
        .iter()
        .filter(|v| v["kind"] == kind)
        .map(|v| Vector {
            name: v["name"].as_str().expect("a name").to_owned(),
            inputs: v["inputs"].clone(),
            outputs: v["outputs"].clone(),
        })
        .collect();
    assert!(!found.is_empty(), "no vectors of kind {kind}");
    found
}

/// The one vector with this name.
pub fn vector(kind: &str, name: &str) -> Vector {
    vectors(kind)
        .into_iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no {kind} vector named {name}"))
}
