//! `messages.uploadEncryptedFile(peer, file)` → `EncryptedFile` (SPEC §6): stores an
//! upload (or names a stored file) for a chat without sending anything; the answer is the
//! `encryptedFile` a later `sendEncryptedFile` can name with `inputEncryptedFile{id,
//! access_hash}`.
//!
//! Errors: `CHAT_ID_INVALID` (not a side of an accepted chat), `FILE_EMTPY` (no such upload
//! or stored file, or `inputEncryptedFileEmpty`), and the final-step upload errors
//! (`FILE_PART_<X>_MISSING`, `FILE_PARTS_INVALID`, `MD5_CHECKSUM_INVALID`).

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions};

use super::input_file::{self, Resolved};
use super::{answer, chat_for, Call, Caller, MethodDoc, Tag};
use crate::chats::ChatState;
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Files,
    summary: "Stores an upload for a secret chat without sending it; answers the encryptedFile to send later.",
    errors: &[&[
        ErrorKind::ChatIdInvalid,
    ], input_file::ERRORS],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"},"file":{"_":"inputEncryptedFileUploaded","id":"1","parts":1,"md5_checksum":"","key_fingerprint":0}}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesUploadEncryptedFile>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesUploadEncryptedFile,
) -> Result<enums::EncryptedFile, RpcError> {
    let (chat, _) = chat_for(server, device, &call.peer)?;
    if !matches!(chat.state, ChatState::Accepted { .. }) {
        return Err(RpcError::ChatIdInvalid { chat_id: chat.id });
    }
    drop(chat);
    let resolved = input_file::resolve(server, device, &call.file)?;
    if let Resolved::Empty = resolved {
        return Err(RpcError::FileEmtpy { id: 0 });
    }
    let file = resolved.commit(server, device);
    Ok(input_file::view(file.as_deref()))
}
