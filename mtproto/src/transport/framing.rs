//! The three framings behind one interface, as the connections use them: decode the next
//! frame from a buffer of plaintext bytes, encode a packet, encode a quick ack.

use super::MAX_PAYLOAD_LEN;
use super::{abridged, full, intermediate, EncodeError, QuickAck, Transport, TransportError};

/// Which end reads: the top bit of a length means "quick ack requested" to the server and
/// "this is a quick ack" to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadingSide {
    Server,
    Client,
}

/// One decoded unit of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decoded {
    Packet {
        payload: Vec<u8>,
        quick_ack_requested: bool,
    },
    QuickAck(QuickAck),
}

/// What a decoder made of the buffered bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Progress {
    Done {
        decoded: Decoded,
        consumed: usize,
    },
    /// The buffer holds part of a unit that needs `need` bytes in all.
    NeedMore {
        need: usize,
    },
}

/// A framing and its state (the full transport counts frames).
#[derive(Debug, Clone)]
pub(super) enum Framing {
    Abridged,
    Intermediate { padded: bool },
    Full(full::Counters),
}

impl Framing {
    pub(super) fn new(transport: Transport) -> Self {
        match transport {
            Transport::Abridged => Framing::Abridged,
            Transport::Intermediate => Framing::Intermediate { padded: false },
            Transport::PaddedIntermediate => Framing::Intermediate { padded: true },
            Transport::Full => Framing::Full(full::Counters::default()),
        }
    }

    pub(super) fn transport(&self) -> Transport {
        match self {
            Framing::Abridged => Transport::Abridged,
            Framing::Intermediate { padded: false } => Transport::Intermediate,
            Framing::Intermediate { padded: true } => Transport::PaddedIntermediate,
            Framing::Full(_) => Transport::Full,
        }
    }

    pub(super) fn decode(
        &mut self,
        buf: &[u8],
        side: ReadingSide,
    ) -> Result<Progress, TransportError> {
        match self {
            Framing::Abridged => abridged::decode(buf, side),
            Framing::Intermediate { padded } => intermediate::decode(buf, side, *padded),
            Framing::Full(counters) => counters.decode(buf),
        }
    }

    /// Appends one frame. `padding` is used by padded intermediate only (0–15 bytes).
    pub(super) fn encode(
        &mut self,
        payload: &[u8],
        quick_ack_request: bool,
        padding: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        check_payload(payload)?;
        match self {
            Framing::Abridged => abridged::encode(payload, quick_ack_request, out),
            Framing::Intermediate { padded } => {
                let padding = if *padded { padding } else { &[] };
                intermediate::encode(payload, quick_ack_request, padding, out);
            }
            Framing::Full(counters) => {
                if quick_ack_request {
                    return Err(EncodeError::QuickAckUnsupported);
                }
                counters.encode(payload, out);
            }
        }
        Ok(())
    }

    pub(super) fn encode_quick_ack(
        &self,
        ack: QuickAck,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        match self {
            Framing::Abridged => out.extend_from_slice(&ack.as_u32().to_be_bytes()),
            Framing::Intermediate { .. } => out.extend_from_slice(&ack.as_u32().to_le_bytes()),
            Framing::Full(_) => return Err(EncodeError::QuickAckUnsupported),
        }
        Ok(())
    }
}

/// Every packet is a non-empty run of 4-byte words within the size limit.
fn check_payload(payload: &[u8]) -> Result<(), EncodeError> {
    if payload.is_empty() || !payload.len().is_multiple_of(4) {
        return Err(EncodeError::PayloadNotWords { len: payload.len() });
    }
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(EncodeError::PayloadTooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD_LEN,
        });
    }
    Ok(())
}

/// The length announced by a frame header, against the size limit (`max`: the limit on a
/// packet, plus padded intermediate's padding).
pub(super) fn check_announced(len: usize, max: usize) -> Result<(), TransportError> {
    if len > max {
        return Err(TransportError::FrameTooLarge { len, max });
    }
    if len == 0 {
        return Err(TransportError::EmptyFrame);
    }
    Ok(())
}

/// `N` bytes at `at`, if the buffer has them.
pub(super) fn array_at<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The packet of `len` bytes after a `header_len`-byte header, once it has all arrived.
pub(super) fn packet_after(
    buf: &[u8],
    header_len: usize,
    len: usize,
    quick_ack_requested: bool,
) -> Progress {
    let need = header_len + len;
    match buf.get(header_len..need) {
        Some(payload) => Progress::Done {
            decoded: Decoded::Packet {
                payload: payload.to_vec(),
                quick_ack_requested,
            },
            consumed: need,
        },
        None => Progress::NeedMore { need },
    }
}
