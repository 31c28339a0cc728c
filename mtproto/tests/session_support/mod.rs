//! An in-memory pair for session tests: the server's [`AuthKeySessions`] and a
//! [`ClientSession`], joined without encryption or sockets, on a virtual clock.

#![allow(dead_code)] // each test file uses a different part

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secretchat_common::tl::TlWrite;
use secretchat_mtproto::service::functions::Ping;
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::session::{
    AuthKeySessions, ClientEvent, ClientSession, Config, ConnectionId, Event, PlainMessage, RpcCall,
};

pub const AUTH_KEY_ID: i64 = 0x0123_4567_89ab_cdef;
pub const SECRET: [u8; 32] = [0x5a; 32];
/// `help.getConfig#c4f9186b`, a query with no fields.
pub const GET_CONFIG: [u8; 4] = 0xc4f9186bu32.to_le_bytes();

pub struct Pair {
    pub server: AuthKeySessions,
    pub client: ClientSession,
    pub now: SystemTime,
    pub connection: ConnectionId,
}

impl Pair {
    /// A client whose salt is already right (no `bad_server_salt` round first).
    pub fn new(config: Config) -> Self {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let server = AuthKeySessions::new(config, AUTH_KEY_ID, SECRET);
        let salt = server.salts().current(now);
        Self {
            server,
            client: ClientSession::new(0x5e55, salt),
            now,
            connection: ConnectionId(1),
        }
    }

    pub fn advance(&mut self, duration: Duration) {
        self.now += duration;
    }

    /// Delivers a client message to the server.
    pub fn send(&mut self, message: PlainMessage) {
        self.server
            .handle_message(self.now, self.connection, message);
    }

    /// A fresh message from the client, delivered; returns its msg_id.
    pub fn send_body(&mut self, body: Vec<u8>, content_related: bool) -> i64 {
        let message = self.client.message(self.now, body, content_related);
        let msg_id = message.msg_id;
        self.send(message);
        msg_id
    }

    /// Answers a call of the client's session.
    pub fn answer(&mut self, req_msg_id: i64, answer: RpcAnswer) {
        let session_id = self.client.session_id();
        self.server
            .answer(self.now, session_id, req_msg_id, answer)
            .expect("the call is waiting for its answer");
    }

    /// Pushes an update to the client's session; returns its msg_id.
    pub fn push(&mut self, body: &[u8]) -> i64 {
        let session_id = self.client.session_id();
        self.server
            .push(self.now, session_id, body.to_vec())
            .expect("the session exists")
    }

    pub fn ping(&mut self, ping_id: i64) -> i64 {
        self.send_body(Ping { ping_id }.to_bytes(), false)
    }

    /// Every queued server event.
    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    /// The calls among the queued events (others are dropped).
    pub fn calls(&mut self) -> Vec<RpcCall> {
        self.events()
            .into_iter()
            .filter_map(|event| match event {
                Event::Call(call) => Some(call),
                _ => None,
            })
            .collect()
    }

    /// Every message the server would send now, still sealed-to-be.
    pub fn transmits(&mut self) -> Vec<PlainMessage> {
        std::iter::from_fn(|| self.server.poll_transmit(self.now))
            .map(|transmit| {
                assert_eq!(
                    transmit.connection, self.connection,
                    "sent to the session's connection"
                );
                transmit.message
            })
            .collect()
    }

    /// What the client makes of everything the server sends now.
    pub fn receive(&mut self) -> Vec<ClientEvent> {
        let transmits = self.transmits();
        transmits
            .into_iter()
            .flat_map(|message| {
                self.client
                    .handle_message(message)
                    .expect("server messages decode")
            })
            .collect()
    }

    /// Drops the `new_session_created` and acknowledgement noise of a first exchange.
    pub fn settle(&mut self) {
        self.ping(0);
        self.events();
        self.receive();
    }

    /// A pair past its first exchange ([`Pair::settle`]).
    pub fn settled(config: Config) -> Self {
        let mut pair = Self::new(config);
        pair.settle();
        pair
    }

    /// Sends `help.getConfig` as a call, drops the server events; returns its msg_id.
    pub fn call(&mut self) -> i64 {
        let msg_id = self.send_body(GET_CONFIG.to_vec(), true);
        self.events();
        msg_id
    }
}

/// The refusals among some events, as (msg_id, bad_msg_notification code or none).
pub fn refusals(events: &[Event]) -> Vec<(i64, Option<i32>)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Refused { msg_id, error, .. } => Some((*msg_id, error.error_code())),
            _ => None,
        })
        .collect()
}
