//! # What a device tells its user: [`PeerEvent`]
//!
//! A [`crate::device::Device`] turns everything that happens to it — updates from the
//! server, what its [`secretchat_common::chat::SecretChat`]s decided, files it fetched —
//! into a flat list of `PeerEvent`s, each naming its chat. A scenario expects them, the
//! `bot` logs them, the `demo` counts them.
//!
//! Every event has a short, stable text form ([`std::fmt::Display`], one line, e.g.
//! `message chat=12345 random_id=-77 "hello"`) for progress lines, and a serde form
//! (`{"event":"message","chat_id":12345,…}`) for machines.

use std::fmt;

use secretchat_common::chat::{Layer, Media, UserAction};
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::key::KeyFingerprint;
use serde::{Deserialize, Serialize};

/// Something that happened on a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PeerEvent {
    /// Someone asks for a chat (`encryptedChatRequested`); accept or decline it.
    ChatRequested { chat_id: i32, from_user: i64 },
    /// The key exists on this device (after accepting, or when `encryptedChat` arrived and
    /// the fingerprint matched).
    ChatEstablished {
        chat_id: i32,
        key_fingerprint: KeyFingerprint,
        /// The 36-byte key visualization as hex (both sides must show the same).
        visualization: String,
    },
    /// The chat is over: declined, discarded by either side, or taken by another device
    /// of the same user (the accept race: this device is locked out).
    ChatDiscarded { chat_id: i32, history_deleted: bool },
    /// A user message arrived, in order.
    Message {
        chat_id: i32,
        random_id: i64,
        text: String,
        ttl: i32,
        media: Option<Media>,
    },
    /// An attached file was downloaded, its key fingerprint and size checked, decrypted.
    FileReceived {
        chat_id: i32,
        random_id: i64,
        file_name: String,
        mime_type: String,
        len: usize,
        /// SHA-256 of the plaintext, hex.
        sha256: String,
        /// The plaintext (skipped in the serde form).
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// An attached file could not be fetched or did not check out.
    FileFailed {
        chat_id: i32,
        random_id: i64,
        reason: String,
    },
    /// A service action the user sees: TTL, read, delete, screenshot, flush.
    Action {
        chat_id: i32,
        random_id: i64,
        action: UserAction,
    },
    /// The peer is typing (`decryptedMessageActionTyping`).
    Typing { chat_id: i32 },
    /// The server says the peer read our messages up to `max_date`.
    ReadReceipt { chat_id: i32, max_date: i32 },
    /// The peer revealed a higher layer.
    PeerLayerRaised {
        chat_id: i32,
        from: Layer,
        to: Layer,
    },
    /// The peer speaks a layer above ours.
    PeerIsNewer {
        chat_id: i32,
        peer_layer: Layer,
        own_layer: Layer,
    },
    /// A re-keying exchange finished: we now send with this key.
    KeyChanged {
        chat_id: i32,
        key_fingerprint: KeyFingerprint,
    },
    /// The peer aborted our re-keying request.
    RekeyAborted { chat_id: i32, exchange_id: i64 },
    /// We refused a re-key message that did not fit with AbortKey and kept the old key
    /// (profile android).
    RekeyRejected {
        chat_id: i32,
        exchange_id: i64,
        why: String,
    },
    /// We saw a hole in the peer's sequence and asked for it (`decryptedMessageActionResend`,
    /// numbers in the peer's wire form).
    ResendRequested {
        chat_id: i32,
        start_seq_no: i32,
        end_seq_no: i32,
    },
    /// The peer asked us to re-send; `messages` of its range went out again, and
    /// `placeholders` numbers we do not hold went out as messages deleting themselves
    /// (profile `android`).
    PeerAskedForResend {
        chat_id: i32,
        start_seq_no: i32,
        end_seq_no: i32,
        messages: usize,
        #[serde(default)]
        placeholders: usize,
    },
    /// The peer broke a rule; the chat was discarded.
    Aborted { chat_id: i32, reason: String },
    /// A received message (or update) was dropped without effect.
    Ignored { chat_id: i32, reason: String },
    /// A message this device meant to send was withheld on purpose
    /// ([`crate::device::Device::withhold_next_message`]): the peer will see a gap.
    Withheld { chat_id: i32, random_id: i64 },
    /// The server refused a message the chat sent on its own (NotifyLayer, a re-send, a
    /// re-key step); `error` is Telegram's string when there is one.
    SendFailed {
        chat_id: i32,
        random_id: i64,
        error: String,
    },
}

impl PeerEvent {
    /// The chat the event is about.
    pub fn chat_id(&self) -> i32 {
        match self {
            PeerEvent::ChatRequested { chat_id, .. }
            | PeerEvent::ChatEstablished { chat_id, .. }
            | PeerEvent::ChatDiscarded { chat_id, .. }
            | PeerEvent::Message { chat_id, .. }
            | PeerEvent::FileReceived { chat_id, .. }
            | PeerEvent::FileFailed { chat_id, .. }
            | PeerEvent::Action { chat_id, .. }
            | PeerEvent::Typing { chat_id }
            | PeerEvent::ReadReceipt { chat_id, .. }
            | PeerEvent::PeerLayerRaised { chat_id, .. }
            | PeerEvent::PeerIsNewer { chat_id, .. }
            | PeerEvent::KeyChanged { chat_id, .. }
            | PeerEvent::RekeyAborted { chat_id, .. }
            | PeerEvent::RekeyRejected { chat_id, .. }
            | PeerEvent::ResendRequested { chat_id, .. }
            | PeerEvent::PeerAskedForResend { chat_id, .. }
            | PeerEvent::Aborted { chat_id, .. }
            | PeerEvent::Ignored { chat_id, .. }
            | PeerEvent::Withheld { chat_id, .. }
            | PeerEvent::SendFailed { chat_id, .. } => *chat_id,
        }
    }

    /// The event's name in the serde form (`chat_established`, `message`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            PeerEvent::ChatRequested { .. } => "chat_requested",
            PeerEvent::ChatEstablished { .. } => "chat_established",
            PeerEvent::ChatDiscarded { .. } => "chat_discarded",
            PeerEvent::Message { .. } => "message",
            PeerEvent::FileReceived { .. } => "file_received",
            PeerEvent::FileFailed { .. } => "file_failed",
            PeerEvent::Action { .. } => "action",
            PeerEvent::Typing { .. } => "typing",
            PeerEvent::ReadReceipt { .. } => "read_receipt",
            PeerEvent::PeerLayerRaised { .. } => "peer_layer_raised",
            PeerEvent::PeerIsNewer { .. } => "peer_is_newer",
            PeerEvent::KeyChanged { .. } => "key_changed",
            PeerEvent::RekeyAborted { .. } => "rekey_aborted",
            PeerEvent::RekeyRejected { .. } => "rekey_rejected",
            PeerEvent::ResendRequested { .. } => "resend_requested",
            PeerEvent::PeerAskedForResend { .. } => "peer_asked_for_resend",
            PeerEvent::Aborted { .. } => "aborted",
            PeerEvent::Ignored { .. } => "ignored",
            PeerEvent::Withheld { .. } => "withheld",
            PeerEvent::SendFailed { .. } => "send_failed",
        }
    }
}

/// The visualization as the hex string events carry.
pub fn visualization_hex(visualization: &KeyVisualization) -> String {
    hex::encode(visualization.as_bytes())
}

fn short(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

impl fmt::Display for PeerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        let chat = self.chat_id();
        match self {
            PeerEvent::ChatRequested { from_user, .. } => {
                write!(f, "{kind} chat={chat} from_user={from_user}")
            }
            PeerEvent::ChatEstablished {
                key_fingerprint, ..
            } => write!(f, "{kind} chat={chat} key_fingerprint={key_fingerprint}"),
            PeerEvent::ChatDiscarded {
                history_deleted, ..
            } => write!(f, "{kind} chat={chat} history_deleted={history_deleted}"),
            PeerEvent::Message {
                random_id,
                text,
                ttl,
                media,
                ..
            } => {
                write!(
                    f,
                    "{kind} chat={chat} random_id={random_id} {}",
                    short(text)
                )?;
                if *ttl != 0 {
                    write!(f, " ttl={ttl}")?;
                }
                if let Some(media) = media {
                    let name = match media {
                        Media::File(_) => "file",
                        Media::GeoPoint { .. } => "geo",
                        Media::Contact { .. } => "contact",
                        _ => "other",
                    };
                    write!(f, " media={name}")?;
                }
                Ok(())
            }
            PeerEvent::FileReceived {
                random_id,
                file_name,
                len,
                sha256,
                ..
            } => write!(
                f,
                "{kind} chat={chat} random_id={random_id} name={file_name:?} len={len} sha256={}",
                &sha256[..sha256.len().min(16)]
            ),
            PeerEvent::FileFailed {
                random_id, reason, ..
            } => write!(f, "{kind} chat={chat} random_id={random_id}: {reason}"),
            PeerEvent::Action {
                random_id, action, ..
            } => write!(f, "{kind} chat={chat} random_id={random_id} {action:?}"),
            PeerEvent::Typing { .. } => write!(f, "{kind} chat={chat}"),
            PeerEvent::ReadReceipt { max_date, .. } => {
                write!(f, "{kind} chat={chat} max_date={max_date}")
            }
            PeerEvent::PeerLayerRaised { from, to, .. } => {
                write!(f, "{kind} chat={chat} from={} to={}", from.0, to.0)
            }
            PeerEvent::PeerIsNewer {
                peer_layer,
                own_layer,
                ..
            } => write!(
                f,
                "{kind} chat={chat} peer_layer={} own_layer={}",
                peer_layer.0, own_layer.0
            ),
            PeerEvent::KeyChanged {
                key_fingerprint, ..
            } => write!(f, "{kind} chat={chat} key_fingerprint={key_fingerprint}"),
            PeerEvent::RekeyAborted { exchange_id, .. } => {
                write!(f, "{kind} chat={chat} exchange_id={exchange_id}")
            }
            PeerEvent::RekeyRejected {
                exchange_id, why, ..
            } => write!(
                f,
                "{kind} chat={chat} exchange_id={exchange_id} why={why:?}"
            ),
            PeerEvent::ResendRequested {
                start_seq_no,
                end_seq_no,
                ..
            } => write!(f, "{kind} chat={chat} seq_no={start_seq_no}..={end_seq_no}"),
            PeerEvent::PeerAskedForResend {
                start_seq_no,
                end_seq_no,
                messages,
                placeholders: 0,
                ..
            } => write!(
                f,
                "{kind} chat={chat} seq_no={start_seq_no}..={end_seq_no} resent={messages}"
            ),
            PeerEvent::PeerAskedForResend {
                start_seq_no,
                end_seq_no,
                messages,
                placeholders,
                ..
            } => write!(
                f,
                "{kind} chat={chat} seq_no={start_seq_no}..={end_seq_no} resent={messages} placeholders={placeholders}"
            ),
            PeerEvent::Aborted { reason, .. } | PeerEvent::Ignored { reason, .. } => {
                write!(f, "{kind} chat={chat}: {reason}")
            }
            PeerEvent::Withheld { random_id, .. } => {
                write!(f, "{kind} chat={chat} random_id={random_id}")
            }
            PeerEvent::SendFailed {
                random_id, error, ..
            } => write!(f, "{kind} chat={chat} random_id={random_id}: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_event_has_a_one_line_text_form_and_a_tagged_json_form() {
        let event = PeerEvent::Message {
            chat_id: 7,
            random_id: -3,
            text: "hello".into(),
            ttl: 0,
            media: None,
        };
        assert_eq!(event.to_string(), "message chat=7 random_id=-3 \"hello\"");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], "message");
        assert_eq!(json["chat_id"], 7);
        let back: PeerEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
