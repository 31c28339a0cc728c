//! `messages.reportEncryptedSpam(peer)` → `Bool` (SPEC §8.4): records the report (shown by
//! `GET /admin/state`); nothing else happens. Either side may report, in any state.
//!
//! Errors: `CHAT_ID_INVALID`.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::functions;

use super::{answer, chat_for, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Reports a secret chat as spam (recorded for the admin surface).",
    errors: &[&[ErrorKind::ChatIdInvalid]],
    example: r#"{"peer":{"_":"inputEncryptedChat","chat_id":7,"access_hash":"0"}}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesReportEncryptedSpam>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesReportEncryptedSpam,
) -> Result<bool, RpcError> {
    let (mut chat, _) = chat_for(server, device, &call.peer)?;
    chat.spam_reports = chat.spam_reports.saturating_add(1);
    Ok(true)
}
