//! `messages.acceptEncryption(peer, g_b, key_fingerprint)` → `EncryptedChat` (SPEC §1.4
//! steps 5–7, §9.3).
//!
//! One of the participant's devices accepts: the chat is bound to it, it gets
//! `encryptedChat{g_a_or_b = g_a}`; the initiating device is told
//! `encryptedChat{g_a_or_b = g_b, key_fingerprint}`; the participant's other devices are
//! told `encryptedChatDiscarded`. The fingerprint is relayed, never checked (the server
//! cannot compute it).
//!
//! Errors: `CHAT_ID_INVALID` (no such chat for this device, wrong access_hash),
//! `ENCRYPTION_ALREADY_ACCEPTED` (another device won the race), `ENCRYPTION_ALREADY_DECLINED`
//! (discarded first), `DH_G_B_INVALID` (g_b fails the range checks; a third-party server's
//! string, not in Telegram's documentation). The same device repeating the same
//! acceptance gets the same answer.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::dh::check_public_value;
use secretchat_common::tl::api::{enums, functions};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::chats::{ChatState, Role};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary:
        "Accepts a requested secret chat with g_b and the key fingerprint. Answers encryptedChat.",
    errors: &[&[
        ErrorKind::ChatIdInvalid,
        ErrorKind::EncryptionAlreadyAccepted,
        ErrorKind::EncryptionAlreadyDeclined,
        ErrorKind::DhGbInvalid,
    ]],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"},"g_b":"Aw==","key_fingerprint":"0"}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesAcceptEncryption>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesAcceptEncryption,
) -> Result<enums::EncryptedChat, RpcError> {
    let enums::InputEncryptedChat::InputEncryptedChat(peer) = &call.peer;
    let chat_id = peer.chat_id;
    let invalid = RpcError::ChatIdInvalid { chat_id };
    let mut chat = server.chats.get_mut(&chat_id).ok_or(invalid.clone())?;
    if device.user_id != chat.participant_id || peer.access_hash != chat.participant_access_hash {
        return Err(invalid);
    }
    match &chat.state {
        ChatState::Waiting => {}
        ChatState::Accepted {
            participant_device,
            g_b,
            key_fingerprint,
        } => {
            let repeat = *participant_device == device.id
                && *g_b == call.g_b
                && *key_fingerprint == call.key_fingerprint;
            return match chat.accepted_view(Role::Participant) {
                Some(view) if repeat => Ok(view),
                _ => Err(RpcError::EncryptionAlreadyAccepted { chat_id }),
            };
        }
        ChatState::Discarded { .. } => return Err(RpcError::EncryptionAlreadyDeclined { chat_id }),
    }
    check_public_value(&server.dh.config, &call.g_b).map_err(|_| RpcError::DhGbInvalid)?;

    chat.state = ChatState::Accepted {
        participant_device: device.id,
        g_b: call.g_b,
        key_fingerprint: call.key_fingerprint,
    };
    if let Some(view) = chat.accepted_view(Role::Admin) {
        server.tell_id(chat.admin_device, view);
    }
    for other in server.directory.devices_of(chat.participant_id) {
        if other.id != device.id {
            server.tell(&other, chat.discarded_view(false));
        }
    }
    tracing::info!(chat_id, device_id = device.id.0, "secret chat accepted");
    chat.accepted_view(Role::Participant).ok_or(invalid)
}
