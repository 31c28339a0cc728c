//! `msg_container`: several messages sent as one.
//!
//! "Containers are messages containing several other messages. Used for the ability to
//! transmit several RPC queries and/or service messages at the same time ... A container may
//! only be accepted or rejected by the other party as a whole."
//! (core.telegram.org/mtproto/service_messages#containers)
//!
//! ```text
//! msg_container#73f1f8dc messages:vector<message> = MessageContainer;
//! message msg_id:long seqno:int bytes:int body:Object = Message;
//!
//! dc f8 f1 73 | count | msg_id (8) seqno (4) bytes (4) body (bytes) | msg_id ... | ...
//! ```
//!
//! `vector<message>` is a *bare* vector (a count, no `0x1cb5c415`) of *bare* `message`s (no
//! id), which is why no TL generator handles it (`tl/mtproto.tl` keeps the line commented).
//! "MTProto container can have at most 1024 messages"; "all messages in a container must
//! have msg_id lower than that of the container itself" and a container "may not carry other
//! simple containers" — the last two are session rules (the container's own msg_id is not in
//! these bytes), checked by [`crate::session`]. Empty containers are allowed.
//!
//! `msg_copy#e06046b2 orig_message:Message` wraps one bare `message`; it is obsolete ("not
//! used at this time") but cheap to read.
//!
//! Telethon packs up to 100 messages per container (telethon/extensions/messagepacker.py);
//! Pyrogram never sends one.

use secretchat_common::tl::{DecodeError, Reader};

use super::{decoding, reader_past_id, EnvelopeError};

/// `msg_container#73f1f8dc`.
pub const MSG_CONTAINER_ID: u32 = 0x73f1f8dc;
/// `msg_copy#e06046b2`.
pub const MSG_COPY_ID: u32 = 0xe06046b2;
/// "MTProto container can have at most 1024 messages" (core.telegram.org/mtproto/service_messages).
pub const MAX_CONTAINER_MESSAGES: usize = 1024;
/// msg_id (8) + seqno (4) + bytes (4) + the smallest body, a constructor id (4).
const MIN_MESSAGE_SIZE: usize = 20;

/// One `message` of a container: a message with its own msg_id and seqno, whose body is
/// kept as bytes (it is decoded like any message body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMessage {
    pub msg_id: i64,
    pub seqno: i32,
    pub body: Vec<u8>,
}

/// `msg_container#73f1f8dc messages:vector<message>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MsgContainer {
    pub messages: Vec<ContainerMessage>,
}

impl ContainerMessage {
    /// The bare `message`: `msg_id seqno bytes body`.
    pub fn write_bare(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.msg_id.to_le_bytes());
        buf.extend_from_slice(&self.seqno.to_le_bytes());
        // A body longer than i32::MAX cannot be framed by any transport, so it never reaches here.
        let len = i32::try_from(self.body.len()).unwrap_or(i32::MAX);
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&self.body);
    }

    /// Reads one bare `message`; `index` names it in errors.
    fn read_bare(reader: &mut Reader<'_>, index: usize) -> Result<Self, EnvelopeError> {
        let decode = decoding("message");
        let msg_id = reader.read_i64().map_err(decode)?;
        let seqno = reader.read_i32().map_err(decode)?;
        let at = reader.position();
        let len = reader.read_i32().map_err(decode)?;
        let body_len = usize::try_from(len)
            .ok()
            .filter(|&len| len >= 4 && len % 4 == 0)
            .ok_or(EnvelopeError::BadBodyLength { index, len, at })?;
        let remaining = reader.remaining();
        if body_len > remaining {
            return Err(EnvelopeError::BodyOverRemaining {
                index,
                len: body_len,
                remaining,
                at,
            });
        }
        let body = reader.read_raw(body_len).map_err(decode)?;
        Ok(Self {
            msg_id,
            seqno,
            body: body.to_vec(),
        })
    }
}

impl MsgContainer {
    /// The boxed container: id, count, then each bare `message`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size: usize = self.messages.iter().map(|m| 16 + m.body.len()).sum();
        let mut buf = Vec::with_capacity(8 + size);
        buf.extend_from_slice(&MSG_CONTAINER_ID.to_le_bytes());
        // At most MAX_CONTAINER_MESSAGES when built by this crate; the count is a TL int.
        let count = u32::try_from(self.messages.len()).unwrap_or(u32::MAX);
        buf.extend_from_slice(&count.to_le_bytes());
        for message in &self.messages {
            message.write_bare(&mut buf);
        }
        buf
    }

    /// Decodes a boxed container that spans all of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let decode = decoding("msg_container");
        let mut reader = reader_past_id(bytes, MSG_CONTAINER_ID, "msg_container")?;
        let at = reader.position();
        let count = reader.read_u32().map_err(decode)?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count > MAX_CONTAINER_MESSAGES {
            return Err(EnvelopeError::TooManyMessages {
                count,
                max: MAX_CONTAINER_MESSAGES,
            });
        }
        let remaining = reader.remaining();
        if count > remaining / MIN_MESSAGE_SIZE {
            return Err(decode(DecodeError::VectorCountOverRemaining {
                count: count as u32,
                min_item_size: MIN_MESSAGE_SIZE,
                remaining,
                at,
            }));
        }
        let mut messages = Vec::with_capacity(count);
        for index in 0..count {
            messages.push(ContainerMessage::read_bare(&mut reader, index)?);
        }
        reader.finish().map_err(decode)?;
        Ok(Self { messages })
    }
}

/// `msg_copy#e06046b2 orig_message:Message`: the one message it wraps.
pub fn decode_msg_copy(bytes: &[u8]) -> Result<ContainerMessage, EnvelopeError> {
    let mut reader = reader_past_id(bytes, MSG_COPY_ID, "msg_copy")?;
    let message = ContainerMessage::read_bare(&mut reader, 0)?;
    reader.finish().map_err(decoding("msg_copy"))?;
    Ok(message)
}
