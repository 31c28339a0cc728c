//! The known-answer vector checker behind `secretchat-peer vectors FILE...`.
//!
//! A vector file is `{"meta": ..., "vectors": [{kind, name, inputs, outputs, ...}]}` (the
//! format of `vectors/vectors.json`). Every vector of a kind we know is recomputed with this
//! implementation and its outputs compared; a vector of an unknown kind is a failure, so a
//! typo in a hand-written file never passes silently.
//!
//! One submodule per family of kinds: [`crypto`] (AES-IGE, KDFs, fingerprints,
//! visualization, files), [`envelope`] (whole messages, sealed and opened), [`tl`] (objects
//! ⇄ bytes), [`dh`] (parameters, public values, exchanges, re-keying), [`seq`] (sequence
//! numbers).

mod crypto;
mod dh;
mod envelope;
mod fields;
mod seq;
mod tl;

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

pub use fields::Mismatch;

/// One vector as it appears in the file.
#[derive(Debug, Deserialize)]
pub struct Vector {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub inputs: Value,
    #[serde(default)]
    pub outputs: Value,
}

#[derive(Debug, Deserialize)]
struct VectorFile {
    vectors: Vec<Vector>,
}

/// The verdict on one vector.
#[derive(Debug)]
pub struct Outcome {
    pub file: String,
    pub kind: String,
    pub name: String,
    pub result: Result<(), Mismatch>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(()) => write!(f, "pass  {}/{}", self.kind, self.name),
            Err(why) => write!(f, "FAIL  {}/{}: {why}", self.kind, self.name),
        }
    }
}

/// A file that could not be read as a vector file at all.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a vector file ({source}); expected {{\"vectors\": [{{\"kind\", \"name\", \"inputs\", \"outputs\"}}, ...]}}")]
    Format {
        path: String,
        source: serde_json::Error,
    },
}

/// Reads one vector file and checks every vector in it.
pub fn check_file(path: &Path) -> Result<Vec<Outcome>, FileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: VectorFile = serde_json::from_str(&text).map_err(|source| FileError::Format {
        path: shown.clone(),
        source,
    })?;
    Ok(file
        .vectors
        .iter()
        .map(|vector| Outcome {
            file: shown.clone(),
            kind: vector.kind.clone(),
            name: vector.name.clone(),
            result: check(vector),
        })
        .collect())
}

/// Checks one vector against the implementation.
pub fn check(vector: &Vector) -> Result<(), Mismatch> {
    let v = fields::Fields::new(&vector.inputs, &vector.outputs);
    match vector.kind.as_str() {
        "aes_ige" => crypto::aes_ige(&v),
        "kdf_v1" => crypto::kdf_v1(&v),
        "kdf_v2" => crypto::kdf_v2(&v),
        "msg_key_v2" => crypto::msg_key_v2(&v),
        "key_fingerprint" => crypto::key_fingerprint(&v),
        "key_visualization" => crypto::key_visualization(&v),
        "file_fingerprint" => crypto::file_fingerprint(&v),
        "file_encryption" => crypto::file_encryption(&v),
        "mtproto1_encrypt" => envelope::mtproto1_encrypt(&v),
        "mtproto2_encrypt" => envelope::mtproto2_encrypt(&v),
        "decrypt_negative" => envelope::decrypt(&v, false),
        "decrypt_positive" => envelope::decrypt(&v, true),
        "tl" => tl::object(&v),
        "tl_parse_only" => tl::parse_only(&v),
        "dh_params" => dh::params(&v),
        "dh_g_a_range" => dh::g_a_range(&v),
        "dh_exchange" => dh::exchange(&v),
        "rekey" => dh::rekey(&v),
        "seq_no" => seq::seq_no(&v),
        other => Err(Mismatch::UnknownKind(other.to_string())),
    }
}
