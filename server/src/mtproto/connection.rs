//! # One TCP connection of the MTProto door
//!
//! A connection is a byte stream in one of Telegram's transports; the server learns which
//! from its first bytes ([`ServerConnection`]) and answers in the same one. Every packet then
//! starts with an `auth_key_id`:
//!
//! ```text
//! frame ─▶ packet ─┬─ auth_key_id = 0 ─▶ the handshake (req_pq_multi … set_client_DH_params)
//!                  │                      ─▶ unencrypted reply; a new key is stored
//!                  └─ known key ─▶ open (msg_key check, MTProto 2.0) ─▶ the key's sessions
//!                                  ([`super::dispatch`]) ─▶ sealed replies on this or
//!                                  another connection of the key
//! ```
//!
//! What the door answers to input it cannot use (each case leaves every other connection and
//! every stored key as they were):
//!
//! | input | answer |
//! |---|---|
//! | an unknown `auth_key_id`, or a temporary key past its lifetime | transport error −404, close |
//! | a packet the key does not open (bad msg_key, length, padding) | −404, close |
//! | a handshake message out of order or malformed | −404, close |
//! | framing errors: an oversized frame, a bad CRC or seq (full), garbage that is no transport | −404 if the transport is known, then close |
//! | nothing for `--mtproto-idle-timeout` seconds (a half-open connection) | close |
//!
//! −404 is what Telegram sends for a key it does not know, and what clients take as "make
//! a new key" (Telethon raises `AuthKeyNotFound`, Pyrogram restarts its session); a server
//! cannot tell a forged packet from one under a key it lost, so it answers both alike.
//! Message-level mistakes inside a good packet (stale msg_id, wrong salt) are the session's
//! business and get `bad_msg_notification` / `bad_server_salt` instead.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use rand::rngs::OsRng;
use secretchat_mtproto::auth_key::AuthKeyId;
use secretchat_mtproto::handshake::{Handshake, Outcome};
use secretchat_mtproto::message::encrypted::{self, Direction};
use secretchat_mtproto::message::{auth_key_id, unencrypted};
use secretchat_mtproto::session::msg_id::{Origin, ServerMsgIds};
use secretchat_mtproto::session::ConnectionId;
use secretchat_mtproto::transport::{Frame, ServerConnection, TransportErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::auth_keys::{AuthKeyRecord, Link, Outbound};
use super::{dispatch, pushes};
use crate::state::Server;

/// Why a connection ended (logged at debug level; the client sees −404 or a close).
#[derive(Debug, thiserror::Error)]
enum Closed {
    #[error("the client closed the connection")]
    ByClient,
    #[error("idle for {0:?}")]
    Idle(std::time::Duration),
    #[error("{0}")]
    Refused(String),
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("asked to close (ping_delay_disconnect or destroy_auth_key)")]
    Asked,
}

/// The state of one connection.
struct Connection {
    id: ConnectionId,
    peer: SocketAddr,
    transport: ServerConnection,
    handshake: Handshake,
    /// msg_ids of the unencrypted handshake replies.
    plain_msg_ids: ServerMsgIds,
    /// The keys that have spoken on this connection (almost always one).
    keys: Vec<Arc<AuthKeyRecord>>,
    outbox: mpsc::UnboundedSender<Outbound>,
}

/// Serves one accepted socket until it closes.
pub async fn run(server: Arc<Server>, stream: TcpStream, peer: SocketAddr, id: ConnectionId) {
    let (outbox, mut inbox) = mpsc::unbounded_channel();
    let mut connection = Connection {
        id,
        peer,
        transport: ServerConnection::new(),
        handshake: Handshake::new(),
        plain_msg_ids: ServerMsgIds::default(),
        keys: Vec::new(),
        outbox,
    };
    let (mut reader, mut writer) = stream.into_split();
    let idle = server.mtproto.idle_timeout;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut idle_at = Instant::now() + idle;
    let result: Result<(), Closed> = async {
        loop {
            let timer = connection.next_timeout();
            tokio::select! {
                read = reader.read(&mut buffer) => {
                    let n = read?;
                    if n == 0 {
                        if let Err(error) = connection.transport.end_of_input() {
                            tracing::debug!(%peer, %error, "mtproto: input ended inside a frame");
                        }
                        return Err(Closed::ByClient);
                    }
                    idle_at = Instant::now() + idle;
                    connection.transport.feed(&buffer[..n]);
                    let out = connection.read_frames(&server);
                    writer.write_all(&out.bytes).await?;
                    if let Some(reason) = out.close {
                        return Err(Closed::Refused(reason));
                    }
                }
                Some(outbound) = inbox.recv() => {
                    match outbound {
                        Outbound::Message(record, message) => {
                            let bytes = connection.seal(&record, &message)?;
                            writer.write_all(&bytes).await?;
                        }
                        Outbound::Close => return Err(Closed::Asked),
                    }
                }
                () = sleep_until(idle_at) => return Err(Closed::Idle(idle)),
                () = sleep_until(timer.unwrap_or(idle_at)), if timer.is_some() => {
                    connection.fire_timers(&server);
                }
            }
        }
    }
    .await;
    if let Err(reason) = result {
        tracing::debug!(%peer, connection = id.0, %reason, "mtproto: connection closed");
    }
    let _ = writer.shutdown().await;
    for record in &connection.keys {
        dispatch::connection_closed(record, id);
    }
}

/// Bytes to write after reading, and whether to close after them.
#[derive(Default)]
struct Written {
    bytes: Vec<u8>,
    close: Option<String>,
}

impl Connection {
    /// Reads every complete frame in the buffer.
    fn read_frames(&mut self, server: &Arc<Server>) -> Written {
        let mut out = Written::default();
        loop {
            match self.transport.poll_frame() {
                Ok(None) => return out,
                Ok(Some(frame)) => {
                    if let Err(reason) = self.handle_frame(server, &frame, &mut out.bytes) {
                        self.refuse(&mut out, reason);
                        return out;
                    }
                }
                Err(error) => {
                    self.refuse(&mut out, format!("transport: {error}"));
                    return out;
                }
            }
        }
    }

    /// −404 (when the transport is known) and close.
    fn refuse(&mut self, out: &mut Written, reason: String) {
        tracing::info!(peer = %self.peer, connection = self.id.0, %reason, "mtproto: refused, answering -404");
        if let Ok(bytes) = self
            .transport
            .encode_transport_error(TransportErrorCode::AuthKeyNotFound)
        {
            out.bytes.extend_from_slice(&bytes);
        }
        out.close = Some(reason);
    }

    fn handle_frame(
        &mut self,
        server: &Arc<Server>,
        frame: &Frame,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let packet = frame.packet();
        let key_id = auth_key_id(packet).map_err(|e| e.to_string())?;
        if key_id == AuthKeyId::NONE {
            return self.handle_handshake(server, packet, out);
        }
        let now = SystemTime::now();
        let record = server
            .mtproto
            .keys
            .get(key_id)
            .filter(|record| !record.expired(now))
            .ok_or_else(|| format!("unknown auth_key_id {key_id}"))?;
        let opened = encrypted::open(&record.key, Direction::ClientToServer, packet)
            .map_err(|e| format!("auth key {key_id}: {e}"))?;
        if frame.quick_ack_requested {
            if let Ok(ack) = self.transport.encode_quick_ack(opened.quick_ack) {
                out.extend_from_slice(&ack);
            }
        }
        self.attach(&record);
        dispatch::handle_message(server, &record, self.id, opened.message, now);
        pushes::ensure_pusher(server, &record);
        Ok(())
    }

    fn handle_handshake(
        &mut self,
        server: &Server,
        packet: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let message = unencrypted::decode(packet).map_err(|e| e.to_string())?;
        let door = &server.mtproto;
        let now = SystemTime::now();
        let unixtime =
            i32::try_from(secretchat_mtproto::session::msg_id::unixtime(now)).unwrap_or(i32::MAX);
        let outcome = self
            .handshake
            .handle(
                door.handshake_server(),
                &message.body,
                unixtime,
                |id| door.keys.contains(id),
                &mut OsRng,
            )
            .map_err(|e| format!("handshake: {e}"))?;
        let reply = match outcome {
            Outcome::Reply(reply) => reply,
            Outcome::Refused { reply, reason } => {
                tracing::info!(peer = %self.peer, %reason, "mtproto: handshake refused");
                reply
            }
            Outcome::KeyCreated { reply, key } => {
                let record = door.store_key(key, now);
                tracing::info!(peer = %self.peer, auth_key_id = %record.id(), "mtproto: auth key created");
                reply
            }
        };
        let msg_id = self.plain_msg_ids.next(now, Origin::Reply);
        let packet = unencrypted::encode(msg_id, &reply).map_err(|e| e.to_string())?;
        let framed = self
            .transport
            .encode(&packet, &mut OsRng)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&framed);
        Ok(())
    }

    /// Registers this connection with a key the first time the key speaks on it.
    fn attach(&mut self, record: &Arc<AuthKeyRecord>) {
        if self.keys.iter().any(|known| Arc::ptr_eq(known, record)) {
            return;
        }
        let transport = match self.transport.detected() {
            Some(detected) if detected.obfuscated => {
                format!("{} (obfuscated2)", transport_name(detected.transport))
            }
            Some(detected) => transport_name(detected.transport).to_owned(),
            None => "unknown".to_owned(),
        };
        record.lock().links.insert(
            self.id,
            Link {
                outbox: self.outbox.clone(),
                transport,
                peer: self.peer,
            },
        );
        self.keys.push(Arc::clone(record));
    }

    /// One message of `record`'s sessions, sealed and framed.
    fn seal(
        &mut self,
        record: &AuthKeyRecord,
        message: &secretchat_mtproto::session::PlainMessage,
    ) -> Result<Vec<u8>, Closed> {
        let packet = encrypted::seal(&record.key, Direction::ServerToClient, message, &mut OsRng)
            .map_err(|e| Closed::Refused(format!("cannot seal a reply: {e}")))?;
        self.transport
            .encode(&packet, &mut OsRng)
            .map_err(|e| Closed::Refused(format!("cannot frame a reply: {e}")))
    }

    /// The earliest timer of this connection's keys (acks to send, disconnect delays).
    fn next_timeout(&self) -> Option<Instant> {
        let at = self
            .keys
            .iter()
            .filter_map(|record| record.lock().sessions.poll_timeout())
            .min()?;
        let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
        Some(Instant::now() + wait)
    }

    fn fire_timers(&mut self, server: &Server) {
        for record in &self.keys {
            dispatch::handle_timeout(server, record, SystemTime::now());
        }
    }
}

/// A transport's name as `/admin/state` shows it.
fn transport_name(transport: secretchat_mtproto::transport::Transport) -> &'static str {
    use secretchat_mtproto::transport::Transport;
    match transport {
        Transport::Abridged => "abridged",
        Transport::Intermediate => "intermediate",
        Transport::PaddedIntermediate => "padded intermediate",
        Transport::Full => "full",
    }
}
