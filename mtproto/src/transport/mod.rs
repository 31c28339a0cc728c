//! Transports: how a TCP byte stream between a client and the server is cut into packets
//! (core.telegram.org/mtproto/mtproto-transports).
//!
//! The client picks the transport; the server learns which from the first bytes of the
//! connection and answers in the same one ([`ServerConnection`] detects, the client side is
//! [`ClientConnection`]):
//!
//! | first bytes | transport | one frame |
//! |---|---|---|
//! | `ef` | abridged | `len/4` in 1 byte if < 127, else `7f` + 3-byte LE `len/4`; payload |
//! | `ee ee ee ee` | intermediate | 4-byte LE length; payload |
//! | `dd dd dd dd` | padded intermediate | 4-byte LE length (payload + 0–15 random bytes); payload; padding |
//! | any 4, then `00 00 00 00` | full | LE length (payload + 12); LE seq (per direction, from 0); payload; LE CRC32 of all before it |
//! | anything else (64 bytes) | obfuscated2 | a 64-byte header, then AES-256-CTR over one of the first three |
//!
//! **Why the order of the rules matters.** The full transport has no tag: its first 8 bytes
//! are a length and the sequence number 0. The obfuscated2 header is random, so clients make
//! sure it cannot be mistaken for anything else: its first byte is never `ef`, its first 4
//! bytes never `eeeeeeee`, `dddddddd`, an HTTP verb or a TLS record, and its bytes 4..8 are
//! never zero (tdlib TcpTransport.cpp `ObfuscatedTransport::init`; Telethon tcpobfuscated.py).
//! So "bytes 4..8 are zero" means full, and only what matches nothing is obfuscated2. A full
//! frame cannot start like the others either: its length counts whole 4-byte words plus 12,
//! so its first byte is a multiple of 4 and never `ef`, `ee` or `dd`. Detection waits for as
//! many bytes as it needs (1, 4, 8 or 64) and never guesses.
//!
//! Packets are at most [`MAX_PAYLOAD_LEN`] bytes. A frame that announces more is refused as
//! soon as its length has arrived, before its bytes are buffered. Bad input ends the
//! connection: after a [`TransportError`] the connection answers every call with the same
//! error. Partial input is never an error: the connection waits for more bytes, and only
//! [`ServerConnection::end_of_input`] reports a frame cut short.
//!
//! Besides packets, the server may send two bare 4-byte values: a [transport
//! error](TransportErrorCode) (−404 unknown auth key, −429 flood, −444 invalid DC), framed like
//! any packet, and a [`QuickAck`], which has no frame at all.

mod abridged;
mod connection;
mod detect;
mod framing;
mod full;
mod intermediate;
pub mod obfuscated2;
mod quick_ack;

pub use connection::{ClientConnection, ClientEvent, Frame, ServerConnection};
pub use obfuscated2::MtProxySecret;
pub use quick_ack::QuickAck;

use crate::fault::Fault;

/// The framing a connection uses (obfuscated2 wraps one of the first three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
}

/// What the server detected at the start of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Detected {
    pub transport: Transport,
    /// Whether the framing travels inside obfuscated2.
    pub obfuscated: bool,
    /// The DC id of an obfuscated2 header (bytes 60..62). tdlib writes it, Telethon leaves
    /// it random; it is reported, never checked.
    pub dc_id: Option<i16>,
}

/// The largest packet a frame may carry: 1 MiB of file data (the most `upload.getFile`
/// returns and more than `upload.saveBigFilePart` sends, 512 KiB) plus 16 KiB for the TL and
/// MTProto headers and padding around it. tdlib allows frames below 2^24 bytes; Telegram's
/// servers cut connections that send much more than a megabyte.
pub const MAX_PAYLOAD_LEN: usize = (1 << 20) + (16 << 10);

/// Transport errors the server sends as a 4-byte packet holding `−code`
/// (core.telegram.org/mtproto/mtproto-transports#transport-errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorCode {
    /// 404: the auth key is unknown (also what piltover answers to a failed handshake).
    AuthKeyNotFound,
    /// 429: transport flood, too many connections or service-message limits reached.
    Flood,
    /// 444: invalid DC id.
    InvalidDc,
}

impl TransportErrorCode {
    /// The positive code (404, 429, 444).
    pub const fn code(self) -> i32 {
        match self {
            TransportErrorCode::AuthKeyNotFound => 404,
            TransportErrorCode::Flood => 429,
            TransportErrorCode::InvalidDc => 444,
        }
    }

    /// The 4-byte payload: `le_i32(−code)`.
    pub const fn payload(self) -> [u8; 4] {
        (-self.code()).to_le_bytes()
    }
}

/// Reads a 4-byte packet as a transport error: the negative value it holds (−404, …).
/// `None` for any other payload.
pub fn transport_error_in(payload: &[u8]) -> Option<i32> {
    let bytes: [u8; 4] = payload.try_into().ok()?;
    Some(i32::from_le_bytes(bytes)).filter(|&value| value < 0)
}

/// Why the bytes of a connection cannot be read. Every one ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The client speaks a transport this server does not serve (HTTP, fake-TLS).
    #[error("the connection starts like {what}, which is not served here")]
    Unsupported { what: &'static str },
    /// The decrypted obfuscated2 header names no known framing (bytes 56..60): not
    /// obfuscated2 at all, or an MTProxy secret other than ours.
    #[error(
        "obfuscated2 header has protocol tag {tag:02x?}; expected efefefef, eeeeeeee or dddddddd"
    )]
    UnknownObfuscatedTag { tag: [u8; 4] },
    #[error("a frame of {len} bytes is announced; at most {max} are accepted")]
    FrameTooLarge { len: usize, max: usize },
    #[error("an empty frame")]
    EmptyFrame,
    /// Intermediate and full frames carry MTProto packets, which are whole 4-byte words.
    #[error("a frame of {len} bytes is not whole 4-byte words")]
    FrameNotWords { len: usize },
    /// A full frame counts its own 12 bytes of length, seq and CRC.
    #[error("a full-transport length is at least 12, got {len}")]
    FullLengthTooSmall { len: u32 },
    #[error("full-transport CRC32 is {got:#010x}, the frame's bytes give {expected:#010x}")]
    BadCrc { expected: u32, got: u32 },
    #[error("full-transport seq is {got}, expected {expected}")]
    BadSeq { expected: u32, got: u32 },
    /// The input ended inside a frame (or before the transport could be told).
    #[error("the input ended after {have} bytes of a frame that needs {need}")]
    Truncated { have: usize, need: usize },
}

impl TransportError {
    pub fn fault(&self) -> Fault {
        match self {
            TransportError::Unsupported { .. } => Fault::Unsupported,
            _ => Fault::Peer,
        }
    }
}

/// Why a packet could not be framed. Always the caller's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a packet is a positive multiple of 4 bytes, got {len}")]
    PayloadNotWords { len: usize },
    #[error("a packet of {len} bytes exceeds the {max}-byte limit")]
    PayloadTooLarge { len: usize, max: usize },
    /// The server answers only after it has detected the client's transport.
    #[error("no transport detected yet: the client has not sent its first bytes")]
    NotDetected,
    #[error("the full transport has no quick acks")]
    QuickAckUnsupported,
}

impl EncodeError {
    pub fn fault(&self) -> Fault {
        Fault::Caller
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_error_payloads_hold_the_negative_code() {
        assert_eq!(
            TransportErrorCode::AuthKeyNotFound.payload(),
            [0x6c, 0xfe, 0xff, 0xff]
        );
        assert_eq!(
            transport_error_in(&TransportErrorCode::Flood.payload()),
            Some(-429)
        );
        assert_eq!(transport_error_in(&[1, 0, 0, 0]), None);
        assert_eq!(transport_error_in(&[0; 8]), None);
    }
}
