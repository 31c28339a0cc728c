//! `GET /api/updates.stream` — *the mock's addition*: server-sent events pushing this
//! device's updates as they happen, with the same bearer token.
//!
//! Each event is named after the update's constructor and carries its JSON:
//! `updateNewEncryptedMessage{message, qts}`, `updateEncryption{chat, date}`,
//! `updateEncryptedMessagesRead{…}`, and `updateEncryptedChatTyping{chat_id}` (typing
//! notices exist only here). The stream acknowledges nothing: the client still confirms
//! with `updates.getDifference` or `messages.receivedQueue`. A reader that falls too far
//! behind gets `updatesTooLong` and should call `updates.getDifference`. The stream ends
//! when the device logs out.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use secretchat_common::tl::api::{enums, types};
use secretchat_common::tl::TlJson;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::Caller;
use crate::delivery::Pushed;
use crate::state::AppState;

/// The route of the stream.
pub const PATH: &str = "/api/updates.stream";

pub async fn handle(
    State(_): State<AppState>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let pushes = BroadcastStream::new(caller.listeners.subscribe());
    drop(caller);
    let events = pushes.map(|pushed| Ok(event(pushed)));
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn event(pushed: Result<Pushed, BroadcastStreamRecvError>) -> Event {
    let update = match pushed {
        Ok(pushed) => pushed.update(),
        Err(BroadcastStreamRecvError::Lagged(_)) => {
            let too_long = enums::Updates::UpdatesTooLong(types::UpdatesTooLong {});
            return Event::default()
                .event(types::UpdatesTooLong::NAME)
                .data(too_long.to_json().to_string());
        }
    };
    let json = update.to_json();
    let name = json
        .get("_")
        .and_then(|name| name.as_str())
        .unwrap_or("update")
        .to_owned();
    Event::default().event(name).data(json.to_string())
}
