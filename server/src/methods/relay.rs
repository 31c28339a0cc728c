//! # The relay: what every `messages.sendEncrypted*` does
//!
//! The three send methods differ only in what the recipient gets (SPEC §8.1, §9.5):
//! `encryptedMessage{file = encryptedFileEmpty}`, `encryptedMessageService`, or
//! `encryptedMessage{file = encryptedFile}`. The server never looks inside `data`: it
//! checks its length, copies `random_id` and `data` into the recipient's message with
//! `chat_id` and `date = now`, queues it for the other side's bound device (qts + 1),
//! wakes that device's long-polls, and answers `messages.sentEncryptedMessage{date}` (or
//! `sentEncryptedFile{date, file}`).
//!
//! A resend with the same `random_id` from the same device (within 7 days and the device's
//! last `--max-queue-len` sends) gets the remembered answer and is not delivered again; the same `random_id` for another chat is `RANDOM_ID_DUPLICATE`.
//!
//! Errors: `CHAT_ID_INVALID` (not a side of this chat, wrong access_hash, or the chat is
//! not accepted yet), `ENCRYPTION_DECLINED` (discarded), `DATA_TOO_LONG`
//! (`--max-message-bytes`), `DATA_INVALID` (not `key_fingerprint(8) ‖ msg_key(16) ‖` whole
//! 16-byte blocks — a length check only), `PEER_QUEUE_FULL` (invented), and the file
//! errors of [`super::input_file`].

use std::sync::Arc;

use secretchat_common::tl::api::{enums, types};

use super::chat_for;
use super::input_file;
use crate::chats::{ChatState, Role};
use crate::delivery::{Delivery, Fate};
use crate::device::{DeviceRecord, Reply};
use crate::error::{ErrorKind, RpcError};
use crate::state::Server;

/// The errors of every send (the file errors of [`input_file::ERRORS`] come on top for
/// `sendEncryptedFile`).
pub const ERRORS: &[ErrorKind] = &[
    ErrorKind::ChatIdInvalid,
    ErrorKind::EncryptionDeclined,
    ErrorKind::DataTooLong,
    ErrorKind::DataInvalid,
    ErrorKind::PeerQueueFull,
    ErrorKind::RandomIdDuplicate,
];

/// What kind of message a send produces.
#[derive(Debug)]
pub enum Payload<'a> {
    Plain,
    Service,
    File(&'a enums::InputEncryptedFile),
}

/// One send, checked and applied.
pub fn relay(
    server: &Server,
    device: &DeviceRecord,
    peer: &enums::InputEncryptedChat,
    random_id: i64,
    data: Vec<u8>,
    payload: Payload<'_>,
) -> Result<enums::MessagesSentEncryptedMessage, RpcError> {
    let enums::InputEncryptedChat::InputEncryptedChat(input) = peer;
    // Held for the whole send, so two copies of one resend cannot both be delivered.
    let mut replies = device.mailbox.replies();
    if let Some(reply) = replies.get(random_id) {
        return if reply.chat_id == input.chat_id {
            Ok(reply.answer())
        } else {
            Err(RpcError::RandomIdDuplicate { random_id })
        };
    }
    check_data(server, &data)?;
    let (chat, role) = chat_for(server, device, peer)?;
    let recipient = match (&chat.state, role) {
        (ChatState::Discarded { .. }, _) => {
            return Err(RpcError::EncryptionDeclined { chat_id: chat.id })
        }
        (ChatState::Waiting, _) => return Err(RpcError::ChatIdInvalid { chat_id: chat.id }),
        (ChatState::Accepted { .. }, Role::Admin) => chat.participant_device(),
        (ChatState::Accepted { .. }, Role::Participant) => Some(chat.admin_device),
    };
    let recipient = recipient
        .and_then(|id| server.directory.device(id))
        .ok_or(RpcError::EncryptionDeclined { chat_id: chat.id })?;
    let file = match payload {
        Payload::File(file) => Some(input_file::resolve(server, device, file)?),
        _ => None,
    };

    let date = server.now();
    let chat_id = chat.id;
    if file.is_some() && recipient.mailbox.queue().message_count() >= server.limits.max_queue_len {
        // Checked before the upload is stored, so a refused send stores nothing.
        return Err(RpcError::PeerQueueFull {
            max: server.limits.max_queue_len,
        });
    }
    let file_view =
        file.map(|resolved| input_file::view(resolved.commit(server, device).as_deref()));
    let message = match payload {
        Payload::Service => {
            enums::EncryptedMessage::EncryptedMessageService(types::EncryptedMessageService {
                random_id,
                chat_id,
                date,
                bytes: data,
            })
        }
        Payload::Plain | Payload::File(_) => {
            enums::EncryptedMessage::EncryptedMessage(types::EncryptedMessage {
                random_id,
                chat_id,
                date,
                bytes: data,
                file: file_view
                    .clone()
                    .unwrap_or(enums::EncryptedFile::EncryptedFileEmpty(
                        types::EncryptedFileEmpty {},
                    )),
            })
        }
    };
    let fate = server.deliver(
        &recipient,
        Some(device.id),
        Delivery::Message(Arc::new(message)),
    )?;
    drop(chat);
    let reply = Reply {
        chat_id,
        date,
        file: file_view.map(Box::new),
    };
    let answer = reply.answer();
    // A message a `drop` fault took out was never delivered, so it is not remembered: when
    // the sender's chat re-sends it (same random_id, after the peer's Resend), it goes through.
    if fate == Fate::Queued {
        replies.insert(date, random_id, reply, server.limits.max_queue_len);
    }
    tracing::debug!(
        chat_id,
        random_id,
        to = recipient.id.0,
        "encrypted message relayed"
    );
    Ok(answer)
}

/// `data` must fit the limit and look like `key_fingerprint(8) ‖ msg_key(16) ‖ ciphertext`
/// with a ciphertext of at least one whole 16-byte block.
fn check_data(server: &Server, data: &[u8]) -> Result<(), RpcError> {
    const HEADER: usize = 8 + 16;
    let len = data.len();
    if len > server.limits.max_message_bytes {
        return Err(RpcError::DataTooLong {
            len,
            max: server.limits.max_message_bytes,
        });
    }
    if len < HEADER + 16 || !(len - HEADER).is_multiple_of(16) {
        return Err(RpcError::DataInvalid { len });
    }
    Ok(())
}
