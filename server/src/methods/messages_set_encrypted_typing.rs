//! `messages.setEncryptedTyping(peer, typing)` → `Bool` (SPEC §8.3, §9.6): when `typing` is
//! true the other side's bound device is pushed `updateEncryptedChatTyping{chat_id}` —
//! live only (the event stream), never queued, as typing notices are ephemeral.
//!
//! Errors: `CHAT_ID_INVALID`.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::functions;

use super::{answer, chat_for, Call, Caller, MethodDoc, Tag};
use crate::chats::{ChatState, Role};
use crate::delivery::Delivery;
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Tells the other side (live, on its event stream only) that this side is typing.",
    errors: &[&[ErrorKind::ChatIdInvalid]],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"},"typing":true}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesSetEncryptedTyping>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesSetEncryptedTyping,
) -> Result<bool, RpcError> {
    let (chat, role) = chat_for(server, device, &call.peer)?;
    if !matches!(chat.state, ChatState::Accepted { .. }) {
        return Err(RpcError::ChatIdInvalid { chat_id: chat.id });
    }
    if call.typing {
        let other = match role {
            Role::Admin => chat.participant_device(),
            Role::Participant => Some(chat.admin_device),
        };
        if let Some(other) = other.and_then(|id| server.directory.device(id)) {
            let typing = Delivery::Typing { chat_id: chat.id };
            let _ = server.deliver(&other, Some(device.id), typing);
        }
    }
    Ok(true)
}
