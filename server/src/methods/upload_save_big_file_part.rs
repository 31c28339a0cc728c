//! `upload.saveBigFilePart(file_id, file_part, file_total_parts, bytes)` → `Bool` (SPEC §6): saves one part of an upload, under
//! (this device, `file_id`), after checking the part rules of [`crate::files`].
//!
//! Errors: `FILE_PART_EMPTY`, `FILE_PART_TOO_BIG` (> 524288 bytes), `FILE_PART_INVALID`
//! (part number outside 0..max), `FILE_PART_SIZE_INVALID` (a full part whose size is not a
//! multiple of 1024 dividing 524288), `FILE_PART_SIZE_CHANGED` (sizes differ), `FILE_PARTS_INVALID` (`file_total_parts` outside 1..max, −1 meaning "not known yet" as tdlib sends it, or changed),
//! `FILE_PARTS_INVALID` (the file would exceed `--max-file-bytes`, or small and big calls
//! mixed for one `file_id`). A failed part changes nothing.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use secretchat_common::tl::api::functions;

use super::upload_save_file_part;
use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::files::{save_upload_part, UploadKind};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Files,
    summary: "Saves one part of a big file being uploaded under file_id (file_total_parts may be -1: unknown).",
    errors: &[upload_save_file_part::PART_ERRORS],
    example: r#"{"file_id":"2","file_part":0,"file_total_parts":1,"bytes":"AAAAAAAAAAAAAAAAAAAAAA=="}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::UploadSaveBigFilePart>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::UploadSaveBigFilePart,
) -> Result<bool, RpcError> {
    let kind = UploadKind::Big {
        total_parts: call.file_total_parts,
    };
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
