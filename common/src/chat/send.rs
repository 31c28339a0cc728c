//! The user's actions: messages, media, and the service actions of SPEC §8.
//!
//! Each action becomes one message, queued for [`SecretChat::poll_transmit`]; the returned
//! `random_id` identifies it (for read receipts, deletion, and the server's acknowledgement
//! through [`SecretChat::handle_sent_ack`]).
//!
//! Deleting one of our own messages the server has not acknowledged yet also rewrites the
//! stored copy (SPEC §3.5): it becomes `decryptedMessageService{same random_id,
//! DeleteMessages{[its random_id]}}` with the same seq numbers, so whatever reaches the
//! peer later — the original transmit if it has not left yet, or a Resend — deletes itself.

use rand::{CryptoRng, RngCore};

use super::events::{SendMethod, UserAction};
use super::history::Rewrite;
use super::layer::Layer;
use super::payload::{Media, Message, Payload, ServiceAction, TypingAction};
use super::time::UnixTime;
use super::{ChatError, SecretChat, Stored};

impl SecretChat {
    /// Sends a text message; `ttl` is the self-destruct timer in seconds (0 = none).
    pub fn send_text(
        &mut self,
        now: UnixTime,
        text: &str,
        ttl: i32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_message(
            now,
            Message {
                text: text.to_owned(),
                ttl,
                ..Message::default()
            },
            rng,
        )
    }

    /// Sends a message; with a file attached it goes by `sendEncryptedFile` and the
    /// transport uploads and attaches the encrypted file.
    pub fn send_message(
        &mut self,
        now: UnixTime,
        message: Message,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        let method = match message.media {
            Some(Media::File(_)) => SendMethod::SendEncryptedFile,
            _ => SendMethod::SendEncrypted,
        };
        self.send_payload(now, Payload::Message(message), method, rng)
    }

    /// Sends one of the user's service actions (SPEC §8): the same [`UserAction`] the
    /// other side's chat reports when it arrives ([`ChatEvent::ActionReceived`](super::ChatEvent::ActionReceived)).
    pub fn send_action(
        &mut self,
        now: UnixTime,
        action: UserAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        match action {
            UserAction::SetMessageTtl { ttl_seconds } => self.set_ttl(now, ttl_seconds, rng),
            UserAction::ReadMessages { random_ids } => self.read_messages(now, random_ids, rng),
            UserAction::DeleteMessages { random_ids } => self.delete_messages(now, random_ids, rng),
            UserAction::ScreenshotMessages { random_ids } => self.screenshot(now, random_ids, rng),
            UserAction::FlushHistory => self.flush_history(now, rng),
            UserAction::Typing { action } => self.typing(now, action, rng),
        }
    }

    /// Sets the chat-wide self-destruct timer (`decryptedMessageActionSetMessageTTL`).
    pub fn set_ttl(
        &mut self,
        now: UnixTime,
        ttl_seconds: i32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_user_action(now, ServiceAction::SetMessageTtl { ttl_seconds }, rng)
    }

    /// Tells the peer these messages were opened (`decryptedMessageActionReadMessages`).
    pub fn read_messages(
        &mut self,
        now: UnixTime,
        random_ids: Vec<i64>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_user_action(now, ServiceAction::ReadMessages { random_ids }, rng)
    }

    /// Notifies a screenshot (`decryptedMessageActionScreenshotMessages`).
    pub fn screenshot(
        &mut self,
        now: UnixTime,
        random_ids: Vec<i64>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_user_action(now, ServiceAction::ScreenshotMessages { random_ids }, rng)
    }

    /// Clears the history on both sides (`decryptedMessageActionFlushHistory`).
    pub fn flush_history(
        &mut self,
        now: UnixTime,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_user_action(now, ServiceAction::FlushHistory, rng)
    }

    /// A typing notification (`decryptedMessageActionTyping`, layer 17 and up).
    pub fn typing(
        &mut self,
        now: UnixTime,
        action: TypingAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_payload(
            now,
            Payload::Service(ServiceAction::Typing { action }),
            SendMethod::SendEncryptedService,
            rng,
        )
    }

    /// Deletes messages on both sides (`decryptedMessageActionDeleteMessages`), rewriting
    /// our own unacknowledged ones first (SPEC §3.5).
    pub fn delete_messages(
        &mut self,
        now: UnixTime,
        random_ids: Vec<i64>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.check_established()?;
        for &random_id in &random_ids {
            let rewritten = self.history.rewrite(random_id, |stored| Stored {
                payload: Payload::Service(ServiceAction::DeleteMessages {
                    random_ids: vec![random_id],
                }),
                ..stored.clone()
            });
            if let Rewrite::Rewritten { out_seq_no } = rewritten {
                self.step("delete", || {
                    format!("random_id {random_id} not acknowledged: stored copy rewritten")
                });
                self.rewrite_pending_transmit(random_id, out_seq_no, rng)?;
            }
        }
        self.send_user_action(now, ServiceAction::DeleteMessages { random_ids }, rng)
    }

    /// The server accepted the message with this `random_id` (`sentEncryptedMessage`).
    pub fn handle_sent_ack(&mut self, random_id: i64) -> bool {
        self.history.acknowledge(random_id)
    }

    /// Raises our own maximum layer (an upgrade) and tells the peer (SPEC §5, case 3).
    pub fn upgrade_layer(
        &mut self,
        now: UnixTime,
        own_layer: Layer,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        self.check_established()?;
        if self.layers.upgrade_own(own_layer)? {
            self.config.own_layer = own_layer;
            if let Some(keys) = self.keys.as_mut() {
                keys.note_common_layer(self.layers.common());
            }
            self.send_notify_layer(now, rng)?;
        }
        Ok(())
    }

    fn send_user_action(
        &mut self,
        now: UnixTime,
        action: ServiceAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_payload(
            now,
            Payload::Service(action),
            SendMethod::SendEncrypted,
            rng,
        )
    }

    /// If the original of a rewritten message has not left yet, replace its bytes too.
    pub(super) fn rewrite_pending_transmit(
        &mut self,
        random_id: i64,
        out_seq_no: crate::seq_no::RawSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        let Some(index) = self.outbox.iter().position(|t| t.random_id == random_id) else {
            return Ok(());
        };
        let Some(resealed) = self.reseal_stored(out_seq_no, rng)? else {
            return Ok(());
        };
        if let Some(transmit) = self.outbox.get_mut(index) {
            transmit.data = resealed.data;
        }
        Ok(())
    }
}
