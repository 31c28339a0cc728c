//! # One device of one user: the transport around the secret-chat state machine
//!
//! A [`Device`] is what a Telegram app is to the server: it signs in (the mock's
//! `auth.signIn`), keeps its update counters `qts`/`pts`, and drives one
//! [`SecretChat`] per chat. The chats decide everything the protocol asks; the device
//! only moves bytes and keeps the order:
//!
//! ```text
//!   user action ──▶ SecretChat::send_* ──▶ poll_transmit ──▶ messages.sendEncrypted* ──▶ handle_sent_ack
//!   Device::poll ──▶ updates.getDifference(pts, qts, timeout)   (long-poll; acknowledges up to pts/qts)
//!        ├─ updateEncryption{encryptedChatRequested}  → SecretChat::from_requested → ChatRequested
//!        ├─ updateEncryption{encryptedChat}           → SecretChat::handle_accepted (fingerprint check)
//!        ├─ updateNewEncryptedMessage                 → SecretChat::handle_encrypted → events, transmits
//!        │      (+ encryptedFile: upload.getFile, check fingerprint and size, decrypt)
//!        ├─ updateEncryptedMessagesRead               → ReadReceipt
//!        └─ updateEncryption{encryptedChatDiscarded}  → SecretChat::handle_discarded
//!   then every chat whose poll_timeout is due gets handle_timeout (re-key by age, resend retry)
//! ```
//!
//! **DH parameters** come from `messages.getDhConfig` and are checked (2048-bit safe
//! prime, `g` generating the right subgroup, [`secretchat_common::dh::check_config`])
//! before any use; the checked config is cached with its `version`, and
//! `messages.dhConfigNotModified` reuses it (only its fresh `random` is new).
//!
//! **Offline** is simply not polling: the server keeps what arrives until the device asks
//! with its last `qts`, and [`Device::poll`] catches up through `updates.differenceSlice`s.
//!
//! **Saved state** ([`Device::save`] / [`Device::resume`]) is JSON: the server URL, token,
//! counters, the DH cache and every chat (keys included — keep it like a key file).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{
    self, AcceptedChat, ChatError, DhParams, Event, FileKind, FileMedia, Layer, Media, Message,
    RekeyPolicy, RequestedChat, SecretChat, SendMethod, Transmit, TypingAction, UnixTime,
    UserAction,
};
use secretchat_common::crypto::file::FileKey;
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::dh;
use secretchat_common::key::KeyFingerprint;
use secretchat_common::seq_no::RawSeqNo;
use secretchat_common::tl::api::{enums, functions, types};
use secretchat_common::tl::TlJson;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{ApiClient, ApiError};
use crate::explain::{shorten, ExplainSink, Explainer};
use crate::files::{self, FileTransferError};
use crate::web::{Lane, Trace};

pub use crate::events::PeerEvent;

/// How many bytes of server randomness a device asks for with each getDhConfig.
const DH_RANDOM_LENGTH: i32 = 256;

/// How a device behaves.
#[derive(Clone, Default)]
pub struct DeviceOptions {
    /// Our maximum layer (default 144).
    pub layer: Option<Layer>,
    /// What the device assumes of a peer until told (default: the chat's default, 8).
    pub initial_remote_layer: Option<Layer>,
    /// When chats re-key (default: 100 messages or 7 days).
    pub rekey: Option<RekeyPolicy>,
    /// Print every step (`--explain`).
    pub explain: bool,
    /// Where explain lines go (stdout when `None`).
    pub explain_sink: Option<ExplainSink>,
    /// The label of explain lines (default `username/device`).
    pub label: Option<String>,
    /// Seeds every random choice of the device (keys, ids, padding). `None`: OS entropy.
    pub seed: Option<u64>,
    /// The web view's trace (`--web`): every call, explain line and key is recorded there.
    pub trace: Option<Trace>,
}

impl std::fmt::Debug for DeviceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceOptions")
            .field("layer", &self.layer)
            .field("initial_remote_layer", &self.initial_remote_layer)
            .field("rekey", &self.rekey)
            .field("explain", &self.explain)
            .field("label", &self.label)
            .field("seed", &self.seed)
            .field("traced", &self.trace.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The server refused a call, or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The chat state machine refused the call.
    #[error("chat {chat_id}: {error}")]
    Chat { chat_id: i32, error: ChatError },
    /// No chat with this id on this device.
    #[error("chat {chat_id}: {error}")]
    Hostile {
        chat_id: i32,
        error: secretchat_common::chat::HostileError,
    },
    #[error("no chat {chat_id} on this device")]
    UnknownChat { chat_id: i32 },
    /// The server's DH parameters failed a check: no chat may use them.
    #[error("the server's DH config fails a check: {0}")]
    DhConfig(#[from] dh::DhError),
    /// The server broke the protocol (an answer that does not fit).
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    /// A file could not be sent.
    #[error(transparent)]
    File(#[from] FileTransferError),
    /// The saved state could not be read or written.
    #[error("saved state {path}: {reason}")]
    State { path: String, reason: String },
}

impl DeviceError {
    /// Telegram's error string when the server refused the call (`CHAT_ID_INVALID`, …).
    pub fn rpc_message(&self) -> Option<&str> {
        match self {
            DeviceError::Api(api) => api.rpc_message(),
            DeviceError::File(FileTransferError::Api(api)) => api.rpc_message(),
            _ => None,
        }
    }
}

fn chat_error(chat_id: i32) -> impl FnOnce(ChatError) -> DeviceError {
    move |error| DeviceError::Chat { chat_id, error }
}

/// A file this device knows how to attach again (sent or received): where it is stored
/// and how to decrypt it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownFile {
    id: i64,
    access_hash: i64,
    media: FileMedia,
}

/// One chat and what the transport keeps for it.
#[derive(Debug, Serialize, Deserialize)]
struct ChatEntry {
    chat: SecretChat,
    /// The other user.
    peer_user_id: i64,
    /// What to attach when a `sendEncryptedFile` transmit with this random_id leaves.
    outgoing_files: HashMap<i64, enums::InputEncryptedFile>,
    /// The description (key, iv, size) of files we sent, until the server names the file.
    outgoing_media: HashMap<i64, FileMedia>,
    /// Files that arrived with messages the chat has not released yet (keyed by random_id).
    incoming_files: HashMap<i64, enums::EncryptedFile>,
}

/// What became of the user's accept ([`Device::accept_chat`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a refused chat is not established"]
pub enum AcceptOutcome {
    /// The key exists and the server took `messages.acceptEncryption`:
    /// [`PeerEvent::ChatEstablished`] follows.
    Accepted,
    /// This device refused the request: its `g_a` failed the DH checks (SPEC §1.3). The
    /// chat is aborted here ([`PeerEvent::Aborted`] follows, with this reason) and was
    /// declined on the server.
    Refused { reason: String },
}

/// The cached, checked DH config.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DhCache {
    version: i32,
    params: DhParams,
}

/// What [`Device::save`] writes.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    username: String,
    device_name: String,
    user_id: i64,
    token: String,
    pts: i32,
    qts: i32,
    clock_offset: i64,
    dh: Option<DhCache>,
    chats: BTreeMap<i32, ChatEntry>,
    known_files: HashMap<i64, KnownFile>,
}

/// One signed-in device of one user.
pub struct Device {
    api: ApiClient,
    username: String,
    device_name: String,
    user_id: i64,
    pts: i32,
    qts: i32,
    /// Seconds added to the system clock (a scenario moves time forward).
    clock_offset: i64,
    dh: Option<DhCache>,
    chats: BTreeMap<i32, ChatEntry>,
    known_files: HashMap<i64, KnownFile>,
    /// Chats whose next outgoing message is withheld (never handed to the server).
    withhold: Vec<i32>,
    /// Hostile actions waiting for the chat to reach a state where they can run
    /// ([`Device::arm_hostile`]), in the order they were armed.
    armed: Vec<(i32, secretchat_common::chat::HostileAction)>,
    /// Events produced outside `poll` (by actions), returned by the next `poll`.
    pending: VecDeque<PeerEvent>,
    rng: ChaCha20Rng,
    chat_config: chat::Config,
    explain: Explainer,
    /// The web view's trace and this device's lane (`--web`).
    trace: Option<(Trace, Lane)>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("server", &self.api.base_url())
            .field("username", &self.username)
            .field("device_name", &self.device_name)
            .field("user_id", &self.user_id)
            .field("pts", &self.pts)
            .field("qts", &self.qts)
            .field("chats", &self.chats.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Signs `device_name` of `username` in at `server` (the user is created on first
    /// sign-in). Nothing the server holds for the device is skipped: its first poll starts
    /// from `pts = qts = 0`.
    pub async fn sign_in(
        server: &str,
        username: &str,
        device_name: &str,
        options: DeviceOptions,
    ) -> Result<Device, DeviceError> {
        let mut api = ApiClient::new(server)?;
        if let Some(trace) = &options.trace {
            let lane = trace.lane(&label_of(&options, username, device_name));
            api = api.traced(trace.clone(), lane);
        }
        let authorization = api
            .call(&functions::AuthSignIn {
                username: username.to_owned(),
                device: device_name.to_owned(),
            })
            .await?;
        let enums::AuthAuthorization::AuthAuthorization(authorization) = authorization;
        let enums::User::User(user) = authorization.user;
        let device = Device::new(
            api.with_token(authorization.token),
            username,
            device_name,
            user.id,
            &options,
        )?;
        device.explain.line("sign-in", || {
            format!(
                "auth.signIn {username}/{device_name} → user id {}, bearer token issued",
                user.id
            )
        });
        // Counters from 0, not from updates.getState: the server keeps only what this
        // device has not acknowledged, so the first getDifference fetches all of it —
        // including an update that arrives between the sign-in and a getState, which a
        // start from getState's answer would skip.
        device.explain.line("qts", || {
            "starting at pts 0, qts 0: the first getDifference fetches everything the server holds for this device".to_owned()
        });
        Ok(device)
    }

    fn new(
        api: ApiClient,
        username: &str,
        device_name: &str,
        user_id: i64,
        options: &DeviceOptions,
    ) -> Result<Device, DeviceError> {
        let mut chat_config = chat::Config::default();
        if let Some(layer) = options.layer {
            chat_config.own_layer = layer;
        }
        if let Some(layer) = options.initial_remote_layer {
            chat_config.initial_remote_layer = layer;
        }
        if let Some(rekey) = options.rekey {
            chat_config.rekey = rekey;
        }
        // The chats' trace steps are wanted when printed and when recorded (`--web`).
        chat_config.explain = options.explain || options.trace.is_some();
        let label = label_of(options, username, device_name);
        let mut explain = if options.explain {
            Explainer::new(label.clone(), options.explain_sink.clone())
        } else {
            Explainer::off()
        };
        if let Some(trace) = &options.trace {
            explain = explain.traced(trace.clone(), trace.lane(&label));
        }
        let rng = match options.seed {
            Some(seed) => ChaCha20Rng::seed_from_u64(seed),
            None => ChaCha20Rng::from_entropy(),
        };
        Ok(Device {
            api,
            username: username.to_owned(),
            device_name: device_name.to_owned(),
            user_id,
            pts: 0,
            qts: 0,
            clock_offset: 0,
            dh: None,
            chats: BTreeMap::new(),
            known_files: HashMap::new(),
            withhold: Vec::new(),
            armed: Vec::new(),
            pending: VecDeque::new(),
            rng,
            chat_config,
            explain,
            trace: options.trace.clone().map(|trace| {
                let lane = trace.lane(&label);
                (trace, lane)
            }),
        })
    }

    // ---- who and where ----

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The API client, signed in as this device (for calls the device has no method for).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The update counters this device has processed: `(pts, qts)`.
    pub fn counters(&self) -> (i32, i32) {
        (self.pts, self.qts)
    }

    pub fn explainer(&self) -> &Explainer {
        &self.explain
    }

    /// The device's clock: the system clock plus what [`Device::advance_clock`] added.
    pub fn now(&self) -> UnixTime {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        UnixTime(system + self.clock_offset)
    }

    /// Moves this device's clock forward (as a scenario moves the server's).
    pub fn advance_clock(&mut self, seconds: u64) {
        self.clock_offset = self
            .clock_offset
            .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
    }

    // ---- chat state, for expectations ----

    /// The ids of every chat this device knows (open or closed).
    pub fn chat_ids(&self) -> Vec<i32> {
        self.chats.keys().copied().collect()
    }

    /// The state machine of a chat, for anything the accessors below do not cover.
    pub fn chat(&self, chat_id: i32) -> Option<&SecretChat> {
        self.chats.get(&chat_id).map(|entry| &entry.chat)
    }

    pub fn is_established(&self, chat_id: i32) -> bool {
        self.chat(chat_id).is_some_and(SecretChat::is_established)
    }

    pub fn key_fingerprint(&self, chat_id: i32) -> Option<KeyFingerprint> {
        self.chat(chat_id).and_then(SecretChat::key_fingerprint)
    }

    pub fn visualization(&self, chat_id: i32) -> Option<KeyVisualization> {
        self.chat(chat_id).and_then(SecretChat::visualization)
    }

    /// `(own maximum, the peer's known layer, common)`.
    pub fn layers(&self, chat_id: i32) -> Option<(Layer, Layer, Layer)> {
        self.chat(chat_id).map(|chat| {
            let layers = chat.layers();
            (layers.own_max(), layers.remote(), layers.common())
        })
    }

    /// Wrapped messages sent and received (raw counters).
    pub fn seq_counters(&self, chat_id: i32) -> Option<(RawSeqNo, RawSeqNo)> {
        self.chat(chat_id).map(SecretChat::seq_counters)
    }

    /// The server's id of the stored file carried by message `random_id`: a file this
    /// device sent (named by the `sentEncryptedFile` answer) or received and checked.
    pub fn file_id(&self, random_id: i64) -> Option<i64> {
        self.known_files.get(&random_id).map(|file| file.id)
    }

    /// The other user of a chat.
    pub fn peer_user_id(&self, chat_id: i32) -> Option<i64> {
        self.chats.get(&chat_id).map(|entry| entry.peer_user_id)
    }

    // ---- starting and ending chats ----

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
    async fn discard_after_abort(&mut self, chat_id: i32) {
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

    // ---- messages and actions ----

    /// Sends a text message (`ttl` seconds of self-destruct, 0 = none). Returns its
    /// random_id.
    pub async fn send_text(
        &mut self,
        chat_id: i32,
        text: &str,
        ttl: i32,
    ) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.send_text(now, text, ttl, rng)
        })
        .await
    }

    /// Sends any message the chat can encode (text, media, entities).
    pub async fn send_message(
        &mut self,
        chat_id: i32,
        message: Message,
    ) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.send_message(now, message, rng)
        })
        .await
    }

    /// Encrypts `bytes` with a one-time key, uploads it in parts, and sends it as a
    /// document. Returns the message's random_id.
    pub async fn send_file(
        &mut self,
        chat_id: i32,
        bytes: &[u8],
        file_name: &str,
        mime_type: &str,
    ) -> Result<i64, DeviceError> {
        let entry = self.entry_mut(chat_id)?;
        if !entry.chat.is_established() {
            return Err(DeviceError::Chat {
                chat_id,
                error: ChatError::WrongState {
                    state: "not established",
                    expected: "established",
                },
            });
        }
        let uploaded = files::upload(&self.api, bytes, &mut self.rng).await?;
        self.explain.line("file", || {
            format!(
                "[chat {chat_id}] {file_name:?}: {} bytes → one-time key, fingerprint {}; {} encrypted bytes uploaded in parts of {}",
                bytes.len(),
                uploaded.key.fingerprint(),
                uploaded.encrypted_len,
                files::PART_SIZE
            )
        });
        let media = FileMedia {
            kind: FileKind::Document,
            size: bytes.len() as i64,
            key: *uploaded.key.key(),
            iv: *uploaded.key.iv(),
            mime_type: mime_type.to_owned(),
            caption: String::new(),
            file_name: file_name.to_owned(),
            thumb: Vec::new(),
            thumb_w: 0,
            thumb_h: 0,
            w: 0,
            h: 0,
            duration: 0,
        };
        self.send_file_message(chat_id, media, uploaded.input).await
    }

    /// Sends again, into `chat_id`, a file this device sent or received before (by that
    /// message's random_id): the stored encrypted file is reused
    /// (`inputEncryptedFile{id, access_hash}`), the message carries its key again.
    pub async fn forward_file(
        &mut self,
        chat_id: i32,
        original_random_id: i64,
    ) -> Result<i64, DeviceError> {
        let known = self
            .known_files
            .get(&original_random_id)
            .cloned()
            .ok_or_else(|| {
                DeviceError::Protocol(format!(
                    "no file known for random_id {original_random_id} (send or receive it first)"
                ))
            })?;
        let input = enums::InputEncryptedFile::InputEncryptedFile(types::InputEncryptedFile {
            id: known.id,
            access_hash: known.access_hash,
        });
        self.send_file_message(chat_id, known.media, input).await
    }

    async fn send_file_message(
        &mut self,
        chat_id: i32,
        media: FileMedia,
        input: enums::InputEncryptedFile,
    ) -> Result<i64, DeviceError> {
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        let message = Message {
            media: Some(Media::File(Box::new(media.clone()))),
            ..Message::default()
        };
        let random_id = entry
            .chat
            .send_message(now, message, rng)
            .map_err(chat_error(chat_id))?;
        entry.outgoing_files.insert(random_id, input);
        entry.outgoing_media.insert(random_id, media);
        self.finish_action(chat_id, random_id).await
    }

    /// Sets the chat-wide self-destruct timer.
    pub async fn set_ttl(&mut self, chat_id: i32, ttl_seconds: i32) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.set_ttl(now, ttl_seconds, rng)
        })
        .await
    }

    /// Tells the peer these messages were read (the end-to-end action).
    pub async fn read_messages(
        &mut self,
        chat_id: i32,
        random_ids: Vec<i64>,
    ) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.read_messages(now, random_ids, rng)
        })
        .await
    }

    /// Tells the server the history was read up to `max_date`
    /// (`messages.readEncryptedHistory`): the peer gets a [`PeerEvent::ReadReceipt`].
    pub async fn read_history(&mut self, chat_id: i32, max_date: i32) -> Result<(), DeviceError> {
        let access_hash = self.entry_mut(chat_id)?.chat.access_hash();
        self.api
            .call(&functions::MessagesReadEncryptedHistory {
                peer: input_chat(chat_id, access_hash),
                max_date,
            })
            .await?;
        Ok(())
    }

    /// The server-level typing notice (`messages.setEncryptedTyping`). The server pushes it
    /// on its event stream only (never queued), so a polling device does not see it; the
    /// end-to-end notice is [`Device::typing`].
    pub async fn set_typing(&mut self, chat_id: i32, typing: bool) -> Result<(), DeviceError> {
        let access_hash = self.entry_mut(chat_id)?.chat.access_hash();
        self.api
            .call(&functions::MessagesSetEncryptedTyping {
                peer: input_chat(chat_id, access_hash),
                typing,
            })
            .await?;
        Ok(())
    }

    /// Reports the chat as spam (`messages.reportEncryptedSpam`).
    pub async fn report_spam(&mut self, chat_id: i32) -> Result<(), DeviceError> {
        let access_hash = self.entry_mut(chat_id)?.chat.access_hash();
        self.api
            .call(&functions::MessagesReportEncryptedSpam {
                peer: input_chat(chat_id, access_hash),
            })
            .await?;
        Ok(())
    }

    /// Deletes messages on both sides.
    pub async fn delete_messages(
        &mut self,
        chat_id: i32,
        random_ids: Vec<i64>,
    ) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.delete_messages(now, random_ids, rng)
        })
        .await
    }

    /// Notifies a screenshot of these messages.
    pub async fn screenshot(
        &mut self,
        chat_id: i32,
        random_ids: Vec<i64>,
    ) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.screenshot(now, random_ids, rng)
        })
        .await
    }

    /// Clears the history on both sides.
    pub async fn flush_history(&mut self, chat_id: i32) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| chat.flush_history(now, rng))
            .await
    }

    /// A typing notification (the end-to-end `decryptedMessageActionTyping`).
    pub async fn typing(&mut self, chat_id: i32) -> Result<i64, DeviceError> {
        self.act(chat_id, |chat, now, rng| {
            chat.typing(now, TypingAction::Typing, rng)
        })
        .await
    }

    /// Starts re-keying now (RequestKey); the exchange runs through later polls.
    /// Returns the exchange_id.
    pub async fn rekey(&mut self, chat_id: i32) -> Result<i64, DeviceError> {
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        let exchange_id = entry
            .chat
            .rekey_now(now, rng)
            .map_err(chat_error(chat_id))?;
        self.drain_chat(chat_id);
        self.flush(chat_id).await;
        Ok(exchange_id)
    }

    /// Withholds the next message this chat sends with `messages.sendEncrypted`: it is
    /// sealed and numbered but never handed to the server, so the peer sees a gap in the
    /// sequence and asks for it with `decryptedMessageActionResend` — the demo's honest
    /// "dropped message".
    pub fn withhold_next_message(&mut self, chat_id: i32) {
        self.withhold.push(chat_id);
    }

    /// The device signs out: its token stops working and its queue is cleared.
    pub async fn log_out(&mut self) -> Result<(), DeviceError> {
        self.api.call(&functions::AuthLogOut {}).await?;
        self.explain.line("sign-out", || "auth.logOut".to_owned());
        Ok(())
    }

    /// Acknowledges everything received so far without waiting for the next poll
    /// (`messages.receivedQueue(qts)`).
    pub async fn acknowledge(&mut self) -> Result<(), DeviceError> {
        self.api
            .call(&functions::MessagesReceivedQueue { max_qts: self.qts })
            .await?;
        Ok(())
    }

    // ---- the transport ----

    /// Collects the events the action produced, hands the chat's transmits to the server,
    /// and fails if the action's own message was refused.
    /// Breaks a rule of the protocol on purpose (`chat::hostile`): the crafted message is
    /// sent like any other, so the peer's reaction can be watched.
    pub async fn hostile(
        &mut self,
        chat_id: i32,
        action: secretchat_common::chat::HostileAction,
    ) -> Result<i64, DeviceError> {
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        let random_id = entry
            .chat
            .hostile(now, action, rng)
            .map_err(|error| DeviceError::Hostile { chat_id, error })?;
        self.finish_action(chat_id, random_id).await
    }

    /// Arms a hostile action: it runs the first time this chat is about to hand messages to
    /// the server while the action is possible — e.g. `AcceptKeyWrongFingerprint` fires
    /// right after the peer's RequestKey is handled and rewrites the honest AcceptKey in
    /// place, before it leaves. Until then it waits; an armed action that fails for
    /// another reason is reported as `SendFailed` (random_id 0).
    pub fn arm_hostile(
        &mut self,
        chat_id: i32,
        action: secretchat_common::chat::HostileAction,
    ) -> Result<(), DeviceError> {
        Self::entry_in(&mut self.chats, chat_id)?;
        self.explain.line("hostile", || {
            format!(
                "[chat {chat_id}] armed {}: it runs as soon as it can",
                action.name()
            )
        });
        self.armed.push((chat_id, action));
        Ok(())
    }

    /// Runs the armed hostile actions of a chat that can run now.
    fn fire_armed(&mut self, chat_id: i32) {
        let now = self.now();
        let mut index = 0;
        while index < self.armed.len() {
            if self.armed[index].0 != chat_id {
                index += 1;
                continue;
            }
            let Some(entry) = self.chats.get_mut(&chat_id) else {
                return;
            };
            let action = self.armed[index].1.clone();
            let name = action.name();
            match entry.chat.hostile(now, action, &mut self.rng) {
                Err(secretchat_common::chat::HostileError::Unavailable { .. }) => index += 1,
                Ok(random_id) => {
                    self.armed.remove(index);
                    self.explain.line("hostile", || {
                        format!("[chat {chat_id}] fired {name} (random_id {random_id})")
                    });
                }
                Err(error) => {
                    self.armed.remove(index);
                    self.pending.push_back(PeerEvent::SendFailed {
                        chat_id,
                        random_id: 0,
                        error: format!("armed hostile action {name}: {error}"),
                    });
                }
            }
        }
    }

    /// Runs one of the user's actions on a chat, then sends what it produced.
    async fn act(
        &mut self,
        chat_id: i32,
        action: impl FnOnce(&mut SecretChat, UnixTime, &mut ChaCha20Rng) -> Result<i64, ChatError>,
    ) -> Result<i64, DeviceError> {
        let now = self.now();
        let (rng, entry) = (&mut self.rng, Self::entry_in(&mut self.chats, chat_id)?);
        let random_id = action(&mut entry.chat, now, rng).map_err(chat_error(chat_id))?;
        self.finish_action(chat_id, random_id).await
    }

    async fn finish_action(&mut self, chat_id: i32, random_id: i64) -> Result<i64, DeviceError> {
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

    /// Hands every queued transmit of a chat to the server, in order, reporting each
    /// acceptance to the chat. Returns the refused ones.
    async fn flush(&mut self, chat_id: i32) -> Vec<(i64, ApiError)> {
        self.fire_armed(chat_id);
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
            if let enums::EncryptedFile::EncryptedFile(file) = sent.file {
                // From now on (re-sends, forwards) the stored file is named by id.
                let media = self
                    .chats
                    .get_mut(&chat_id)
                    .and_then(|entry| entry.outgoing_media.remove(&random_id));
                if let Some(entry) = self.chats.get_mut(&chat_id) {
                    entry.outgoing_files.insert(
                        random_id,
                        enums::InputEncryptedFile::InputEncryptedFile(types::InputEncryptedFile {
                            id: file.id,
                            access_hash: file.access_hash,
                        }),
                    );
                }
                if let Some(media) = media {
                    self.known_files.insert(
                        random_id,
                        KnownFile {
                            id: file.id,
                            access_hash: file.access_hash,
                            media,
                        },
                    );
                }
            }
        }
        Ok(())
    }

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

    /// Flushes a chat and turns refusals into events.
    async fn flush_reporting(&mut self, chat_id: i32) {
        for (random_id, error) in self.flush(chat_id).await {
            self.pending.push_back(PeerEvent::SendFailed {
                chat_id,
                random_id,
                error: error.rpc_message().map_or(error.to_string(), str::to_owned),
            });
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
    fn drain_chat(&mut self, chat_id: i32) {
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
                Event::Established {
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
                Event::MessageReceived { random_id, message } => {
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
                Event::ActionReceived {
                    action: UserAction::Typing { .. },
                    ..
                } => PeerEvent::Typing { chat_id },
                Event::ActionReceived { random_id, action } => PeerEvent::Action {
                    chat_id,
                    random_id,
                    action,
                },
                Event::PeerLayerRaised { from, to } => {
                    PeerEvent::PeerLayerRaised { chat_id, from, to }
                }
                Event::PeerIsNewer {
                    peer_layer,
                    own_layer,
                } => PeerEvent::PeerIsNewer {
                    chat_id,
                    peer_layer,
                    own_layer,
                },
                Event::KeyChanged {
                    key_fingerprint, ..
                } => PeerEvent::KeyChanged {
                    chat_id,
                    key_fingerprint,
                },
                Event::RekeyAborted { exchange_id } => PeerEvent::RekeyAborted {
                    chat_id,
                    exchange_id,
                },
                Event::ResendRequested {
                    start_seq_no,
                    end_seq_no,
                } => PeerEvent::ResendRequested {
                    chat_id,
                    start_seq_no: start_seq_no.0,
                    end_seq_no: end_seq_no.0,
                },
                Event::PeerAskedForResend {
                    start_seq_no,
                    end_seq_no,
                    messages,
                } => PeerEvent::PeerAskedForResend {
                    chat_id,
                    start_seq_no: start_seq_no.0,
                    end_seq_no: end_seq_no.0,
                    messages,
                },
                Event::Ignored { reason } => PeerEvent::Ignored {
                    chat_id,
                    reason: reason.to_string(),
                },
                Event::Aborted { reason } => PeerEvent::Aborted {
                    chat_id,
                    reason: reason.to_string(),
                },
                Event::Discarded => PeerEvent::ChatDiscarded {
                    chat_id,
                    history_deleted: false,
                },
            };
            self.pending.push_back(event);
        }
    }

    /// Downloads the files of messages the chat just released, and adds `FileReceived`
    /// (or `FileFailed`) right after each message event.
    async fn fetch_files(&mut self, chat_id: i32) {
        let mut index = 0;
        while index < self.pending.len() {
            let wanted = match &self.pending[index] {
                PeerEvent::Message {
                    chat_id: c,
                    random_id,
                    media: Some(Media::File(media)),
                    ..
                } if *c == chat_id => Some((*random_id, media.as_ref().clone())),
                _ => None,
            };
            index += 1;
            let Some((random_id, media)) = wanted else {
                continue;
            };
            let file = self
                .chats
                .get_mut(&chat_id)
                .and_then(|entry| entry.incoming_files.remove(&random_id));
            let outcome = match file {
                None => Err("the message has a file but the server attached none".to_owned()),
                Some(file) => {
                    let key = FileKey::new(media.key, media.iv);
                    match files::download(&self.api, &file, &key, media.size).await {
                        Ok(downloaded) => {
                            if let enums::EncryptedFile::EncryptedFile(stored) = &file {
                                self.known_files.insert(
                                    random_id,
                                    KnownFile {
                                        id: stored.id,
                                        access_hash: stored.access_hash,
                                        media: media.clone(),
                                    },
                                );
                            }
                            Ok(downloaded)
                        }
                        Err(error) => Err(error.to_string()),
                    }
                }
            };
            let event = match outcome {
                Ok(downloaded) => {
                    self.explain.line("file", || {
                        format!(
                            "[chat {chat_id}] {:?}: downloaded, key fingerprint and size checked, {} bytes decrypted, sha256 {}",
                            media.file_name,
                            downloaded.plaintext.len(),
                            downloaded.sha256.get(..16).unwrap_or_default()
                        )
                    });
                    PeerEvent::FileReceived {
                        chat_id,
                        random_id,
                        file_name: media.file_name.clone(),
                        mime_type: media.mime_type.clone(),
                        len: downloaded.plaintext.len(),
                        sha256: downloaded.sha256,
                        bytes: downloaded.plaintext,
                    }
                }
                Err(reason) => PeerEvent::FileFailed {
                    chat_id,
                    random_id,
                    reason,
                },
            };
            self.pending.insert(index, event);
            index += 1;
        }
    }

    /// The checked DH parameters and fresh server randomness: `messages.getDhConfig` with
    /// the cached version; `dhConfigNotModified` reuses the cache.
    async fn dh_config(&mut self) -> Result<(DhParams, Vec<u8>), DeviceError> {
        let version = self.dh.as_ref().map_or(0, |cache| cache.version);
        let answer = self
            .api
            .call(&functions::MessagesGetDhConfig {
                version,
                random_length: DH_RANDOM_LENGTH,
            })
            .await?;
        let random = match answer {
            enums::MessagesDhConfig::MessagesDhConfig(config) => {
                let checked = dh::check_config(&config.p, config.g)?;
                self.explain.line("dh", || {
                    format!(
                        "messages.getDhConfig → p = {}, g = {}, version {}",
                        shorten(&config.p),
                        config.g,
                        config.version
                    )
                });
                self.explain.line("check", || {
                    format!(
                        "p is 2048 bits, p and (p − 1)/2 are prime, g = {} is in 2..=7 and a quadratic residue mod p: ok (cached as version {})",
                        config.g, config.version
                    )
                });
                self.dh = Some(DhCache {
                    version: config.version,
                    params: DhParams::from_checked(checked),
                });
                config.random
            }
            enums::MessagesDhConfig::MessagesDhConfigNotModified(not_modified) => {
                if self.dh.is_none() {
                    return Err(DeviceError::Protocol(
                        "messages.dhConfigNotModified, but this device has no DH config cached"
                            .to_owned(),
                    ));
                }
                self.explain.line("dh", || {
                    format!("messages.getDhConfig(version {version}) → dhConfigNotModified: the cached, checked config is reused")
                });
                not_modified.random
            }
        };
        if random.len() != DH_RANDOM_LENGTH as usize {
            return Err(DeviceError::Protocol(format!(
                "messages.getDhConfig gave {} random bytes, {DH_RANDOM_LENGTH} were asked for",
                random.len()
            )));
        }
        let params = self
            .dh
            .as_ref()
            .map(|cache| cache.params.clone())
            .ok_or_else(|| DeviceError::Protocol("no DH config".to_owned()))?;
        Ok((params, random))
    }

    fn entry_mut(&mut self, chat_id: i32) -> Result<&mut ChatEntry, DeviceError> {
        Self::entry_in(&mut self.chats, chat_id)
    }

    fn entry_in(
        chats: &mut BTreeMap<i32, ChatEntry>,
        chat_id: i32,
    ) -> Result<&mut ChatEntry, DeviceError> {
        chats
            .get_mut(&chat_id)
            .ok_or(DeviceError::UnknownChat { chat_id })
    }

    // ---- saving and resuming ----

    /// Writes the device's state (token, counters, DH cache, every chat with its keys) as
    /// JSON. Events not yet returned by [`Device::poll`] are not saved: poll first.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DeviceError> {
        let path = path.as_ref();
        let state_error = |reason: String| DeviceError::State {
            path: path.display().to_string(),
            reason,
        };
        let saved = SavedRef {
            server: self.api.base_url(),
            username: &self.username,
            device_name: &self.device_name,
            user_id: self.user_id,
            token: self.api.token().unwrap_or_default(),
            pts: self.pts,
            qts: self.qts,
            clock_offset: self.clock_offset,
            dh: &self.dh,
            chats: &self.chats,
            known_files: &self.known_files,
        };
        let json = serde_json::to_vec_pretty(&saved).map_err(|err| state_error(err.to_string()))?;
        // The file holds chat keys: readable by its owner only.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|err| state_error(err.to_string()))?;
        std::io::Write::write_all(&mut file, &json).map_err(|err| state_error(err.to_string()))
    }

    /// Reads a state written by [`Device::save`], with default options.
    pub fn resume(path: impl AsRef<Path>) -> Result<Device, DeviceError> {
        Self::resume_with(path, DeviceOptions::default())
    }

    /// Reads a state written by [`Device::save`]. The chats continue exactly where they
    /// were; the next [`Device::poll`] fetches what arrived meanwhile.
    pub fn resume_with(
        path: impl AsRef<Path>,
        options: DeviceOptions,
    ) -> Result<Device, DeviceError> {
        let path = path.as_ref();
        let state_error = |reason: String| DeviceError::State {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read(path).map_err(|err| state_error(err.to_string()))?;
        let saved: Saved =
            serde_json::from_slice(&text).map_err(|err| state_error(err.to_string()))?;
        let api = ApiClient::new(&saved.server)?.with_token(saved.token);
        let mut device = Device::new(
            api,
            &saved.username,
            &saved.device_name,
            saved.user_id,
            &options,
        )?;
        device.pts = saved.pts;
        device.qts = saved.qts;
        device.clock_offset = saved.clock_offset;
        device.dh = saved.dh;
        device.chats = saved.chats;
        device.known_files = saved.known_files;
        Ok(device)
    }
}

/// [`Saved`] by reference, for writing without cloning the chats.
#[derive(Serialize)]
struct SavedRef<'a> {
    server: &'a str,
    username: &'a str,
    device_name: &'a str,
    user_id: i64,
    token: &'a str,
    pts: i32,
    qts: i32,
    clock_offset: i64,
    dh: &'a Option<DhCache>,
    chats: &'a BTreeMap<i32, ChatEntry>,
    known_files: &'a HashMap<i64, KnownFile>,
}

/// The label of a device's explain lines and web-view lane: `username/device` unless the
/// options name it.
fn label_of(options: &DeviceOptions, username: &str, device_name: &str) -> String {
    options
        .label
        .clone()
        .unwrap_or_else(|| format!("{username}/{device_name}"))
}

enum Late {
    Read(types::UpdateEncryptedMessagesRead),
    Discarded(types::EncryptedChatDiscarded),
}

fn input_chat(chat_id: i32, access_hash: i64) -> enums::InputEncryptedChat {
    enums::InputEncryptedChat::InputEncryptedChat(types::InputEncryptedChat {
        chat_id,
        access_hash,
    })
}

fn encrypted_chat_name(chat: &enums::EncryptedChat) -> String {
    chat.to_json()
        .get("_")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}
