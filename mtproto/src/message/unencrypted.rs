//! Unencrypted messages: how the auth-key handshake travels before there is a key
//! (core.telegram.org/mtproto/description#unencrypted-message).
//!
//! ```text
//! auth_key_id = 0 (8) | message_id (8) | message_data_length (4) | message_data
//! ```
//!
//! Both Telethon and Pyrogram write the length exactly and check that replies have a non-zero
//! msg_id and a positive length (telethon/network/mtprotoplainsender.py,
//! pyrogram/session/auth.py `unpack`); this decoder is as strict. Which msg_ids are
//! acceptable (time, parity) is the session layer's rule, not checked here.

use crate::fault::Fault;

/// `auth_key_id` (8) ‖ `msg_id` (8) ‖ `length` (4).
pub const HEADER_LEN: usize = 20;

/// An unencrypted message: its `msg_id` and the TL body (one boxed object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnencryptedMessage {
    pub msg_id: i64,
    pub body: Vec<u8>,
}

/// Why bytes are not an unencrypted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnencryptedError {
    /// Shorter than the header and one 4-byte constructor id.
    #[error("an unencrypted message is at least {min} bytes, got {len}")]
    TooShort { len: usize, min: usize },
    /// The packet is encrypted: dispatch on [`super::auth_key_id`] before decoding.
    #[error("auth_key_id is {auth_key_id:#018x}, an unencrypted message has 0")]
    NotUnencrypted { auth_key_id: i64 },
    /// `msg_id = 0` is never valid.
    #[error("msg_id is 0")]
    ZeroMsgId,
    /// The length field must count exactly the bytes after the header, a positive multiple
    /// of 4 (a TL object).
    #[error("message_data_length {length} does not match the {available} bytes after the header")]
    LengthMismatch { length: i32, available: usize },
    /// A body that is not whole 4-byte words cannot be TL (encoding only; a caller bug).
    #[error("a message body is a positive multiple of 4 bytes, got {len}")]
    BodyNotWords { len: usize },
}

impl UnencryptedError {
    pub fn fault(&self) -> Fault {
        match self {
            UnencryptedError::BodyNotWords { .. } | UnencryptedError::NotUnencrypted { .. } => {
                Fault::Caller
            }
            _ => Fault::Peer,
        }
    }
}

/// `0 ‖ msg_id ‖ le_i32(len(body)) ‖ body`.
pub fn encode(msg_id: i64, body: &[u8]) -> Result<Vec<u8>, UnencryptedError> {
    let length = i32::try_from(body.len())
        .ok()
        .filter(|&len| len > 0 && len % 4 == 0)
        .ok_or(UnencryptedError::BodyNotWords { len: body.len() })?;
    let mut packet = Vec::with_capacity(HEADER_LEN + body.len());
    packet.extend_from_slice(&0i64.to_le_bytes());
    packet.extend_from_slice(&msg_id.to_le_bytes());
    packet.extend_from_slice(&length.to_le_bytes());
    packet.extend_from_slice(body);
    Ok(packet)
}

/// Reads an unencrypted message, refusing any byte that does not fit the layout.
pub fn decode(packet: &[u8]) -> Result<UnencryptedMessage, UnencryptedError> {
    let min = HEADER_LEN + 4;
    if packet.len() < min {
        return Err(UnencryptedError::TooShort {
            len: packet.len(),
            min,
        });
    }
    let auth_key_id = le_i64(packet, 0);
    if auth_key_id != 0 {
        return Err(UnencryptedError::NotUnencrypted { auth_key_id });
    }
    let msg_id = le_i64(packet, 8);
    if msg_id == 0 {
        return Err(UnencryptedError::ZeroMsgId);
    }
    let length = le_i32(packet, 16);
    let available = packet.len() - HEADER_LEN;
    if usize::try_from(length).ok() != Some(available) || length % 4 != 0 {
        return Err(UnencryptedError::LengthMismatch { length, available });
    }
    Ok(UnencryptedMessage {
        msg_id,
        body: packet[HEADER_LEN..].to_vec(),
    })
}

/// Where an unencrypted packet ends by its length field, if the field is readable.
pub(super) fn declared_end(packet: &[u8]) -> Option<usize> {
    let bytes = packet.get(16..20)?;
    let length = i32::from_le_bytes(bytes.try_into().ok()?);
    usize::try_from(length).ok()?.checked_add(HEADER_LEN)
}

/// The little-endian `long` at `at` (the caller checked the length).
fn le_i64(packet: &[u8], at: usize) -> i64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&packet[at..at + 8]);
    i64::from_le_bytes(bytes)
}

/// The little-endian `int` at `at` (the caller checked the length).
fn le_i32(packet: &[u8], at: usize) -> i32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&packet[at..at + 4]);
    i32::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// req_pq_multi as sent in core.telegram.org/mtproto/samples-auth_key, step 1.
    const SAMPLE_REQ_PQ_MULTI: &str =
        "000000000000000064f70d00fcc0ab6514000000f18e7ebe15a084b3b9ca2a17f03925f44b78fe68";

    #[test]
    fn documented_req_pq_multi_packet_decodes_and_encodes_back() {
        let packet = hex::decode(SAMPLE_REQ_PQ_MULTI).unwrap();
        let message = decode(&packet).unwrap();
        assert_eq!(message.msg_id, 0x65ab_c0fc_000d_f764);
        assert_eq!(&message.body[..4], &0xbe7e8ef1u32.to_le_bytes());
        assert_eq!(encode(message.msg_id, &message.body).unwrap(), packet);
    }

    #[test]
    fn each_broken_field_is_refused_with_its_error() {
        let packet = hex::decode(SAMPLE_REQ_PQ_MULTI).unwrap();
        assert_eq!(
            decode(&packet[..23]),
            Err(UnencryptedError::TooShort { len: 23, min: 24 })
        );
        let mut keyed = packet.clone();
        keyed[0] = 1;
        assert_eq!(
            decode(&keyed),
            Err(UnencryptedError::NotUnencrypted { auth_key_id: 1 })
        );
        let mut zero_id = packet.clone();
        zero_id[8..16].fill(0);
        assert_eq!(decode(&zero_id), Err(UnencryptedError::ZeroMsgId));
        let mut long = packet.clone();
        long.extend_from_slice(&[0; 4]);
        assert_eq!(
            decode(&long),
            Err(UnencryptedError::LengthMismatch {
                length: 20,
                available: 24
            })
        );
        let mut negative = packet;
        negative[16..20].copy_from_slice(&(-20i32).to_le_bytes());
        assert_eq!(
            decode(&negative),
            Err(UnencryptedError::LengthMismatch {
                length: -20,
                available: 20
            })
        );
    }

    #[test]
    fn bodies_that_are_not_tl_words_are_not_encoded() {
        assert_eq!(
            encode(4, &[]),
            Err(UnencryptedError::BodyNotWords { len: 0 })
        );
        assert_eq!(
            encode(4, &[1; 6]),
            Err(UnencryptedError::BodyNotWords { len: 6 })
        );
    }
}
