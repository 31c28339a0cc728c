//! Intermediate and padded intermediate: a 4-byte length before each packet.
//!
//! ```text
//! intermediate:         le_u32(len) payload
//! padded intermediate:  le_u32(len + pad) payload padding      pad: 0..=15 random bytes
//! client → server: bit 31 of the length asks for a quick ack
//! server → client: a length with bit 31 set is itself the 4-byte quick ack, nothing follows
//! ```
//!
//! The padding is how the padded form hides packet sizes from an observer of obfuscated2
//! (tdlib TcpTransport.cpp `IntermediateTransport::write_prepare_inplace`). The receiver
//! cannot tell payload from padding by the frame; the MTProto packet inside says where it
//! ends (`crate::message::without_transport_padding`).

use super::framing::{array_at, check_announced, packet_after, Decoded, Progress, ReadingSide};
use super::{QuickAck, TransportError, MAX_PAYLOAD_LEN};

const QUICK_ACK_BIT: u32 = 1 << 31;
/// The most random bytes padded intermediate appends.
const MAX_PADDING: usize = 15;

pub(super) fn decode(
    buf: &[u8],
    side: ReadingSide,
    padded: bool,
) -> Result<Progress, TransportError> {
    let Some(header) = array_at::<4>(buf, 0) else {
        return Ok(Progress::NeedMore { need: 4 });
    };
    let raw = u32::from_le_bytes(header);
    let flagged = raw & QUICK_ACK_BIT != 0;
    if flagged && side == ReadingSide::Client {
        return Ok(Progress::Done {
            decoded: Decoded::QuickAck(QuickAck::from_u32(raw)),
            consumed: 4,
        });
    }
    let len = (raw & !QUICK_ACK_BIT) as usize;
    check_announced(len, MAX_PAYLOAD_LEN + if padded { MAX_PADDING } else { 0 })?;
    if !padded && !len.is_multiple_of(4) {
        return Err(TransportError::FrameNotWords { len });
    }
    Ok(packet_after(buf, 4, len, flagged))
}

/// The payload is within the limit (checked by the caller), so the length fits 31 bits.
pub(super) fn encode(payload: &[u8], quick_ack_request: bool, padding: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() + padding.len()) as u32;
    let flag = if quick_ack_request { QUICK_ACK_BIT } else { 0 };
    out.extend_from_slice(&(len | flag).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(padding);
}
