//! What a chat hands back to its driver: messages to send, events for the user, and an
//! optional trace of every step for `--explain`.
//!
//! Three queues, each drained with its own `poll_*` (quinn-proto's shape):
//!
//! ```text
//!   poll_transmit()  → Transmit    which server method, the random_id, the sealed bytes
//!   poll_event()     → ChatEvent   what the user (or a scenario test) should learn
//!   poll_step()      → Step        what was checked, with msg_key and seq numbers
//!                                  (only recorded when ChatConfig::explain is on)
//! ```
//!
//! Ignoring a message is an event too ([`ChatEvent::Ignored`]), so a test can assert that a
//! replayed message was dropped rather than guess from silence.

use serde::{Deserialize, Serialize};

use super::layer::Layer;
use super::payload::{Message, TypingAction};
use super::violation::AbortReason;
use crate::crypto::visualization::KeyVisualization;
use crate::key::KeyFingerprint;
use crate::seq_no::{RawSeqNo, WireSeqNo};

/// Which server method carries a message (SPEC §8.1). The server treats the bytes as
/// opaque either way; this follows tdlib: user-visible content and the user's actions go
/// with `sendEncrypted` (`sendEncryptedFile` when a file is attached), the protocol's own
/// messages (NotifyLayer, Resend, re-keying, Noop, typing) with `sendEncryptedService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendMethod {
    /// `messages.sendEncrypted`.
    SendEncrypted,
    /// `messages.sendEncryptedFile`: the transport uploads and attaches the file.
    SendEncryptedFile,
    /// `messages.sendEncryptedService`.
    SendEncryptedService,
}

impl SendMethod {
    pub const fn name(self) -> &'static str {
        match self {
            SendMethod::SendEncrypted => "messages.sendEncrypted",
            SendMethod::SendEncryptedFile => "messages.sendEncryptedFile",
            SendMethod::SendEncryptedService => "messages.sendEncryptedService",
        }
    }
}

/// One message to hand to the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transmit {
    pub method: SendMethod,
    /// Also inside the encrypted message; a re-send uses the same one.
    pub random_id: i64,
    /// `key_fingerprint ‖ msg_key ‖ ciphertext`: the `data:bytes` argument.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Transmit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transmit")
            .field("method", &self.method.name())
            .field("random_id", &self.random_id)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// A service action the user should see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserAction {
    SetMessageTtl { ttl_seconds: i32 },
    ReadMessages { random_ids: Vec<i64> },
    DeleteMessages { random_ids: Vec<i64> },
    ScreenshotMessages { random_ids: Vec<i64> },
    FlushHistory,
    Typing { action: TypingAction },
}

/// Why a received message was dropped without effect. None of these harm the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IgnoreReason {
    /// Its out_seq_no was already processed or is already queued (SPEC §3.2): a replay or
    /// a re-send we no longer need.
    Duplicate { out_seq_no: RawSeqNo },
    /// A bare layer-8 message whose random_id we have already seen.
    DuplicateRandomId { random_id: i64 },
    /// No key we hold has this fingerprint (SPEC §2.6): a dropped old key, or garbage.
    UnknownFingerprint { key_fingerprint: KeyFingerprint },
    /// Shorter than the 24-byte `key_fingerprint ‖ msg_key` header.
    TooShort { len: usize },
    /// `random_bytes` shorter than 15 bytes (SPEC §2.1): dropped before its seq numbers
    /// are looked at, as Android does.
    RandomBytesTooShort { got: usize, min: usize },
    /// A `decryptedMessageLayer` whose inner message does not decode (most likely a
    /// constructor newer than our schema): its seq numbers are used up, its content is
    /// dropped — as tdlib does with the message forms it does not handle (SPEC §5).
    UndecodableMessage { error: String },
    /// A RequestKey that lost the exchange_id tie-break to ours (SPEC §4).
    RequestKeyLostTieBreak { theirs: i64, ours: i64 },
    /// Both sides picked the same exchange_id: both exchanges dropped (SPEC §4).
    RequestKeySameExchangeId { exchange_id: i64 },
    /// An AbortKey naming no exchange we know.
    UnknownAbortKey { exchange_id: i64 },
    /// An out_seq_no with the parity of our own numbers, not checked (profile `android`,
    /// row S3): `held` — it is above the last one processed, so it waits behind a gap that
    /// never fills; otherwise it is dropped as old.
    WrongParity { out_seq_no: WireSeqNo, held: bool },
    /// A media message whose file key or IV is not 32 bytes, dropped whole (profile
    /// `android`, row F1); its seq number is used up.
    MediaKeyLength { random_id: i64 },
    /// A message under a key we hold that does not open, dropped silently: Telegram
    /// Android's reading (profile `android`; the default aborts, SPEC §2.6).
    Undecryptable {
        key_fingerprint: KeyFingerprint,
        error: String,
    },
    /// A Resend left unanswered without closing the chat (profile `android`, rows R3–R5):
    /// it ends below what the peer confirmed, is inverted, or was answered already.
    ResendNotAnswered {
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
        why: String,
    },
}

impl std::fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IgnoreReason::Duplicate { out_seq_no } => write!(
                f,
                "duplicate: out_seq_no raw {} was already processed or is queued",
                out_seq_no.0
            ),
            IgnoreReason::DuplicateRandomId { random_id } => {
                write!(f, "duplicate: random_id {random_id} was already seen")
            }
            IgnoreReason::UnknownFingerprint { key_fingerprint } => {
                write!(
                    f,
                    "unknown key_fingerprint {key_fingerprint}: no key we hold"
                )
            }
            IgnoreReason::TooShort { len } => write!(
                f,
                "too short: {len} bytes, less than key_fingerprint and msg_key"
            ),
            IgnoreReason::RandomBytesTooShort { got, min } => {
                write!(
                    f,
                    "random_bytes too short: {got} bytes, at least {min} required"
                )
            }
            IgnoreReason::UndecodableMessage { error } => write!(
                f,
                "undecodable inner message (its seq number is used up): {error}"
            ),
            IgnoreReason::RequestKeyLostTieBreak { theirs, ours } => write!(
                f,
                "RequestKey {theirs} lost the exchange_id tie-break to ours ({ours})"
            ),
            IgnoreReason::RequestKeySameExchangeId { exchange_id } => write!(
                f,
                "RequestKey with our own exchange_id {exchange_id}: both exchanges dropped"
            ),
            IgnoreReason::UnknownAbortKey { exchange_id } => {
                write!(f, "AbortKey for unknown exchange {exchange_id}")
            }
            IgnoreReason::WrongParity {
                out_seq_no,
                held: true,
            } => write!(
                f,
                "out_seq_no {} has our parity: held behind a gap that never fills",
                out_seq_no.0
            ),
            IgnoreReason::WrongParity {
                out_seq_no,
                held: false,
            } => write!(
                f,
                "out_seq_no {} has our parity and is not above the last processed: dropped",
                out_seq_no.0
            ),
            IgnoreReason::MediaKeyLength { random_id } => write!(
                f,
                "message {random_id}: its media key or IV is not 32 bytes, the message is dropped"
            ),
            IgnoreReason::Undecryptable {
                key_fingerprint,
                error,
            } => write!(
                f,
                "does not open under key {key_fingerprint} ({error}): dropped silently"
            ),
            IgnoreReason::ResendNotAnswered {
                start_seq_no,
                end_seq_no,
                why,
            } => write!(
                f,
                "Resend {}..={} not answered: {why}",
                start_seq_no.0, end_seq_no.0
            ),
        }
    }
}

/// Something the user (or a scenario) should learn.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// The key exists: show the fingerprint and the 36-byte visualization (SPEC §1.7).
    Established {
        key_fingerprint: KeyFingerprint,
        visualization: KeyVisualization,
    },
    /// A user message arrived (in order).
    MessageReceived { random_id: i64, message: Message },
    /// A user-visible service action arrived (in order).
    ActionReceived { random_id: i64, action: UserAction },
    /// The peer revealed a higher layer.
    PeerLayerRaised { from: Layer, to: Layer },
    /// The peer speaks a layer above ours: the user should update (SPEC §5).
    PeerIsNewer { peer_layer: Layer, own_layer: Layer },
    /// A re-keying exchange finished on our side: we now send with this key.
    KeyChanged {
        exchange_id: i64,
        key_fingerprint: KeyFingerprint,
    },
    /// The peer aborted our re-keying request.
    RekeyAborted { exchange_id: i64 },
    /// We refused a re-key message that did not fit with `AbortKey{exchange_id}` and keep
    /// the old key (profile `android`, rows K3–K7).
    RekeyRejected { exchange_id: i64, why: String },
    /// We found a hole in the peer's sequence and asked for it with
    /// `decryptedMessageActionResend` (numbers in the peer's wire form, SPEC §3.3).
    ResendRequested {
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
    },
    /// The peer asked us to re-send; `messages` of the range were sent again, and
    /// `placeholders` numbers we do not hold were filled with messages deleting
    /// themselves (profile `android` only; otherwise such a request aborts).
    PeerAskedForResend {
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
        messages: usize,
        placeholders: usize,
    },
    /// A received message was dropped without effect.
    Ignored { reason: IgnoreReason },
    /// The peer broke a rule: the chat is over; the transport should call
    /// `messages.discardEncryption`.
    Aborted { reason: AbortReason },
    /// The chat was declined or discarded (`encryptedChatDiscarded`).
    Discarded,
}

/// One line of the `--explain` trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What kind of step: "open", "seq", "seal", "rekey", "layer", …
    pub kind: &'static str,
    pub detail: String,
}
