//! The chat key: the 256-byte shared secret both sides derive from Diffie-Hellman.
//!
//! SPEC §1.5: `key = pow(g_b, a) mod p`, written big-endian and left-padded with zero
//! bytes to exactly 256 bytes. Everything else in a secret chat (message keys, the
//! fingerprint, the key visualization) is derived from these 256 bytes.
//!
//! SPEC §1.6: the `key_fingerprint` is the last 64 bits of SHA1(key), i.e.
//! `SHA1(key)[12..20]`, read as a **little-endian** `long`. On the wire (a TL `long`, or the
//! first 8 bytes of every encrypted message) those are exactly the 8 digest bytes in order.

use std::fmt;

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a chat key in bytes (2048 bits).
pub const CHAT_KEY_LEN: usize = 256;

/// The 256-byte shared key of a secret chat (or of a re-keying exchange).
///
/// Wiped from memory on drop; `Debug` prints only its fingerprint.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ChatKey(Box<[u8; CHAT_KEY_LEN]>);

/// A key given with the wrong number of bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a chat key is {CHAT_KEY_LEN} bytes, got {got}")]
pub struct KeyLengthError {
    pub got: usize,
}

impl ChatKey {
    /// Takes exactly 256 bytes (already left-padded).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyLengthError> {
        let array: [u8; CHAT_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| KeyLengthError { got: bytes.len() })?;
        Ok(Self(Box::new(array)))
    }

    /// Takes a big-endian number of at most 256 bytes and left-pads it with zeros (SPEC §1.5).
    pub fn from_be_number(bytes: &[u8]) -> Result<Self, KeyLengthError> {
        if bytes.len() > CHAT_KEY_LEN {
            return Err(KeyLengthError { got: bytes.len() });
        }
        let mut array = Box::new([0u8; CHAT_KEY_LEN]);
        array[CHAT_KEY_LEN - bytes.len()..].copy_from_slice(bytes);
        Ok(Self(array))
    }

    pub fn as_bytes(&self) -> &[u8; CHAT_KEY_LEN] {
        &self.0
    }

    /// `key_fingerprint = SHA1(key)[12..20]` as a little-endian `long` (SPEC §1.6).
    pub fn fingerprint(&self) -> KeyFingerprint {
        let digest = Sha1::digest(self.0.as_slice());
        let mut last8 = [0u8; 8];
        last8.copy_from_slice(&digest[12..20]);
        KeyFingerprint::from_wire_bytes(last8)
    }
}

impl PartialEq for ChatKey {
    /// Constant-time: comparing keys must not leak where they differ.
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for ChatKey {}

impl fmt::Debug for ChatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChatKey(<redacted>, fingerprint {})", self.fingerprint())
    }
}

/// The 64-bit key fingerprint: the low 64 bits of SHA1(key), a TL `long`.
///
/// A distinct type from an arbitrary `i64` so it cannot be confused with an `exchange_id`
/// or a `random_id`. It is a sanity check for implementation bugs, *not* the user-visible
/// verification (that is the key visualization).
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct KeyFingerprint(i64);

impl KeyFingerprint {
    pub const fn from_i64(value: i64) -> Self {
        Self(value)
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }

    /// The 8 bytes as they appear on the wire (TL `long`, little-endian).
    pub const fn from_wire_bytes(bytes: [u8; 8]) -> Self {
        Self(i64::from_le_bytes(bytes))
    }

    pub const fn to_wire_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }
}

impl fmt::Display for KeyFingerprint {
    /// Shown as the wire bytes in hex, the form that appears at the start of every message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_wire_bytes()))
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({} = {})", self, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_must_be_exactly_256_bytes() {
        assert_eq!(
            ChatKey::from_bytes(&[1u8; 255]).unwrap_err(),
            KeyLengthError { got: 255 }
        );
        assert!(ChatKey::from_bytes(&[1u8; 256]).is_ok());
    }

    #[test]
    fn short_number_is_left_padded_with_zeros() {
        let key = ChatKey::from_be_number(&[0xab, 0xcd]).unwrap();
        assert_eq!(key.as_bytes()[..254], [0u8; 254]);
        assert_eq!(key.as_bytes()[254..], [0xab, 0xcd]);
    }

    #[test]
    fn fingerprint_wire_bytes_are_the_last_eight_sha1_bytes_in_order() {
        let key = ChatKey::from_bytes(&[7u8; 256]).unwrap();
        let digest = Sha1::digest([7u8; 256]);
        assert_eq!(key.fingerprint().to_wire_bytes(), digest[12..20]);
    }

    #[test]
    fn debug_output_never_shows_key_bytes() {
        let key = ChatKey::from_bytes(&[0x5au8; 256]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("5a5a5a5a"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
