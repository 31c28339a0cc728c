//! # Dispatch: an auth key's sessions meet the server
//!
//! The sans-I/O sessions ([`AuthKeySessions`]) turn each decrypted message into events and
//! messages to send. This module drives them for the door: every API call goes to
//! [`super::api`] at the layer the key declared, with the device the key is signed in as,
//! and its answer back into `rpc_result`; what the sessions want sent goes to the outbox of
//! the connection it belongs to (a key may talk on several at once).
//!
//! ```text
//! handle_message ─▶ sessions ─▶ Event::Call ─▶ api::handle ─▶ answer ─▶ rpc_result
//!                            ─▶ Transmit{connection, message} ─▶ that connection's outbox
//! ```

use std::sync::Arc;
use std::time::SystemTime;

use secretchat_mtproto::service::types::RpcError as TlRpcError;
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::session::{ConnectionId, Event, PlainMessage, RpcCall};

use super::api::{self, ApiAnswer, ApiCall};
use super::auth_keys::{AuthKeyRecord, KeyState, Outbound};
use super::bind_temp;
use crate::error::RpcError;
use crate::state::Server;

/// `updates.getState#edd4882a` and both forms of `updates.getDifference`: a session that
/// calls them (outside `invokeWithoutUpdates`) wants updates pushed (NOTES: Telethon and
/// Pyrogram call them on their main session only).
const UPDATE_STATE_CALLS: [u32; 3] = [0xedd4882a, 0x19c2f763, 0x25939651];

/// One decrypted client message of `record`, received on `connection`.
pub fn handle_message(
    server: &Server,
    record: &Arc<AuthKeyRecord>,
    connection: ConnectionId,
    message: PlainMessage,
    now: SystemTime,
) {
    let mut state = record.lock();
    state.sessions.handle_message(now, connection, message);
    drive(server, record, &mut state, now);
}

/// Timers of `record` that ran out by `now`.
pub fn handle_timeout(server: &Server, record: &Arc<AuthKeyRecord>, now: SystemTime) {
    let mut state = record.lock();
    state.sessions.handle_timeout(now);
    drive(server, record, &mut state, now);
}

/// Sends `updates` (a boxed `Updates`) to every session of `record` that asked for updates.
/// `handed_over` runs, before anything is written, when at least one session took it.
pub fn push(
    server: &Server,
    record: &Arc<AuthKeyRecord>,
    updates: &[u8],
    now: SystemTime,
    handed_over: impl FnOnce(),
) {
    let mut state = record.lock();
    let sessions = state.update_sessions.clone();
    let mut taken = 0;
    for session_id in sessions {
        if state
            .sessions
            .push(now, session_id, updates.to_vec())
            .is_ok()
        {
            taken += 1;
        } else {
            // The session is gone: stop pushing to it.
            state.update_sessions.retain(|&id| id != session_id);
        }
    }
    if taken > 0 {
        handed_over();
    }
    drive(server, record, &mut state, now);
}

/// `connection` closed: the key's sessions wait for another one.
pub fn connection_closed(record: &AuthKeyRecord, connection: ConnectionId) {
    let mut state = record.lock();
    state.links.remove(&connection);
    state.sessions.handle_connection_closed(connection);
}

/// Runs the sessions' events and sends what they queued, until both are drained.
fn drive(server: &Server, record: &Arc<AuthKeyRecord>, state: &mut KeyState, now: SystemTime) {
    loop {
        let mut progressed = false;
        while let Some(event) = state.sessions.poll_event() {
            progressed = true;
            match event {
                Event::Call(call) => {
                    let (session_id, msg_id) = (call.session_id, call.msg_id);
                    let answer = run_call(server, record, state, call);
                    if let Err(error) = state.sessions.answer(now, session_id, msg_id, answer) {
                        tracing::debug!(%error, "mtproto: answer not queued");
                    }
                }
                Event::NewSession { session_id } => {
                    tracing::debug!(auth_key_id = %record.id(), session_id, "mtproto: new session");
                }
                Event::Refused {
                    session_id,
                    msg_id,
                    error,
                } => {
                    tracing::info!(auth_key_id = %record.id(), session_id, msg_id, %error, "mtproto: message refused");
                }
                Event::SessionDestroyed { session_id } => {
                    state.update_sessions.retain(|&id| id != session_id);
                }
                Event::AuthKeyDestroyed => state.destroyed = true,
                Event::CloseConnection { connection } => {
                    if let Some(link) = state.links.get(&connection) {
                        let _ = link.outbox.send(Outbound::Close);
                    }
                }
            }
        }
        while let Some(transmit) = state.sessions.poll_transmit(now) {
            progressed = true;
            if let Some(link) = state.links.get(&transmit.connection) {
                let _ = link
                    .outbox
                    .send(Outbound::Message(Arc::clone(record), transmit.message));
            }
        }
        if !progressed {
            break;
        }
    }
    if state.destroyed {
        server.mtproto.keys.remove(record.id());
        for link in state.links.values() {
            let _ = link.outbox.send(Outbound::Close);
        }
    }
}

/// One API call: what the wrappers said is remembered, the query goes to [`api::handle`]
/// (or, for `auth.bindTempAuthKey`, to [`bind_temp`]).
fn run_call(
    server: &Server,
    record: &AuthKeyRecord,
    state: &mut KeyState,
    call: RpcCall,
) -> RpcAnswer {
    let RpcCall {
        session_id,
        msg_id,
        query,
        invocation,
        layer,
    } = call;
    if let Some(init) = invocation.init_connection {
        state.client = Some(init);
    }
    let id = secretchat_mtproto::service_messages::constructor_id(&query);
    if id == Some(bind_temp::BIND_TEMP_AUTH_KEY_ID) {
        return match bind_temp::bind(server, record, state, session_id, msg_id, &query) {
            Ok(result) => RpcAnswer::Object(result),
            Err(error) => RpcAnswer::Error(tl_error(&error)),
        };
    }
    if id.is_some_and(|id| UPDATE_STATE_CALLS.contains(&id))
        && !invocation.without_updates
        && !state.update_sessions.contains(&session_id)
    {
        state.update_sessions.push(session_id);
    }
    // A bound temporary key uses its permanent key's sign-in.
    let permanent = bind_temp::authorization_key(server, state);
    let signed_in_as = match &permanent {
        Some(perm) => perm.lock().device,
        None => state.device,
    };
    let device = signed_in_as.and_then(|id| server.directory.device(id));
    let answer = api::handle(ApiCall {
        server,
        layer: layer.unwrap_or(0),
        client: state.client.as_ref(),
        device,
        query: &query,
    });
    let (result, signed_in) = match answer {
        ApiAnswer::Result(result) => return RpcAnswer::Object(result),
        ApiAnswer::Error(error) => return RpcAnswer::Error(tl_error(&error)),
        ApiAnswer::SignedIn { device, result } => (result, Some(device.id)),
        ApiAnswer::LoggedOut { result } => (result, None),
    };
    match &permanent {
        Some(perm) => perm.lock().device = signed_in,
        None => state.device = signed_in,
    }
    RpcAnswer::Object(result)
}

/// The server's error as MTProto's `rpc_error`. HTTP-only statuses (413 for an oversized
/// body) become Telegram's 400.
fn tl_error(error: &RpcError) -> TlRpcError {
    let code = match error.error_code() {
        413 => 400,
        code => code,
    };
    TlRpcError {
        error_code: i32::from(code),
        error_message: error.error_message().into_owned(),
    }
}
