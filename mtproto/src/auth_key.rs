//! The auth key: the 2048-bit secret a client and the server share after the handshake
//! (core.telegram.org/mtproto/auth_key), and its 64-bit id.
//!
//! ```text
//! auth_key          = pow(g_b, a) mod dh_prime    as 256 big-endian bytes, zero-padded
//! auth_key_id       = SHA1(auth_key)[12..20]      (the 64 lower-order bits, a little-endian long)
//! auth_key_aux_hash = SHA1(auth_key)[0..8]        (the 64 higher-order bits; retry_id, nonce hashes)
//! ```
//!
//! These are the very formulas of a secret chat's key and `key_fingerprint`, so the key is
//! stored as `secretchat-common`'s [`ChatKey`] (wiped on drop, compared in constant time,
//! redacted in `Debug`) and the MTProto 2.0 KDF and `msg_key` of `secretchat_common::crypto`
//! apply to it unchanged. Every encrypted message starts with the `auth_key_id`; the server
//! keeps its keys indexed by it, because keys outlive connections (Pyrogram makes its key on
//! one connection and uses it on the next).

use std::fmt;

use secretchat_common::key::{ChatKey, KeyLengthError};
use sha1::{Digest, Sha1};

/// Length of an auth key in bytes.
pub const AUTH_KEY_LEN: usize = 256;

/// A 256-byte auth key. Wiped on drop; `Debug` shows only its id.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(ChatKey);

impl AuthKey {
    /// Exactly 256 bytes (already zero-padded).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyLengthError> {
        ChatKey::from_bytes(bytes).map(Self)
    }

    /// The DH result as computed (`secretchat_common::dh::compute_key` pads it already).
    pub fn from_chat_key(key: ChatKey) -> Self {
        Self(key)
    }

    pub fn as_bytes(&self) -> &[u8; AUTH_KEY_LEN] {
        self.0.as_bytes()
    }

    /// The same 256 bytes as the type `secretchat_common::crypto` computes with.
    pub fn as_chat_key(&self) -> &ChatKey {
        &self.0
    }

    /// `auth_key_id = SHA1(auth_key)[12..20]`, the key fingerprint formula.
    pub fn id(&self) -> AuthKeyId {
        AuthKeyId(self.0.fingerprint().as_i64())
    }

    /// `auth_key_aux_hash = SHA1(auth_key)[0..8]`, sent back as `retry_id` and hashed into
    /// `new_nonce_hash1/2/3`.
    pub fn aux_hash(&self) -> [u8; 8] {
        let digest = Sha1::digest(self.as_bytes());
        let mut aux = [0u8; 8];
        aux.copy_from_slice(&digest[..8]);
        aux
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKey(<redacted>, id {})", self.id())
    }
}

/// The 64-bit `auth_key_id` in front of every encrypted message; 0 marks an unencrypted one.
/// On the wire it is a TL `long` (8 little-endian bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthKeyId(i64);

impl AuthKeyId {
    /// The id of unencrypted messages (the handshake's).
    pub const NONE: AuthKeyId = AuthKeyId(0);

    pub const fn from_i64(value: i64) -> Self {
        Self(value)
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }
}

impl fmt::Display for AuthKeyId {
    /// The wire bytes in hex, as they start every message of the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0.to_le_bytes()))
    }
}

impl fmt::Debug for AuthKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKeyId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_aux_hash_are_the_two_ends_of_sha1() {
        let key = AuthKey::from_bytes(&[9u8; 256]).unwrap();
        let digest = Sha1::digest([9u8; 256]);
        assert_eq!(key.id().as_i64().to_le_bytes(), digest[12..20]);
        assert_eq!(key.aux_hash(), digest[..8]);
    }

    #[test]
    fn debug_output_shows_the_id_and_never_the_key() {
        let key = AuthKey::from_bytes(&[0x5a; 256]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("5a5a5a"), "{shown}");
        assert!(shown.contains(&key.id().to_string()));
    }
}
