//! # Encrypted files: upload in parts, download in ranges (SPEC §6)
//!
//! A file in a secret chat never reaches the server in clear:
//!
//! ```text
//!  sender:   FileKey::generate (one-time key + IV) → AES-256-IGE(plaintext ‖ padding)
//!            → upload.saveFilePart × n   (saveBigFilePart above 10 MB)
//!            → messages.sendEncryptedFile(file = inputEncryptedFileUploaded{id, parts,
//!                                         key_fingerprint})      … the message carries key, iv, size
//!  receiver: encryptedMessage.file = encryptedFile{id, access_hash, size, key_fingerprint}
//!            → check key_fingerprint == fp(key, iv) from the message
//!            → upload.getFile(inputEncryptedFileLocation, offset, limit) × m
//!            → check the ciphertext length is size rounded up to 16 → decrypt → cut to size
//! ```
//!
//! Part sizes follow the server's rules (docs/server.md): every part but the last has the
//! same size, a multiple of 1024 dividing 524288; downloads use `offset % 4096 == 0`,
//! `limit % 4096 == 0`, `1048576 % limit == 0`, never crossing a 1 MiB block.

use rand::{CryptoRng, RngCore};
use secretchat_common::crypto::file::{decrypt_file, encrypt_file, FileKey};
use secretchat_common::tl::api::{enums, functions, types};
use sha2::{Digest, Sha256};

use crate::client::{ApiClient, ApiError};

/// Size of each uploaded part (a multiple of 1024 dividing 524288).
pub const PART_SIZE: usize = 128 * 1024;
/// Files above this many (encrypted) bytes go by `upload.saveBigFilePart`.
pub const BIG_FILE_THRESHOLD: usize = 10 * 1024 * 1024;
/// Bytes asked for per `upload.getFile` (divides 1 MiB, a multiple of 4096).
pub const DOWNLOAD_LIMIT: usize = 512 * 1024;

/// Why a file could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum FileTransferError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the file has more parts ({parts}) than a TL int counts")]
    TooManyParts { parts: usize },
    #[error("the message names no file, but the server attached {0}")]
    NoFile(&'static str),
    #[error("the file's key_fingerprint {announced} does not match fp(key, iv) = {computed}: the message and the file do not belong together")]
    FingerprintMismatch { announced: i32, computed: i32 },
    #[error("the server's encryptedFile says {announced} bytes, the download gave {got}")]
    SizeMismatch { announced: i64, got: usize },
    #[error("the server answered {got} bytes at offset {offset}, more than the {limit} asked for")]
    OversizedChunk {
        got: usize,
        offset: usize,
        limit: usize,
    },
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
    #[error("the message gives a negative or impossible size {0}")]
    BadSize(i64),
}

/// An uploaded file: what to attach to `sendEncryptedFile`, and its key.
pub struct Uploaded {
    pub input: enums::InputEncryptedFile,
    pub key: FileKey,
    pub encrypted_len: usize,
}

/// Encrypts `plaintext` with a fresh one-time key and uploads it in parts.
pub async fn upload(
    api: &ApiClient,
    plaintext: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Uploaded, FileTransferError> {
    let key = FileKey::generate(rng);
    let ciphertext = encrypt_file(&key, plaintext, rng);
    let file_id = rng.next_u64() as i64;
    let parts = ciphertext.len().div_ceil(PART_SIZE).max(1);
    let total = i32::try_from(parts).map_err(|_| FileTransferError::TooManyParts { parts })?;
    let big = ciphertext.len() > BIG_FILE_THRESHOLD;
    for (index, chunk) in ciphertext.chunks(PART_SIZE).enumerate() {
        // index < parts ≤ i32::MAX, checked above.
        let file_part = index as i32;
        if big {
            api.call(&functions::UploadSaveBigFilePart {
                file_id,
                file_part,
                file_total_parts: total,
                bytes: chunk.to_vec(),
            })
            .await?;
        } else {
            api.call(&functions::UploadSaveFilePart {
                file_id,
                file_part,
                bytes: chunk.to_vec(),
            })
            .await?;
        }
    }
    let key_fingerprint = key.fingerprint().as_i32();
    let input = if big {
        enums::InputEncryptedFile::InputEncryptedFileBigUploaded(
            types::InputEncryptedFileBigUploaded {
                id: file_id,
                parts: total,
                key_fingerprint,
            },
        )
    } else {
        enums::InputEncryptedFile::InputEncryptedFileUploaded(types::InputEncryptedFileUploaded {
            id: file_id,
            parts: total,
            md5_checksum: String::new(),
            key_fingerprint,
        })
    };
    Ok(Uploaded {
        input,
        key,
        encrypted_len: ciphertext.len(),
    })
}

/// A downloaded, checked and decrypted file.
pub struct Downloaded {
    pub plaintext: Vec<u8>,
    /// SHA-256 of the plaintext, hex.
    pub sha256: String,
}

/// Downloads the file a message names, checks it against the key and size the message
/// gives, and decrypts it.
pub async fn download(
    api: &ApiClient,
    file: &enums::EncryptedFile,
    key: &FileKey,
    size: i64,
) -> Result<Downloaded, FileTransferError> {
    let enums::EncryptedFile::EncryptedFile(file) = file else {
        return Err(FileTransferError::NoFile("encryptedFileEmpty"));
    };
    let computed = key.fingerprint().as_i32();
    if computed != file.key_fingerprint {
        return Err(FileTransferError::FingerprintMismatch {
            announced: file.key_fingerprint,
            computed,
        });
    }
    let size = usize::try_from(size).map_err(|_| FileTransferError::BadSize(size))?;
    let announced =
        usize::try_from(file.size).map_err(|_| FileTransferError::BadSize(file.size))?;
    let mut ciphertext = Vec::with_capacity(announced.min(64 << 20));
    let location =
        enums::InputFileLocation::InputEncryptedFileLocation(types::InputEncryptedFileLocation {
            id: file.id,
            access_hash: file.access_hash,
        });
    while ciphertext.len() < announced {
        let offset = ciphertext.len();
        let answer = api
            .call(&functions::UploadGetFile {
                precise: false,
                cdn_supported: false,
                location: location.clone(),
                offset: offset as i64,
                limit: DOWNLOAD_LIMIT as i32,
            })
            .await?;
        let enums::UploadFile::UploadFile(chunk) = answer;
        if chunk.bytes.len() > DOWNLOAD_LIMIT {
            return Err(FileTransferError::OversizedChunk {
                got: chunk.bytes.len(),
                offset,
                limit: DOWNLOAD_LIMIT,
            });
        }
        let done = chunk.bytes.len() < DOWNLOAD_LIMIT;
        ciphertext.extend_from_slice(&chunk.bytes);
        if done {
            break;
        }
    }
    if ciphertext.len() != announced {
        return Err(FileTransferError::SizeMismatch {
            announced: file.size,
            got: ciphertext.len(),
        });
    }
    let plaintext = decrypt_file(key, &ciphertext, size)
        .map_err(|err| FileTransferError::Decrypt(err.to_string()))?;
    let sha256 = hex::encode(Sha256::digest(&plaintext));
    Ok(Downloaded { plaintext, sha256 })
}

/// SHA-256 of `bytes`, hex (what [`crate::events::PeerEvent::FileReceived`] carries).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
