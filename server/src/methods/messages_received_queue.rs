//! `messages.receivedQueue(max_qts)` → `Vector<long>` (SPEC §7): acknowledges this device's
//! encrypted messages up to `max_qts`, deleting them, and answers their `random_id`s.
//!
//! Errors: `MAX_QTS_INVALID` (`max_qts` outside 1..=the device's qts).

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::event_log::LogEvent;
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Updates,
    summary:
        "Acknowledges this device's encrypted messages up to max_qts and answers their random_ids.",
    errors: &[&[ErrorKind::MaxQtsInvalid]],
    example: r#"{"max_qts":1}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesReceivedQueue>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::MessagesReceivedQueue,
) -> Result<Vec<i64>, RpcError> {
    let acknowledged = device.mailbox.queue().received_queue(call.max_qts)?;
    server.events.record(
        server.now(),
        LogEvent::Acknowledged {
            device: device.id,
            max_qts: call.max_qts,
            messages: acknowledged.len(),
        },
    );
    Ok(acknowledged
        .iter()
        .map(|message| match message.as_ref() {
            enums::EncryptedMessage::EncryptedMessage(m) => m.random_id,
            enums::EncryptedMessage::EncryptedMessageService(m) => m.random_id,
        })
        .collect())
}
