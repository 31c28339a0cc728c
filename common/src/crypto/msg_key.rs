//! `msg_key`: the 128-bit value sent in clear in front of every ciphertext.
//!
//! It does two jobs at once: it is a hash of the plaintext, so the receiver can check that
//! the message decrypted to exactly what was sent (an integrity check), and it is the
//! input of the key derivation ([`super::kdf`]) that turns the long-term chat key into the
//! AES key and IV of this one message.
//!
//! The two protocol versions hash different things (SPEC §2.2, §2.3):
//!
//! * MTProto 1.0 hashes only `le_u32(L) ‖ TL` with SHA-1 — the padding is *not* covered.
//! * MTProto 2.0 hashes a 32-byte slice of the chat key followed by the whole padded
//!   plaintext with SHA-256, so the padding is authenticated too and the hash is keyed.

use std::fmt;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::key::ChatKey;

use super::kdf::X;

/// Length of a `msg_key` in bytes.
pub const MSG_KEY_LEN: usize = 16;

/// The 16-byte `msg_key` (int128 on the wire, bytes 8..24 of every encrypted message).
///
/// Not secret — it travels in clear — but it is compared in constant time, because a
/// mismatch position would tell an attacker how close a forgery came.
#[derive(Clone, Copy)]
pub struct MsgKey([u8; MSG_KEY_LEN]);

impl MsgKey {
    pub const fn from_bytes(bytes: [u8; MSG_KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; MSG_KEY_LEN] {
        &self.0
    }
}

impl ConstantTimeEq for MsgKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for MsgKey {
    /// Constant-time, like [`ConstantTimeEq::ct_eq`].
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for MsgKey {}

impl fmt::Display for MsgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for MsgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MsgKey({self})")
    }
}

/// MTProto 1.0 `msg_key`.
pub mod v1 {
    use super::*;

    /// `msg_key = SHA1(plaintext)[4..20]`, where `plaintext = le_u32(L) ‖ TL` **without** the
    /// padding (the "128 low-order bits" of the SHA-1 digest).
    pub fn compute(plaintext_with_len: &[u8]) -> MsgKey {
        let digest = Sha1::digest(plaintext_with_len);
        let mut msg_key = [0u8; MSG_KEY_LEN];
        msg_key.copy_from_slice(&digest[4..20]);
        MsgKey(msg_key)
    }
}

/// MTProto 2.0 `msg_key`.
pub mod v2 {
    use super::*;

    /// `msg_key_large = SHA256(key[88+x .. 88+x+32] ‖ padded)` — padding included.
    pub fn compute_large(key: &ChatKey, x: X, padded: &[u8]) -> [u8; 32] {
        let x = x.offset();
        let key = key.as_bytes();
        let mut hasher = Sha256::new();
        hasher.update(&key[88 + x..88 + x + 32]);
        hasher.update(padded);
        hasher.finalize().into()
    }

    /// `msg_key = msg_key_large[8..24]`, the middle 128 bits.
    pub fn compute(key: &ChatKey, x: X, padded: &[u8]) -> MsgKey {
        let large = compute_large(key, x, padded);
        let mut msg_key = [0u8; MSG_KEY_LEN];
        msg_key.copy_from_slice(&large[8..24]);
        MsgKey(msg_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_msg_keys_compare_equal_and_one_bit_breaks_it() {
        let a = MsgKey::from_bytes([0x11; 16]);
        let mut flipped = [0x11; 16];
        flipped[15] ^= 1;
        assert_eq!(a, MsgKey::from_bytes([0x11; 16]));
        assert_ne!(a, MsgKey::from_bytes(flipped));
    }

    #[test]
    fn v1_msg_key_is_the_last_sixteen_sha1_bytes() {
        // SHA1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709 (published, tdlib crypto.cpp).
        assert_eq!(
            v1::compute(b"").to_string(),
            "5e6b4b0d3255bfef95601890afd80709"
        );
    }

    #[test]
    fn display_is_lowercase_hex() {
        assert_eq!(
            MsgKey::from_bytes([0xab; 16]).to_string(),
            "abababababababababababababababab"
        );
    }
}
