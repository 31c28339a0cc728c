//! `messages.sendEncryptedFile(silent?, peer, random_id, data, file)` → `messages.SentEncryptedMessage` (SPEC §8.1, §9.5): stores the uploaded file (or shares a stored one named by `inputEncryptedFile`), the recipient gets `encryptedMessage{…, file = encryptedFile}` and the sender `messages.sentEncryptedFile{date, file}`. The
//! whole relay, its idempotency and its errors are in [`super::relay`].

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions};

use super::input_file;
use super::relay::{self, relay, Payload};
use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Files,
    summary: "Sends an encrypted message with an uploaded or stored encrypted file.",
    errors: &[relay::ERRORS, input_file::ERRORS],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"},"random_id":"3","data":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==","file":{"_":"inputEncryptedFileEmpty"}}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesSendEncryptedFile>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesSendEncryptedFile,
) -> Result<enums::MessagesSentEncryptedMessage, RpcError> {
    relay(
        server,
        device,
        &call.peer,
        call.random_id,
        call.data,
        Payload::File(&call.file),
    )
}
