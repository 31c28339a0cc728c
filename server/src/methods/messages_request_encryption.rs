//! `messages.requestEncryption(user_id, random_id, g_a)` → `EncryptedChat` (SPEC §1.4
//! step 2, §9.2).
//!
//! Creates the chat with **id = `random_id`** (tdlib rejects any other id), a fresh
//! `access_hash` for each side, and answers `encryptedChatWaiting`. Every device of the
//! invited user is told `updateEncryption{encryptedChatRequested{g_a}}`.
//!
//! Errors: `USER_ID_INVALID` (unknown user, wrong access_hash for this caller, oneself,
//! `inputUserEmpty`), `DH_G_A_INVALID` (g_a fails `1 < g_a < p−1` or the recommended
//! `2^1984` margins), `RANDOM_ID_INVALID` (0), `RANDOM_ID_DUPLICATE` (the id of a live
//! chat). Repeating the same request from the same device answers the same
//! `encryptedChatWaiting` and tells nobody again.

use axum::extract::State;
use axum::response::Response;
use dashmap::mapref::entry::Entry;
use secretchat_common::dh::check_public_value;
use secretchat_common::tl::api::{enums, functions};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::chats::{ChatRecord, ChatState};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Asks a user for a secret chat with g_a; the chat id is random_id. Answers encryptedChatWaiting.",
    errors: &[&[
        ErrorKind::UserIdInvalid,
        ErrorKind::DhGaInvalid,
        ErrorKind::RandomIdInvalid,
        ErrorKind::RandomIdDuplicate,
    ]],
    example: r#"{"user_id":{"_":"inputUser","user_id":"1","access_hash":"0"},"random_id":7,"g_a":"Ag=="}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesRequestEncryption>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesRequestEncryption,
) -> Result<enums::EncryptedChat, RpcError> {
    let enums::InputUser::InputUser(target) = &call.user_id else {
        return Err(RpcError::UserIdInvalid { user_id: 0 });
    };
    let invalid_user = RpcError::UserIdInvalid {
        user_id: target.user_id,
    };
    let participant = server
        .directory
        .user(target.user_id)
        .ok_or(invalid_user.clone())?;
    if participant.id == device.user_id
        || target.access_hash != server.directory.access_hash(device.user_id, participant.id)
    {
        return Err(invalid_user);
    }
    if call.random_id == 0 {
        return Err(RpcError::RandomIdInvalid);
    }
    check_public_value(&server.dh.config, &call.g_a).map_err(|_| RpcError::DhGaInvalid)?;

    let chat = ChatRecord {
        id: call.random_id,
        date: server.now(),
        admin_id: device.user_id,
        admin_device: device.id,
        admin_access_hash: server.random_i64(),
        participant_id: participant.id,
        participant_access_hash: server.random_i64(),
        g_a: call.g_a,
        state: ChatState::Waiting,
        spam_reports: 0,
    };
    let chat = match server.chats.entry(call.random_id) {
        Entry::Occupied(existing) if existing.get().state == ChatState::Waiting => {
            let same_request = existing.get().admin_device == device.id
                && existing.get().participant_id == chat.participant_id
                && existing.get().g_a == chat.g_a;
            return if same_request {
                Ok(existing.get().waiting_view())
            } else {
                Err(RpcError::RandomIdDuplicate {
                    random_id: i64::from(call.random_id),
                })
            };
        }
        Entry::Occupied(existing) if matches!(existing.get().state, ChatState::Accepted { .. }) => {
            return Err(RpcError::RandomIdDuplicate {
                random_id: i64::from(call.random_id),
            });
        }
        // A discarded chat's id may be used again.
        Entry::Occupied(mut discarded) => {
            discarded.insert(chat);
            discarded.into_ref()
        }
        Entry::Vacant(vacant) => vacant.insert(chat),
    };
    for participant_device in server.directory.devices_of(chat.participant_id) {
        server.tell(&participant_device, chat.requested_view());
    }
    tracing::info!(
        chat_id = chat.id,
        admin = chat.admin_id,
        participant = chat.participant_id,
        "secret chat requested"
    );
    Ok(chat.waiting_view())
}
