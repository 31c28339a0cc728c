//! The temporary AES key of the handshake and what it encrypts: the server's
//! `server_DH_inner_data` and the client's `client_DH_inner_data`
//! (core.telegram.org/mtproto/auth_key, steps 5–6).
//!
//! ```text
//! tmp_aes_key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0..12]
//! tmp_aes_iv  = SHA1(server_nonce + new_nonce)[12..20] + SHA1(new_nonce + new_nonce) + new_nonce[0..4]
//!
//! answer_with_hash = SHA1(answer) + answer + padding     (padding: 0..15 random bytes,
//!                                                         to a multiple of 16)
//! encrypted        = AES-256-IGE(answer_with_hash, tmp_aes_key, tmp_aes_iv)
//! ```
//!
//! The nonces are the raw wire bytes (telethon/helpers.py `generate_key_data_from_nonce`,
//! pyrogram/session/auth.py). Only the client and the server know `new_nonce` (it travelled
//! under RSA), so only they can read these. The reader checks the hash over the object's own
//! serialized bytes, and refuses 16 or more bytes of padding (tdlib Handshake.cpp does for the
//! server's answer; the docs say 0–15 both ways).

use rand::RngCore;
use secretchat_common::crypto::ige;
use secretchat_common::tl::{DecodeError, Reader, TlRead};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::fault::Fault;

/// The temporary AES-256 key and IGE IV derived from the nonces.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TmpAes {
    key: [u8; 32],
    iv: [u8; 32],
}

impl std::fmt::Debug for TmpAes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TmpAes(<redacted>)")
    }
}

/// Why an `encrypted_answer` / `encrypted_data` did not open (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TmpAesError {
    #[error("the encrypted part is {len} bytes, not whole 16-byte blocks of at least 32")]
    BadLength { len: usize },
    #[error("the decrypted object is not valid TL: {0}")]
    Decode(DecodeError),
    /// Wrong key (a wrong `new_nonce`), tampering, or the wrong object.
    #[error("SHA1 in front of the decrypted object does not match it")]
    HashMismatch,
    #[error("{len} bytes of padding after the object; at most 15 are allowed")]
    PaddingTooLong { len: usize },
    /// Sealing: the padding must be exactly the bytes that complete the last block.
    #[error("padding must be {expected} bytes here, got {got}")]
    PaddingLength { got: usize, expected: usize },
}

impl TmpAesError {
    pub fn fault(&self) -> Fault {
        match self {
            TmpAesError::PaddingLength { .. } => Fault::Caller,
            _ => Fault::Peer,
        }
    }
}

impl TmpAes {
    pub fn derive(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> Self {
        let new_server = Sha1::new()
            .chain_update(new_nonce)
            .chain_update(server_nonce)
            .finalize();
        let server_new = Sha1::new()
            .chain_update(server_nonce)
            .chain_update(new_nonce)
            .finalize();
        let new_new = Sha1::new()
            .chain_update(new_nonce)
            .chain_update(new_nonce)
            .finalize();
        let mut key = [0u8; 32];
        // tmp_aes_key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0..12]
        key[..20].copy_from_slice(&new_server);
        key[20..].copy_from_slice(&server_new[..12]);
        let mut iv = [0u8; 32];
        // tmp_aes_iv = SHA1(server_nonce + new_nonce)[12..20] + SHA1(new_nonce + new_nonce) + new_nonce[0..4]
        iv[..8].copy_from_slice(&server_new[12..]);
        iv[8..28].copy_from_slice(&new_new);
        iv[28..].copy_from_slice(&new_nonce[..4]);
        Self { key, iv }
    }

    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    pub fn iv(&self) -> &[u8; 32] {
        &self.iv
    }

    /// How many padding bytes follow `data_len` bytes of object (and its 20-byte hash).
    pub fn padding_len(data_len: usize) -> usize {
        (20 + data_len).next_multiple_of(16) - (20 + data_len)
    }

    /// Encrypts one serialized object with fresh random padding.
    pub fn seal(&self, data: &[u8], rng: &mut impl RngCore) -> Vec<u8> {
        let mut padding = vec![0u8; Self::padding_len(data.len())];
        rng.fill_bytes(&mut padding);
        let mut buf = Self::with_hash(data, &padding);
        self.encrypt(&mut buf);
        buf
    }

    /// Encrypts one serialized object with the given padding (for known-answer vectors).
    pub fn seal_with_padding(&self, data: &[u8], padding: &[u8]) -> Result<Vec<u8>, TmpAesError> {
        let expected = Self::padding_len(data.len());
        if padding.len() != expected {
            return Err(TmpAesError::PaddingLength {
                got: padding.len(),
                expected,
            });
        }
        let mut buf = Self::with_hash(data, padding);
        self.encrypt(&mut buf);
        Ok(buf)
    }

    /// `SHA1(data) + data + padding`.
    fn with_hash(data: &[u8], padding: &[u8]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(20 + data.len() + padding.len());
        buf.extend_from_slice(&Sha1::digest(data));
        buf.extend_from_slice(data);
        buf.extend_from_slice(padding);
        buf
    }

    fn encrypt(&self, buf: &mut [u8]) {
        // `with_hash` always makes whole blocks (`padding_len`), so this cannot fail.
        let _ = ige::encrypt_in_place(&self.key, &self.iv, buf);
    }

    /// Decrypts and reads one `T`, checking its hash and the padding after it.
    pub fn open<T: TlRead>(&self, encrypted: &[u8]) -> Result<T, TmpAesError> {
        if encrypted.len() < 32 || !encrypted.len().is_multiple_of(16) {
            return Err(TmpAesError::BadLength {
                len: encrypted.len(),
            });
        }
        let mut buf = zeroize::Zeroizing::new(encrypted.to_vec());
        ige::decrypt_in_place(&self.key, &self.iv, &mut buf)
            .map_err(|e| TmpAesError::BadLength { len: e.len })?;
        let (hash, rest) = buf.split_at(20);
        let mut reader = Reader::new(rest);
        let value = T::read_from(&mut reader).map_err(TmpAesError::Decode)?;
        let data_len = reader.position();
        if !bool::from(Sha1::digest(&rest[..data_len]).as_slice().ct_eq(hash)) {
            return Err(TmpAesError::HashMismatch);
        }
        let padding = rest.len() - data_len;
        if padding >= 16 {
            return Err(TmpAesError::PaddingTooLong { len: padding });
        }
        Ok(value)
    }
}
