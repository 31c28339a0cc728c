//! Receiving: [`Device::poll`], one long-poll of `updates.getDifference` and everything it
//! brings.
//!
//! The device keeps two counters, `pts` (its other secret-chat updates) and `qts` (its
//! encrypted messages); passing them to `getDifference` acknowledges everything up to
//! them, and the answer brings what lies after. A batch is applied in an order that keeps
//! the story straight: new and accepted chats first, then the messages in `qts` order,
//! then read receipts and discards (a discard after the messages sent before it). What
//! the chats decide — events, answers to send, timers — is collected here and returned
//! as [`PeerEvent`]s.

use std::collections::HashMap;
use std::time::Duration;

use secretchat_common::chat::{
    AcceptedChat, ChatError, ChatEvent, RequestedChat, SecretChat, UserAction,
};
use secretchat_common::key::KeyFingerprint;
use secretchat_common::tl::api::{enums, functions, types};
use serde_json::Value;

use super::{ChatEntry, Device, DeviceError, PeerEvent};
use crate::explain::shorten;

impl Device {
    /// One long-poll: waits up to `timeout` for updates (`updates.getDifference` with the
    /// mock's `timeout`), processes everything that arrived — handshakes, messages, files,
    /// discards — sends what the chats answer, runs due timers, and returns what happened.
    /// Passing the `pts`/`qts` processed so far acknowledges them on the server.
    ///
    /// The server counts the wait in whole seconds: a `timeout` below one second asks
    /// without waiting. The wait is also cut short when a chat's timer (a resend retry, a
    /// re-key by age) falls due earlier, and skipped when events are already waiting.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<PeerEvent>, DeviceError> {
        self.run_timers().await;
        let mut events: Vec<PeerEvent> = self.pending.drain(..).collect();
        let mut wait = timeout;
        if let Some(due) = self
            .chats
            .values()
            .filter_map(|e| e.chat.poll_timeout())
            .min()
        {
            let left = u64::try_from(due.0 - self.now().0).unwrap_or(0);
            wait = wait.min(Duration::from_secs(left));
        }
        loop {
            let call = functions::UpdatesGetDifference {
                pts: self.pts,
                pts_limit: None,
                pts_total_limit: None,
                date: 0,
                qts: self.qts,
                qts_limit: None,
            };
            // An empty answer right away when events are already waiting to be returned.
            let seconds = if events.is_empty() { wait.as_secs() } else { 0 };
            let difference = self
                .api
                .call_with(
                    &call,
                    &[("timeout", Value::from(seconds))],
                    Duration::from_secs(seconds),
                )
                .await?;
            wait = Duration::ZERO;
            let more = match difference {
                enums::UpdatesDifference::UpdatesDifferenceEmpty(_) => false,
                enums::UpdatesDifference::UpdatesDifference(d) => {
                    self.process(d.other_updates, d.new_encrypted_messages)
                        .await;
                    self.set_state(&d.state, "difference");
                    false
                }
                enums::UpdatesDifference::UpdatesDifferenceSlice(d) => {
                    self.process(d.other_updates, d.new_encrypted_messages)
                        .await;
                    self.set_state(&d.intermediate_state, "differenceSlice");
                    true
                }
                enums::UpdatesDifference::UpdatesDifferenceTooLong(d) => {
                    self.explain.line("qts", || {
                        format!(
                            "updates.differenceTooLong(pts {}): asking for the state",
                            d.pts
                        )
                    });
                    let enums::UpdatesState::UpdatesState(state) =
                        self.api.call(&functions::UpdatesGetState {}).await?;
                    self.pts = state.pts;
                    self.qts = state.qts;
                    false
                }
            };
            self.run_timers().await;
            events.extend(self.pending.drain(..));
            if !more {
                break;
            }
        }
        Ok(events)
    }

    /// Acknowledges everything received so far without waiting for the next poll
    /// (`messages.receivedQueue(qts)`).
    pub async fn acknowledge(&mut self) -> Result<(), DeviceError> {
        self.api
            .call(&functions::MessagesReceivedQueue { max_qts: self.qts })
            .await?;
        Ok(())
    }

    fn set_state(&mut self, state: &enums::UpdatesState, what: &str) {
        let enums::UpdatesState::UpdatesState(state) = state;
        self.explain.line("qts", || {
            format!(
                "updates.{what}: now at pts {} → {}, qts {} → {} (acknowledged with the next call)",
                self.pts, state.pts, self.qts, state.qts
            )
        });
        self.pts = state.pts;
        self.qts = state.qts;
    }

    /// Applies one batch: new chats and accepted chats first, then the messages in qts
    /// order, then read receipts and discards (a discard after the messages sent before it).
    async fn process(
        &mut self,
        updates: Vec<enums::Update>,
        messages: Vec<enums::EncryptedMessage>,
    ) {
        let mut late = Vec::new();
        for update in updates {
            match update {
                enums::Update::UpdateEncryption(update) => match update.chat {
                    enums::EncryptedChat::EncryptedChatDiscarded(discarded) => {
                        late.push(Late::Discarded(discarded))
                    }
                    chat => self.handle_encrypted_chat(chat).await,
                },
                enums::Update::UpdateEncryptedMessagesRead(read) => late.push(Late::Read(read)),
                enums::Update::UpdateEncryptedChatTyping(typing) => {
                    self.pending.push_back(PeerEvent::Typing {
                        chat_id: typing.chat_id,
                    })
                }
                enums::Update::UpdateNewEncryptedMessage(update) => {
                    self.handle_message(update.message).await
                }
            }
        }
        for message in messages {
            self.handle_message(message).await;
        }
        for item in late {
            match item {
                Late::Read(read) => self.pending.push_back(PeerEvent::ReadReceipt {
                    chat_id: read.chat_id,
                    max_date: read.max_date,
                }),
                Late::Discarded(discarded) => {
                    let chat_id = discarded.id;
                    self.explain.line("recv", || {
                        format!(
                            "[chat {chat_id}] encryptedChatDiscarded (history_deleted {})",
                            discarded.history_deleted
                        )
                    });
                    match self.chats.get_mut(&chat_id) {
                        Some(entry) if !entry.chat.is_closed() => {
                            entry.chat.handle_discarded();
                            // The chat's own Discarded event is replaced by one that says
                            // whether the history goes too.
                            while entry.chat.poll_event().is_some() {}
                            self.pending.push_back(PeerEvent::ChatDiscarded {
                                chat_id,
                                history_deleted: discarded.history_deleted,
                            });
                        }
                        Some(_) => {}
                        None => self.pending.push_back(PeerEvent::Ignored {
                            chat_id,
                            reason: "encryptedChatDiscarded for a chat this device does not know"
                                .to_owned(),
                        }),
                    }
                }
            }
        }
    }

    async fn handle_encrypted_chat(&mut self, chat: enums::EncryptedChat) {
        match chat {
            enums::EncryptedChat::EncryptedChatRequested(requested) => {
                let chat_id = requested.id;
                // A repeated request for a chat we know is ignored; a closed chat's id may
                // be used again by a new request.
                if self
                    .chats
                    .get(&chat_id)
                    .is_some_and(|entry| !entry.chat.is_closed())
                {
                    return;
                }
                self.explain.line("recv", || {
                    format!(
                        "[chat {chat_id}] encryptedChatRequested from user {}: g_a = {}",
                        requested.admin_id,
                        shorten(&requested.g_a)
                    )
                });
                let params = match self.dh_config().await {
                    Ok((params, _)) => params,
                    Err(error) => {
                        self.pending.push_back(PeerEvent::Ignored {
                            chat_id,
                            reason: format!("cannot take the request: {error}"),
                        });
                        return;
                    }
                };
                let now = self.now();
                let from_user = requested.admin_id;
                let created = SecretChat::from_requested(
                    self.chat_config,
                    params,
                    RequestedChat {
                        id: chat_id,
                        access_hash: requested.access_hash,
                        g_a: requested.g_a,
                    },
                    now,
                );
                match created {
                    Ok(chat) => {
                        self.chats.insert(
                            chat_id,
                            ChatEntry {
                                chat,
                                peer_user_id: from_user,
                                outgoing_files: HashMap::new(),
                                outgoing_media: HashMap::new(),
                                incoming_files: HashMap::new(),
                            },
                        );
                        self.pending
                            .push_back(PeerEvent::ChatRequested { chat_id, from_user });
                    }
                    Err(error) => self.pending.push_back(PeerEvent::Ignored {
                        chat_id,
                        reason: error.to_string(),
                    }),
                }
            }
            enums::EncryptedChat::EncryptedChat(accepted) => {
                let chat_id = accepted.id;
                let now = self.now();
                let Some(entry) = self.chats.get_mut(&chat_id) else {
                    return;
                };
                if entry.chat.is_established() || entry.chat.is_closed() {
                    return;
                }
                let announced = KeyFingerprint::from_i64(accepted.key_fingerprint);
                self.explain.line("recv", || {
                    format!(
                        "[chat {chat_id}] encryptedChat: g_b = {}, key_fingerprint {announced}",
                        shorten(&accepted.g_a_or_b)
                    )
                });
                let result = entry.chat.handle_accepted(
                    now,
                    AcceptedChat {
                        id: chat_id,
                        access_hash: accepted.access_hash,
                        g_a_or_b: accepted.g_a_or_b,
                        key_fingerprint: announced,
                    },
                    &mut self.rng,
                );
                match result {
                    Ok(()) => {
                        self.explain.line("check", || {
                            format!(
                                "[chat {chat_id}] g_b: 1 < g_b < p − 1 and 2^1984 < g_b < p − 2^1984: ok; key = g_b^a mod p; computed fingerprint equals the announced {announced}: ok"
                            )
                        });
                        self.drain_chat(chat_id);
                        self.flush_reporting(chat_id).await;
                    }
                    Err(error) => {
                        self.explain.line("check", || {
                            format!("[chat {chat_id}] FAILED: {error}; discarding the chat")
                        });
                        self.drain_chat(chat_id);
                        self.discard_after_abort(chat_id).await;
                    }
                }
            }
            enums::EncryptedChat::EncryptedChatWaiting(_)
            | enums::EncryptedChat::EncryptedChatEmpty(_)
            | enums::EncryptedChat::EncryptedChatDiscarded(_) => {}
        }
    }

    async fn handle_message(&mut self, message: enums::EncryptedMessage) {
        let (chat_id, random_id, bytes, file) = match message {
            enums::EncryptedMessage::EncryptedMessage(m) => {
                (m.chat_id, m.random_id, m.bytes, Some(m.file))
            }
            enums::EncryptedMessage::EncryptedMessageService(m) => {
                (m.chat_id, m.random_id, m.bytes, None)
            }
        };
        let now = self.now();
        let Some(entry) = self.chats.get_mut(&chat_id) else {
            self.pending.push_back(PeerEvent::Ignored {
                chat_id,
                reason: format!("message {random_id} for a chat this device does not know"),
            });
            return;
        };
        self.explain.line("recv", || {
            format!(
                "[chat {chat_id}] updateNewEncryptedMessage random_id {random_id}: {}",
                shorten(&bytes)
            )
        });
        if let Some(file @ enums::EncryptedFile::EncryptedFile(_)) = file {
            entry.incoming_files.insert(random_id, file);
        }
        let result = entry.chat.handle_encrypted(now, &bytes, &mut self.rng);
        self.drain_chat(chat_id);
        match result {
            Ok(()) => {
                self.fetch_files(chat_id).await;
                self.flush_reporting(chat_id).await;
            }
            Err(ChatError::Aborted { .. }) => self.discard_after_abort(chat_id).await,
            Err(error) => self.pending.push_back(PeerEvent::Ignored {
                chat_id,
                reason: error.to_string(),
            }),
        }
    }

    /// Calls `handle_timeout` on every chat that is due, then sends what they want sent.
    async fn run_timers(&mut self) {
        let now = self.now();
        let due: Vec<i32> = self
            .chats
            .iter()
            .filter(|(_, entry)| entry.chat.poll_timeout().is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for chat_id in due {
            if let Some(entry) = self.chats.get_mut(&chat_id) {
                if let Err(error) = entry.chat.handle_timeout(now, &mut self.rng) {
                    self.pending.push_back(PeerEvent::Ignored {
                        chat_id,
                        reason: format!("timer: {error}"),
                    });
                }
            }
            self.drain_chat(chat_id);
            self.flush_reporting(chat_id).await;
        }
    }

    /// Moves a chat's events into `pending` (as PeerEvents) and prints its trace.
    pub(super) fn drain_chat(&mut self, chat_id: i32) {
        let Some(entry) = self.chats.get_mut(&chat_id) else {
            return;
        };
        if let (Some((trace, lane)), Some(key), Some(picture)) = (
            &self.trace,
            entry.chat.current_key(),
            entry.chat.visualization(),
        ) {
            // The web view opens recorded messages with the keys devices hold.
            trace.key(*lane, chat_id, key, picture);
        }
        while let Some(step) = entry.chat.poll_step() {
            self.explain.step(chat_id, &step);
        }
        while let Some(event) = entry.chat.poll_event() {
            let event = match event {
                ChatEvent::Established {
                    key_fingerprint,
                    visualization,
                } => {
                    self.explain.visualization(chat_id, &visualization);
                    PeerEvent::ChatEstablished {
                        chat_id,
                        key_fingerprint,
                        visualization: crate::events::visualization_hex(&visualization),
                    }
                }
                ChatEvent::MessageReceived { random_id, message } => {
                    self.explain.line("recv", || {
                        format!("[chat {chat_id}] message {random_id}: {:?}", message.text)
                    });
                    PeerEvent::Message {
                        chat_id,
                        random_id,
                        text: message.text,
                        ttl: message.ttl,
                        media: message.media,
                    }
                }
                ChatEvent::ActionReceived {
                    action: UserAction::Typing { .. },
                    ..
                } => PeerEvent::Typing { chat_id },
                ChatEvent::ActionReceived { random_id, action } => PeerEvent::Action {
                    chat_id,
                    random_id,
                    action,
                },
                ChatEvent::PeerLayerRaised { from, to } => {
                    PeerEvent::PeerLayerRaised { chat_id, from, to }
                }
                ChatEvent::PeerIsNewer {
                    peer_layer,
                    own_layer,
                } => PeerEvent::PeerIsNewer {
                    chat_id,
                    peer_layer,
                    own_layer,
                },
                ChatEvent::KeyChanged {
                    key_fingerprint, ..
                } => PeerEvent::KeyChanged {
                    chat_id,
                    key_fingerprint,
                },
                ChatEvent::RekeyAborted { exchange_id } => PeerEvent::RekeyAborted {
                    chat_id,
                    exchange_id,
                },
                ChatEvent::RekeyRejected { exchange_id, why } => PeerEvent::RekeyRejected {
                    chat_id,
                    exchange_id,
                    why,
                },
                ChatEvent::ResendRequested {
                    start_seq_no,
                    end_seq_no,
                } => PeerEvent::ResendRequested {
                    chat_id,
                    start_seq_no: start_seq_no.0,
                    end_seq_no: end_seq_no.0,
                },
                ChatEvent::PeerAskedForResend {
                    start_seq_no,
                    end_seq_no,
                    messages,
                    placeholders,
                } => PeerEvent::PeerAskedForResend {
                    chat_id,
                    start_seq_no: start_seq_no.0,
                    end_seq_no: end_seq_no.0,
                    messages,
                    placeholders,
                },
                ChatEvent::Ignored { reason } => PeerEvent::Ignored {
                    chat_id,
                    reason: reason.to_string(),
                },
                ChatEvent::Aborted { reason } => PeerEvent::Aborted {
                    chat_id,
                    reason: reason.to_string(),
                },
                ChatEvent::Discarded => PeerEvent::ChatDiscarded {
                    chat_id,
                    history_deleted: false,
                },
            };
            self.pending.push_back(event);
        }
    }
}

enum Late {
    Read(types::UpdateEncryptedMessagesRead),
    Discarded(types::EncryptedChatDiscarded),
}
