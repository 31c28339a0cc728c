//! The `session_plaintext` fuzz target's driver: arbitrary bytes → a sequence of decrypted
//! client messages (and clock, answer, connection and timer steps) fed to one auth key's
//! [`AuthKeySessions`], with the invariants checked after every step.
//!
//! A test aid, not part of the crate's API: `fuzz/fuzz_targets/session_plaintext.rs` and
//! `mtproto/tests/session_fuzz_corpus.rs` both include this file with `#[path]`, so a corpus
//! file means the same run in both. The clients' msg_ids come from the (virtual) clock, so
//! the fuzzer starts past the msg_id rules and spends its time on the bodies.
//!
//! ```text
//!   op = byte % 8, then the op's own bytes (past the end every byte reads as 0):
//!     0  a message            spec (below)
//!     1  send again           session & 3: the last message of that session, unchanged
//!     2  a container          count % 8, then that many specs (their sessions are ignored:
//!                             the container's session is the first spec's)
//!     3  advance the clock    seconds (u16 LE)
//!     4  a skewed msg_id      spec, then delta (i32 LE) added to the msg_id
//!     5  answer a call        kind: bit 0 rpc_error, bit 1 a large (gzip-worthy) object;
//!                             the oldest call still waiting
//!     6  new connection       the current one closes
//!     7  timers               handle_timeout at now; the clients acknowledge what they got
//!   spec: flags, len (u16 LE, at most 4096), then len body bytes.
//!     flags bits 0-1 session (one of 4), bit 2 odd seq_no (content-related),
//!     bit 3 salt 0 instead of the current one, bit 4 body wrapped in
//!     invokeWithLayer(229, initConnection(…)), bit 5 body gzip-packed
//! ```
//!
//! Invariants (a broken one panics, which is what the fuzzer looks for): no panic inside the
//! session; everything it sends decodes as a server message with an odd msg_id, strictly
//! increasing per session; no call is handed out twice in the life of a session; every
//! answer to a waiting call is accepted.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secretchat_mtproto::service::types::RpcError;
use secretchat_mtproto::service_messages::{gzip_packed, RpcAnswer};
use secretchat_mtproto::session::{
    AuthKeySessions, ClientEvent, ClientSession, Config, ConnectionId, Event, InitConnection,
    PlainMessage,
};

/// At most this many operations are run per input (keeps one input fast).
pub const MAX_OPS: usize = 128;
const MAX_BODY: usize = 4096;
const SESSIONS: [i64; 4] = [0x5e55_0001, 0x5e55_0002, 0x5e55_0003, 0x5e55_0004];

/// What a run did, for the corpus replay's expectations.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Calls handed to the application.
    pub calls: usize,
    /// Answers the application gave.
    pub answered: usize,
    /// `rpc_result`s the clients read.
    pub results: usize,
    /// The notification code of every refusal (none for duplicates and undecodable ones).
    pub refusals: Vec<Option<i32>>,
    pub pongs: usize,
    /// Everything the clients read (results, pongs and every service message).
    pub received: usize,
}

/// The input as a stream of bytes that reads 0 past its end.
struct Input<'a> {
    rest: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&byte, rest)) => {
                self.rest = rest;
                byte
            }
            None => 0,
        }
    }

    /// The next `N` bytes (little-endian numbers are read from them).
    fn array<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }
}

struct Driver {
    server: AuthKeySessions,
    clients: Vec<ClientSession>,
    last_sent: BTreeMap<i64, PlainMessage>,
    last_received: BTreeMap<i64, i64>,
    handed_out: BTreeMap<(i64, i64), ()>,
    waiting: VecDeque<(i64, i64)>,
    now: SystemTime,
    connection: ConnectionId,
    outcome: Outcome,
}

/// Runs `data` as operations (layout in the module comment); panics on a broken invariant.
pub fn run(data: &[u8]) -> Outcome {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let server = AuthKeySessions::new(Config::default(), 0x0123_4567_89ab_cdef, [0x5a; 32]);
    let salt = server.salts().current(now);
    let mut driver = Driver {
        server,
        clients: SESSIONS
            .iter()
            .map(|&id| ClientSession::new(id, salt))
            .collect(),
        last_sent: BTreeMap::new(),
        last_received: BTreeMap::new(),
        handed_out: BTreeMap::new(),
        waiting: VecDeque::new(),
        now,
        connection: ConnectionId(1),
        outcome: Outcome::default(),
    };
    let mut input = Input { rest: data };
    for _ in 0..MAX_OPS {
        if input.rest.is_empty() {
            break;
        }
        driver.step(&mut input);
        driver.drain();
    }
    driver.outcome
}

impl Driver {
    fn step(&mut self, input: &mut Input<'_>) {
        match input.byte() % 8 {
            0 => {
                let message = self.message(input);
                self.send(message);
            }
            1 => {
                let session_id = SESSIONS[usize::from(input.byte() & 3)];
                if let Some(message) = self.last_sent.get(&session_id).cloned() {
                    self.send(message);
                }
            }
            2 => {
                let count = input.byte() % 8;
                let messages: Vec<PlainMessage> = (0..count).map(|_| self.message(input)).collect();
                let index = messages
                    .first()
                    .and_then(|m| SESSIONS.iter().position(|&id| id == m.session_id))
                    .unwrap_or(0);
                let messages = messages
                    .into_iter()
                    .map(|m| PlainMessage {
                        session_id: SESSIONS[index],
                        ..m
                    })
                    .collect();
                let container = self.clients[index].container(self.now, messages);
                self.send(container);
            }
            3 => self.now += Duration::from_secs(u16::from_le_bytes(input.array()).into()),
            4 => {
                let mut message = self.message(input);
                message.msg_id = message
                    .msg_id
                    .wrapping_add(i32::from_le_bytes(input.array()).into());
                self.send(message);
            }
            5 => {
                let kind = input.byte();
                if let Some((session_id, msg_id)) = self.waiting.pop_front() {
                    let answer = if kind & 1 == 1 {
                        RpcAnswer::Error(RpcError {
                            error_code: 400,
                            error_message: "FUZZ_ERROR".to_owned(),
                        })
                    } else if kind & 2 == 2 {
                        RpcAnswer::Object(
                            [0xc4f9186bu32.to_le_bytes().to_vec(), vec![7; 2048]].concat(),
                        )
                    } else {
                        RpcAnswer::Object(0x997275b5u32.to_le_bytes().to_vec())
                    };
                    // Calls of destroyed sessions were dropped from `waiting` (see `drain`).
                    {
                        self.server
                            .answer(self.now, session_id, msg_id, answer)
                            .expect("a call handed out and not answered is pending");
                        self.outcome.answered += 1;
                    }
                }
            }
            6 => {
                self.server.handle_connection_closed(self.connection);
                self.connection = ConnectionId(self.connection.0 + 1);
            }
            _ => {
                self.server.handle_timeout(self.now);
                self.drain();
                for index in 0..self.clients.len() {
                    if let Some(ack) = self.clients[index].acks(self.now) {
                        self.send(ack);
                    }
                }
            }
        }
    }

    /// A message from a spec (layout in the module comment).
    fn message(&mut self, input: &mut Input<'_>) -> PlainMessage {
        let flags = input.byte();
        let len = usize::from(u16::from_le_bytes(input.array())).min(MAX_BODY);
        let mut body = input.bytes(len);
        if flags & 0x10 != 0 {
            body = ClientSession::wrap_with_layer(229, &InitConnection::default(), body);
        }
        if flags & 0x20 != 0 {
            body = gzip_packed::pack(&body).unwrap_or(body);
        }
        let client = &mut self.clients[usize::from(flags & 3)];
        let mut message = client.message(self.now, body, flags & 4 != 0);
        if flags & 8 != 0 {
            message.salt = 0;
        }
        message
    }

    fn send(&mut self, message: PlainMessage) {
        self.last_sent.insert(message.session_id, message.clone());
        self.server
            .handle_message(self.now, self.connection, message);
    }

    /// Events and transmits, with the invariants.
    fn drain(&mut self) {
        while let Some(event) = self.server.poll_event() {
            match event {
                Event::Call(call) => {
                    let key = (call.session_id, call.msg_id);
                    assert!(
                        self.handed_out.insert(key, ()).is_none(),
                        "call {key:?} handed out twice"
                    );
                    self.waiting.push_back(key);
                    self.outcome.calls += 1;
                }
                Event::Refused { error, .. } => self.outcome.refusals.push(error.error_code()),
                // A new session under the same id starts from nothing: its calls may repeat.
                Event::SessionDestroyed { session_id } => {
                    self.handed_out
                        .retain(|&(session, _), _| session != session_id);
                    self.waiting.retain(|&(session, _)| session != session_id);
                }
                _ => {}
            }
        }
        while let Some(transmit) = self.server.poll_transmit(self.now) {
            let message = transmit.message;
            assert_eq!(message.msg_id.rem_euclid(2), 1, "server msg_ids are odd");
            let last = self
                .last_received
                .insert(message.session_id, message.msg_id);
            assert!(
                last.is_none_or(|last| last < message.msg_id),
                "server msg_ids increase per session: {last:?} then {}",
                message.msg_id
            );
            let Some(client) = self
                .clients
                .iter_mut()
                .find(|client| client.session_id() == message.session_id)
            else {
                panic!(
                    "a message for session {:#x}, which no client has",
                    message.session_id
                );
            };
            let events = client
                .handle_message(message)
                .unwrap_or_else(|err| panic!("a server message does not decode: {err}"));
            self.outcome.received += events.len();
            for event in events {
                match event {
                    ClientEvent::Result { .. } => self.outcome.results += 1,
                    ClientEvent::Pong(_) => self.outcome.pongs += 1,
                    _ => {}
                }
            }
        }
    }
}
