//! What an actor observes, and how an expectation recognises it.
//!
//! Every actor has a **buffer** of [`Observed`] events, filled from the start of the run
//! each time its device is polled — so an event that arrives before the step that expects
//! it is never missed (complement's rule, "register the wait before the action", turned
//! around: nothing is ever dropped). An expectation *consumes* the first buffered event
//! that matches it; events nobody expected stay in the buffer and are listed when an
//! expectation fails ("bob did not receive a message \"hi\" within 5s; he received: …").
//!
//! Chat ids are the server's; the runner maps them back to the scenario's labels only to
//! print them.

use std::fmt;

use secretchat_common::chat::Layer;
use secretchat_common::key::KeyFingerprint;

use super::format::ActionKind;

/// One thing an actor observed on its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// Someone (user id `from_user`) asks for a chat.
    ChatRequested {
        chat_id: i32,
        from_user: i64,
    },
    /// The chat's key exists on this side.
    Established {
        chat_id: i32,
        key_fingerprint: KeyFingerprint,
    },
    /// A text message (possibly with a TTL).
    Message {
        chat_id: i32,
        random_id: i64,
        text: String,
        ttl: i32,
    },
    /// A file arrived and was decrypted; `sha256` is the plaintext's, hex.
    File {
        chat_id: i32,
        random_id: i64,
        file_name: String,
        len: usize,
        sha256: String,
    },
    /// A service action.
    Action {
        chat_id: i32,
        random_id: i64,
        what: ActionKind,
        /// A `DeleteMessages` naming only its own random_id: a message that deletes
        /// itself, what Telegram Android sends for a number a Resend asks for that it never
        /// used.
        deletes_itself: bool,
    },
    ReadReceipt {
        chat_id: i32,
    },
    Typing {
        chat_id: i32,
    },
    PeerLayerRaised {
        chat_id: i32,
        layer: Layer,
    },
    KeyChanged {
        chat_id: i32,
        key_fingerprint: KeyFingerprint,
    },
    Discarded {
        chat_id: i32,
        history_deleted: bool,
    },
    Aborted {
        chat_id: i32,
        reason: String,
    },
    /// A received message or update dropped without effect, in the device's words.
    Ignored {
        chat_id: i32,
        reason: String,
    },
    /// An attached file that could not be fetched or did not check out.
    FileRefused {
        chat_id: i32,
        random_id: i64,
        reason: String,
    },
    /// This side saw a hole in the peer's sequence and asked for it with a Resend.
    ResendRequested {
        chat_id: i32,
        start_seq_no: i32,
        end_seq_no: i32,
    },
    /// The peer asked this side to re-send a range; `messages` went out again and
    /// `placeholders` numbers were filled with messages deleting themselves.
    PeerAskedForResend {
        chat_id: i32,
        start_seq_no: i32,
        end_seq_no: i32,
        messages: usize,
        placeholders: usize,
    },
    /// The peer refused this side's re-key with AbortKey.
    RekeyRefused {
        chat_id: i32,
    },
    /// This side refused the peer's re-key message with AbortKey and kept its key.
    RekeyRejected {
        chat_id: i32,
        why: String,
    },
    /// Anything else the device reported (ignored messages, refused sends, ...), in its
    /// own words; no expectation matches it, but failures list it.
    Other {
        chat_id: i32,
        description: String,
    },
}

impl Observed {
    pub fn chat_id(&self) -> i32 {
        match self {
            Observed::ChatRequested { chat_id, .. }
            | Observed::Established { chat_id, .. }
            | Observed::Message { chat_id, .. }
            | Observed::File { chat_id, .. }
            | Observed::Action { chat_id, .. }
            | Observed::ReadReceipt { chat_id }
            | Observed::Typing { chat_id }
            | Observed::PeerLayerRaised { chat_id, .. }
            | Observed::KeyChanged { chat_id, .. }
            | Observed::Discarded { chat_id, .. }
            | Observed::Aborted { chat_id, .. }
            | Observed::Ignored { chat_id, .. }
            | Observed::FileRefused { chat_id, .. }
            | Observed::ResendRequested { chat_id, .. }
            | Observed::PeerAskedForResend { chat_id, .. }
            | Observed::RekeyRefused { chat_id }
            | Observed::RekeyRejected { chat_id, .. }
            | Observed::Other { chat_id, .. } => *chat_id,
        }
    }

    /// The event in a few words, without its chat (the caller names the chat).
    pub fn describe(&self) -> String {
        match self {
            Observed::ChatRequested { from_user, .. } => {
                format!("a chat request from user {from_user}")
            }
            Observed::Established {
                key_fingerprint, ..
            } => {
                let key_fingerprint = key_fingerprint.as_i64();
                format!("the chat established (key_fingerprint {key_fingerprint:#018x})")
            }
            Observed::Message { text, ttl: 0, .. } => format!("message {}", Quoted(text)),
            Observed::Message { text, ttl, .. } => format!("message {} (ttl {ttl}s)", Quoted(text)),
            Observed::File {
                file_name,
                len,
                sha256,
                ..
            } => {
                let short = sha256.get(..16).unwrap_or(sha256);
                format!("file {} ({len} bytes, sha256 {short}…)", Quoted(file_name))
            }
            Observed::Action { what, .. } => format!("service action {}", what.name()),
            Observed::ReadReceipt { .. } => "a read receipt".to_owned(),
            Observed::Typing { .. } => "a typing notice".to_owned(),
            Observed::PeerLayerRaised { layer, .. } => {
                format!("the peer's layer raised to {}", layer.0)
            }
            Observed::KeyChanged {
                key_fingerprint, ..
            } => {
                let key_fingerprint = key_fingerprint.as_i64();
                format!("the key changed (key_fingerprint {key_fingerprint:#018x})")
            }
            Observed::Discarded {
                history_deleted, ..
            } => {
                if *history_deleted {
                    "the chat discarded (history deleted)".to_owned()
                } else {
                    "the chat discarded".to_owned()
                }
            }
            Observed::Aborted { reason, .. } => format!("the chat aborted: {reason}"),
            Observed::Ignored { reason, .. } => format!("ignored a message: {reason}"),
            Observed::FileRefused { reason, .. } => format!("refused a file: {reason}"),
            Observed::ResendRequested {
                start_seq_no,
                end_seq_no,
                ..
            } => format!("asked for a resend of seq_no {start_seq_no}..={end_seq_no}"),
            Observed::PeerAskedForResend {
                start_seq_no,
                end_seq_no,
                ..
            } => format!("the peer asked for a resend of seq_no {start_seq_no}..={end_seq_no}"),
            Observed::RekeyRefused { .. } => "the peer refused our re-key (AbortKey)".to_owned(),
            Observed::RekeyRejected { why, .. } => {
                format!("refused the peer's re-key message with AbortKey: {why}")
            }
            Observed::Other { description, .. } => description.clone(),
        }
    }
}

/// A string shown in double quotes, shortened when long.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 60;
        if self.0.chars().count() > MAX {
            let head: String = self.0.chars().take(MAX).collect();
            write!(f, "{:?}…", head)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

/// An actor's buffered events, in arrival order, each consumed at most once.
#[derive(Debug, Default)]
pub struct EventBuffer {
    entries: Vec<(Observed, bool)>,
}

impl EventBuffer {
    pub fn push(&mut self, event: Observed) {
        self.entries.push((event, false));
    }

    /// Marks the first unconsumed event at or after `from` that satisfies `test` as
    /// consumed, and returns its position and a copy of it.
    pub fn take_first(
        &mut self,
        from: usize,
        mut test: impl FnMut(&Observed) -> bool,
    ) -> Option<(usize, Observed)> {
        let (index, entry) = self
            .entries
            .iter_mut()
            .enumerate()
            .skip(from)
            .find(|(_, (event, consumed))| !*consumed && test(event))?;
        entry.1 = true;
        Some((index, entry.0.clone()))
    }

    /// Whether an unconsumed event before `before` satisfies `test` (an out-of-order check).
    pub fn any_before(&self, before: usize, mut test: impl FnMut(&Observed) -> bool) -> bool {
        self.entries
            .iter()
            .take(before)
            .any(|(event, consumed)| !*consumed && test(event))
    }

    /// How many events arrived so far (a mark for "anything new since").
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Events from position `from` on, consumed or not.
    pub fn since(&self, from: usize) -> impl Iterator<Item = &Observed> {
        self.entries.iter().skip(from).map(|(event, _)| event)
    }

    /// Events nobody has consumed yet.
    pub fn unconsumed(&self) -> impl Iterator<Item = &Observed> {
        self.entries
            .iter()
            .filter(|(_, consumed)| !consumed)
            .map(|(event, _)| event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Observed {
        Observed::Message {
            chat_id: 1,
            random_id: 9,
            text: text.to_owned(),
            ttl: 0,
        }
    }

    #[test]
    fn an_event_is_consumed_once() {
        let mut buffer = EventBuffer::default();
        buffer.push(message("hi"));
        assert!(buffer.take_first(0, |e| e == &message("hi")).is_some());
        assert!(buffer.take_first(0, |e| e == &message("hi")).is_none());
        assert_eq!(buffer.unconsumed().count(), 0);
    }

    #[test]
    fn unmatched_events_stay_for_later_expectations() {
        let mut buffer = EventBuffer::default();
        buffer.push(Observed::Typing { chat_id: 1 });
        buffer.push(message("hi"));
        let (index, _) = buffer
            .take_first(0, |e| matches!(e, Observed::Message { .. }))
            .unwrap();
        assert_eq!(index, 1);
        assert_eq!(
            buffer.unconsumed().collect::<Vec<_>>(),
            vec![&Observed::Typing { chat_id: 1 }]
        );
        assert!(buffer.any_before(1, |e| matches!(e, Observed::Typing { .. })));
    }

    #[test]
    fn events_describe_themselves_in_words() {
        assert_eq!(message("hi").describe(), "message \"hi\"");
        let file = Observed::File {
            chat_id: 1,
            random_id: 2,
            file_name: "a.txt".into(),
            len: 5,
            sha256: "00112233445566778899".into(),
        };
        assert_eq!(
            file.describe(),
            "file \"a.txt\" (5 bytes, sha256 0011223344556677…)"
        );
        assert_eq!(
            Quoted(&"x".repeat(70)).to_string(),
            format!("\"{}\"…", "x".repeat(60))
        );
    }
}
