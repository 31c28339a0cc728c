//! Abridged: the lightest framing, the one Pyrogram always uses.
//!
//! ```text
//! len/4 < 0x7f:   [len/4] payload
//! otherwise:      [0x7f] [len/4 as 3 bytes LE] payload
//! client → server: bit 7 of the first byte asks for a quick ack
//! server → client: a first byte with bit 7 set starts a 4-byte big-endian quick ack
//! ```

use super::framing::{array_at, check_announced, packet_after, Decoded, Progress, ReadingSide};
use super::{QuickAck, TransportError, MAX_PAYLOAD_LEN};

/// `len/4` values from this one on take the 4-byte form.
const EXTENDED: u8 = 0x7f;
const QUICK_ACK_BIT: u8 = 0x80;

pub(super) fn decode(buf: &[u8], side: ReadingSide) -> Result<Progress, TransportError> {
    let Some(&first) = buf.first() else {
        return Ok(Progress::NeedMore { need: 1 });
    };
    let flagged = first & QUICK_ACK_BIT != 0;
    if flagged && side == ReadingSide::Client {
        return Ok(match array_at::<4>(buf, 0) {
            Some(bytes) => Progress::Done {
                decoded: Decoded::QuickAck(QuickAck::from_u32(u32::from_be_bytes(bytes))),
                consumed: 4,
            },
            None => Progress::NeedMore { need: 4 },
        });
    }
    let words = first & !QUICK_ACK_BIT;
    let (header_len, words) = if words < EXTENDED {
        (1, usize::from(words))
    } else {
        let Some([_, a, b, c]) = array_at::<4>(buf, 0) else {
            return Ok(Progress::NeedMore { need: 4 });
        };
        (
            4,
            usize::from(a) | usize::from(b) << 8 | usize::from(c) << 16,
        )
    };
    let len = words * 4;
    check_announced(len, MAX_PAYLOAD_LEN)?;
    Ok(packet_after(buf, header_len, len, flagged))
}

/// The payload is whole words within the limit (checked by the caller), so `len/4` fits 3 bytes.
pub(super) fn encode(payload: &[u8], quick_ack_request: bool, out: &mut Vec<u8>) {
    let words = payload.len() / 4;
    let flag = if quick_ack_request { QUICK_ACK_BIT } else { 0 };
    match u8::try_from(words) {
        Ok(short) if short < EXTENDED => out.push(short | flag),
        _ => {
            let [a, b, c, _] = (words as u32).to_le_bytes();
            out.extend_from_slice(&[EXTENDED | flag, a, b, c]);
        }
    }
    out.extend_from_slice(payload);
}
