//! `messages.discardEncryption(delete_history?, chat_id)` → `Bool` (SPEC §8.4, §9.4).
//!
//! Either side closes (or declines) the chat; the other side, and the participant's other
//! devices that were shown the request, are told `encryptedChatDiscarded{history_deleted}`.
//! Later sends fail with `ENCRYPTION_DECLINED`.
//!
//! Errors: `CHAT_ID_EMPTY` (0), `ENCRYPTION_ID_INVALID` (no such chat visible to this
//! device), `ENCRYPTION_ALREADY_ACCEPTED` (a participant device other than the one that
//! accepted), `ENCRYPTION_ALREADY_DECLINED` (discarded already).

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::functions;

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::chats::ChatState;
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Closes (or declines) a secret chat; the other side is told encryptedChatDiscarded.",
    errors: &[&[
        ErrorKind::ChatIdEmpty,
        ErrorKind::EncryptionIdInvalid,
        ErrorKind::EncryptionAlreadyAccepted,
        ErrorKind::EncryptionAlreadyDeclined,
    ]],
    example: r#"{"chat_id":7,"delete_history":true}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesDiscardEncryption>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesDiscardEncryption,
) -> Result<bool, RpcError> {
    let chat_id = call.chat_id;
    if chat_id == 0 {
        return Err(RpcError::ChatIdEmpty);
    }
    let unknown = RpcError::EncryptionIdInvalid { chat_id };
    let mut chat = server.chats.get_mut(&chat_id).ok_or(unknown.clone())?;
    let is_admin = chat.admin_device == device.id;
    let is_participant = device.user_id == chat.participant_id;
    if !is_admin && !is_participant {
        return Err(unknown);
    }
    if let ChatState::Discarded { .. } = chat.state {
        return Err(RpcError::EncryptionAlreadyDeclined { chat_id });
    }
    if !is_admin
        && chat
            .participant_device()
            .is_some_and(|bound| bound != device.id)
    {
        return Err(RpcError::EncryptionAlreadyAccepted { chat_id });
    }
    server.discard(&mut chat, device.id, call.delete_history);
    tracing::info!(chat_id, device_id = device.id.0, "secret chat discarded");
    Ok(true)
}
