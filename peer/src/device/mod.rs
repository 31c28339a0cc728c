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
//! One concern per module:
//!
//! * this module — the device itself: sign-in and sign-out, its options and errors, what
//!   it knows of its chats;
//! * `chats` — starting and ending chats: request, accept (or refuse a bad `g_a`),
//!   decline, discard;
//! * `dh` — the checked DH config and its cache;
//! * `actions` — what the user does in a chat: messages, [`Device::act`] for the
//!   service actions, re-keying, the server-level calls (read receipts, typing, spam);
//! * `outbox` — handing a chat's transmits to the server, in order, and reporting refusals;
//! * `updates` — [`Device::poll`]: the long-poll, the updates it brings, the chats' timers
//!   and events;
//! * `files` — sending, forwarding and fetching encrypted files;
//! * `saved` — [`Device::save`] and [`Device::resume`];
//! * `hostile` — [`HostileDevice`]: a device that breaks the protocol on purpose (the
//!   attacker of a scenario); the honest `Device` has no such methods.
//!
//! **Offline** is simply not polling: the server keeps what arrives until the device asks
//! with its last `qts`, and [`Device::poll`] catches up through `updates.differenceSlice`s.

mod actions;
mod chats;
mod dh;
mod files;
mod hostile;
mod outbox;
mod saved;
mod updates;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{
    ChatConfig, ChatError, FileMedia, HostileError, Layer, Profile, RekeyPolicy, SecretChat,
    UnixTime,
};
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::dh::DhError;
use secretchat_common::key::KeyFingerprint;
use secretchat_common::seq_no::RawSeqNo;
use secretchat_common::tl::api::{enums, functions, types};
use serde::{Deserialize, Serialize};

use crate::client::{ApiClient, ApiError};
use crate::explain::{ExplainSink, Explainer};
use crate::files::FileTransferError;
use crate::web::{Lane, Trace};

pub use crate::events::PeerEvent;
pub use hostile::HostileDevice;

use self::dh::DhCache;
use self::files::KnownFile;
use self::outbox::OutboxHook;

/// How a device behaves.
#[derive(Clone, Default)]
pub struct DeviceOptions {
    /// Our maximum layer (default 144).
    pub layer: Option<Layer>,
    /// What the device assumes of a peer until told (default: the chat's default, 8).
    pub initial_remote_layer: Option<Layer>,
    /// When chats re-key (default: 100 messages or 7 days).
    pub rekey: Option<RekeyPolicy>,
    /// Whose reading of the protocol the device's chats follow (default tdlib).
    pub profile: Option<Profile>,
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
            .field("profile", &self.profile)
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
    /// A hostile action could not be crafted in this chat's state.
    #[error("chat {chat_id}: {error}")]
    Hostile { chat_id: i32, error: HostileError },
    /// No chat with this id on this device.
    #[error("no chat {chat_id} on this device")]
    UnknownChat { chat_id: i32 },
    /// The server's DH parameters failed a check: no chat may use them.
    #[error("the server's DH config fails a check: {0}")]
    DhConfig(#[from] DhError),
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
    /// What may change a chat's outbox right before it leaves (a [`HostileDevice`]'s
    /// armed actions).
    outbox_hook: Option<Box<dyn OutboxHook>>,
    /// Events produced outside `poll` (by actions), returned by the next `poll`.
    pending: VecDeque<PeerEvent>,
    rng: ChaCha20Rng,
    chat_config: ChatConfig,
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
        let mut chat_config = ChatConfig::default();
        if let Some(layer) = options.layer {
            chat_config.own_layer = layer;
        }
        if let Some(layer) = options.initial_remote_layer {
            chat_config.initial_remote_layer = layer;
        }
        if let Some(rekey) = options.rekey {
            chat_config.rekey = rekey;
        }
        if let Some(profile) = options.profile {
            chat_config.profile = profile;
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
            outbox_hook: None,
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

    /// The device signs out: its token stops working and its queue is cleared.
    pub async fn log_out(&mut self) -> Result<(), DeviceError> {
        self.api.call(&functions::AuthLogOut {}).await?;
        self.explain.line("sign-out", || "auth.logOut".to_owned());
        Ok(())
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

    /// The other user of a chat.
    pub fn peer_user_id(&self, chat_id: i32) -> Option<i64> {
        self.chats.get(&chat_id).map(|entry| entry.peer_user_id)
    }

    /// A chat as the server's methods name it (`inputEncryptedChat{chat_id, access_hash}`).
    fn input_peer(&self, chat_id: i32) -> Result<enums::InputEncryptedChat, DeviceError> {
        let entry = self
            .chats
            .get(&chat_id)
            .ok_or(DeviceError::UnknownChat { chat_id })?;
        Ok(input_chat(chat_id, entry.chat.access_hash()))
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
}

/// The label of a device's explain lines and web-view lane: `username/device` unless the
/// options name it.
fn label_of(options: &DeviceOptions, username: &str, device_name: &str) -> String {
    options
        .label
        .clone()
        .unwrap_or_else(|| format!("{username}/{device_name}"))
}

fn input_chat(chat_id: i32, access_hash: i64) -> enums::InputEncryptedChat {
    enums::InputEncryptedChat::InputEncryptedChat(types::InputEncryptedChat {
        chat_id,
        access_hash,
    })
}
