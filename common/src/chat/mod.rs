//! The secret chat: a sans-I/O state machine for one chat, seen from one side
//! (SPEC §1, §3, §4, §5, §8).
//!
//! A [`SecretChat`] never touches a socket, a clock or the OS's randomness. Its driver (the
//! reference peer, or a test) feeds it what the server delivered and drains what it wants
//! to send, quinn-proto style:
//!
//! ```text
//!          ┌────────────── inputs ──────────────┐        ┌───────── outputs ────────┐
//!   request / from_requested + accept / decline │        │ poll_transmit → Transmit  │
//!   handle_accepted(encryptedChat{g_b, fp})     │        │ poll_event    → ChatEvent │
//!   handle_encrypted(now, bytes, rng)           ├──────▶ │ poll_step     → Step      │
//!   handle_sent_ack(random_id)                  │        │ poll_timeout  → UnixTime  │
//!   handle_timeout(now, rng), handle_discarded  │        └───────────────────────────┘
//!   send_text / send_message / send_action / rekey_now (the user's messages, service
//!   actions and re-keys)                        │
//!          └────────────────────────────────────┘
//! ```
//!
//! **Call order.** Create the chat with [`SecretChat::request`] (we ask: send the returned
//! `g_a` with `messages.requestEncryption` and the chat id as its `random_id`) or with
//! [`SecretChat::from_requested`] when an `encryptedChatRequested` arrives, then
//! [`SecretChat::accept`] (send the returned `g_b` and `key_fingerprint` with
//! `messages.acceptEncryption`) or [`SecretChat::decline`]. The requester passes the
//! `encryptedChat` it then receives to [`SecretChat::handle_accepted`]. (A chat whose key
//! already exists — a prepared scenario, a known-answer vector — starts with
//! [`SecretChat::from_key`] instead, already established.) From then on, after
//! **every** call — an input from the server, a user action, or a timeout — drain
//! [`SecretChat::poll_transmit`] (hand each message to the server with the method it names,
//! in order, and report the server's acceptance with [`SecretChat::handle_sent_ack`]) and
//! [`SecretChat::poll_event`], then ask [`SecretChat::poll_timeout`] when to call
//! [`SecretChat::handle_timeout`] next. `now` is always the caller's clock, and every call
//! that may encrypt takes the random source, so a seeded RNG replays a run exactly. When an
//! [`ChatEvent::Aborted`] or [`ChatEvent::Discarded`] comes out, the chat is over: it refuses
//! further input with [`ChatError::Aborted`] / [`ChatError::Discarded`], and after an abort
//! the transport should call `messages.discardEncryption`.
//!
//! The parts, one concept each: [`handshake`] (creating the key), [`receive`] (one incoming
//! message, check by check), [`send`] (the user's actions), [`pfs`] (re-keying as the chat
//! runs it) on top of the pure pieces [`layer`], [`version`], [`sequence`], [`history`],
//! [`rekey`] and [`keys`]; [`codec`] maps payloads onto the TL schema ([`crate::tl::e2e`])
//! and [`crate::envelope`] seals and opens them; [`events`] is what comes out, [`violation`] why a chat is aborted.
//! `hostile` is the odd one out: a side breaking the rules on purpose
//! (`SecretChat::hostile`), so a test or a scenario can check what the *other* side does.
//! It exists only with the crate's `hostile` feature (the reference peer, which plays
//! attackers, turns it on): an honest client built on this crate cannot send a
//! rule-breaking message.
//!
//! A chat serializes with `serde` (keys included — store it like a key file): a peer can
//! stop and resume, a scenario can start from a prepared state. Drain `poll_event` and
//! `poll_step` first: events and the explain trace are not part of the saved state.

pub mod agreement;
pub mod codec;
pub mod config;
pub mod events;
pub mod handshake;
pub mod history;
#[cfg(feature = "hostile")]
pub mod hostile;
pub mod keys;
pub mod layer;
pub mod payload;
pub mod pfs;
pub mod profile;
pub mod receive;
pub mod rekey;
mod rekey_android;
pub mod send;
pub mod sequence;
pub mod time;
pub mod version;
pub mod violation;

use std::collections::VecDeque;

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

pub use agreement::{DhParams, SecretExponent};
pub use config::ChatConfig;
pub use events::{ChatEvent, IgnoreReason, SendMethod, Step, Transmit, UserAction};
pub use handshake::{Acceptance, AcceptedChat, Request, RequestedChat};
#[cfg(feature = "hostile")]
pub use hostile::{HostileAction, HostileError, Reaction};
pub use keys::KeySlot;
pub use layer::Layer;
pub use payload::{FileKind, FileMedia, Media, Message, Payload, ServiceAction, TypingAction};
pub use profile::Profile;
pub use rekey::RekeyPolicy;
pub use time::UnixTime;
pub use violation::AbortReason;

use codec::{Outbound, Wrapper};
use history::OutgoingHistory;
use keys::KeyRing;
use layer::{Layers, UnsupportedLayer};
use rekey::{Exchange, Moment};
use sequence::IncomingSequence;
use version::VersionRules;

use crate::crypto::msg_key::MSG_KEY_LEN;
use crate::crypto::visualization::KeyVisualization;
use crate::envelope;
use crate::key::KeyFingerprint;
use crate::seq_no::{RawSeqNo, SeqField, WireSeqNo};
use crate::side::Side;

/// A mistake by the caller, or a call on a chat that is over. (The peer's mistakes are
/// [`AbortReason`]s.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The chat was aborted earlier (or just now, by the input given).
    #[error("the chat was aborted: {reason}")]
    Aborted { reason: String },
    /// The chat was declined or discarded.
    #[error("the chat was discarded")]
    Discarded,
    /// This call does not fit the chat's state.
    #[error("the chat is {state}; this call needs it to be {expected}")]
    WrongState {
        state: &'static str,
        expected: &'static str,
    },
    /// The payload has no constructor at the common layer (or a file is too large for it).
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
    /// TL bytes the envelope refused: a bug in the codec, never the caller's data.
    #[error(transparent)]
    Seal(#[from] envelope::SealError),
    /// A re-key was asked for while one cannot start.
    #[error("re-keying cannot start now: {why}")]
    RekeyUnavailable { why: &'static str },
    #[error(transparent)]
    UnsupportedLayer(#[from] UnsupportedLayer),
}

/// Where the chat is in its life.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum State {
    /// We sent requestEncryption with `g_a`; waiting for `encryptedChat` with `g_b`.
    AwaitingAccepted { a: Box<SecretExponent> },
    /// The peer asked; waiting for our user to accept or decline.
    AwaitingDecision { g_a: Vec<u8> },
    /// The key exists; messages flow.
    Established,
    /// The peer broke a rule.
    Aborted { reason: String },
    /// Declined, or discarded by either side.
    Discarded,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::AwaitingAccepted { .. } => "awaiting encryptedChat",
            State::AwaitingDecision { .. } => "awaiting the user's decision",
            State::Established => "established",
            State::Aborted { .. } => "aborted",
            State::Discarded => "discarded",
        }
    }
}

/// One sent message as the history keeps it, for re-sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stored {
    method: SendMethod,
    payload: Payload,
    /// The layer it was first sealed at. A re-send keeps it (tdlib re-sends the very
    /// bytes it stored): were it re-sealed at a layer that rose since, the peer would
    /// see the layer go down again at the next message, sent before the rise.
    layer: Layer,
}

/// One received message waiting for its turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Queued {
    in_seq_no: RawSeqNo,
    content: codec::Content,
    /// The key that opened it. When its turn comes and that key is the current one, the
    /// peer has switched too and the previous key can go. A slot (current / previous)
    /// would not do: a message queued behind a gap before a switch was opened by the key
    /// that was current *then*, which is the previous one by the time it is processed.
    key_fingerprint: KeyFingerprint,
    /// The layer of its `decryptedMessageLayer` (none for a bare message): checked when
    /// its turn comes, as tdlib's `check_seq_no` does (row L3).
    #[serde(default)]
    layer: Option<Layer>,
}

/// The `msg_key` of a sealed blob (bytes 8..24), for the explain trace.
fn wire_msg_key(wire: &[u8]) -> &[u8] {
    wire.get(envelope::HEADER_LEN - MSG_KEY_LEN..envelope::HEADER_LEN)
        .unwrap_or_default()
}

/// The explain trace's form of TL bytes: the object as JSON (or why it does not decode).
fn explain_tl(tl: &[u8]) -> String {
    use crate::tl::{TlJson as _, TlRead as _};
    match crate::tl::e2e::Object::from_bytes(tl) {
        Ok(object) => format!("TL object: {}", object.to_json()),
        Err(error) => format!("TL bytes that do not decode ({error})"),
    }
}

/// The explain trace's line with a sealed message's `aes_key` and `aes_iv`.
fn explain_aes(
    key: &crate::key::ChatKey,
    version: envelope::Version,
    sender: Side,
    wire: &[u8],
) -> String {
    match envelope::open(key, version, sender, wire) {
        Ok(opened) => format!(
            "msg_key {} → aes_key {}, aes_iv {}",
            hex::encode(wire_msg_key(wire)),
            hex::encode(opened.aes_key_iv().key()),
            hex::encode(opened.aes_key_iv().iv())
        ),
        Err(error) => format!("cannot show aes_key/aes_iv: {error}"),
    }
}

/// How many bare (layer-8) random_ids are remembered to drop replays.
const SEEN_BARE_LIMIT: usize = 1000;

/// One secret chat, one side of it.
#[derive(Serialize, Deserialize)]
pub struct SecretChat {
    config: ChatConfig,
    /// The chat id: the requester's `random_id` (SPEC §0).
    id: i32,
    access_hash: i64,
    side: Side,
    state: State,
    created: UnixTime,
    layers: Layers,
    dh: DhParams,
    keys: Option<KeyRing>,
    exchange: Exchange<SecretExponent>,
    /// The last exchange we switched keys for: a late CommitKey for it is harmless.
    committed: Option<(i64, KeyFingerprint)>,
    /// While the previous key is held: what must be processed in order before it may go.
    #[serde(default)]
    previous_until: Option<pfs::PreviousKeyUntil>,
    incoming: IncomingSequence<Queued>,
    history: OutgoingHistory<Stored>,
    versions: VersionRules,
    /// The layer of the last wrapped message processed in order (the profile's row L3).
    #[serde(default)]
    last_in_order_layer: Option<Layer>,
    seen_bare: VecDeque<i64>,
    /// When to ask again for holes that are still open.
    resend_retry_at: Option<UnixTime>,
    outbox: VecDeque<Transmit>,
    #[serde(skip)]
    events: VecDeque<ChatEvent>,
    #[serde(skip)]
    steps: VecDeque<Step>,
}

impl std::fmt::Debug for SecretChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretChat")
            .field("id", &self.id)
            .field("side", &self.side)
            .field("state", &self.state.name())
            .field("layers", &self.layers)
            .field("keys", &self.keys)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl SecretChat {
    fn new(
        config: ChatConfig,
        id: i32,
        access_hash: i64,
        side: Side,
        state: State,
        dh: DhParams,
        now: UnixTime,
    ) -> Result<Self, ChatError> {
        let layers = Layers::new(config.own_layer, config.initial_remote_layer)?;
        Ok(Self {
            config,
            id,
            access_hash,
            side,
            state,
            created: now,
            layers,
            dh,
            keys: None,
            exchange: Exchange::Idle,
            committed: None,
            previous_until: None,
            incoming: IncomingSequence::new(side.peer()),
            history: OutgoingHistory::new(side),
            versions: VersionRules::default(),
            last_in_order_layer: None,
            seen_bare: VecDeque::new(),
            resend_retry_at: None,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            steps: VecDeque::new(),
        })
    }

    // ---- accessors ----

    /// The chat id (the requester's `random_id`).
    pub fn id(&self) -> i32 {
        self.id
    }

    pub fn access_hash(&self) -> i64 {
        self.access_hash
    }

    /// Creator (we asked for the chat) or participant.
    pub fn side(&self) -> Side {
        self.side
    }

    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established)
    }

    /// Whether the chat is over (aborted or discarded).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Aborted { .. } | State::Discarded)
    }

    /// Our maximum layer, the peer's known layer, and the common one.
    pub fn layers(&self) -> Layers {
        self.layers
    }

    /// The fingerprint of the key we send with, once there is one.
    pub fn key_fingerprint(&self) -> Option<KeyFingerprint> {
        self.keys.as_ref().map(|k| k.current().fingerprint())
    }

    /// The key we send with, once there is one — for tools that show the protocol at work
    /// (the peer's web view opens recorded messages with it); a chat never needs it from
    /// outside.
    pub fn current_key(&self) -> Option<&crate::ChatKey> {
        self.keys.as_ref().map(KeyRing::current)
    }

    /// The 36-byte key visualization of the original key (SPEC §1.7).
    pub fn visualization(&self) -> Option<KeyVisualization> {
        self.keys.as_ref().map(KeyRing::visualization)
    }

    /// How many wrapped messages we have sent and received (raw counters).
    pub fn seq_counters(&self) -> (RawSeqNo, RawSeqNo) {
        (self.history.sent(), self.incoming.received())
    }

    /// Whether a re-keying exchange is in progress or an old key is still held.
    pub fn is_rekeying(&self) -> bool {
        !self.exchange.is_idle() || self.keys.as_ref().is_some_and(KeyRing::holds_previous)
    }

    // ---- outputs ----

    /// The next message to hand to the server.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_front()
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<ChatEvent> {
        self.events.pop_front()
    }

    /// The next line of the explain trace (only recorded with `ChatConfig::explain`).
    pub fn poll_step(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// When [`SecretChat::handle_timeout`] should be called next, if ever.
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        if !self.is_established() {
            return None;
        }
        let trigger = self.rules().rekey_trigger;
        let rekey = self
            .keys
            .as_ref()
            .filter(|_| self.can_start_rekey().is_ok())
            .and_then(|keys| self.config.rekey.timer(keys.usage(), trigger));
        match (self.resend_retry_at, rekey) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time has passed: ask again for holes still open, and re-key when the key is due.
    pub fn handle_timeout(
        &mut self,
        now: UnixTime,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        self.check_established()?;
        if self.resend_retry_at.is_some_and(|at| at <= now) {
            self.resend_retry_at = None;
            let holes = self.incoming.holes();
            match holes {
                Ok(holes) => {
                    for hole in holes {
                        self.step("seq", || {
                            format!(
                                "retry: hole raw {}..={} still open, asking again",
                                hole.start_raw.0, hole.end_raw.0
                            )
                        });
                        self.send_resend_request(now, hole.start_seq_no, hole.end_seq_no, rng)?;
                    }
                }
                Err(reason) => return Err(self.abort(reason)),
            }
        }
        self.maybe_start_rekey(now, Moment::Timer, rng);
        Ok(())
    }

    // ---- internals shared by the parts ----

    fn check_established(&self) -> Result<(), ChatError> {
        match &self.state {
            State::Established => Ok(()),
            State::Aborted { reason } => Err(ChatError::Aborted {
                reason: reason.clone(),
            }),
            State::Discarded => Err(ChatError::Discarded),
            other => Err(ChatError::WrongState {
                state: other.name(),
                expected: "established",
            }),
        }
    }

    /// Records an abort: the state, the event, and the error for the caller.
    fn abort(&mut self, reason: AbortReason) -> ChatError {
        let text = reason.to_string();
        self.step("abort", || text.clone());
        self.state = State::Aborted {
            reason: text.clone(),
        };
        self.outbox.clear();
        self.exchange = Exchange::Idle;
        self.events.push_back(ChatEvent::Aborted { reason });
        ChatError::Aborted { reason: text }
    }

    fn emit(&mut self, event: ChatEvent) {
        self.events.push_back(event);
    }

    /// The behaviours of the chat's profile where the readings of the protocol differ.
    fn rules(&self) -> profile::Rules {
        self.config.profile.rules()
    }

    /// Adds a trace line for a decision the profile made, naming the profile and the row
    /// with its source: `android: MTProto 2.0 failed, tried 1.0 [E1: …]`.
    fn decided(&mut self, row: profile::Row, what: impl FnOnce() -> String) {
        let profile = self.config.profile;
        self.step("profile", || {
            format!("{profile}: {} [{row}: {}]", what(), row.source(profile))
        });
    }

    /// Adds a line to the explain trace; `detail` is only evaluated when explaining.
    fn step(&mut self, kind: &'static str, detail: impl FnOnce() -> String) {
        if self.config.explain {
            self.steps.push_back(Step {
                kind,
                detail: detail(),
            });
        }
    }

    /// Sends a new message: assigns its seq numbers (when wrapped), encodes it at the common
    /// layer, seals it with the current key, stores it for Resend, queues the transmit.
    fn send_payload(
        &mut self,
        now: UnixTime,
        payload: Payload,
        method: SendMethod,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.check_established()?;
        let random_id = rng.next_u64() as i64;
        let common = self.layers.common();
        // Row K1: a new message may make the key due — unless it is part of an exchange.
        let may_start_rekey = common.has_seq_no()
            && !matches!(&payload, Payload::Service(action) if action.is_key_exchange());
        if common.has_seq_no() {
            let in_seq_no = self.incoming.received();
            let out_seq_no = self.history.sent();
            let data =
                self.seal_wrapped(common, random_id, in_seq_no, out_seq_no, &payload, rng)?;
            let stored = Stored {
                method,
                payload,
                layer: common,
            };
            self.history.push(random_id, in_seq_no, stored);
            self.outbox.push_back(Transmit {
                method,
                random_id,
                data,
            });
        } else {
            let data = self.seal_message(None, random_id, &payload, rng)?;
            self.outbox.push_back(Transmit {
                method,
                random_id,
                data,
            });
        }
        if let Some(keys) = self.keys.as_mut() {
            keys.usage_mut().encrypted = keys.usage().encrypted.saturating_add(1);
        }
        if may_start_rekey {
            self.maybe_start_rekey(now, Moment::Sent, rng);
        }
        Ok(random_id)
    }

    /// Encodes and seals a wrapped message with the given numbers at `layer` (used for new
    /// messages at the common layer, and for re-sends, which keep their numbers and layer).
    fn seal_wrapped(
        &mut self,
        layer: Layer,
        random_id: i64,
        in_seq_no: RawSeqNo,
        out_seq_no: RawSeqNo,
        payload: &Payload,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, ChatError> {
        let seq_error = |_| ChatError::WrongState {
            state: "out of sequence numbers",
            expected: "below 2^30 messages",
        };
        let wrapper = Wrapper {
            layer,
            in_seq_no: in_seq_no
                .to_wire(SeqField::In, self.side)
                .map_err(seq_error)?,
            out_seq_no: out_seq_no
                .to_wire(SeqField::Out, self.side)
                .map_err(seq_error)?,
        };
        self.step("seq", || {
            format!(
                "assign in_seq_no raw {} → wire {}, out_seq_no raw {} → wire {}",
                in_seq_no.0, wrapper.in_seq_no.0, out_seq_no.0, wrapper.out_seq_no.0
            )
        });
        self.seal_message(Some(wrapper), random_id, payload, rng)
    }

    /// Encodes `payload` at the wrapper's layer (a bare message: the common layer) and
    /// seals it with the current key, as our side, with the version that layer calls for
    /// (SPEC §2.5: v1 below 73, v2 from 73).
    fn seal_message(
        &mut self,
        wrapper: Option<Wrapper>,
        random_id: i64,
        payload: &Payload,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, ChatError> {
        let layer = wrapper.map_or(self.layers.common(), |w| w.layer);
        let tl = codec::encode(
            Outbound {
                wrapper,
                random_id,
                payload,
            },
            rng,
        )?;
        let version = layer.sending_version();
        let side = self.side;
        let keys = self.keys.as_ref().ok_or(ChatError::WrongState {
            state: "without a key",
            expected: "established",
        })?;
        let fingerprint = keys.current().fingerprint();
        let wire = envelope::seal(keys.current(), version, side, &tl, rng)?;
        if self.config.explain {
            // The learner's view: the TL object before sealing, and the per-message AES
            // key and IV (recovered by opening our own message; only when explaining).
            let key = keys.current().clone();
            self.step("tl", || explain_tl(&tl));
            self.step("seal", || explain_aes(&key, version, side, &wire));
        }
        self.step("seal", || {
            format!(
                "random_id {random_id}, {layer}, {version:?} as {side:?}, key {fingerprint}, \
                 msg_key {}, {} TL bytes → {} wire bytes",
                hex::encode(wire_msg_key(&wire)),
                tl.len(),
                wire.len()
            )
        });
        Ok(wire)
    }

    /// Re-sends a stored message with its original numbers, random_id and layer, sealed
    /// with the key in use now (SPEC §3.3).
    fn resend_stored(
        &mut self,
        out_seq_no: RawSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        if let Some(transmit) = self.reseal_stored(out_seq_no, rng)? {
            self.outbox.push_back(transmit);
        }
        Ok(())
    }

    /// The stored message `out_seq_no` sealed again as it was first sent (numbers,
    /// random_id, layer), under the current key; `None` if it is no longer stored.
    fn reseal_stored(
        &mut self,
        out_seq_no: RawSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Option<Transmit>, ChatError> {
        let Some(stored) = self.history.get(out_seq_no).cloned() else {
            return Ok(None);
        };
        self.step("resend", || {
            format!(
                "sealing out_seq_no raw {} again (random_id {}, {})",
                stored.out_seq_no.0, stored.random_id, stored.payload.layer
            )
        });
        let data = self.seal_wrapped(
            stored.payload.layer,
            stored.random_id,
            stored.in_seq_no,
            stored.out_seq_no,
            &stored.payload.payload,
            rng,
        )?;
        Ok(Some(Transmit {
            method: stored.payload.method,
            random_id: stored.random_id,
            data,
        }))
    }

    /// Telegram Android's answer for a number a Resend asks for that we do not hold
    /// (profile `android`, rows R1–R2, `createDeleteMessage`):
    /// `decryptedMessageService{random_id, DeleteMessages{[random_id]}}` under exactly the
    /// wire numbers given. It is not stored and our own count does not move.
    fn send_placeholder(
        &mut self,
        in_seq_no: WireSeqNo,
        out_seq_no: WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        let random_id = rng.next_u64() as i64;
        self.step("resend", || {
            format!(
                "placeholder for out_seq_no {} (in_seq_no {}): a message deleting itself, random_id {random_id}",
                out_seq_no.0, in_seq_no.0
            )
        });
        let wrapper = Wrapper {
            layer: self.layers.common(),
            in_seq_no,
            out_seq_no,
        };
        let payload = Payload::Service(ServiceAction::DeleteMessages {
            random_ids: vec![random_id],
        });
        let data = self.seal_message(Some(wrapper), random_id, &payload, rng)?;
        self.outbox.push_back(Transmit {
            method: SendMethod::SendEncryptedService,
            random_id,
            data,
        });
        Ok(())
    }

    /// Asks for the peer's numbers `start_seq_no..=end_seq_no` (its wire form). Under
    /// [`profile::GapResend::PerHole`] a hole still open is asked again after
    /// `resend_retry_seconds`; Android never asks again.
    fn send_resend_request(
        &mut self,
        now: UnixTime,
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        self.send_payload(
            now,
            Payload::Service(ServiceAction::Resend {
                start_seq_no,
                end_seq_no,
            }),
            SendMethod::SendEncryptedService,
            rng,
        )?;
        self.emit(ChatEvent::ResendRequested {
            start_seq_no,
            end_seq_no,
        });
        if self.rules().gap_resend == profile::GapResend::PerHole {
            self.resend_retry_at = Some(now.plus_seconds(self.config.resend_retry_seconds));
        }
        Ok(())
    }

    /// Sends `NotifyLayer{own maximum}` (SPEC §5): bare in the layer-8 form while the peer
    /// is believed to be below 17, wrapped otherwise.
    fn send_notify_layer(
        &mut self,
        now: UnixTime,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        let layer = self.layers.own_max();
        self.step("layer", || format!("NotifyLayer {layer}"));
        self.send_payload(
            now,
            Payload::Service(ServiceAction::NotifyLayer { layer }),
            SendMethod::SendEncryptedService,
            rng,
        )
        .map(|_| ())
    }
}
