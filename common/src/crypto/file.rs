//! Encrypted files: the photos, videos and documents sent in a secret chat.
//!
//! SPEC §6. A file is not encrypted with the chat key. The sender draws a fresh 32-byte AES
//! key and 32-byte IV for each file, encrypts the whole file as **one** AES-256-IGE stream
//! (the IV carried from one upload part to the next), and sends key and IV inside the
//! encrypted message (`decryptedMessageMedia*.key` / `.iv`). The server stores only
//! ciphertext.
//!
//! ```text
//!  part 0 ──IGE──▶ part 0'   (IV = file iv)
//!  part 1 ──IGE──▶ part 1'   (IV = last ciphertext block ‖ last plaintext block of part 0)
//!  …
//!  last part ‖ random padding to a multiple of 16 ──IGE──▶ last part'
//! ```
//!
//! Only the last part is padded; the true size travels in the media's `size` field. The
//! server learns a 32-bit fingerprint of the key, so both sides can catch a mixed-up file:
//!
//! ```text
//! digest = MD5(key ‖ iv)
//! key_fingerprint = le_i32(digest[0..4]) ⊕ le_i32(digest[4..8])
//! ```

use std::fmt;

use md5::{Digest, Md5};
use rand::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::ige::{Ige256, NotBlockAligned, BLOCK_LEN, IV_LEN, KEY_LEN};

/// The per-file AES-256 key and IGE IV.
///
/// Wiped on drop; `Debug` shows only the fingerprint. The bytes are reachable through
/// [`FileKey::key`] and [`FileKey::iv`] because they must be put into the message.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct FileKey {
    key: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

impl FileKey {
    pub const fn new(key: [u8; KEY_LEN], iv: [u8; IV_LEN]) -> Self {
        Self { key, iv }
    }

    /// A fresh random key and IV for one file.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut file_key = Self::new([0; KEY_LEN], [0; IV_LEN]);
        rng.fill_bytes(&mut file_key.key);
        rng.fill_bytes(&mut file_key.iv);
        file_key
    }

    pub const fn key(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    pub const fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// The `key_fingerprint:int` of `inputEncryptedFileUploaded` and `encryptedFile`.
    pub fn fingerprint(&self) -> FileKeyFingerprint {
        // digest = MD5(key ‖ iv)
        let digest = Md5::new()
            .chain_update(self.key)
            .chain_update(self.iv)
            .finalize();
        // fp = le_i32(digest[0..4]) ⊕ le_i32(digest[4..8]); XOR is bytewise, so the wire
        // bytes are simply digest[0..4] ⊕ digest[4..8].
        let wire: [u8; 4] = std::array::from_fn(|i| digest[i] ^ digest[4 + i]);
        FileKeyFingerprint::from_wire_bytes(wire)
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileKey(<redacted>, fingerprint {})", self.fingerprint())
    }
}

/// The 32-bit file key fingerprint: a TL `int`, not just any `i32`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKeyFingerprint(i32);

impl FileKeyFingerprint {
    pub const fn from_i32(value: i32) -> Self {
        Self(value)
    }

    pub const fn as_i32(self) -> i32 {
        self.0
    }

    /// The 4 bytes as a TL `int` (little-endian).
    pub const fn from_wire_bytes(bytes: [u8; 4]) -> Self {
        Self(i32::from_le_bytes(bytes))
    }

    pub const fn to_wire_bytes(self) -> [u8; 4] {
        self.0.to_le_bytes()
    }
}

impl fmt::Display for FileKeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_wire_bytes()))
    }
}

impl fmt::Debug for FileKeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileKeyFingerprint({} = {})", self, self.0)
    }
}

/// Why an encrypted file could not be decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The downloaded bytes are not whole AES blocks: the file (or the server) is broken.
    #[error(transparent)]
    NotBlockAligned(#[from] NotBlockAligned),
    /// The plaintext `size` from the message does not round up to the ciphertext length:
    /// the message and the file do not belong together.
    #[error("a {size}-byte file encrypts to {expected} bytes, got {ciphertext_len}")]
    SizeMismatch {
        size: usize,
        ciphertext_len: usize,
        expected: usize,
    },
}

/// The encrypted size of a `size`-byte file: `(size + 15) & !15`.
pub const fn padded_len(size: usize) -> usize {
    size.next_multiple_of(BLOCK_LEN)
}

/// Encrypts a file part by part, carrying the IGE state between parts.
#[derive(Debug)]
pub struct FileEncryptor {
    ige: Ige256,
}

impl FileEncryptor {
    pub fn new(file_key: &FileKey) -> Self {
        Self {
            ige: Ige256::new(file_key.key(), file_key.iv()),
        }
    }

    /// Encrypts a part that is not the last one; it must be a multiple of 16 bytes (upload
    /// parts are multiples of 1 KiB anyway).
    pub fn encrypt_part(&mut self, part: &mut [u8]) -> Result<(), NotBlockAligned> {
        self.ige.encrypt_in_place(part)
    }

    /// Pads the last part with random bytes up to a multiple of 16 and encrypts it. Ends
    /// the stream.
    pub fn encrypt_last_part(mut self, part: &mut Vec<u8>, rng: &mut impl RngCore) {
        let unpadded = part.len();
        part.resize(padded_len(unpadded), 0);
        rng.fill_bytes(&mut part[unpadded..]);
        // The length was just made a multiple of the block size.
        let aligned = self.ige.encrypt_in_place(part);
        debug_assert!(aligned.is_ok());
    }
}

/// Decrypts a file part by part (downloads come in 16-byte-aligned pieces, in order).
#[derive(Debug)]
pub struct FileDecryptor {
    ige: Ige256,
}

impl FileDecryptor {
    pub fn new(file_key: &FileKey) -> Self {
        Self {
            ige: Ige256::new(file_key.key(), file_key.iv()),
        }
    }

    pub fn decrypt_part(&mut self, part: &mut [u8]) -> Result<(), NotBlockAligned> {
        self.ige.decrypt_in_place(part)
    }
}

/// Encrypts a whole file in one go: the ciphertext is `padded_len(plaintext.len())` bytes.
pub fn encrypt_file(file_key: &FileKey, plaintext: &[u8], rng: &mut impl RngCore) -> Vec<u8> {
    let mut buf = plaintext.to_vec();
    FileEncryptor::new(file_key).encrypt_last_part(&mut buf, rng);
    buf
}

/// Decrypts a whole file and cuts the padding off, given the plaintext `size` from the
/// message. The size must round up to exactly the ciphertext length.
pub fn decrypt_file(
    file_key: &FileKey,
    ciphertext: &[u8],
    size: usize,
) -> Result<Vec<u8>, FileError> {
    if !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(NotBlockAligned {
            len: ciphertext.len(),
        }
        .into());
    }
    let expected = padded_len(size);
    if expected != ciphertext.len() {
        return Err(FileError::SizeMismatch {
            size,
            ciphertext_len: ciphertext.len(),
            expected,
        });
    }
    let mut buf = ciphertext.to_vec();
    FileDecryptor::new(file_key).decrypt_part(&mut buf)?;
    buf.truncate(size);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting_key() -> FileKey {
        // SPEC vectors §2.4: key = 00..1f, iv = 20..3f.
        FileKey::new(
            std::array::from_fn(|i| i as u8),
            std::array::from_fn(|i| 0x20 + i as u8),
        )
    }

    #[test]
    fn fingerprint_of_the_counting_key_matches_the_research_fixture() {
        let fp = counting_key().fingerprint();
        assert_eq!(fp.to_string(), "734408f3");
        assert_eq!(fp.as_i32(), -217561997);
    }

    #[test]
    fn decrypt_rejects_a_size_that_does_not_round_up_to_the_ciphertext() {
        assert_eq!(
            decrypt_file(&counting_key(), &[0u8; 32], 10),
            Err(FileError::SizeMismatch {
                size: 10,
                ciphertext_len: 32,
                expected: 16
            })
        );
        assert_eq!(
            decrypt_file(&counting_key(), &[0u8; 33], 33),
            Err(FileError::NotBlockAligned(NotBlockAligned { len: 33 }))
        );
    }

    #[test]
    fn padded_len_rounds_up_to_whole_blocks() {
        assert_eq!(
            [0, 1, 15, 16, 17, 1000].map(padded_len),
            [0, 16, 16, 16, 32, 1008]
        );
    }

    #[test]
    fn debug_output_shows_only_the_fingerprint() {
        assert_eq!(
            format!("{:?}", counting_key()),
            "FileKey(<redacted>, fingerprint 734408f3)"
        );
    }
}
