//! The client side of a session — as much of it as tests and benchmarks of the server need.
//!
//! It does what Telethon and Pyrogram do with the five values of a message
//! (telethon/network/mtprotostate.py, pyrogram/session/session.py): msg_ids from the clock,
//! divisible by 4 and increasing; seq_nos that count content-related messages; the salt the
//! server last announced; API calls wrapped in `invokeWithLayer(initConnection(…))`; several
//! messages in one container; and on the way in, containers and gzip unpacked, duplicates
//! (same server msg_id) dropped, `rpc_result`s matched to their calls, and every
//! content-related server message remembered for the next `msgs_ack`. It is no client
//! library: no retries, no clock correction, no transport.

use std::collections::BTreeSet;
use std::time::SystemTime;

use secretchat_common::tl::{RawQuery, TlWrite};

use super::invocation::InitConnection;
use super::msg_id::ClientMsgIds;
use super::seq_no::{is_content_related, SeqNo};
use super::PlainMessage;
use crate::api::layer229::functions::InvokeWithLayer;
use crate::service::types::{self as t, MsgsAck};
use crate::service_messages::{
    Body, ContainerMessage, EnvelopeError, FutureSalts, MsgContainer, RpcAnswer,
    DEFAULT_MAX_UNPACKED_LEN, MAX_IDS,
};

/// What a server message meant to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The answer to the call `req_msg_id`.
    Result {
        req_msg_id: i64,
        answer: RpcAnswer,
    },
    /// A message was refused; the client now uses `new_server_salt`.
    BadServerSalt(t::BadServerSalt),
    /// A message was refused for another reason.
    BadMsgNotification(t::BadMsgNotification),
    /// The server started a session; the client now uses its `server_salt`.
    NewSession(t::NewSessionCreated),
    Pong(t::Pong),
    FutureSalts(FutureSalts),
    /// Any other service message (`msgs_ack`, `msgs_state_info`, `msg_detailed_info`,
    /// `destroy_session_ok`, ...).
    Service(Body),
    /// An API object outside `rpc_result` (an `Updates`), with its msg_id.
    Update {
        msg_id: i64,
        body: Vec<u8>,
    },
}

/// Why a server message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("message of session {got:#x}, expected {expected:#x}")]
    WrongSession { got: i64, expected: i64 },
    #[error("server msg_id {msg_id:#x} is even")]
    EvenMsgId { msg_id: i64 },
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

/// One client session.
#[derive(Debug, Clone)]
pub struct ClientSession {
    session_id: i64,
    salt: i64,
    msg_ids: ClientMsgIds,
    seq_no: SeqNo,
    pending_acks: Vec<i64>,
    seen: BTreeSet<i64>,
}

/// How many server msg_ids the client remembers to drop duplicates.
const SEEN: usize = 4096;

impl ClientSession {
    /// A session with the salt the client believes in (Telethon and Pyrogram start with 0).
    pub fn new(session_id: i64, salt: i64) -> Self {
        Self {
            session_id,
            salt,
            msg_ids: ClientMsgIds::default(),
            seq_no: SeqNo::default(),
            pending_acks: Vec::new(),
            seen: BTreeSet::new(),
        }
    }

    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    pub fn salt(&self) -> i64 {
        self.salt
    }

    /// `invokeWithLayer(layer, initConnection(init, query))`, as both clients send their
    /// first call (`help.getConfig`).
    pub fn wrap_with_layer(layer: i32, init: &InitConnection, query: Vec<u8>) -> Vec<u8> {
        InvokeWithLayer {
            layer,
            query: RawQuery(init.wrap(query)),
        }
        .to_bytes()
    }

    /// A message with the next msg_id and seq_no.
    pub fn message(
        &mut self,
        now: SystemTime,
        body: Vec<u8>,
        content_related: bool,
    ) -> PlainMessage {
        PlainMessage {
            salt: self.salt,
            session_id: self.session_id,
            msg_id: self.msg_ids.next(now),
            seq_no: self.seq_no.next(content_related),
            body,
        }
    }

    /// An API call (content-related).
    pub fn call(&mut self, now: SystemTime, query: Vec<u8>) -> PlainMessage {
        self.message(now, query, true)
    }

    /// Several messages made with [`ClientSession::message`] in one container, which gets the
    /// next msg_id (above theirs) and an even seq_no.
    pub fn container(&mut self, now: SystemTime, messages: Vec<PlainMessage>) -> PlainMessage {
        let messages = messages.into_iter().map(ContainerMessage::from).collect();
        let container = MsgContainer { messages };
        self.message(now, container.to_bytes(), false)
    }

    /// A `msgs_ack` for the content-related server messages received since the last one.
    pub fn acks(&mut self, now: SystemTime) -> Option<PlainMessage> {
        if self.pending_acks.is_empty() {
            return None;
        }
        let count = self.pending_acks.len().min(MAX_IDS);
        let msg_ids: Vec<i64> = self.pending_acks.drain(..count).collect();
        Some(self.message(now, MsgsAck { msg_ids }.to_bytes(), false))
    }

    /// Reads one decrypted server message.
    pub fn handle_message(
        &mut self,
        message: PlainMessage,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        if message.session_id != self.session_id {
            return Err(ClientError::WrongSession {
                got: message.session_id,
                expected: self.session_id,
            });
        }
        let mut events = Vec::new();
        let body = Body::decode(&message.body, DEFAULT_MAX_UNPACKED_LEN)?;
        match body {
            Body::Container(container) => {
                self.check_msg_id(message.msg_id)?;
                for inner in container.messages {
                    if self.is_new(inner.msg_id, inner.seqno)? {
                        let body = Body::decode(&inner.body, DEFAULT_MAX_UNPACKED_LEN)?;
                        events.push(self.read(inner.msg_id, body));
                    }
                }
            }
            body => {
                if self.is_new(message.msg_id, message.seq_no)? {
                    events.push(self.read(message.msg_id, body));
                }
            }
        }
        Ok(events)
    }

    fn check_msg_id(&self, msg_id: i64) -> Result<(), ClientError> {
        if msg_id.rem_euclid(2) == 0 {
            return Err(ClientError::EvenMsgId { msg_id });
        }
        Ok(())
    }

    /// Drops a server msg_id seen before; remembers a content-related one for acknowledging.
    fn is_new(&mut self, msg_id: i64, seq_no: i32) -> Result<bool, ClientError> {
        self.check_msg_id(msg_id)?;
        if !self.seen.insert(msg_id) {
            return Ok(false);
        }
        if self.seen.len() > SEEN {
            self.seen.pop_first();
        }
        if is_content_related(seq_no) {
            self.pending_acks.push(msg_id);
        }
        Ok(true)
    }

    fn read(&mut self, msg_id: i64, body: Body) -> ClientEvent {
        match body {
            Body::RpcResult(result) => ClientEvent::Result {
                req_msg_id: result.req_msg_id,
                answer: result.answer,
            },
            Body::BadServerSalt(bad) => {
                self.salt = bad.new_server_salt;
                ClientEvent::BadServerSalt(bad)
            }
            Body::BadMsgNotification(bad) => ClientEvent::BadMsgNotification(bad),
            Body::NewSessionCreated(new) => {
                self.salt = new.server_salt;
                ClientEvent::NewSession(new)
            }
            Body::Pong(pong) => ClientEvent::Pong(pong),
            Body::FutureSalts(salts) => ClientEvent::FutureSalts(salts),
            Body::Other(body) => ClientEvent::Update { msg_id, body },
            other => ClientEvent::Service(other),
        }
    }
}
