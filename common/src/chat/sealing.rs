//! Sealing and opening messages with a chat key (SPEC §2).
//!
//! TEMPORARY: until the envelope lands on main this is a transparent stand-in (fingerprint,
//! a SHA-1 tag, plaintext) with the same interface.

use rand::{CryptoRng, RngCore};
use sha1::{Digest, Sha1};

use super::layer::MtprotoVersion;
use crate::key::ChatKey;
use crate::side::Side;

/// The `msg_key` of a sealed blob, for the explain trace.
pub fn msg_key(wire: &[u8]) -> Option<&[u8]> {
    wire.get(8..24)
}

fn tag(key: &ChatKey, version: MtprotoVersion, sender: Side, tl: &[u8]) -> [u8; 16] {
    let mut hasher = Sha1::new();
    hasher.update(key.as_bytes());
    hasher.update([version as u8, sender as u8]);
    hasher.update(tl);
    let digest = hasher.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// `key_fingerprint ‖ msg_key ‖ ciphertext` of `tl`, sent by `sender`.
pub fn seal(
    key: &ChatKey,
    version: MtprotoVersion,
    sender: Side,
    tl: &[u8],
    _rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u8> {
    let mut wire = key.fingerprint().to_wire_bytes().to_vec();
    wire.extend_from_slice(&tag(key, version, sender, tl));
    wire.extend_from_slice(tl);
    wire
}

/// Opens a blob sealed under `key` with `version` by `sender`.
pub fn open(
    key: &ChatKey,
    version: MtprotoVersion,
    sender: Side,
    wire: &[u8],
) -> Result<Vec<u8>, String> {
    let tl = wire.get(24..).ok_or("too short")?;
    if wire.get(8..24) != Some(&tag(key, version, sender, tl)[..]) {
        return Err("msg_key mismatch".to_owned());
    }
    Ok(tl.to_vec())
}
