//! MTProto 2.0 encrypted messages: everything a client and the server exchange once they
//! share an auth key (core.telegram.org/mtproto/description, "Encrypted Message").
//!
//! ```text
//! packet    = auth_key_id (8) | msg_key (16) | AES-256-IGE(aes_key, aes_iv, plaintext)
//! plaintext = salt (8) | session_id (8) | msg_id (8) | seq_no (4) | length (4) | body | padding
//!             padding: 12..=1024 random bytes, len(plaintext) % 16 == 0
//!
//! msg_key_large = SHA256(auth_key[88+x .. 120+x] + plaintext)
//! msg_key       = msg_key_large[8 .. 24]
//! a = SHA256(msg_key + auth_key[x .. x+36]);  b = SHA256(auth_key[40+x .. 76+x] + msg_key)
//! aes_key = a[0..8] + b[8..24] + a[24..32];    aes_iv = b[0..8] + a[8..24] + b[24..32]
//! x = 0 for messages from the client, 8 for messages from the server
//! ```
//!
//! These are the formulas of MTProto 2.0 secret chats with another meaning for `x` (there the
//! chat creator's messages use 0), so the `msg_key` and the KDF are
//! `secretchat_common::crypto::{msg_key::v2, kdf::v2}` applied to the auth key (telethon
//! network/mtprotostate.py `_calc_key`; pyrogram crypto/mtproto.py `kdf`; tdlib
//! td/mtproto/Transport.cpp `calc_message_key2`, `read_crypto_impl`).
//!
//! [`open`] checks, in this order, each with its [`OpenError`]: the packet is long enough,
//! `auth_key_id` is the key's, the ciphertext is whole blocks; then it decrypts and compares
//! `msg_key` in constant time **before** it looks at the decrypted length, so a forged packet
//! and a malformed one cost the same work; then the length is a multiple of 4, fits, and
//! leaves 12..=1024 bytes of padding. It gives back the five values the session layer works
//! with — salt, session_id, msg_id, seq_no, body, as the session's
//! [`PlainMessage`](crate::session::PlainMessage) — and the quick-ack token of the packet.

use rand::{CryptoRng, RngCore};
use secretchat_common::crypto::ige;
use secretchat_common::crypto::kdf::{self, X};
use secretchat_common::crypto::msg_key::{self, MsgKey, MSG_KEY_LEN};
use secretchat_common::envelope::v2_padding_len;
use subtle::ConstantTimeEq;

use crate::auth_key::{AuthKey, AuthKeyId};
use crate::fault::Fault;
use crate::session::PlainMessage;
use crate::transport::QuickAck;

/// `auth_key_id` (8) ‖ `msg_key` (16), sent in clear.
pub const HEADER_LEN: usize = 8 + MSG_KEY_LEN;
/// salt (8) ‖ session_id (8) ‖ msg_id (8) ‖ seq_no (4) ‖ length (4): the start of the plaintext.
pub const INNER_HEADER_LEN: usize = 32;
/// The least padding MTProto 2.0 allows.
pub const MIN_PADDING: usize = 12;
/// The most padding MTProto 2.0 allows.
pub const MAX_PADDING: usize = 1024;
/// The shortest possible packet: the inner header and 12 bytes of padding, rounded up to
/// whole blocks (`24 + 48`).
pub const MIN_PACKET_LEN: usize =
    HEADER_LEN + (INNER_HEADER_LEN + MIN_PADDING).next_multiple_of(ige::BLOCK_LEN);

/// Who sent a message, which selects `x` of the formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// x = 0: a client's message, opened by the server.
    ClientToServer,
    /// x = 8: the server's message, opened by the client.
    ServerToClient,
}

impl Direction {
    pub const fn x(self) -> X {
        match self {
            Direction::ClientToServer => X::Zero,
            Direction::ServerToClient => X::Eight,
        }
    }
}

/// An opened packet: the message and its quick-ack token (what the server sends back at
/// once when the client set the quick-ack bit of the transport length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub message: PlainMessage,
    pub quick_ack: QuickAck,
}

/// Why a message could not be sealed. Always the caller's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a message body is a positive multiple of 4 bytes, got {len}")]
    BodyNotWords { len: usize },
    #[error("a message body must fit the 32-bit length field, got {len} bytes")]
    BodyTooLong { len: usize },
    #[error("MTProto 2.0 padding is 12..=1024 bytes, got {len}")]
    PaddingOutOfRange { len: usize },
    #[error("the plaintext must be whole 16-byte blocks, got {len} bytes")]
    NotBlockAligned { len: usize },
}

impl SealError {
    pub fn fault(&self) -> Fault {
        Fault::Caller
    }
}

/// Why a received packet was refused. All are the sender's fault (or tampering on the way);
/// the receiver drops the packet. tdlib logs and drops; a server may also close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("an encrypted message is at least {min} bytes, got {len}")]
    TooShort { len: usize, min: usize },
    /// The caller picked the wrong key for this packet (look it up by [`super::auth_key_id`]).
    #[error("auth_key_id {got} is not the id of this key ({expected})")]
    AuthKeyIdMismatch { got: AuthKeyId, expected: AuthKeyId },
    #[error("the ciphertext is {len} bytes, not whole 16-byte blocks")]
    CiphertextNotBlockAligned { len: usize },
    /// Wrong key or direction, tampering, or a sender bug.
    #[error("msg_key does not match the decrypted message")]
    MsgKeyMismatch,
    #[error("decrypted length {length} is not a multiple of 4")]
    LengthNotMultipleOf4 { length: i32 },
    #[error("decrypted length {length} exceeds the {available} bytes after the header")]
    LengthExceedsPayload { length: i32, available: usize },
    #[error("MTProto 2.0 padding is 12..=1024 bytes, got {padding}")]
    PaddingOutOfRange { padding: usize },
}

impl OpenError {
    pub fn fault(&self) -> Fault {
        match self {
            OpenError::AuthKeyIdMismatch { .. } => Fault::Caller,
            _ => Fault::Peer,
        }
    }
}

/// Seals `message` with fresh random padding, as much as tdlib would use (the length buckets
/// of `secretchat_common::envelope::v2_padding_len`, which hide the exact body size).
pub fn seal(
    key: &AuthKey,
    direction: Direction,
    message: &PlainMessage,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, SealError> {
    let padding_len = v2_padding_len(INNER_HEADER_LEN + message.body.len());
    let mut padding = vec![0u8; padding_len];
    rng.fill_bytes(&mut padding);
    seal_with_padding(key, direction, message, &padding)
}

/// Seals `message` with the given padding (12..=1024 bytes that make the plaintext whole
/// blocks), for reproducible packets.
pub fn seal_with_padding(
    key: &AuthKey,
    direction: Direction,
    message: &PlainMessage,
    padding: &[u8],
) -> Result<Vec<u8>, SealError> {
    let body_len = message.body.len();
    if body_len == 0 || !body_len.is_multiple_of(4) {
        return Err(SealError::BodyNotWords { len: body_len });
    }
    let length = i32::try_from(body_len).map_err(|_| SealError::BodyTooLong { len: body_len })?;
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding.len()) {
        return Err(SealError::PaddingOutOfRange { len: padding.len() });
    }
    let plaintext_len = INNER_HEADER_LEN + body_len + padding.len();
    if !plaintext_len.is_multiple_of(ige::BLOCK_LEN) {
        return Err(SealError::NotBlockAligned { len: plaintext_len });
    }

    let mut packet = Vec::with_capacity(HEADER_LEN + plaintext_len);
    packet.extend_from_slice(&key.id().as_i64().to_le_bytes());
    packet.extend_from_slice(&[0u8; MSG_KEY_LEN]);
    // plaintext = salt | session_id | msg_id | seq_no | length | body | padding
    packet.extend_from_slice(&message.salt.to_le_bytes());
    packet.extend_from_slice(&message.session_id.to_le_bytes());
    packet.extend_from_slice(&message.msg_id.to_le_bytes());
    packet.extend_from_slice(&message.seq_no.to_le_bytes());
    packet.extend_from_slice(&length.to_le_bytes());
    packet.extend_from_slice(&message.body);
    packet.extend_from_slice(padding);

    let (header, plaintext) = packet.split_at_mut(HEADER_LEN);
    let x = direction.x();
    // msg_key = SHA256(auth_key[88+x .. 120+x] + plaintext)[8 .. 24]
    let msg_key = msg_key::v2::compute(key.as_chat_key(), x, plaintext);
    header[8..].copy_from_slice(msg_key.as_bytes());
    let aes = kdf::v2::derive(key.as_chat_key(), &msg_key, x);
    ige::encrypt_in_place(aes.key(), aes.iv(), plaintext)
        .map_err(|e| SealError::NotBlockAligned { len: e.len })?;
    Ok(packet)
}

/// Opens a packet sent in `direction` under `key`, with every check of the module docs.
pub fn open(key: &AuthKey, direction: Direction, packet: &[u8]) -> Result<Opened, OpenError> {
    if packet.len() < MIN_PACKET_LEN {
        return Err(OpenError::TooShort {
            len: packet.len(),
            min: MIN_PACKET_LEN,
        });
    }
    let (header, ciphertext) = packet.split_at(HEADER_LEN);
    let (id_bytes, msg_key_bytes) = header.split_at(8);
    let got = super::auth_key_id(id_bytes).map_err(|_| OpenError::TooShort {
        len: packet.len(),
        min: MIN_PACKET_LEN,
    })?;
    let expected = key.id();
    if got != expected {
        return Err(OpenError::AuthKeyIdMismatch { got, expected });
    }
    if !ciphertext.len().is_multiple_of(ige::BLOCK_LEN) {
        return Err(OpenError::CiphertextNotBlockAligned {
            len: ciphertext.len(),
        });
    }
    let mut msg_key_array = [0u8; MSG_KEY_LEN];
    msg_key_array.copy_from_slice(msg_key_bytes);
    let msg_key = MsgKey::from_bytes(msg_key_array);

    let x = direction.x();
    let aes = kdf::v2::derive(key.as_chat_key(), &msg_key, x);
    let mut plaintext = ciphertext.to_vec();
    ige::decrypt_in_place(aes.key(), aes.iv(), &mut plaintext)
        .map_err(|e| OpenError::CiphertextNotBlockAligned { len: e.len })?;

    // msg_key_large = SHA256(auth_key[88+x .. 120+x] + plaintext); msg_key = [8 .. 24]
    let large = msg_key::v2::compute_large(key.as_chat_key(), x, &plaintext);
    let mut computed = [0u8; MSG_KEY_LEN];
    computed.copy_from_slice(&large[8..24]);
    if !bool::from(computed.ct_eq(msg_key.as_bytes())) {
        return Err(OpenError::MsgKeyMismatch);
    }

    let field = |at: usize| -> [u8; 8] {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&plaintext[at..at + 8]);
        bytes
    };
    let salt = i64::from_le_bytes(field(0));
    let session_id = i64::from_le_bytes(field(8));
    let msg_id = i64::from_le_bytes(field(16));
    let tail = field(24);
    let seq_no = i32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let length = i32::from_le_bytes([tail[4], tail[5], tail[6], tail[7]]);

    if length % 4 != 0 {
        return Err(OpenError::LengthNotMultipleOf4 { length });
    }
    let available = plaintext.len() - INNER_HEADER_LEN;
    let body_len = usize::try_from(length)
        .ok()
        .filter(|&len| len <= available)
        .ok_or(OpenError::LengthExceedsPayload { length, available })?;
    let padding = available - body_len;
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding) {
        return Err(OpenError::PaddingOutOfRange { padding });
    }

    plaintext.truncate(INNER_HEADER_LEN + body_len);
    plaintext.drain(..INNER_HEADER_LEN);
    Ok(Opened {
        message: PlainMessage {
            salt,
            session_id,
            msg_id,
            seq_no,
            body: plaintext,
        },
        quick_ack: QuickAck::from_msg_key_large(&large),
    })
}
