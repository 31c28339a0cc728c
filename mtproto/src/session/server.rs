//! The server side of every session of one auth key, as a sans-I/O state machine.
//!
//! One auth key may have several sessions at once (Pyrogram opens a media session per
//! upload), each on its own connection, and a session may move to a new connection (Telethon
//! reconnects). [`AuthKeySessions`] takes the decrypted messages of one key, applies the
//! rules of the other modules in this folder, and hands out what to send, the API calls to
//! answer, and timers. The salts and the API layer belong to the key; msg_ids, seq_nos,
//! acknowledgements and resends to each session.
//!
//! ```text
//! handle_message(now, connection, {salt, session_id, msg_id, seq_no, body})
//!   ├─ msg_id rules ─────────────── 18, 16, 17 ─┐
//!   ├─ salt ─────────────────────── 48 ─────────┤ bad_msg_notification / bad_server_salt
//!   ├─ container? 19, 20, 64; then each message:│
//!   ├─ duplicate? answer again / ack / ignore    │
//!   ├─ too old ──────────────────── 20 ─────────┤
//!   ├─ seq_no (Strictness::Telegram) 32–35 ─────┘
//!   ├─ new session? new_session_created
//!   └─ dispatch: msgs_ack, ping → pong, get_future_salts, destroy_session, msgs_state_req,
//!      msg_resend_req, rpc_drop_answer, destroy_auth_key … or an API call → Event::Call
//! answer(session_id, req_msg_id, result) → rpc_result          push(session_id, update)
//! poll_transmit(now) → Transmit{connection, message}   poll_event() → Event   poll_timeout()
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use secretchat_common::tl::TlWrite;
use sha2::{Digest, Sha256};

use super::error::{ContainerError, InboundError};
use super::invocation::{self, Invocation};
use super::msg_id::{self, Origin};
use super::outgoing::Outgoing;
use super::received::{CallState, Received, ReceivedKind, ReceivedWindow};
use super::salts::ServerSalts;
use super::seq_no::{self, is_content_related};
use super::{Config, ConnectionId, PlainMessage, Strictness};
use crate::service::enums::DestroySessionRes;
use crate::service::types as t;
use crate::service_messages::container::{MSG_CONTAINER_ID, MSG_COPY_ID};
use crate::service_messages::{
    constructor_id, Body, ContainerMessage, FutureSalts, MsgContainer, RpcAnswer, RpcResult,
};

/// An API call for the application to answer with [`AuthKeySessions::answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcCall {
    pub session_id: i64,
    /// The msg_id the answer refers to (`rpc_result.req_msg_id`).
    pub msg_id: i64,
    /// The query inside its wrappers (boxed: its constructor id first), to decode at `layer`.
    pub query: Vec<u8>,
    /// What the wrappers around it said.
    pub invocation: Invocation,
    /// The layer to decode and answer at: the call's own `invokeWithLayer`, else the last
    /// one this auth key named (Telethon does not repeat it after reconnecting).
    pub layer: Option<i32>,
}

/// Something the application or the I/O layer must know or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A session was created (`new_session_created` is queued).
    NewSession { session_id: i64 },
    /// An API call to answer (in any order, now or later).
    Call(RpcCall),
    /// A message was not processed; [`InboundError::error_code`] says what the client was
    /// told. For logs and tests.
    Refused {
        session_id: i64,
        msg_id: i64,
        error: InboundError,
    },
    /// A session is gone (`destroy_session` from another session, or forgotten to make room
    /// for a new one): whatever the application keeps for it can go.
    SessionDestroyed { session_id: i64 },
    /// The client asked to destroy the auth key (`destroy_auth_key_ok` is queued): forget
    /// the key once that is sent.
    AuthKeyDestroyed,
    /// `ping_delay_disconnect`'s delay ran out on this connection: close it.
    CloseConnection { connection: ConnectionId },
}

/// A message to seal with the auth key and write to `connection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub connection: ConnectionId,
    pub message: PlainMessage,
}

/// Why [`AuthKeySessions::answer`] or [`AuthKeySessions::push`] could not queue anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("session {session_id:#x} does not exist (destroyed or forgotten)")]
    UnknownSession { session_id: i64 },
    #[error("no call {req_msg_id:#x} is waiting for an answer in session {session_id:#x}")]
    NotPending { session_id: i64, req_msg_id: i64 },
}

#[derive(Debug, Clone)]
struct Session {
    connection: Option<ConnectionId>,
    received: ReceivedWindow,
    outgoing: Outgoing,
    /// The lowest msg_id announced in `new_session_created`.
    first_msg_id: Option<i64>,
    unique_id: i64,
    /// Calls handed to the application and not answered yet; `true` once dropped by
    /// `rpc_drop_answer` (the answer then becomes `rpc_answer_dropped_running`).
    calls: BTreeMap<i64, bool>,
    /// `invokeAfterMsg` calls waiting for the calls they name.
    waiting: Vec<RpcCall>,
    last_active: SystemTime,
}

/// The server's sessions of one auth key.
#[derive(Debug, Clone)]
pub struct AuthKeySessions {
    config: Config,
    secret: [u8; 32],
    salts: ServerSalts,
    sessions: BTreeMap<i64, Session>,
    layer: Option<i32>,
    events: VecDeque<Event>,
    disconnect_at: BTreeMap<ConnectionId, SystemTime>,
    sessions_created: u64,
    /// The highest msg_id issued to a session that is gone: sessions created later start
    /// above it (a client may come back with the same session_id).
    msg_id_floor: i64,
}

impl AuthKeySessions {
    /// `secret` (32 random bytes the server keeps) derives the salts and the sessions'
    /// `unique_id`s, so a run is reproducible from it.
    pub fn new(config: Config, auth_key_id: i64, secret: [u8; 32]) -> Self {
        Self {
            config,
            secret,
            salts: ServerSalts::new(secret, auth_key_id),
            sessions: BTreeMap::new(),
            layer: None,
            events: VecDeque::new(),
            disconnect_at: BTreeMap::new(),
            sessions_created: 0,
            msg_id_floor: 0,
        }
    }

    /// Also accepts the salt the handshake gave the client (tdlib uses it), for 30 minutes.
    pub fn accept_handshake_salt(&mut self, salt: i64, now: SystemTime) {
        self.salts.accept_handshake_salt(salt, now);
    }

    pub fn salts(&self) -> &ServerSalts {
        &self.salts
    }

    /// The last layer a call of this auth key named in `invokeWithLayer`.
    pub fn layer(&self) -> Option<i32> {
        self.layer
    }

    /// The session_ids alive now.
    pub fn session_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.sessions.keys().copied()
    }

    /// One decrypted client message, received on `connection`.
    pub fn handle_message(
        &mut self,
        now: SystemTime,
        connection: ConnectionId,
        message: PlainMessage,
    ) {
        let PlainMessage {
            salt,
            session_id,
            msg_id,
            seq_no,
            body,
        } = message;
        self.attach(session_id, connection, now);
        if !self.check_msg_id(now, session_id, msg_id, seq_no) {
            return;
        }
        if !self.salts.accepts(salt, now) {
            return self.refuse(
                now,
                session_id,
                msg_id,
                seq_no,
                InboundError::BadServerSalt { salt },
            );
        }
        let mut budget = self.config.max_unpacked_len;
        match Body::decode_within(&body, &mut budget) {
            Ok(Body::Container(container)) => {
                self.handle_container(now, session_id, msg_id, seq_no, container, budget)
            }
            Ok(Body::Copy(message)) => {
                let container = MsgContainer {
                    messages: vec![message],
                };
                self.handle_container(now, session_id, msg_id, seq_no, container, budget)
            }
            Ok(body) => {
                if self.accept(now, session_id, msg_id, seq_no, &body) {
                    self.announce(now, session_id, msg_id);
                    self.dispatch(now, session_id, msg_id, seq_no, body);
                }
            }
            Err(error) => {
                let error = match constructor_id(&body) {
                    Some(MSG_CONTAINER_ID | MSG_COPY_ID) => {
                        InboundError::InvalidContainer(ContainerError::Envelope(error))
                    }
                    _ => InboundError::Malformed(error),
                };
                self.refuse(now, session_id, msg_id, seq_no, error);
            }
        }
    }

    /// The connection closed: its sessions wait for another one (their unacknowledged
    /// messages are sent again there).
    pub fn handle_connection_closed(&mut self, connection: ConnectionId) {
        self.disconnect_at.remove(&connection);
        for session in self.sessions.values_mut() {
            if session.connection == Some(connection) {
                session.connection = None;
            }
        }
    }

    /// Timers that ran out by `now` (see [`AuthKeySessions::poll_timeout`]).
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let expired: Vec<ConnectionId> = self
            .disconnect_at
            .iter()
            .filter(|(_, &at)| at <= now)
            .map(|(&connection, _)| connection)
            .collect();
        for connection in expired {
            self.disconnect_at.remove(&connection);
            self.events.push_back(Event::CloseConnection { connection });
        }
    }

    /// Answers the call `req_msg_id` of `session_id` with `rpc_result`. A call dropped by
    /// `rpc_drop_answer` meanwhile is answered `rpc_answer_dropped_running` instead.
    pub fn answer(
        &mut self,
        now: SystemTime,
        session_id: i64,
        req_msg_id: i64,
        answer: RpcAnswer,
    ) -> Result<(), AnswerError> {
        let session = self
            .sessions
            .get_mut(&session_id)
            .ok_or(AnswerError::UnknownSession { session_id })?;
        if !session.calls.contains_key(&req_msg_id) {
            return Err(AnswerError::NotPending {
                session_id,
                req_msg_id,
            });
        }
        self.finish_call(now, session_id, req_msg_id, answer);
        self.release_waiting(now, session_id);
        Ok(())
    }

    /// Sends a message the server starts (an `Updates` object) in `session_id`:
    /// content-related, msg_id ≡ 3 (mod 4). Returns its msg_id.
    pub fn push(
        &mut self,
        now: SystemTime,
        session_id: i64,
        body: Vec<u8>,
    ) -> Result<i64, AnswerError> {
        let session = self
            .sessions
            .get_mut(&session_id)
            .ok_or(AnswerError::UnknownSession { session_id })?;
        Ok(session.outgoing.push(now, Origin::Server, true, body, None))
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next message to send, for a session that has a connection.
    pub fn poll_transmit(&mut self, now: SystemTime) -> Option<Transmit> {
        let salt = self.salts.current(now);
        let max_bytes = self.config.max_container_bytes;
        self.sessions.iter_mut().find_map(|(&session_id, session)| {
            let connection = session.connection?;
            let packed = session.outgoing.poll_transmit(now, max_bytes)?;
            Some(Transmit {
                connection,
                message: PlainMessage {
                    salt,
                    session_id,
                    msg_id: packed.msg_id,
                    seq_no: packed.seqno,
                    body: packed.body,
                },
            })
        })
    }

    /// When [`AuthKeySessions::handle_timeout`] (a disconnect) or
    /// [`AuthKeySessions::poll_transmit`] (a stand-alone acknowledgement) next has work.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        let acks = self
            .sessions
            .values()
            .filter(|session| session.connection.is_some())
            .filter_map(|session| session.outgoing.ack_due());
        self.disconnect_at.values().copied().chain(acks).min()
    }

    /// Finds or creates the session and moves it to `connection`.
    fn attach(&mut self, session_id: i64, connection: ConnectionId, now: SystemTime) {
        if !self.sessions.contains_key(&session_id) {
            self.make_room();
            self.sessions_created += 1;
            let unique_id = derive_i64(
                &self.secret,
                b"mtproto session unique_id",
                &[session_id, self.sessions_created as i64],
            );
            self.sessions.insert(
                session_id,
                Session {
                    connection: None,
                    received: ReceivedWindow::new(self.config.received_window),
                    outgoing: Outgoing::new(self.config.max_unacked, self.msg_id_floor),
                    first_msg_id: None,
                    unique_id,
                    calls: BTreeMap::new(),
                    waiting: Vec::new(),
                    last_active: now,
                },
            );
        }
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.last_active = now;
            if session.connection != Some(connection) {
                session.connection = Some(connection);
                session.outgoing.resend_all_sent();
            }
        }
    }

    /// Forgets the least recently active session if the key is at its limit ("the server may
    /// unilaterally destroy (close) any existing client sessions", service_messages).
    fn make_room(&mut self) {
        while self.sessions.len() >= self.config.max_sessions.max(1) {
            let Some(oldest) = self
                .sessions
                .iter()
                .min_by_key(|(_, session)| session.last_active)
                .map(|(&id, _)| id)
            else {
                return;
            };
            self.sessions.remove(&oldest);
            self.events
                .push_back(Event::SessionDestroyed { session_id: oldest });
        }
    }

    /// Forgets a session (reported as [`Event::SessionDestroyed`]); `false` if there was none.
    fn remove_session(&mut self, session_id: i64) -> bool {
        let Some(session) = self.sessions.remove(&session_id) else {
            return false;
        };
        self.msg_id_floor = self.msg_id_floor.max(session.outgoing.last_msg_id());
        self.events
            .push_back(Event::SessionDestroyed { session_id });
        true
    }

    fn session(&mut self, session_id: i64) -> Option<&mut Session> {
        self.sessions.get_mut(&session_id)
    }

    /// The msg_id rules (18, 16, 17): `false`, with the message refused, if one is broken.
    fn check_msg_id(&mut self, now: SystemTime, session_id: i64, msg_id: i64, seq_no: i32) -> bool {
        let (max_age, max_lead) = (self.config.max_msg_id_age, self.config.max_msg_id_lead);
        match msg_id::check_client(msg_id, now, max_age, max_lead) {
            Ok(()) => true,
            Err(rule) => {
                let error = InboundError::from_msg_id_rule(rule, msg_id);
                self.refuse(now, session_id, msg_id, seq_no, error);
                false
            }
        }
    }

    /// Queues the notification for a refused message, if it has one, and reports it.
    fn refuse(
        &mut self,
        now: SystemTime,
        session_id: i64,
        msg_id: i64,
        seq_no: i32,
        error: InboundError,
    ) {
        if let Some(error_code) = error.error_code() {
            let body = if error_code == 48 {
                t::BadServerSalt {
                    bad_msg_id: msg_id,
                    bad_msg_seqno: seq_no,
                    error_code,
                    new_server_salt: self.salts.current(now),
                }
                .to_bytes()
            } else {
                t::BadMsgNotification {
                    bad_msg_id: msg_id,
                    bad_msg_seqno: seq_no,
                    error_code,
                }
                .to_bytes()
            };
            // "Notifications of an ignored message do not require acknowledgment".
            if let Some(session) = self.session(session_id) {
                session.outgoing.push(now, Origin::Reply, false, body, None);
            }
        }
        self.events.push_back(Event::Refused {
            session_id,
            msg_id,
            error,
        });
    }

    fn handle_container(
        &mut self,
        now: SystemTime,
        session_id: i64,
        msg_id: i64,
        seq_no: i32,
        container: MsgContainer,
        mut budget: usize,
    ) {
        let Some(session) = self.sessions.get(&session_id) else {
            return;
        };
        let refused = if session.received.get(msg_id).is_some() {
            Some(InboundError::ContainerMsgIdReused { msg_id })
        } else if session.received.is_too_old(msg_id) {
            Some(InboundError::MsgIdTooOld { msg_id })
        } else {
            self.check_seq_no(
                session,
                msg_id,
                seq_no,
                "msg_container",
                seq_no::Parity::NotContentRelated,
            )
            .err()
            .or_else(|| check_structure(msg_id, &container.messages).err())
        };
        if let Some(error) = refused {
            return self.refuse(now, session_id, msg_id, seq_no, error);
        }
        if let Some(session) = self.session(session_id) {
            session.received.insert(
                msg_id,
                Received {
                    seq_no,
                    kind: ReceivedKind::Container,
                    acknowledged: true,
                },
            );
        }
        if let Some(lowest) = container.messages.iter().map(|m| m.msg_id).min() {
            self.announce(now, session_id, lowest);
        }
        for ContainerMessage {
            msg_id,
            seqno,
            body,
        } in container.messages
        {
            if !self.check_msg_id(now, session_id, msg_id, seqno) {
                continue;
            }
            match Body::decode_within(&body, &mut budget) {
                Ok(body) => {
                    if self.accept(now, session_id, msg_id, seqno, &body) {
                        self.dispatch(now, session_id, msg_id, seqno, body);
                    }
                }
                Err(error) => self.refuse(
                    now,
                    session_id,
                    msg_id,
                    seqno,
                    InboundError::Malformed(error),
                ),
            }
        }
    }

    /// The per-message rules: duplicates, too old, seq_no. Records the message if it passes.
    fn accept(
        &mut self,
        now: SystemTime,
        session_id: i64,
        msg_id: i64,
        seq_no: i32,
        body: &Body,
    ) -> bool {
        let Some(session) = self.sessions.get(&session_id) else {
            return false;
        };
        if let Some(&received) = session.received.get(msg_id) {
            self.handle_duplicate(now, session_id, msg_id, received);
            return false;
        }
        let refused = if session.received.is_too_old(msg_id) {
            Some(InboundError::MsgIdTooOld { msg_id })
        } else {
            let name = body.name().unwrap_or("an API call");
            self.check_seq_no(session, msg_id, seq_no, name, seq_no::parity_rule(body))
                .err()
        };
        if let Some(error) = refused {
            self.refuse(now, session_id, msg_id, seq_no, error);
            return false;
        }
        let kind = match body {
            Body::Other(_) => ReceivedKind::Call(CallState::Pending),
            _ => ReceivedKind::Service,
        };
        let ack_delay = self.config.ack_delay;
        if let Some(session) = self.session(session_id) {
            session.received.insert(
                msg_id,
                Received {
                    seq_no,
                    kind,
                    acknowledged: false,
                },
            );
            // "When receiving an MTProto message that is marked as content-related ... the
            // receiving party must acknowledge it in some way" (an rpc_result cancels this).
            if is_content_related(seq_no) {
                session.outgoing.ack_later(msg_id, now, ack_delay);
                if let Some(received) = session.received.get_mut(msg_id) {
                    received.acknowledged = true;
                }
            }
        }
        true
    }

    /// The seq_no rules, under [`Strictness::Telegram`] only.
    fn check_seq_no(
        &self,
        session: &Session,
        msg_id: i64,
        seq_no: i32,
        body: &'static str,
        parity: seq_no::Parity,
    ) -> Result<(), InboundError> {
        if self.config.strictness == Strictness::Lenient {
            return Ok(());
        }
        seq_no::check_parity(seq_no, parity)
            .and_then(|()| seq_no::check_order(&session.received.seq_nos(), msg_id, seq_no))
            .map_err(|rule| InboundError::from_seq_no_rule(rule, seq_no, body))
    }

    /// A message already processed is not processed again. A call whose answer is still
    /// kept gets it again (in a container, same msg_id) if it is small, else a
    /// `msg_detailed_info` pointing at it; a call still running is acknowledged
    /// (service_messages_about_messages, "Extended Voluntary Communication").
    fn handle_duplicate(
        &mut self,
        now: SystemTime,
        session_id: i64,
        msg_id: i64,
        received: Received,
    ) {
        let resend_max = self.config.duplicate_resend_max_len;
        let ack_delay = self.config.ack_delay;
        if let Some(session) = self.session(session_id) {
            match received.kind {
                ReceivedKind::Call(CallState::Pending) => {
                    session.outgoing.ack_later(msg_id, now, ack_delay)
                }
                ReceivedKind::Call(_) => match session.outgoing.answer_of(msg_id) {
                    Some((answer_msg_id, len)) if len <= resend_max => {
                        session.outgoing.resend(answer_msg_id);
                    }
                    Some((answer_msg_id, len)) => {
                        let info = t::MsgDetailedInfo {
                            msg_id,
                            answer_msg_id,
                            bytes: i32::try_from(len).unwrap_or(i32::MAX),
                            status: 0,
                        };
                        session
                            .outgoing
                            .push(now, Origin::Reply, false, info.to_bytes(), None);
                    }
                    None => {}
                },
                ReceivedKind::Service | ReceivedKind::Container => {}
            }
        }
        self.events.push_back(Event::Refused {
            session_id,
            msg_id,
            error: InboundError::Duplicate { msg_id },
        });
    }

    /// `new_session_created` for the first message of a session, and again for any later
    /// message with a lower msg_id ("If, after this, the server receives a message with an
    /// even smaller msg_id within the same session, a similar notification will be generated
    /// for this msg_id as well", service_messages). It must be acknowledged, so it is
    /// content-related, and the server starts it (msg_id ≡ 3).
    fn announce(&mut self, now: SystemTime, session_id: i64, msg_id: i64) {
        let server_salt = self.salts.current(now);
        let Some(session) = self.session(session_id) else {
            return;
        };
        let first = session.first_msg_id.is_none();
        if session.first_msg_id.is_some_and(|first| first <= msg_id) {
            return;
        }
        session.first_msg_id = Some(msg_id);
        let body = t::NewSessionCreated {
            first_msg_id: msg_id,
            unique_id: session.unique_id,
            server_salt,
        }
        .to_bytes();
        session.outgoing.push(now, Origin::Server, true, body, None);
        if first {
            self.events.push_back(Event::NewSession { session_id });
        }
    }

    /// Acts on one accepted message.
    fn dispatch(&mut self, now: SystemTime, session_id: i64, msg_id: i64, seq_no: i32, body: Body) {
        match body {
            Body::Other(bytes) => self.handle_call(now, session_id, msg_id, bytes),
            Body::MsgsAck(ack) => {
                if let Some(session) = self.session(session_id) {
                    session.outgoing.acknowledge(&ack.msg_ids);
                }
            }
            Body::Ping(ping) => {
                let pong = t::Pong {
                    msg_id,
                    ping_id: ping.ping_id,
                };
                self.reply(now, session_id, pong.to_bytes());
            }
            Body::PingDelayDisconnect(ping) => {
                let pong = t::Pong {
                    msg_id,
                    ping_id: ping.ping_id,
                };
                self.reply(now, session_id, pong.to_bytes());
                // "the server starts a timer which will close the current connection
                // disconnect_delay seconds later unless it receives a new message of the same
                // type which automatically resets all previous timers".
                let connection = self.sessions.get(&session_id).and_then(|s| s.connection);
                if let Some(connection) = connection {
                    let delay =
                        Duration::from_secs(ping.disconnect_delay.max(0).unsigned_abs().into());
                    self.disconnect_at.insert(connection, now + delay);
                }
            }
            Body::GetFutureSalts(request) => {
                let salts = FutureSalts {
                    req_msg_id: msg_id,
                    now: i32::try_from(msg_id::unixtime(now)).unwrap_or(i32::MAX),
                    salts: self.salts.future(now, request.num),
                };
                self.reply(now, session_id, salts.to_bytes());
            }
            Body::DestroySession(request) => {
                let destroyed =
                    request.session_id != session_id && self.remove_session(request.session_id);
                let answer = if destroyed {
                    DestroySessionRes::DestroySessionOk(t::DestroySessionOk {
                        session_id: request.session_id,
                    })
                } else {
                    DestroySessionRes::DestroySessionNone(t::DestroySessionNone {
                        session_id: request.session_id,
                    })
                };
                self.reply(now, session_id, answer.to_bytes());
            }
            Body::MsgsStateReq(request) => {
                let info = self.states(session_id, msg_id, &request.msg_ids);
                self.reply(now, session_id, info);
            }
            Body::MsgResendReq(request) => {
                let all_kept = self.resend(session_id, &request.msg_ids, |_, id| Some(id));
                self.states_unless(now, session_id, msg_id, &request.msg_ids, all_kept);
            }
            Body::MsgResendAnsReq(request) => {
                let answer = |outgoing: &Outgoing, req| outgoing.answer_of(req).map(|(id, _)| id);
                let all_kept = self.resend(session_id, &request.msg_ids, answer);
                self.states_unless(now, session_id, msg_id, &request.msg_ids, all_kept);
            }
            Body::RpcDropAnswer(request) => {
                self.drop_answer(now, session_id, msg_id, request.req_msg_id)
            }
            Body::DestroyAuthKey => {
                self.reply(now, session_id, t::DestroyAuthKeyOk {}.to_bytes());
                self.events.push_back(Event::AuthKeyDestroyed);
            }
            // Informational, or HTTP only: nothing to do.
            Body::HttpWait(_)
            | Body::MsgsStateInfo(_)
            | Body::MsgsAllInfo(_)
            | Body::MsgDetailedInfo(_) => {}
            Body::Container(_) | Body::Copy(_) => {
                let error = InboundError::InvalidContainer(ContainerError::Nested { index: 0 });
                self.refuse(now, session_id, msg_id, seq_no, error);
            }
            body @ (Body::RpcResult(_)
            | Body::FutureSalts(_)
            | Body::BadMsgNotification(_)
            | Body::BadServerSalt(_)
            | Body::NewSessionCreated(_)
            | Body::Pong(_)
            | Body::DestroySessionRes(_)
            | Body::DestroyAuthKeyRes(_)) => {
                let name = body.name().unwrap_or("a server message");
                self.events.push_back(Event::Refused {
                    session_id,
                    msg_id,
                    error: InboundError::UnexpectedFromClient { name },
                });
            }
        }
    }

    /// A service answer: sent bare, not content-related, msg_id ≡ 1.
    fn reply(&mut self, now: SystemTime, session_id: i64, body: Vec<u8>) {
        if let Some(session) = self.session(session_id) {
            session.outgoing.push(now, Origin::Reply, false, body, None);
        }
    }

    /// Queues again the kept messages `to_resend` finds for `msg_ids`; whether every one was
    /// found.
    fn resend(
        &mut self,
        session_id: i64,
        msg_ids: &[i64],
        to_resend: impl Fn(&Outgoing, i64) -> Option<i64>,
    ) -> bool {
        let Some(session) = self.session(session_id) else {
            return false;
        };
        let mut all_kept = true;
        for &id in msg_ids {
            let kept = to_resend(&session.outgoing, id);
            all_kept &= kept.is_some_and(|kept| session.outgoing.resend(kept));
        }
        all_kept
    }

    /// `msgs_state_info` for `msg_ids`, answering the message `req_msg_id`.
    fn states(&self, session_id: i64, req_msg_id: i64, msg_ids: &[i64]) -> Vec<u8> {
        let info = self.sessions.get(&session_id).map_or_else(
            || vec![1; msg_ids.len()],
            |session| {
                msg_ids
                    .iter()
                    .map(|&id| {
                        let answered = session.outgoing.answer_of(id).is_some();
                        session.received.status(id, answered)
                    })
                    .collect()
            },
        );
        t::MsgsStateInfo { req_msg_id, info }.to_bytes()
    }

    /// "If at least one message with requested msg_id does not exist or has already been
    /// forgotten, or has been sent by the requesting party (known from parity),
    /// MsgsStateInfo is returned for all messages requested as if the MsgResendReq query had
    /// been a MsgsStateReq query as well."
    fn states_unless(
        &mut self,
        now: SystemTime,
        session_id: i64,
        msg_id: i64,
        msg_ids: &[i64],
        all_kept: bool,
    ) {
        if !all_kept {
            let info = self.states(session_id, msg_id, msg_ids);
            self.reply(now, session_id, info);
        }
    }

    /// `rpc_drop_answer`: "rpc_answer_unknown if the server remembers nothing of the incoming
    /// req_msg_id ... rpc_answer_dropped_running if the response was canceled while the RPC
    /// query was being processed ... rpc_answer_dropped means that the RPC response was
    /// removed from the server's outgoing queue" (service_messages).
    fn drop_answer(&mut self, now: SystemTime, session_id: i64, msg_id: i64, req_msg_id: i64) {
        let gzip_min_len = self.config.gzip_min_len;
        let Some(session) = self.session(session_id) else {
            return;
        };
        let answer = if let Some(dropped) = session.calls.get_mut(&req_msg_id) {
            *dropped = true;
            t::RpcAnswerDroppedRunning {}.to_bytes()
        } else if let Some((msg_id, seq_no, len)) = session.outgoing.drop_answer(req_msg_id) {
            t::RpcAnswerDropped {
                msg_id,
                seq_no,
                bytes: i32::try_from(len).unwrap_or(i32::MAX),
            }
            .to_bytes()
        } else {
            t::RpcAnswerUnknown {}.to_bytes()
        };
        let result = RpcResult {
            req_msg_id: msg_id,
            answer: RpcAnswer::Object(answer),
        };
        session.outgoing.cancel_ack(msg_id);
        session.outgoing.push(
            now,
            Origin::Reply,
            true,
            result.to_bytes(gzip_min_len),
            Some(msg_id),
        );
    }

    /// An API call: unwrap it and hand it out, or hold it for the calls it must follow.
    fn handle_call(&mut self, now: SystemTime, session_id: i64, msg_id: i64, body: Vec<u8>) {
        let (invocation, query) = match invocation::unwrap(&body) {
            Ok(unwrapped) => unwrapped,
            Err(error) => {
                if let Some(session) = self.session(session_id) {
                    session.calls.insert(msg_id, false);
                }
                self.finish_call(now, session_id, msg_id, rpc_error(400, "INPUT_FETCH_FAIL"));
                self.events.push_back(Event::Refused {
                    session_id,
                    msg_id,
                    error: InboundError::MalformedCall(error),
                });
                return;
            }
        };
        if invocation.layer.is_some() {
            self.layer = invocation.layer;
        }
        let call = RpcCall {
            session_id,
            msg_id,
            query,
            invocation,
            layer: self.layer,
        };
        if let Some(session) = self.session(session_id) {
            session.calls.insert(msg_id, false);
            if call.invocation.after_msg_ids.is_empty() {
                self.events.push_back(Event::Call(call));
            } else {
                session.waiting.push(call);
                self.release_waiting(now, session_id);
            }
        }
    }

    /// Queues the `rpc_result` of a call and records how it ended.
    fn finish_call(
        &mut self,
        now: SystemTime,
        session_id: i64,
        req_msg_id: i64,
        answer: RpcAnswer,
    ) {
        let gzip_min_len = self.config.gzip_min_len;
        let Some(session) = self.session(session_id) else {
            return;
        };
        let Some(dropped) = session.calls.remove(&req_msg_id) else {
            return;
        };
        let answer = if dropped {
            RpcAnswer::Object(t::RpcAnswerDroppedRunning {}.to_bytes())
        } else {
            answer
        };
        let state = match answer {
            RpcAnswer::Error(_) => CallState::Failed,
            RpcAnswer::Object(_) => CallState::Succeeded,
        };
        if let Some(received) = session.received.get_mut(req_msg_id) {
            received.kind = ReceivedKind::Call(state);
            received.acknowledged = true;
        }
        let result = RpcResult { req_msg_id, answer };
        session.outgoing.cancel_ack(req_msg_id);
        session.outgoing.push(
            now,
            Origin::Reply,
            true,
            result.to_bytes(gzip_min_len),
            Some(req_msg_id),
        );
    }

    /// Hands out (or fails) the `invokeAfterMsg` calls whose predecessors have all ended:
    /// "MSG_WAIT_FAILED" if one of them failed.
    fn release_waiting(&mut self, now: SystemTime, session_id: i64) {
        loop {
            let Some(session) = self.session(session_id) else {
                return;
            };
            let settled = session.waiting.iter().position(|call| {
                call.invocation
                    .after_msg_ids
                    .iter()
                    .all(|id| !session.calls.contains_key(id))
            });
            let Some(index) = settled else {
                return;
            };
            let call = session.waiting.remove(index);
            let failed = call.invocation.after_msg_ids.iter().any(|&id| {
                session.received.get(id).map(|r| r.kind)
                    == Some(ReceivedKind::Call(CallState::Failed))
            });
            if failed {
                self.finish_call(
                    now,
                    session_id,
                    call.msg_id,
                    rpc_error(400, "MSG_WAIT_FAILED"),
                );
            } else {
                self.events.push_back(Event::Call(call));
            }
        }
    }
}

/// Error 64 for a container whose structure is wrong: "All messages in a container must have
/// msg_id lower than that of the container itself ... [a container] may not carry other
/// simple containers" (service_messages).
fn check_structure(
    container_msg_id: i64,
    messages: &[ContainerMessage],
) -> Result<(), InboundError> {
    for (index, message) in messages.iter().enumerate() {
        if message.msg_id >= container_msg_id {
            return Err(InboundError::InvalidContainer(
                ContainerError::InnerMsgIdNotBelow {
                    inner: message.msg_id,
                    container: container_msg_id,
                },
            ));
        }
        if matches!(
            constructor_id(&message.body),
            Some(MSG_CONTAINER_ID | MSG_COPY_ID)
        ) {
            return Err(InboundError::InvalidContainer(ContainerError::Nested {
                index,
            }));
        }
    }
    Ok(())
}

fn rpc_error(error_code: i32, message: &str) -> RpcAnswer {
    RpcAnswer::Error(t::RpcError {
        error_code,
        error_message: message.to_owned(),
    })
}

/// An i64 derived from the server's secret: SHA-256(label ‖ secret ‖ values)[0..8].
fn derive_i64(secret: &[u8; 32], label: &[u8], values: &[i64]) -> i64 {
    let mut hash = Sha256::new().chain_update(label).chain_update(secret);
    for value in values {
        hash.update(value.to_le_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(bytes)
}
