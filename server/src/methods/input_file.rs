//! # Naming a file in a send: `InputEncryptedFile`
//!
//! A sending method names its file one of four ways (SPEC §6):
//!
//! * `inputEncryptedFileUploaded{id, parts, md5_checksum, key_fingerprint}` — the parts this
//!   device saved with `upload.saveFilePart` under `id`;
//! * `inputEncryptedFileBigUploaded{id, parts, key_fingerprint}` — the same for
//!   `upload.saveBigFilePart`;
//! * `inputEncryptedFile{id, access_hash}` — a file already stored (forwarding): the new
//!   message shares the stored blob, nothing is copied;
//! * `inputEncryptedFileEmpty` — no file (the message carries `encryptedFileEmpty`).
//!
//! [`resolve`] checks the name without changing anything; [`Resolved::commit`] stores a
//! new upload (the parts are dropped) once the rest of the call has succeeded.

use std::sync::Arc;

use bytes::Bytes;
use secretchat_common::tl::api::{enums, types};

use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::files::{StoredFile, UploadKind, DC_ID};
use crate::state::Server;

/// The errors of naming a file: no such upload or stored file, and the final-step checks
/// of an upload ([`crate::files::PartialUpload::assemble`]).
pub const ERRORS: &[ErrorKind] = &[
    ErrorKind::FileEmtpy,
    ErrorKind::FilePartsInvalid,
    ErrorKind::FilePartMissing,
    ErrorKind::Md5ChecksumInvalid,
];

/// A checked file name, not yet committed.
#[derive(Debug)]
pub enum Resolved {
    /// No file.
    Empty,
    /// A stored file, shared.
    Stored(Arc<StoredFile>),
    /// An upload assembled into one blob, to be stored on commit.
    Uploaded {
        file_id: i64,
        blob: Bytes,
        key_fingerprint: i32,
    },
}

/// Checks `file` against this device's uploads and the stored files.
pub fn resolve(
    server: &Server,
    device: &DeviceRecord,
    file: &enums::InputEncryptedFile,
) -> Result<Resolved, RpcError> {
    let limits = server.upload_limits();
    let (file_id, parts, md5_checksum, key_fingerprint, big) = match file {
        enums::InputEncryptedFile::InputEncryptedFileEmpty(_) => return Ok(Resolved::Empty),
        enums::InputEncryptedFile::InputEncryptedFile(stored) => {
            return server
                .files
                .get(&stored.id)
                .filter(|f| f.access_hash == stored.access_hash)
                .map(|f| Resolved::Stored(Arc::clone(f.value())))
                .ok_or(RpcError::FileEmtpy { id: stored.id });
        }
        enums::InputEncryptedFile::InputEncryptedFileUploaded(up) => (
            up.id,
            up.parts,
            up.md5_checksum.as_str(),
            up.key_fingerprint,
            false,
        ),
        enums::InputEncryptedFile::InputEncryptedFileBigUploaded(up) => {
            (up.id, up.parts, "", up.key_fingerprint, true)
        }
    };
    let upload = server
        .uploads
        .get(&(device.id, file_id))
        .ok_or(RpcError::FileEmtpy { id: file_id })?;
    if matches!(upload.kind(), UploadKind::Big { .. }) != big {
        return Err(RpcError::FilePartsInvalid {
            detail: format!(
                "file {file_id} was uploaded with {}",
                if big {
                    "saveFilePart, name it inputEncryptedFileUploaded"
                } else {
                    "saveBigFilePart, name it inputEncryptedFileBigUploaded"
                }
            ),
        });
    }
    let blob = upload.assemble(parts, md5_checksum, limits)?;
    Ok(Resolved::Uploaded {
        file_id,
        blob,
        key_fingerprint,
    })
}

impl Resolved {
    /// Stores a new upload (dropping its parts) and returns the file, if any.
    pub fn commit(self, server: &Server, device: &DeviceRecord) -> Option<Arc<StoredFile>> {
        match self {
            Resolved::Empty => None,
            Resolved::Stored(file) => Some(file),
            Resolved::Uploaded {
                file_id,
                blob,
                key_fingerprint,
            } => {
                server.uploads.remove(&(device.id, file_id));
                let file = Arc::new(StoredFile {
                    id: server.random_i64(),
                    access_hash: server.random_i64(),
                    key_fingerprint,
                    date: server.now(),
                    blob,
                });
                server.files.insert(file.id, Arc::clone(&file));
                Some(file)
            }
        }
    }
}

/// `encryptedFile{id, access_hash, size, dc_id, key_fingerprint}`, or `encryptedFileEmpty`.
pub fn view(file: Option<&StoredFile>) -> enums::EncryptedFile {
    match file {
        None => enums::EncryptedFile::EncryptedFileEmpty(types::EncryptedFileEmpty {}),
        Some(file) => enums::EncryptedFile::EncryptedFile(types::EncryptedFile {
            id: file.id,
            access_hash: file.access_hash,
            size: i64::try_from(file.blob.len()).unwrap_or(i64::MAX),
            dc_id: DC_ID,
            key_fingerprint: file.key_fingerprint,
        }),
    }
}
