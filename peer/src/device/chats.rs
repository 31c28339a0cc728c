//! Starting and ending chats: the Diffie-Hellman handshake as the transport sees it.
//!
//! ```text
//!   requester                               server                       acceptor
//!   request_chat: getDhConfig (checked),
//!     g_a ── messages.requestEncryption ──▶  encryptedChatRequested ──▶  (poll) ChatRequested
//!                                                                      accept_chat: check g_a,
//!   (poll) encryptedChat: check g_b and  ◀── encryptedChat ◀── messages.acceptEncryption(g_b, fp)
//!     the fingerprint → ChatEstablished                                   → ChatEstablished
//! ```
//!
//! The checks themselves are the chat's ([`SecretChat::request`], [`SecretChat::accept`],
//! [`SecretChat::handle_accepted`]); here the device moves the values and, when a check
//! fails, tells the server the chat is over (`messages.discardEncryption`).

use std::collections::HashMap;

use secretchat_common::chat::{ChatError, SecretChat};
use secretchat_common::tl::api::{enums, functions, types};
use secretchat_common::tl::TlJson;
use serde_json::Value;

use super::{chat_error, input_chat, AcceptOutcome, ChatEntry, Device, DeviceError, PeerEvent};
use crate::explain::shorten;

impl Device {
    /// Asks `username` for a chat: checks the DH config, sends `g_a` with
    /// `messages.requestEncryption`. Returns the chat id; `ChatEstablished` follows from
    /// [`Device::poll`] once the peer accepts.
    pub async fn request_chat(&mut self, username: &str) -> Result<i32, DeviceError> {
        let enums::User::User(user) = self
            .api
            .call(&functions::ContactsResolveUsername {
                username: username.to_owned(),
            })
            .await?;
        self.explain.line("resolve", || {
            format!("contacts.resolveUsername {username} → user id {}", user.id)
        });
        let (params, random) = self.dh_config().await?;
        let now = self.now();
        let (chat, request) =
            SecretChat::request(self.chat_config, params, &random, now, &mut self.rng)
                .map_err(chat_error(0))?;
        let chat_id = request.random_id;
        self.explain.line("dh", || {
            format!(
                "[chat {chat_id}] a = random 2048 bits ⊕ server random; g_a = g^a mod p = {}",
                shorten(&request.g_a)
            )
        });
        let answer = self
            .api
            .call(&functions::MessagesRequestEncryption {
                user_id: enums::InputUser::InputUser(types::InputUser {
                    user_id: user.id,
                    access_hash: user.access_hash,
                }),
                random_id: chat_id,
                g_a: request.g_a.clone(),
            })
            .await?;
        self.explain.line("send", || {
            format!(
                "[chat {chat_id}] messages.requestEncryption(random_id {chat_id}, g_a) → {}",
                encrypted_chat_name(&answer)
            )
        });
        self.chats.insert(
            chat_id,
            ChatEntry {
                chat,
                peer_user_id: user.id,
                outgoing_files: HashMap::new(),
                outgoing_media: HashMap::new(),
                incoming_files: HashMap::new(),
            },
        );
        Ok(chat_id)
    }

    /// Accepts a requested chat: checks `g_a`, computes the key, sends `g_b` and the key
    /// fingerprint with `messages.acceptEncryption`. If another device of this user
    /// accepted first, the server refuses and the chat is closed here.
    ///
    /// A `g_a` that fails the DH checks (SPEC §1.3: `1 < g_a < p − 1` and
    /// `2^1984 < g_a < p − 2^1984`) is this device's own refusal, not a failed call: the
    /// chat aborts (a [`PeerEvent::Aborted`] naming the check follows from the next poll),
    /// the request is declined on the server (`messages.discardEncryption`, so the
    /// requester sees the chat discarded), nothing is computed from the bad value, and the
    /// answer is [`AcceptOutcome::Refused`].
    pub async fn accept_chat(&mut self, chat_id: i32) -> Result<AcceptOutcome, DeviceError> {
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        if entry.chat.is_closed() || entry.chat.is_established() {
            // Not awaiting a decision: the chat says why, and nothing is asked of the server.
            let error = entry
                .chat
                .accept(now, &[], rng)
                .err()
                .unwrap_or(ChatError::Discarded);
            return Err(DeviceError::Chat { chat_id, error });
        }
        let (_, random) = self.dh_config().await?;
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        let acceptance = match entry.chat.accept(now, &random, rng) {
            Ok(acceptance) => acceptance,
            Err(ChatError::Aborted { reason }) => {
                // A g_a failing the checks: the chat aborted (its Aborted event says why);
                // decline it on the server so the requester learns it is over.
                self.explain.line("check", || {
                    format!("[chat {chat_id}] REFUSED: {reason}; declining the request")
                });
                self.drain_chat(chat_id);
                self.discard_after_abort(chat_id).await;
                return Ok(AcceptOutcome::Refused { reason });
            }
            Err(error) => {
                self.drain_chat(chat_id);
                return Err(DeviceError::Chat { chat_id, error });
            }
        };
        let access_hash = entry.chat.access_hash();
        self.explain.line("check", || {
            format!("[chat {chat_id}] g_a: 1 < g_a < p − 1 and 2^1984 < g_a < p − 2^1984: ok")
        });
        self.explain.line("dh", || {
            format!(
                "[chat {chat_id}] b = random ⊕ server random; g_b = {}; key = g_a^b mod p; key_fingerprint = {}",
                shorten(&acceptance.g_b),
                acceptance.key_fingerprint
            )
        });
        let answer = self
            .api
            .call(&functions::MessagesAcceptEncryption {
                peer: input_chat(chat_id, access_hash),
                g_b: acceptance.g_b,
                key_fingerprint: acceptance.key_fingerprint.as_i64(),
            })
            .await;
        match answer {
            Ok(answer) => {
                self.explain.line("send", || {
                    format!(
                        "[chat {chat_id}] messages.acceptEncryption → {}",
                        encrypted_chat_name(&answer)
                    )
                });
                self.drain_chat(chat_id);
                self.flush(chat_id).await;
                Ok(AcceptOutcome::Accepted)
            }
            Err(error) => {
                self.explain.line("send", || {
                    format!("[chat {chat_id}] messages.acceptEncryption refused: {error}")
                });
                if let Ok(entry) = self.entry_mut(chat_id) {
                    // The key exists only here: the Established the chat queued is void.
                    while entry.chat.poll_event().is_some() {}
                    while entry.chat.poll_step().is_some() {}
                    entry.chat.handle_discarded();
                }
                self.drain_chat(chat_id);
                Err(error.into())
            }
        }
    }

    /// Declines a requested chat (`messages.discardEncryption`).
    pub async fn decline_chat(&mut self, chat_id: i32) -> Result<(), DeviceError> {
        let entry = self.entry_mut(chat_id)?;
        entry.chat.decline().map_err(chat_error(chat_id))?;
        self.drain_chat(chat_id);
        self.discard_on_server(chat_id, false).await
    }

    /// Ends a chat on both sides (`messages.discardEncryption`, optionally deleting the
    /// history).
    pub async fn discard_chat(
        &mut self,
        chat_id: i32,
        delete_history: bool,
    ) -> Result<(), DeviceError> {
        self.entry_mut(chat_id)?;
        self.discard_on_server(chat_id, delete_history).await?;
        if let Ok(entry) = self.entry_mut(chat_id) {
            entry.chat.handle_discarded();
        }
        self.drain_chat(chat_id);
        Ok(())
    }

    /// After the chat aborted: tells the server the chat is over. If the server says it
    /// already is (`ENCRYPTION_ALREADY_DECLINED`: the peer aborted or discarded at the same
    /// moment), that is the outcome wanted; any other refusal is reported as `SendFailed`.
    pub(super) async fn discard_after_abort(&mut self, chat_id: i32) {
        match self.discard_on_server(chat_id, false).await {
            Ok(()) => {}
            Err(error) if error.rpc_message() == Some("ENCRYPTION_ALREADY_DECLINED") => {
                self.explain.line("send", || {
                    format!("[chat {chat_id}] the chat was already discarded on the server")
                });
            }
            Err(error) => self.pending.push_back(PeerEvent::SendFailed {
                chat_id,
                random_id: 0,
                error: error.to_string(),
            }),
        }
    }

    async fn discard_on_server(
        &mut self,
        chat_id: i32,
        delete_history: bool,
    ) -> Result<(), DeviceError> {
        self.api
            .call(&functions::MessagesDiscardEncryption {
                delete_history,
                chat_id,
            })
            .await?;
        self.explain.line("send", || {
            format!("[chat {chat_id}] messages.discardEncryption(delete_history {delete_history})")
        });
        Ok(())
    }
}

fn encrypted_chat_name(chat: &enums::EncryptedChat) -> String {
    chat.to_json()
        .get("_")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}
