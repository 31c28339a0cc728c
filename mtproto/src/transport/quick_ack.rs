//! Quick acknowledgement: "I have your packet", sent by the server at once, before the
//! message is even handled (core.telegram.org/mtproto/mtproto-transports#quick-ack).
//!
//! The client asks for one by setting the top bit of a frame's length (abridged: bit 7 of the
//! length byte; intermediate and padded intermediate: bit 31). The server answers with a bare
//! 4-byte value, not a framed packet:
//!
//! ```text
//! token = le_u32(SHA256(auth_key[88 .. 120] + plaintext)[0 .. 4]) | 0x8000_0000
//!          (msg_key_large of the packet; tdlib Transport.cpp `calc_message_key2`)
//! intermediate, padded intermediate:  le_u32(token)   (top bit set: not a length)
//! abridged:                           be_u32(token)   ("bswap", so the first byte has bit 7 set)
//! ```
//!
//! The full transport has no quick acks (tdlib reads them only in the other two). Neither
//! Telethon nor Pyrogram ever asks for one; tdlib may.

use std::fmt;

/// The 4-byte quick-ack value of one packet, top bit set.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuickAck(u32);

impl QuickAck {
    /// The top bit marks a quick ack where a length would be.
    pub const FLAG: u32 = 1 << 31;

    /// `le_u32(msg_key_large[0 .. 4]) | 0x8000_0000`.
    pub fn from_msg_key_large(msg_key_large: &[u8; 32]) -> Self {
        let first = [
            msg_key_large[0],
            msg_key_large[1],
            msg_key_large[2],
            msg_key_large[3],
        ];
        Self(u32::from_le_bytes(first) | Self::FLAG)
    }

    /// A value read off the wire (the client side); the top bit is set by definition.
    pub const fn from_u32(value: u32) -> Self {
        Self(value | Self::FLAG)
    }

    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for QuickAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QuickAck({:#010x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_the_first_four_hash_bytes_little_endian_with_the_top_bit() {
        let mut large = [0u8; 32];
        large[..4].copy_from_slice(&[0x01, 0x02, 0x03, 0x04]);
        assert_eq!(QuickAck::from_msg_key_large(&large).as_u32(), 0x8403_0201);
    }
}
