//! The outbox: handing a chat's transmits to the server, in the order the chat made them.
//!
//! A chat queues each message it wants sent as a [`Transmit`] (method, random_id, sealed
//! bytes). [`Device::flush`] takes them one by one, calls the method it names
//! (`messages.sendEncrypted`, `sendEncryptedService`, or `sendEncryptedFile` with the
//! file attached), and reports each acceptance back to the chat
//! ([`SecretChat::handle_sent_ack`]), which then stops holding the message for a Resend.
//! A refusal is kept for the caller: the action whose own message was refused fails;
//! messages the chat sent on its own (NotifyLayer, a re-send, a re-key step) become
//! [`PeerEvent::SendFailed`].
//!
//! Two things may change the outbox right before it leaves: a message withheld on purpose
//! ([`Device::withhold_next_message`], the demo's dropped message), and an
//! [`OutboxHook`] — the hostile wrapper's armed actions ([`super::HostileDevice::arm`]).

use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{SecretChat, SendMethod, Transmit, UnixTime};
use secretchat_common::tl::api::{enums, functions, types};

use super::{input_chat, Device, DeviceError, PeerEvent};
use crate::client::ApiError;
use crate::explain::Explainer;

/// Something that may change a chat's outbox right before the device hands it to the
/// server; the events it returns are reported by the next poll.
pub(crate) trait OutboxHook: Send {
    fn before_flush(
        &mut self,
        chat_id: i32,
        chat: &mut SecretChat,
        now: UnixTime,
        rng: &mut ChaCha20Rng,
        explain: &Explainer,
    ) -> Vec<PeerEvent>;
}

impl Device {
    /// Withholds the next message this chat sends with `messages.sendEncrypted`: it is
    /// sealed and numbered but never handed to the server, so the peer sees a gap in the
    /// sequence and asks for it with `decryptedMessageActionResend` — the demo's honest
    /// "dropped message".
    pub fn withhold_next_message(&mut self, chat_id: i32) {
        self.withhold.push(chat_id);
    }

    /// Collects the events the action produced, hands the chat's transmits to the server,
    /// and fails if the action's own message was refused.
    pub(super) async fn finish_action(
        &mut self,
        chat_id: i32,
        random_id: i64,
    ) -> Result<i64, DeviceError> {
        self.drain_chat(chat_id);
        let failures = self.flush(chat_id).await;
        for (failed_id, error) in failures {
            if failed_id == random_id {
                return Err(error.into());
            }
            self.pending.push_back(PeerEvent::SendFailed {
                chat_id,
                random_id: failed_id,
                error: error.rpc_message().map_or(error.to_string(), str::to_owned),
            });
        }
        Ok(random_id)
    }

    /// Flushes a chat and turns refusals into events.
    pub(super) async fn flush_reporting(&mut self, chat_id: i32) {
        for (random_id, error) in self.flush(chat_id).await {
            self.pending.push_back(PeerEvent::SendFailed {
                chat_id,
                random_id,
                error: error.rpc_message().map_or(error.to_string(), str::to_owned),
            });
        }
    }

    /// Hands every queued transmit of a chat to the server, in order, reporting each
    /// acceptance to the chat. Returns the refused ones.
    pub(super) async fn flush(&mut self, chat_id: i32) -> Vec<(i64, ApiError)> {
        let now = self.now();
        if let (Some(hook), Some(entry)) = (self.outbox_hook.as_mut(), self.chats.get_mut(&chat_id))
        {
            let events =
                hook.before_flush(chat_id, &mut entry.chat, now, &mut self.rng, &self.explain);
            self.pending.extend(events);
        }
        let mut failures = Vec::new();
        while let Some(entry) = self.chats.get_mut(&chat_id) {
            let Some(transmit) = entry.chat.poll_transmit() else {
                break;
            };
            let access_hash = entry.chat.access_hash();
            if transmit.method == SendMethod::SendEncrypted {
                if let Some(index) = self.withhold.iter().position(|&id| id == chat_id) {
                    self.withhold.remove(index);
                    self.explain.line("drop", || {
                        format!(
                            "[chat {chat_id}] withholding random_id {} on purpose: the peer will see a gap",
                            transmit.random_id
                        )
                    });
                    self.pending.push_back(PeerEvent::Withheld {
                        chat_id,
                        random_id: transmit.random_id,
                    });
                    continue;
                }
            }
            let random_id = transmit.random_id;
            match self.transmit(chat_id, access_hash, transmit).await {
                Ok(()) => {
                    if let Some(entry) = self.chats.get_mut(&chat_id) {
                        entry.chat.handle_sent_ack(random_id);
                    }
                }
                Err(error) => failures.push((random_id, error)),
            }
        }
        self.drain_chat(chat_id);
        failures
    }

    async fn transmit(
        &mut self,
        chat_id: i32,
        access_hash: i64,
        transmit: Transmit,
    ) -> Result<(), ApiError> {
        let peer = input_chat(chat_id, access_hash);
        let Transmit {
            method,
            random_id,
            data,
        } = transmit;
        let len = data.len();
        let answer = match method {
            SendMethod::SendEncrypted => {
                self.api
                    .call(&functions::MessagesSendEncrypted {
                        silent: false,
                        peer,
                        random_id,
                        data,
                    })
                    .await?
            }
            SendMethod::SendEncryptedService => {
                self.api
                    .call(&functions::MessagesSendEncryptedService {
                        peer,
                        random_id,
                        data,
                    })
                    .await?
            }
            SendMethod::SendEncryptedFile => {
                let file = self
                    .chats
                    .get(&chat_id)
                    .and_then(|entry| entry.outgoing_files.get(&random_id).cloned())
                    .unwrap_or(enums::InputEncryptedFile::InputEncryptedFileEmpty(
                        types::InputEncryptedFileEmpty {},
                    ));
                self.api
                    .call(&functions::MessagesSendEncryptedFile {
                        silent: false,
                        peer,
                        random_id,
                        data,
                        file,
                    })
                    .await?
            }
        };
        self.explain.line("send", || {
            format!(
                "[chat {chat_id}] {} random_id {random_id}, {len} bytes → accepted",
                method.name()
            )
        });
        if let enums::MessagesSentEncryptedMessage::MessagesSentEncryptedFile(sent) = answer {
            self.file_stored(chat_id, random_id, sent.file);
        }
        Ok(())
    }
}
