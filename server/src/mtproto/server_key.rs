//! # The server's RSA key: how a client knows it is talking to this server
//!
//! Creating an auth key starts with the client encrypting its half of the secret to an RSA
//! public key it already has (core.telegram.org/mtproto/auth_key, step 2): Telegram's keys
//! ship inside every app, and `resPQ` only names them by fingerprint (the last 8 bytes of
//! `SHA1(n ‖ e)` in TL bytes). A client of the mock must therefore install the mock's public
//! key — that, and the address, are the two things a user changes in their program.
//!
//! The key comes from `--rsa-key FILE` (a 2048-bit private key in PEM, PKCS#1 or PKCS#8), or
//! is generated when the door first needs it. A generated key follows `--seed`: the same seed
//! gives the same key, so a harness can install it once. Its public half is served as
//! [`PublicKeyDocument`] (`GET /mtproto/public-key` on the client API, and
//! `/admin/mtproto/public-key`), and logged when the door starts.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_mtproto::rsa::{RsaKeyError, ServerKey};
use serde::Serialize;

use axum::extract::State;
use axum::Json;

use crate::error::RpcError;
use crate::state::AppState;

/// Why `--rsa-key` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ServerKeyError {
    #[error("--rsa-key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--rsa-key {path}: {source}")]
    Parse { path: PathBuf, source: RsaKeyError },
}

/// Where the key comes from, and the key once made.
#[derive(Debug)]
pub struct ServerKeySource {
    seed: Option<u64>,
    key: OnceLock<ServerKey>,
}

/// Mixed into `--seed` so the RSA key's generator is not the server's own stream.
const KEY_SEED_TWEAK: u64 = 0x5253_415f_6b65_7921; // "RSA_key!"

impl ServerKeySource {
    /// Reads `path` now (a bad file stops the server at start), or prepares to generate a
    /// key on first use, from `seed` when given.
    pub fn new(path: Option<&Path>, seed: Option<u64>) -> Result<Self, ServerKeyError> {
        let key = OnceLock::new();
        if let Some(path) = path {
            let pem = std::fs::read_to_string(path).map_err(|source| ServerKeyError::Read {
                path: path.to_owned(),
                source,
            })?;
            let loaded = ServerKey::from_pem(&pem).map_err(|source| ServerKeyError::Parse {
                path: path.to_owned(),
                source,
            })?;
            let _ = key.set(loaded);
        }
        Ok(Self { seed, key })
    }

    /// The key, generated on the first call when no file was given.
    pub fn key(&self) -> &ServerKey {
        self.key.get_or_init(|| {
            let mut rng = match self.seed {
                Some(seed) => ChaCha20Rng::seed_from_u64(seed ^ KEY_SEED_TWEAK),
                None => ChaCha20Rng::from_entropy(),
            };
            // 2048-bit generation with a working RNG only fails on an rsa-crate bug.
            ServerKey::generate(&mut rng).expect("RSA key generation with a ChaCha20 RNG")
        })
    }

    /// What a harness needs to install the key in a client.
    pub fn public_document(&self, mtproto_addr: Option<String>) -> PublicKeyDocument {
        let key = self.key();
        let fingerprint = key.fingerprint();
        PublicKeyDocument {
            pem: key
                .public_key()
                .to_pkcs1_pem()
                .unwrap_or_else(|err| format!("cannot encode the public key: {err}")),
            fingerprint: fingerprint.as_i64().to_string(),
            fingerprint_hex: fingerprint.to_string(),
            mtproto_addr,
        }
    }
}

/// The public half of the server's key, as `GET /mtproto/public-key` serves it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicKeyDocument {
    /// PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`): what Telethon's `rsa.add_key` takes.
    pub pem: String,
    /// The fingerprint as the signed 64-bit integer clients key their tables by (decimal
    /// text: JSON numbers lose precision past 2^53).
    pub fingerprint: String,
    /// The same fingerprint as Telegram's docs print it: unsigned, 16 hex digits.
    pub fingerprint_hex: String,
    /// Where the MTProto door listens, once it does.
    pub mtproto_addr: Option<String>,
}

/// `GET /mtproto/public-key` (client API) and `GET /admin/mtproto/public-key`.
pub async fn serve_public_key(
    State(server): State<AppState>,
) -> Result<Json<PublicKeyDocument>, RpcError> {
    // Generating a key takes a while the first time: not on the async workers.
    tokio::task::spawn_blocking(move || Json(server.mtproto.public_document()))
        .await
        .map_err(|err| RpcError::bad_request(format!("public key unavailable: {err}")))
}

/// The path of [`serve_public_key`] on the client API.
pub const PUBLIC_KEY_PATH: &str = "/mtproto/public-key";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_server_generates_the_same_key_every_time() {
        let a = ServerKeySource::new(None, Some(7)).unwrap();
        let b = ServerKeySource::new(None, Some(7)).unwrap();
        assert_eq!(a.key().fingerprint(), b.key().fingerprint());
        let doc = a.public_document(None);
        assert!(doc.pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        assert_eq!(
            doc.fingerprint.parse::<i64>().unwrap(),
            a.key().fingerprint().as_i64()
        );
        assert_eq!(doc.fingerprint_hex.len(), 16);
    }

    #[test]
    fn a_key_file_in_pkcs8_or_pkcs1_is_loaded_and_garbage_is_refused_at_start() {
        let dir = std::env::temp_dir().join(format!("secretchat-rsa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let generated = ServerKeySource::new(None, Some(1)).unwrap();
        let key = generated.key();
        for (name, pem) in [
            ("pkcs8.pem", key.to_pkcs8_pem().unwrap().to_string()),
            ("pkcs1.pem", key.to_pkcs1_pem().unwrap().to_string()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            let loaded = ServerKeySource::new(Some(&path), None).unwrap();
            assert_eq!(loaded.key().fingerprint(), key.fingerprint(), "{name}");
        }
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "not a key").unwrap();
        let err = ServerKeySource::new(Some(&garbage), None).unwrap_err();
        assert!(err.to_string().contains("--rsa-key"), "{err}");
        let missing = ServerKeySource::new(Some(&dir.join("missing.pem")), None).unwrap_err();
        assert!(matches!(missing, ServerKeyError::Read { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
