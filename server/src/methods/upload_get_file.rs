//! `upload.getFile(precise?, cdn_supported?, location, offset, limit)` → `upload.file`
//! (SPEC §6): a range of a stored file's encrypted bytes, for
//! `inputEncryptedFileLocation{id, access_hash}` (the only location in the mock's schema).
//! Any device that knows the file's id and access_hash may download it.
//!
//! Answers `upload.file{type = storage.fileUnknown, mtime = storage date, bytes}`; bytes
//! past the end are simply absent (an empty `bytes` past the end of the file). The
//! non-precise alignment rules apply even when `precise` is set.
//!
//! Errors: `FILE_ID_INVALID`, `OFFSET_INVALID`, `LIMIT_INVALID`.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Files,
    summary: "Downloads a range of a stored encrypted file's bytes.",
    errors: &[&[
        ErrorKind::FileIdInvalid,
        ErrorKind::OffsetInvalid,
        ErrorKind::LimitInvalid,
    ]],
    example: r#"{"location":{"_":"inputEncryptedFileLocation","id":"1","access_hash":"0"},"offset":"0","limit":4096}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::UploadGetFile>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    _: &DeviceRecord,
    call: functions::UploadGetFile,
) -> Result<enums::UploadFile, RpcError> {
    let enums::InputFileLocation::InputEncryptedFileLocation(location) = &call.location;
    let file = server
        .files
        .get(&location.id)
        .filter(|f| f.access_hash == location.access_hash)
        .map(|f| std::sync::Arc::clone(f.value()))
        .ok_or(RpcError::FileIdInvalid)?;
    let range = file.range(call.offset, call.limit)?;
    Ok(enums::UploadFile::UploadFile(types::UploadFile {
        r#type: enums::StorageFileType::StorageFileUnknown(types::StorageFileUnknown {}),
        mtime: file.date,
        bytes: range.to_vec(),
    }))
}
