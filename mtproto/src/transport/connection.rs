//! One TCP connection's transport, as a sans-I/O state machine for each end.
//!
//! The driving contract, the same for both ends: hand every byte read from the socket to
//! `feed` (any chunking: a frame split over many reads, or many frames in one read), then call
//! the `poll_*` method until it returns `Ok(None)`; write whatever an `encode*` method returns,
//! in the order it returned it (the full transport numbers frames, obfuscated2 runs one
//! keystream). An `Err` from `poll_*` is final: close the connection (a server may first send
//! a transport error). At end of input, `end_of_input` says whether a frame was cut short.

use rand::RngCore;

use super::detect::{self, Opening};
use super::framing::{Decoded, Framing, Progress, ReadingSide};
use super::obfuscated2::{self, Ciphers, MtProxySecret};
use super::{
    transport_error_in, Detected, EncodeError, QuickAck, Transport, TransportError,
    TransportErrorCode,
};
use crate::message::without_transport_padding;

/// A packet the server read from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's payload as sent (with padded intermediate's random tail, if any).
    pub payload: Vec<u8>,
    /// The client set the quick-ack bit: answer with
    /// [`ServerConnection::encode_quick_ack`] once the packet has been opened.
    pub quick_ack_requested: bool,
    padded: bool,
}

impl Frame {
    /// The MTProto packet: the payload, without padded intermediate's 0–15 random bytes (cut
    /// where the packet says it ends, [`without_transport_padding`]).
    pub fn packet(&self) -> &[u8] {
        if self.padded {
            without_transport_padding(&self.payload)
        } else {
            &self.payload
        }
    }
}

/// What the client side reads from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// An MTProto packet (padding already cut off).
    Packet(Vec<u8>),
    /// The server's quick ack of one of our packets.
    QuickAck(QuickAck),
    /// A 4-byte transport error packet: the negative code (−404, −429, −444, …).
    TransportError(i32),
}

/// The bytes of one direction after detection: the framing, the obfuscation, and what has
/// been received but not yet read.
#[derive(Debug)]
struct Stream {
    framing: Framing,
    ciphers: Option<Ciphers>,
    side: ReadingSide,
    /// Received bytes, already decrypted, not yet cut into frames.
    inbox: Vec<u8>,
}

impl Stream {
    fn push(&mut self, bytes: &[u8]) {
        let start = self.inbox.len();
        self.inbox.extend_from_slice(bytes);
        if let Some(ciphers) = &mut self.ciphers {
            ciphers.decrypt(&mut self.inbox[start..]);
        }
    }

    fn next(&mut self) -> Result<Option<Decoded>, TransportError> {
        match self.framing.decode(&self.inbox, self.side)? {
            Progress::Done { decoded, consumed } => {
                self.inbox.drain(..consumed);
                Ok(Some(decoded))
            }
            Progress::NeedMore { .. } => Ok(None),
        }
    }

    fn end_of_input(&self) -> Result<(), TransportError> {
        if self.inbox.is_empty() {
            return Ok(());
        }
        // A copy of the framing, so that asking does not advance the full transport's seq.
        match self.framing.clone().decode(&self.inbox, self.side)? {
            Progress::Done { .. } => Ok(()),
            Progress::NeedMore { need } => Err(TransportError::Truncated {
                have: self.inbox.len(),
                need,
            }),
        }
    }

    /// One frame, encrypted if obfuscated, after `prefix` (the client's opening bytes).
    fn frame(
        &mut self,
        prefix: Vec<u8>,
        payload: &[u8],
        quick_ack_request: bool,
        padding: &[u8],
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = prefix;
        let start = out.len();
        self.framing
            .encode(payload, quick_ack_request, padding, &mut out)?;
        self.encrypt_from(&mut out, start);
        Ok(out)
    }

    fn encrypt_from(&mut self, out: &mut [u8], start: usize) {
        if let Some(ciphers) = &mut self.ciphers {
            ciphers.encrypt(&mut out[start..]);
        }
    }

    fn padded(&self) -> bool {
        self.framing.transport() == Transport::PaddedIntermediate
    }
}

/// Padded intermediate's 0–15 random bytes (tdlib: `Random::secure_uint32() % 16`).
fn random_padding(rng: &mut impl RngCore) -> Vec<u8> {
    let mut padding = vec![0u8; (rng.next_u32() % 16) as usize];
    rng.fill_bytes(&mut padding);
    padding
}

/// The server's end of a connection: detects the client's transport, reads its frames,
/// frames the answers.
#[derive(Debug)]
pub struct ServerConnection {
    secret: Option<MtProxySecret>,
    state: ServerState,
}

#[derive(Debug)]
enum ServerState {
    /// The first bytes, until they say which transport this is.
    Detecting(Vec<u8>),
    Open {
        stream: Box<Stream>,
        detected: Detected,
    },
    /// Bad input ended the reading side. The writing side of an opened connection still
    /// works (its framing and cipher do not depend on what was read), so the server can
    /// still send a transport error before it closes.
    Failed {
        error: TransportError,
        writer: Option<Box<Stream>>,
    },
}

impl Default for ServerConnection {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerConnection {
    /// A new connection that accepts every transport; obfuscated2 without a proxy secret.
    pub fn new() -> Self {
        Self {
            secret: None,
            state: ServerState::Detecting(Vec::new()),
        }
    }

    /// A new connection whose obfuscated2 keys are mixed with an MTProxy secret (the plain
    /// transports are still accepted).
    pub fn with_mtproxy_secret(secret: MtProxySecret) -> Self {
        Self {
            secret: Some(secret),
            state: ServerState::Detecting(Vec::new()),
        }
    }

    /// The transport, once the first bytes have told it.
    pub fn detected(&self) -> Option<Detected> {
        match &self.state {
            ServerState::Open { detected, .. } => Some(*detected),
            _ => None,
        }
    }

    /// Bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        match &mut self.state {
            ServerState::Detecting(first) => first.extend_from_slice(bytes),
            ServerState::Open { stream, .. } => stream.push(bytes),
            ServerState::Failed { .. } => {}
        }
    }

    /// The next complete frame, `Ok(None)` until more bytes arrive.
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, TransportError> {
        let result = self.try_poll();
        if let Err(error) = &result {
            let writer =
                match std::mem::replace(&mut self.state, ServerState::Detecting(Vec::new())) {
                    ServerState::Open { stream, .. } => Some(stream),
                    ServerState::Failed { writer, .. } => writer,
                    ServerState::Detecting(_) => None,
                };
            self.state = ServerState::Failed {
                error: error.clone(),
                writer,
            };
        }
        result
    }

    fn try_poll(&mut self) -> Result<Option<Frame>, TransportError> {
        if let ServerState::Detecting(first) = &self.state {
            match self.open(first)? {
                Some(open) => self.state = open,
                None => return Ok(None),
            }
        }
        let ServerState::Open { stream, .. } = &mut self.state else {
            return match &self.state {
                ServerState::Failed { error, .. } => Err(error.clone()),
                _ => Ok(None),
            };
        };
        let padded = stream.padded();
        match stream.next()? {
            Some(Decoded::Packet {
                payload,
                quick_ack_requested,
            }) => Ok(Some(Frame {
                payload,
                quick_ack_requested,
                padded,
            })),
            // Only a client-side decoder reads quick acks; a server-side one reads the flag as
            // "quick ack requested" on a packet.
            Some(Decoded::QuickAck(_)) | None => Ok(None),
        }
    }

    /// The state after the first bytes, once they are enough to tell.
    fn open(&self, first: &[u8]) -> Result<Option<ServerState>, TransportError> {
        let Some(opening) = detect::opening(first)? else {
            return Ok(None);
        };
        let (stream, detected, rest) = match opening {
            Opening::Plain { transport, tag_len } => (
                Stream {
                    framing: Framing::new(transport),
                    ciphers: None,
                    side: ReadingSide::Server,
                    inbox: Vec::new(),
                },
                Detected {
                    transport,
                    obfuscated: false,
                    dc_id: None,
                },
                &first[tag_len..],
            ),
            Opening::Obfuscated2 => {
                let Some(header) = first
                    .get(..obfuscated2::HEADER_LEN)
                    .and_then(|header| <&[u8; obfuscated2::HEADER_LEN]>::try_from(header).ok())
                else {
                    return Ok(None);
                };
                let accepted = obfuscated2::accept(header, self.secret.as_ref())?;
                (
                    Stream {
                        framing: Framing::new(accepted.transport),
                        ciphers: Some(accepted.ciphers),
                        side: ReadingSide::Server,
                        inbox: Vec::new(),
                    },
                    Detected {
                        transport: accepted.transport,
                        obfuscated: true,
                        dc_id: Some(accepted.dc_id),
                    },
                    &first[obfuscated2::HEADER_LEN..],
                )
            }
        };
        let mut stream = Box::new(stream);
        stream.push(rest);
        Ok(Some(ServerState::Open { stream, detected }))
    }

    /// The socket reached end of input: `Err(Truncated)` if it ended inside a frame (or
    /// before the transport could be told).
    pub fn end_of_input(&self) -> Result<(), TransportError> {
        match &self.state {
            ServerState::Detecting(first) if first.is_empty() => Ok(()),
            ServerState::Detecting(first) => Err(TransportError::Truncated {
                have: first.len(),
                need: detect::bytes_needed(first),
            }),
            ServerState::Open { stream, .. } => stream.end_of_input(),
            ServerState::Failed { error, .. } => Err(error.clone()),
        }
    }

    fn stream(&mut self) -> Result<&mut Stream, EncodeError> {
        match &mut self.state {
            ServerState::Open { stream, .. }
            | ServerState::Failed {
                writer: Some(stream),
                ..
            } => Ok(stream),
            _ => Err(EncodeError::NotDetected),
        }
    }

    /// One packet framed for the client (padded intermediate adds 0–15 random bytes).
    pub fn encode(
        &mut self,
        packet: &[u8],
        rng: &mut impl RngCore,
    ) -> Result<Vec<u8>, EncodeError> {
        let stream = self.stream()?;
        let padding = if stream.padded() {
            random_padding(rng)
        } else {
            Vec::new()
        };
        stream.frame(Vec::new(), packet, false, &padding)
    }

    /// A transport error packet (`le_i32(−code)`), framed. Never padded: a padded
    /// intermediate client reads any packet of 12 bytes or more as an MTProto message.
    pub fn encode_transport_error(
        &mut self,
        code: TransportErrorCode,
    ) -> Result<Vec<u8>, EncodeError> {
        self.stream()?
            .frame(Vec::new(), &code.payload(), false, &[])
    }

    /// The answer to a frame whose quick-ack bit was set: 4 bare bytes, no frame
    /// ([`QuickAck`] docs). The full transport has none.
    pub fn encode_quick_ack(&mut self, ack: QuickAck) -> Result<Vec<u8>, EncodeError> {
        let stream = self.stream()?;
        let mut out = Vec::with_capacity(4);
        stream.framing.encode_quick_ack(ack, &mut out)?;
        stream.encrypt_from(&mut out, 0);
        Ok(out)
    }
}

/// The client's end of a connection: sends its opening bytes with the first packet, reads
/// the server's packets, quick acks and transport errors. For tests and benchmarks that
/// drive a server without Python.
#[derive(Debug)]
pub struct ClientConnection {
    stream: Stream,
    /// The tag or obfuscated2 header, sent before the first frame.
    opening: Option<Vec<u8>>,
    failed: Option<TransportError>,
}

impl ClientConnection {
    /// A plain transport: its tag (`ef`, `eeeeeeee`, `dddddddd`, nothing for full) goes first.
    pub fn new(transport: Transport) -> Self {
        let opening = match transport {
            Transport::Abridged => vec![0xef],
            Transport::Intermediate => vec![0xee; 4],
            Transport::PaddedIntermediate => vec![0xdd; 4],
            Transport::Full => Vec::new(),
        };
        Self {
            stream: Stream {
                framing: Framing::new(transport),
                ciphers: None,
                side: ReadingSide::Client,
                inbox: Vec::new(),
            },
            opening: Some(opening),
            failed: None,
        }
    }

    /// Obfuscated2 around abridged, intermediate or padded intermediate (`None` for full,
    /// which cannot be obfuscated), optionally through an MTProxy secret.
    pub fn obfuscated(
        transport: Transport,
        dc_id: Option<i16>,
        secret: Option<MtProxySecret>,
        rng: &mut impl RngCore,
    ) -> Option<Self> {
        let (header, ciphers) = obfuscated2::connect(transport, dc_id, secret.as_ref(), rng)?;
        Some(Self {
            stream: Stream {
                framing: Framing::new(transport),
                ciphers: Some(ciphers),
                side: ReadingSide::Client,
                inbox: Vec::new(),
            },
            opening: Some(header.to_vec()),
            failed: None,
        })
    }

    /// One packet framed for the server (with the opening bytes before the first one).
    pub fn encode(
        &mut self,
        packet: &[u8],
        rng: &mut impl RngCore,
    ) -> Result<Vec<u8>, EncodeError> {
        self.encode_with(packet, false, rng)
    }

    /// Like [`ClientConnection::encode`], with the quick-ack bit set (not in full).
    pub fn encode_requesting_quick_ack(
        &mut self,
        packet: &[u8],
        rng: &mut impl RngCore,
    ) -> Result<Vec<u8>, EncodeError> {
        self.encode_with(packet, true, rng)
    }

    fn encode_with(
        &mut self,
        packet: &[u8],
        quick_ack_request: bool,
        rng: &mut impl RngCore,
    ) -> Result<Vec<u8>, EncodeError> {
        let padding = if self.stream.padded() {
            random_padding(rng)
        } else {
            Vec::new()
        };
        // The opening bytes are already encrypted (obfuscated2) or sent in clear (tags).
        let prefix = self.opening.clone().unwrap_or_default();
        let out = self
            .stream
            .frame(prefix, packet, quick_ack_request, &padding)?;
        self.opening = None;
        Ok(out)
    }

    /// Bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.stream.push(bytes);
        }
    }

    /// The next packet, quick ack or transport error; `Ok(None)` until more bytes arrive.
    pub fn poll_event(&mut self) -> Result<Option<ClientEvent>, TransportError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let padded = self.stream.padded();
        let decoded = self.stream.next().inspect_err(|error| {
            self.failed = Some(error.clone());
        })?;
        Ok(decoded.map(|decoded| match decoded {
            Decoded::QuickAck(ack) => ClientEvent::QuickAck(ack),
            Decoded::Packet { payload, .. } => match transport_error_in(&payload) {
                Some(code) => ClientEvent::TransportError(code),
                None if padded => ClientEvent::Packet(without_transport_padding(&payload).to_vec()),
                None => ClientEvent::Packet(payload),
            },
        }))
    }

    /// The socket reached end of input: `Err(Truncated)` if it ended inside a frame.
    pub fn end_of_input(&self) -> Result<(), TransportError> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None => self.stream.end_of_input(),
        }
    }
}
