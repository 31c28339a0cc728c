//! What the user does in an established chat.
//!
//! Each action asks the chat's state machine for one message and hands it to the server
//! at once ([`super::outbox`]); the answer is the message's `random_id`:
//!
//! * messages — [`Device::send_text`], [`Device::send_message`] (files: [`super::files`]);
//! * the service actions of SPEC §8 — [`Device::act`] with a [`UserAction`]: a TTL, read,
//!   deleted or screenshotted messages, a flushed history, a typing notice. The same
//!   `UserAction` is what the other side's device reports when it arrives
//!   ([`PeerEvent::Action`](super::PeerEvent::Action));
//! * re-keying — [`Device::rekey`] starts an exchange that later polls finish.
//!
//! Three calls go to the server only, not end to end: the read receipt
//! (`messages.readEncryptedHistory`), the server-level typing notice and the spam report.

use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{ChatError, Message, UnixTime, UserAction};
use secretchat_common::tl::api::functions;

use super::{chat_error, ChatEntry, Device, DeviceError};

impl Device {
    /// Sends a text message (`ttl` seconds of self-destruct, 0 = none). Returns its
    /// random_id.
    pub async fn send_text(
        &mut self,
        chat_id: i32,
        text: &str,
        ttl: i32,
    ) -> Result<i64, DeviceError> {
        let message = Message {
            text: text.to_owned(),
            ttl,
            ..Message::default()
        };
        self.send_message(chat_id, message).await
    }

    /// Sends any message the chat can encode (text, media, entities).
    pub async fn send_message(
        &mut self,
        chat_id: i32,
        message: Message,
    ) -> Result<i64, DeviceError> {
        let random_id = self.on_chat(chat_id, |entry, now, rng| {
            entry.chat.send_message(now, message, rng)
        })?;
        self.finish_action(chat_id, random_id).await
    }

    /// Sends one of the user's service actions (SPEC §8) as the chat's next message.
    /// Returns its random_id.
    pub async fn act(&mut self, chat_id: i32, action: UserAction) -> Result<i64, DeviceError> {
        let random_id = self.on_chat(chat_id, |entry, now, rng| {
            entry.chat.send_action(now, action, rng)
        })?;
        self.finish_action(chat_id, random_id).await
    }

    /// Starts re-keying now (RequestKey); the exchange runs through later polls.
    /// Returns the exchange_id.
    pub async fn rekey(&mut self, chat_id: i32) -> Result<i64, DeviceError> {
        let exchange_id =
            self.on_chat(chat_id, |entry, now, rng| entry.chat.rekey_now(now, rng))?;
        self.drain_chat(chat_id);
        self.flush(chat_id).await;
        Ok(exchange_id)
    }

    /// Tells the server the history was read up to `max_date`
    /// (`messages.readEncryptedHistory`): the peer gets a
    /// [`PeerEvent::ReadReceipt`](super::PeerEvent::ReadReceipt).
    pub async fn read_history(&mut self, chat_id: i32, max_date: i32) -> Result<(), DeviceError> {
        let peer = self.input_peer(chat_id)?;
        self.api
            .call(&functions::MessagesReadEncryptedHistory { peer, max_date })
            .await?;
        Ok(())
    }

    /// The server-level typing notice (`messages.setEncryptedTyping`). The server pushes it
    /// on its event stream only (never queued), so a polling device does not see it; the
    /// end-to-end notice is [`Device::act`] with [`UserAction::Typing`].
    pub async fn set_typing(&mut self, chat_id: i32, typing: bool) -> Result<(), DeviceError> {
        let peer = self.input_peer(chat_id)?;
        self.api
            .call(&functions::MessagesSetEncryptedTyping { peer, typing })
            .await?;
        Ok(())
    }

    /// Reports the chat as spam (`messages.reportEncryptedSpam`).
    pub async fn report_spam(&mut self, chat_id: i32) -> Result<(), DeviceError> {
        let peer = self.input_peer(chat_id)?;
        self.api
            .call(&functions::MessagesReportEncryptedSpam { peer })
            .await?;
        Ok(())
    }

    /// Runs `step` on a chat's entry with the device's clock and randomness; the caller
    /// then hands what it queued to the server.
    pub(super) fn on_chat<T>(
        &mut self,
        chat_id: i32,
        step: impl FnOnce(&mut ChatEntry, UnixTime, &mut ChaCha20Rng) -> Result<T, ChatError>,
    ) -> Result<T, DeviceError> {
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        step(entry, now, rng).map_err(chat_error(chat_id))
    }
}
