//! MTProto messages: what one transport packet carries between a client and the server
//! (core.telegram.org/mtproto/description).
//!
//! Every packet starts with the 64-bit `auth_key_id` that says how to read the rest:
//!
//! ```text
//! auth_key_id = 0:  unencrypted  | 0 (8) | msg_id (8) | length (4) | body                     [unencrypted]
//! otherwise:        encrypted    | auth_key_id (8) | msg_key (16) | AES-256-IGE(plaintext)    [encrypted]
//!                   plaintext =  salt (8) | session_id (8) | msg_id (8) | seq_no (4) | length (4) | body | padding
//! ```
//!
//! Only the auth-key handshake travels unencrypted ([`unencrypted`]); everything after it is an
//! MTProto 2.0 encrypted message ([`encrypted`]). A server reads the `auth_key_id` first
//! ([`auth_key_id`]), looks the key up (an unknown one gets transport error −404), then opens
//! the packet with it.
//!
//! The padded intermediate transport appends 0–15 random bytes to each packet and says
//! nothing about where the packet ends; the packet's own structure does
//! ([`without_transport_padding`]).

pub mod binding;
pub mod encrypted;
pub mod unencrypted;

use crate::auth_key::AuthKeyId;
use crate::fault::Fault;

/// A packet shorter than its `auth_key_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an MTProto packet starts with an 8-byte auth_key_id, got {len} bytes")]
pub struct NoAuthKeyId {
    pub len: usize,
}

impl NoAuthKeyId {
    pub fn fault(&self) -> Fault {
        Fault::Peer
    }
}

/// The `auth_key_id` a packet starts with ([`AuthKeyId::NONE`] for an unencrypted one).
pub fn auth_key_id(packet: &[u8]) -> Result<AuthKeyId, NoAuthKeyId> {
    packet
        .get(..8)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(|bytes| AuthKeyId::from_i64(i64::from_le_bytes(bytes)))
        .ok_or(NoAuthKeyId { len: packet.len() })
}

/// The MTProto packet inside a padded-intermediate frame, without the 0–15 random bytes the
/// transport appended (core.telegram.org/mtproto/mtproto-transports#padded-intermediate).
///
/// The packet says where it ends: an unencrypted one by its `length` field (`20 + length`
/// bytes), an encrypted one by the AES block size (`24 + 16·k` bytes; tdlib cuts the
/// ciphertext to whole blocks the same way, `Transport::read_crypto_impl`). Anything that does
/// not fit is returned whole, for [`unencrypted::decode`] or [`encrypted::open`] to refuse with a
/// precise error.
pub fn without_transport_padding(frame: &[u8]) -> &[u8] {
    const TRANSPORT_PADDING_MAX: usize = 15;
    let end = match auth_key_id(frame) {
        Ok(AuthKeyId::NONE) => unencrypted::declared_end(frame),
        Ok(_) => frame
            .len()
            .checked_sub(encrypted::HEADER_LEN)
            .map(|ciphertext| encrypted::HEADER_LEN + ciphertext / 16 * 16),
        Err(_) => None,
    };
    match end {
        Some(end) if end <= frame.len() && frame.len() - end <= TRANSPORT_PADDING_MAX => {
            &frame[..end]
        }
        _ => frame,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_key_id_reads_the_first_eight_bytes() {
        assert_eq!(auth_key_id(&[0; 7]), Err(NoAuthKeyId { len: 7 }));
        assert_eq!(auth_key_id(&[0; 8]), Ok(AuthKeyId::NONE));
        assert_eq!(
            auth_key_id(&[1, 0, 0, 0, 0, 0, 0, 0, 0xff]),
            Ok(AuthKeyId::from_i64(1))
        );
    }

    #[test]
    fn padded_plain_packet_is_cut_at_its_length_field() {
        let packet = unencrypted::encode(4, &[1, 2, 3, 4]).unwrap();
        let mut frame = packet.clone();
        frame.extend_from_slice(&[0xaa; 15]);
        assert_eq!(without_transport_padding(&frame), packet.as_slice());
    }

    #[test]
    fn padded_encrypted_packet_is_cut_to_whole_blocks() {
        let mut frame = vec![7u8; 24 + 48];
        frame.extend_from_slice(&[0xbb; 9]);
        assert_eq!(without_transport_padding(&frame).len(), 24 + 48);
    }

    #[test]
    fn more_than_fifteen_extra_bytes_are_left_for_the_decoder_to_refuse() {
        let mut frame = unencrypted::encode(4, &[1, 2, 3, 4]).unwrap();
        frame.extend_from_slice(&[0; 16]);
        assert_eq!(without_transport_padding(&frame).len(), frame.len());
    }
}
