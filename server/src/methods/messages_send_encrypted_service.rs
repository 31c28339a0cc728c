//! `messages.sendEncryptedService(peer, random_id, data)` → `messages.SentEncryptedMessage` (SPEC §8.1, §9.5): the recipient's bound device gets `encryptedMessageService{random_id, chat_id, date, bytes = data}`. The payload stays opaque: nothing is inferred from the method used. The
//! whole relay, its idempotency and its errors are in [`super::relay`].

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions};

use super::relay::{self, relay, Payload};
use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Sends an encrypted service message (layer, resend, re-key, ...) to the other side of a secret chat.",
    errors: &[relay::ERRORS],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"},"random_id":"2","data":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesSendEncryptedService>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesSendEncryptedService,
) -> Result<enums::MessagesSentEncryptedMessage, RpcError> {
    relay(
        server,
        device,
        &call.peer,
        call.random_id,
        call.data,
        Payload::Service,
    )
}
