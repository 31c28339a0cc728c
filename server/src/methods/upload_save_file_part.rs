//! `upload.saveFilePart(file_id, file_part, bytes)` → `Bool` (SPEC §6): saves one part of an upload, under
//! (this device, `file_id`), after checking the part rules of [`crate::files`].
//!
//! Errors: `FILE_PART_EMPTY`, `FILE_PART_TOO_BIG` (> 524288 bytes), `FILE_PART_INVALID`
//! (part number outside 0..max), `FILE_PART_SIZE_INVALID` (a full part whose size is not a
//! multiple of 1024 dividing 524288), `FILE_PART_SIZE_CHANGED` (sizes differ),
//! `FILE_PARTS_INVALID` (the file would exceed `--max-file-bytes`, or small and big calls
//! mixed for one `file_id`). A failed part changes nothing.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use secretchat_common::tl::api::functions;

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::files::{save_upload_part, UploadKind};
use crate::state::{AppState, Server};

/// The errors of saving a part ([`crate::files::PartialUpload::save_part`]), shared with
/// `upload.saveBigFilePart`.
pub const PART_ERRORS: &[ErrorKind] = &[
    ErrorKind::FilePartEmpty,
    ErrorKind::FilePartTooBig,
    ErrorKind::FilePartInvalid,
    ErrorKind::FilePartsInvalid,
    ErrorKind::FilePartSizeInvalid,
    ErrorKind::FilePartSizeChanged,
];

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Files,
    summary: "Saves one part (at most 512 KiB) of a file being uploaded under file_id.",
    errors: &[PART_ERRORS],
    example: r#"{"file_id":"1","file_part":0,"bytes":"AAAAAAAAAAAAAAAAAAAAAA=="}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::UploadSaveFilePart>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::UploadSaveFilePart,
) -> Result<bool, RpcError> {
    let kind = UploadKind::Small;
    save_upload_part(
        &server.uploads,
        (device.id, call.file_id),
        kind,
        call.file_part,
        Bytes::from(call.bytes),
        server.upload_limits(),
    )?;
    Ok(true)
}
