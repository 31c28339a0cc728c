//! `messages.readEncryptedHistory(peer, max_date)` → `Bool` (SPEC §8.3, §9.6): the other
//! side's bound device is told `updateEncryptedMessagesRead{chat_id, max_date, date = now}`
//! (queued, numbered by its pts).
//!
//! Errors: `CHAT_ID_INVALID` (not a side of an accepted chat), `MAX_DATE_INVALID`
//! (`max_date` in the future).

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};

use super::{answer, chat_for, Call, Caller, MethodDoc, Tag};
use crate::chats::{ChatState, Role};
use crate::delivery::Delivery;
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Marks the other side's messages up to max_date as read; the other side is told.",
    errors: &[&[ErrorKind::ChatIdInvalid, ErrorKind::MaxDateInvalid]],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"},"max_date":0}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesReadEncryptedHistory>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesReadEncryptedHistory,
) -> Result<bool, RpcError> {
    let (chat, role) = chat_for(server, device, &call.peer)?;
    if !matches!(chat.state, ChatState::Accepted { .. }) {
        return Err(RpcError::ChatIdInvalid { chat_id: chat.id });
    }
    let now = server.now();
    if call.max_date > now {
        return Err(RpcError::MaxDateInvalid {
            max_date: call.max_date,
            now,
        });
    }
    let other = match role {
        Role::Admin => chat.participant_device(),
        Role::Participant => Some(chat.admin_device),
    };
    if let Some(other) = other.and_then(|id| server.directory.device(id)) {
        let read = enums::Update::UpdateEncryptedMessagesRead(types::UpdateEncryptedMessagesRead {
            chat_id: chat.id,
            max_date: call.max_date,
            date: now,
        });
        // Only messages can be refused (a full queue); a read receipt always lands.
        let _ = server.deliver(&other, Some(device.id), Delivery::Other(read));
    }
    Ok(true)
}
