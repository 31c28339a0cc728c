//! `updates.getDifference(pts, pts_limit?, pts_total_limit?, date, qts, qts_limit?)` →
//! `updates.Difference` (SPEC §7, §9.7), with an optional long-poll.
//!
//! Acknowledges (deletes) everything up to the `pts` and `qts` *passed in*, then answers
//! what lies after them: `updates.difference{new_encrypted_messages, other_updates, state}`,
//! `updates.differenceSlice{…, intermediate_state}` when more than `--difference-limit`
//! (or the client's `qts_limit`/`pts_limit`) are waiting — call again from that state — or
//! `updates.differenceEmpty{date, seq}` when nothing is and the client's pts and qts are the
//! device's (a client whose counters are behind gets an empty `updates.difference` carrying
//! the current state). A client whose `pts` is more than `pts_total_limit` behind (150000
//! unless it passes less) gets `updates.differenceTooLong{pts}`, as on Telegram, and
//! refetches from that pts. `new_messages`, `chats` and `users`
//! are always empty; `date` is accepted and not used.
//!
//! *The mock's addition*: a `"timeout": seconds` field (not part of the TL call; capped at
//! `--max-poll-timeout`). When the difference is empty, the call waits up to that long for
//! something to arrive for this device, then answers. A client can poll without spinning.
//!
//! A device that logs out while waiting gets `AUTH_KEY_UNREGISTERED`.
//!
//! Errors: `PERSISTENT_TIMESTAMP_INVALID` (`pts` or `qts` negative or ahead of the device's:
//! call `updates.getState`), `INPUT_REQUEST_INVALID` for a `timeout` that is not a
//! non-negative integer.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequest, Request, State};
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};
use secretchat_common::tl::json::AsJson;
use secretchat_common::tl::TlJson;
use serde_json::Value;

use super::updates_get_state::state_view;
use super::{json_response, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::event_log::LogEvent;
use crate::extract::{json_object, parse_call};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Updates,
    summary: "Acknowledges updates up to pts/qts and answers what came after, optionally waiting up to timeout seconds.",
    errors: &[&[
        ErrorKind::PersistentTimestampInvalid,
    ]],
    example: r#"{"pts":1,"qts":1,"date":0,"timeout":0}"#,
};

/// The call and its long-poll timeout.
#[derive(Debug)]
pub struct DifferenceCall {
    pub call: functions::UpdatesGetDifference,
    pub timeout: Duration,
}

impl FromRequest<AppState> for DifferenceCall {
    type Rejection = RpcError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, RpcError> {
        let mut object = json_object(req, state).await?;
        let seconds = match object.remove("timeout") {
            None | Some(Value::Null) => 0,
            Some(value) => value.as_u64().ok_or_else(|| {
                RpcError::bad_request(format!(
                    "timeout must be a non-negative integer number of seconds, got {value}"
                ))
            })?,
        };
        let timeout = Duration::from_secs(seconds.min(state.limits.max_poll_timeout));
        Ok(Self {
            call: parse_call(object)?,
            timeout,
        })
    }
}

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    call: DifferenceCall,
) -> Result<Response, RpcError> {
    let deadline = tokio::time::Instant::now() + call.timeout;
    loop {
        // A device that logged out while waiting is answered as any unknown token.
        if server.directory.device(caller.id).is_none() {
            return Err(RpcError::AuthKeyUnregistered);
        }
        // Subscribe before looking, so a delivery in between still wakes us.
        let mut wake = caller.listeners.subscribe_wake();
        let answer = apply(&server, &caller, &call.call)?;
        if !answer.empty || tokio::time::Instant::now() >= deadline {
            return Ok(json_response(&answer, answer.size_hint));
        }
        if tokio::time::timeout_at(deadline, wake.changed())
            .await
            .is_err()
        {
            let answer = apply(&server, &caller, &call.call)?;
            return Ok(json_response(&answer, answer.size_hint));
        }
    }
}

/// An `updates.Difference`, ready to send.
///
/// The answer's shape (state, other updates) is a small JSON value; the queued messages
/// stay shared (`Arc`) and are written straight into the response body when it is
/// serialized, so answering copies no payload and builds no JSON tree per message.
#[derive(Debug)]
pub struct DifferenceAnswer {
    /// `updates.differenceEmpty`: a long-poll keeps waiting.
    pub empty: bool,
    /// The difference with `new_encrypted_messages` left empty.
    pub shape: Value,
    /// What goes into `new_encrypted_messages`, in qts order.
    pub messages: Vec<Arc<enums::EncryptedMessage>>,
    /// Bytes to reserve for the serialized answer (base64 makes `bytes` 4/3 longer; a few
    /// hundred bytes of JSON around each message), so a large answer is not regrown.
    pub size_hint: usize,
}

impl DifferenceAnswer {
    /// The whole answer as a `Value` (for tests and tools; the server streams it instead).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl serde::Serialize for DifferenceAnswer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let Value::Object(fields) = &self.shape else {
            return self.shape.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (name, value) in fields {
            if name == MESSAGES_FIELD {
                map.serialize_entry(name, &Messages(&self.messages))?;
            } else {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// How far behind a user's client may be before it gets `updates.differenceTooLong`, unless
/// it passes a smaller `pts_total_limit` (Telegram's default for users).
pub const PTS_TOTAL_LIMIT: i32 = 150_000;

/// The field of `updates.difference(Slice)` that carries the messages.
const MESSAGES_FIELD: &str = "new_encrypted_messages";

/// The shared queued messages, written as a JSON array of TL objects.
struct Messages<'a>(&'a [Arc<enums::EncryptedMessage>]);

impl serde::Serialize for Messages<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|message| AsJson(message.as_ref())))
    }
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: &functions::UpdatesGetDifference,
) -> Result<DifferenceAnswer, RpcError> {
    let limit = server.limits.difference_limit;
    let cap = |client: Option<i32>| {
        client
            .and_then(|n| usize::try_from(n).ok())
            .map_or(limit, |n| n.min(limit))
    };
    let now = server.now();
    device.mailbox.expire(now);
    let (difference, acknowledged) = {
        let mut queue = device.mailbox.queue();
        let before = queue.message_count();
        let difference =
            queue.difference(call.pts, call.qts, cap(call.qts_limit), cap(call.pts_limit))?;
        (difference, before - queue.message_count())
    };
    if acknowledged > 0 {
        server.events.record(
            now,
            LogEvent::Acknowledged {
                device: device.id,
                max_qts: call.qts,
                messages: acknowledged,
            },
        );
    }
    // Telegram's rule (core.telegram.org/method/updates.getDifference, `pts_total_limit`):
    // a client more than pts_total_limit behind — 150000 for users unless it says less — gets
    // `updates.differenceTooLong{pts}` and refetches from that pts.
    let total_limit = call
        .pts_total_limit
        .filter(|&limit| limit > 0)
        .unwrap_or(PTS_TOTAL_LIMIT);
    if call.pts.saturating_add(total_limit) < difference.state.pts {
        let too_long =
            enums::UpdatesDifference::UpdatesDifferenceTooLong(types::UpdatesDifferenceTooLong {
                pts: difference.state.pts,
            });
        return Ok(DifferenceAnswer {
            empty: false,
            shape: too_long.to_json(),
            messages: Vec::new(),
            size_hint: 64,
        });
    }
    // differenceEmpty only for a client that is up to date: one whose counters are behind
    // (what it missed was acknowledged elsewhere, or expired) gets the current state in an
    // empty `updates.difference` — differenceEmpty would not move its counters, and Telethon
    // would ask again forever (telethon/_updates/messagebox.py).
    let up_to_date = call.qts >= difference.state.qts && call.pts >= difference.state.pts;
    if difference.is_empty() && up_to_date {
        let empty =
            enums::UpdatesDifference::UpdatesDifferenceEmpty(types::UpdatesDifferenceEmpty {
                date: now,
                seq: 0,
            });
        return Ok(DifferenceAnswer {
            empty: true,
            shape: empty.to_json(),
            messages: Vec::new(),
            size_hint: 128,
        });
    }
    let other_updates = difference
        .others
        .iter()
        .map(|(_, update)| update.as_ref().clone())
        .collect();
    let state = state_view(difference.state, now);
    // The generated shape, with the messages left out here and written below straight
    // from the queued (shared) messages, so no payload is copied to answer.
    let shape = if difference.complete {
        enums::UpdatesDifference::UpdatesDifference(types::UpdatesDifference {
            new_messages: Vec::new(),
            new_encrypted_messages: Vec::new(),
            other_updates,
            chats: Vec::new(),
            users: Vec::new(),
            state,
        })
    } else {
        enums::UpdatesDifference::UpdatesDifferenceSlice(types::UpdatesDifferenceSlice {
            new_messages: Vec::new(),
            new_encrypted_messages: Vec::new(),
            other_updates,
            chats: Vec::new(),
            users: Vec::new(),
            intermediate_state: state,
        })
    };
    let size_hint = difference
        .messages
        .iter()
        .map(|(_, message)| payload_len(message) / 3 * 4 + 256)
        .sum::<usize>()
        + 512
        + 256 * difference.others.len();
    Ok(DifferenceAnswer {
        empty: false,
        shape: shape.to_json(),
        messages: difference
            .messages
            .into_iter()
            .map(|(_, message)| message)
            .collect(),
        size_hint,
    })
}

fn payload_len(message: &enums::EncryptedMessage) -> usize {
    match message {
        enums::EncryptedMessage::EncryptedMessage(m) => m.bytes.len(),
        enums::EncryptedMessage::EncryptedMessageService(m) => m.bytes.len(),
    }
}
