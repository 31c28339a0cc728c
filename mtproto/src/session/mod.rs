//! # The session: MTProto's message layer, server side, with no I/O
//!
//! Below the API calls, every encrypted MTProto message carries five values the encryption
//! layer does not interpret (core.telegram.org/mtproto/description):
//!
//! ```text
//! salt (8) | session_id (8) | msg_id (8) | seq_no (4) | length (4) | body | padding
//! ```
//!
//! A *session* is the client's random `session_id` under one auth key: "an application
//! instance". Within it the server checks the client's msg_ids against its clock ([`msg_id`])
//! and its seq_nos against each other ([`seq_no`]), the salt against the key's schedule
//! ([`salts`]), forgets nothing it must not process twice ([`received`]), unpacks containers
//! and gzip, answers the service messages (pings, acknowledgements, salts, state requests,
//! [`crate::service_messages`]), unwraps API calls ([`invocation`]) for the application, and
//! sends back answers, updates and its own service messages with msg_ids, seq_nos,
//! acknowledgements, resends and containers of its own ([`outgoing`]). Messages it refuses
//! get the `bad_msg_notification` Telegram defines ([`error`]). All of it lives in
//! [`AuthKeySessions`] ([`server`]), one per auth key; [`ClientSession`] ([`client`]) is the
//! small client counterpart that tests and benchmarks drive it with.
//!
//! ## Driving it (the call order)
//!
//! Feed each decrypted client message of the key to [`AuthKeySessions::handle_message`]
//! with the connection it came on and the current time, and each closed connection to
//! [`AuthKeySessions::handle_connection_closed`]. Then drain
//! [`AuthKeySessions::poll_event`] — answer every [`Event::Call`] with
//! [`AuthKeySessions::answer`] (now or later, in any order; push updates with
//! [`AuthKeySessions::push`]), close the connection of an [`Event::CloseConnection`], forget
//! the key after [`Event::AuthKeyDestroyed`] — and [`AuthKeySessions::poll_transmit`], sealing
//! each [`Transmit`] with the auth key and writing it to its connection, until both return
//! `None`. Arm a timer for [`AuthKeySessions::poll_timeout`], and when it fires call
//! [`AuthKeySessions::handle_timeout`] and poll again. Answers, pushes and timeouts queue
//! output too, so poll after each. Nothing here reads a clock or draws randomness: `now` is
//! passed in, and the salts and session ids derive from a secret given at creation.
//!
//! ## Strictness: what both clients can take
//!
//! The msg_id rules (16, 17, 18, 20), the container rules (19, 64) and the salt (48) are
//! always enforced, as Telegram does: both clients handle `bad_server_salt` (they start every
//! session with salt 0 and resend), Telethon corrects its clock on 16/17, and a client on the
//! same host as the server never trips them. The seq_no rules (32–35) are a
//! [`Strictness`] setting:
//!
//! * [`Strictness::Telegram`] enforces them as core.telegram.org documents them: API calls
//!   odd (35), `msgs_ack` and containers even (34), other service messages either — so
//!   Telethon's odd `ping` and Pyrogram's even `ping`/odd `ping_delay_disconnect` both pass —
//!   and seq_nos growing with msg_ids (32/33).
//! * [`Strictness::Lenient`] (the default) checks none of them. Pyrogram cannot handle any
//!   of 16/17/32–35 (it logs the notification and returns it as the call's result, session.py
//!   `send`), and a server that reads the parity rules more strictly than the documentation
//!   (service messages even) would break Telethon's keep-alive: a 34 on its odd ping leaves
//!   the pong missing and Telethon reconnects 60 s later (NOTES.md section c). Nothing the
//!   mock does depends on a client's seq_no, so the lenient choice costs no correctness.
//!
//! Limits (in [`Config`]): 1024 messages per container and 8192 ids per acknowledgement or
//! request (Telegram's), an inflate budget per packet for gzip (2 MiB by default: a gzip bomb
//! stops there), the last 1024 msg_ids remembered per session, 1024 unacknowledged messages
//! kept per session, 64 sessions per key.

pub mod client;
pub mod error;
pub mod invocation;
pub mod msg_id;
pub mod outgoing;
pub mod received;
pub mod salts;
pub mod seq_no;
pub mod server;

use std::time::Duration;

pub use client::{ClientError, ClientEvent, ClientSession};
pub use error::{ContainerError, InboundError};
pub use invocation::{InitConnection, Invocation, InvocationError};
pub use salts::ServerSalts;
pub use server::{AnswerError, AuthKeySessions, Event, RpcCall, Transmit};

/// The plaintext of one encrypted message, without its length and padding: what the
/// encryption layer opens from a client packet and seals into a server packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainMessage {
    pub salt: i64,
    pub session_id: i64,
    pub msg_id: i64,
    pub seq_no: i32,
    /// One serialized TL object (for a container, the container).
    pub body: Vec<u8>,
}

/// A message going into a container keeps its msg_id, seq_no and body.
impl From<PlainMessage> for crate::service_messages::ContainerMessage {
    fn from(message: PlainMessage) -> Self {
        Self {
            msg_id: message.msg_id,
            seqno: message.seq_no,
            body: message.body,
        }
    }
}

/// Which connection (of the I/O layer's choosing) a message came on or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// How strictly the seq_no rules are enforced (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strictness {
    /// 32–35 as core.telegram.org documents them.
    Telegram,
    /// No seq_no checks: what both Telethon and Pyrogram work with.
    #[default]
    Lenient,
}

/// The session's settings and limits.
#[derive(Debug, Clone)]
pub struct Config {
    pub strictness: Strictness,
    /// How far behind the server's clock a client msg_id may be (Telegram: 300 s).
    pub max_msg_id_age: Duration,
    /// How far ahead (Telegram: 30 s).
    pub max_msg_id_lead: Duration,
    /// How many client msg_ids each session remembers ("the last N").
    pub received_window: usize,
    /// Sessions per auth key; past it the least recently active one is forgotten.
    pub max_sessions: usize,
    /// Content-related messages kept per session until acknowledged; past it the oldest is
    /// forgotten (not resent).
    pub max_unacked: usize,
    /// What the `gzip_packed` bodies of one packet may inflate to in total.
    pub max_unpacked_len: usize,
    /// Answers of at least this many bytes are gzip-packed when that is smaller
    /// (Telethon's threshold for its own requests).
    pub gzip_min_len: usize,
    /// How long an acknowledgement may wait for other outgoing messages to ride with.
    pub ack_delay: Duration,
    /// A duplicate call gets its kept answer again up to this size, a `msg_detailed_info`
    /// beyond ("If the response is small, the server may re-send the answer itself").
    pub duplicate_resend_max_len: usize,
    /// What one outgoing container may hold, in body bytes (a larger message goes alone).
    pub max_container_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            strictness: Strictness::default(),
            max_msg_id_age: msg_id::MAX_AGE,
            max_msg_id_lead: msg_id::MAX_LEAD,
            received_window: 1024,
            max_sessions: 64,
            max_unacked: 1024,
            max_unpacked_len: crate::service_messages::DEFAULT_MAX_UNPACKED_LEN,
            gzip_min_len: 512,
            ack_delay: Duration::from_millis(500),
            duplicate_resend_max_len: 1024,
            max_container_bytes: 512 << 10,
        }
    }
}
