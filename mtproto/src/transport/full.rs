//! Full: Telethon's default framing, with a sequence number and a checksum per frame.
//!
//! ```text
//! le_u32(len) | le_u32(seq) | payload | le_u32(CRC32(len | seq | payload))
//! len = payload + 12;  seq counts the frames of one direction, from 0
//! ```
//!
//! The receiver checks the CRC first (a damaged frame), then the sequence number (a lost or
//! replayed one). Telethon checks the CRC of the server's frames but not their seq
//! (telethon/network/connection/tcpfull.py); this side checks both. No quick acks here.

use super::framing::{array_at, check_announced, Decoded, Progress};
use super::{TransportError, MAX_PAYLOAD_LEN};

/// length (4) + seq (4) + CRC32 (4).
const OVERHEAD: usize = 12;

/// The sequence numbers of both directions of one connection.
#[derive(Debug, Clone, Default)]
pub(super) struct Counters {
    recv_seq: u32,
    send_seq: u32,
}

impl Counters {
    pub(super) fn decode(&mut self, buf: &[u8]) -> Result<Progress, TransportError> {
        let Some(header) = array_at::<4>(buf, 0) else {
            return Ok(Progress::NeedMore { need: 4 });
        };
        let len = u32::from_le_bytes(header);
        let payload_len = (len as usize)
            .checked_sub(OVERHEAD)
            .ok_or(TransportError::FullLengthTooSmall { len })?;
        check_announced(payload_len, MAX_PAYLOAD_LEN)?;
        if !payload_len.is_multiple_of(4) {
            return Err(TransportError::FrameNotWords { len: payload_len });
        }
        let need = len as usize;
        let (Some(frame), Some(seq), Some(crc)) = (
            buf.get(..need - 4),
            array_at::<4>(buf, 4),
            array_at::<4>(buf, need - 4),
        ) else {
            return Ok(Progress::NeedMore { need });
        };
        let expected = crc32fast::hash(frame);
        let got = u32::from_le_bytes(crc);
        if got != expected {
            return Err(TransportError::BadCrc { expected, got });
        }
        let seq = u32::from_le_bytes(seq);
        if seq != self.recv_seq {
            return Err(TransportError::BadSeq {
                expected: self.recv_seq,
                got: seq,
            });
        }
        self.recv_seq = self.recv_seq.wrapping_add(1);
        Ok(Progress::Done {
            decoded: Decoded::Packet {
                payload: frame[8..].to_vec(),
                quick_ack_requested: false,
            },
            consumed: need,
        })
    }

    /// The payload is within the limit (checked by the caller), so the length fits 32 bits.
    pub(super) fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let len = (payload.len() + OVERHEAD) as u32;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.send_seq.to_le_bytes());
        out.extend_from_slice(payload);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        self.send_seq = self.send_seq.wrapping_add(1);
    }
}
