//! Hostile peer actions: one side of a chat breaking the protocol's rules on purpose, so
//! that the *other* side — a client under test — can be checked for the reaction the spec
//! requires. Only with the crate's `hostile` feature.
//!
//! [`SecretChat::hostile`] performs one [`HostileAction`]: it crafts the offending message
//! with the chat's real key and numbers and queues it on [`SecretChat::poll_transmit`] like
//! any other message. Each action knows what a correct receiver must do about it
//! ([`HostileAction::expected_reaction`], a [`Reaction`]), which stricter or softer
//! reactions the spec also tolerates ([`HostileAction::tolerated_reactions`]), and which
//! rule it breaks ([`HostileAction::rule`]), so a scenario can print the verdict "the client
//! under test did X; the spec requires Y".
//!
//! ```text
//!   action                      crafted message                        correct receiver
//!   WrongSeqParity{In|Out}      next numbers, one with the other parity  abort        §3.1
//!   SkipSeqNo                   a text one out_seq_no too far            ask Resend   §3.2
//!   RegressingLayer             a text wrapped at layer 17              keep layer   §5
//!   V1AfterV2                   a text under MTProto 1.0 at layer ≥ 73   abort        §2.5
//!   ResendNeverSent             Resend for numbers beyond what it sent   abort        §3.3
//!   ResendTooMany               Resend for 5000 messages                 abort        §3.3
//!   RequestKeyWhilePending      a second RequestKey                      abort        §4
//!   AcceptKeyWrongFingerprint   our AcceptKey with a flipped fingerprint abort        §4
//!   AcceptKeyUnknownExchange    AcceptKey for an exchange nobody began   abort        §4
//!   CommitKeyWrongFingerprint   CommitKey with a fingerprint not the key abort        §4
//!   CommitKeyUnknownExchange    CommitKey for an exchange nobody began   abort        §4
//!   AbortKeyAfterCommit         AbortKey for the exchange just committed abort        §4
//!   ShortRandomBytes            random_bytes of 14 bytes                 ignore       §2.1
//!   MediaWrongKeyLengths        a photo with a 31-byte key, 16-byte IV   refuse media §6
//!   UnknownConstructor          decryptedMessageLayer{…, 0x0badc0de …}   ignore       §5
//!   Replay{data}                one of our earlier messages, unchanged   ignore       §3.2
//!   Mirror                      a message sealed as the receiver's side  abort        §2.3
//! ```
//!
//! **What the sender's own state does afterwards.** A hostile side must stay able to send
//! honest messages after any action whose correct reaction does not end the chat. Two
//! kinds of crafted messages keep that promise:
//!
//! * *in the sequence*: the message uses up the next out_seq_no and is stored for Resend
//!   like an honest one (SkipSeqNo, RegressingLayer, V1AfterV2, the Resend, key and media
//!   actions, UnknownConstructor). A Resend re-sends the stored copy sealed the honest way
//!   (UnknownConstructor and the skipped number of SkipSeqNo are stored as a Noop, so a
//!   Resend fills the hole harmlessly);
//! * *outside the sequence*: the message carries numbers but uses none up, and nothing is
//!   stored (WrongSeqParity, ShortRandomBytes, Replay, Mirror): the next honest message
//!   takes the same numbers. A receiver that wrongly counted the hostile one then sees a
//!   duplicate — which is its own mistake showing.
//!
//! Each variant's documentation says which kind it is and what happens to the re-keying
//! state. Nothing here is reachable by accident: the honest paths never call it.

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use super::agreement::{self, SecretExponent};
use super::codec::{self, Outbound, Wrapper};
use super::events::{SendMethod, Transmit};
use super::layer::Layer;
use super::payload::{Media, Message, Payload, ServiceAction};
use super::rekey::Exchange;
use super::time::UnixTime;
use super::{ChatError, SecretChat, Stored};
use crate::envelope::{self, Version};
use crate::key::KeyFingerprint;
use crate::seq_no::{RawSeqNo, SeqField, WireSeqNo};
use crate::side::Side;
use crate::tl::e2e::{self, types};
use crate::tl::{TlRead, TlWrite};

/// How many messages [`HostileAction::ResendTooMany`] asks for (tdlib refuses above 1000).
pub const RESEND_TOO_MANY: u32 = 5000;
/// How far beyond the last message we received [`HostileAction::ResendNeverSent`] starts.
pub const RESEND_NEVER_SENT_OFFSET: u32 = 500;
/// The `random_bytes` length of [`HostileAction::ShortRandomBytes`] (the minimum is 15).
pub const SHORT_RANDOM_BYTES: usize = 14;
/// A constructor id that is not in the end-to-end schema (checked by a test).
pub const UNKNOWN_CONSTRUCTOR_ID: u32 = 0x0bad_c0de;
/// Key and IV lengths of [`HostileAction::MediaWrongKeyLengths`] (both must be 32).
pub const WRONG_MEDIA_KEY_LEN: usize = 31;
pub const WRONG_MEDIA_IV_LEN: usize = 16;

/// One way to break the rules. See the module table for what each one sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostileAction {
    /// A text whose `in_seq_no` or `out_seq_no` has the parity of the receiver's own
    /// numbers. Outside the sequence. Correct receiver: abort (SPEC §3.1).
    WrongSeqParity { field: SeqField },
    /// One out_seq_no is skipped (stored as a Noop, never sent), then a text goes out: a
    /// gap. In the sequence. Correct receiver: queue the text, send a Resend for the hole,
    /// deliver the text once the Noop fills it (SPEC §3.2); aborting on a gap is the
    /// docs' discouraged fallback. Needs a common layer ≥ 17.
    SkipSeqNo,
    /// A text wrapped in `decryptedMessageLayer{layer = 17}` (in its layer-17 form) after we
    /// sent at a higher common layer; sealed with the version of the common layer, so only
    /// the layer regresses. In the sequence (a Resend re-sends it at the common layer).
    /// Correct receiver: process it but never lower the layer it speaks (SPEC §5: the
    /// remote layer is only ever raised); tdlib aborts instead (SPEC §3.4), also fine.
    /// Needs a common layer above 17.
    RegressingLayer,
    /// A text under MTProto 1.0 at a common layer ≥ 73. In the sequence (a Resend re-sends
    /// it under 2.0). Correct receiver: abort (SPEC §2.5). Needs a common layer ≥ 73.
    V1AfterV2,
    /// `Resend` for two messages starting [`RESEND_NEVER_SENT_OFFSET`] beyond the last one
    /// we received. In the sequence. Correct receiver: abort — it cannot send what does
    /// not exist (SPEC §3.3).
    ResendNeverSent,
    /// `Resend` for [`RESEND_TOO_MANY`] messages from the first we have not received. In
    /// the sequence. Correct receiver: abort (SPEC §3.3, tdlib's MAX_RESEND_COUNT = 1000).
    ResendTooMany,
    /// A second `RequestKey` while our first is unanswered. When idle, an honest exchange
    /// starts first (our state: awaiting AcceptKey for it); the second one is not tracked.
    /// In the sequence. Correct receiver: abort — it accepted the first and may not start
    /// another (SPEC §4); refusing the key is tolerated.
    RequestKeyWhilePending,
    /// Our AcceptKey for the peer's RequestKey with a flipped fingerprint. If our honest
    /// AcceptKey is still in the outbox (call right after the peer's RequestKey was
    /// handled, before draining `poll_transmit`), it is rewritten in place — same numbers,
    /// same random_id; otherwise a second AcceptKey follows it. Our state: still awaiting
    /// CommitKey with the true key. Correct receiver: abort (SPEC §4, tdlib); refusing the
    /// key with AbortKey (Android) is tolerated. Needs an exchange we accepted.
    AcceptKeyWrongFingerprint,
    /// AcceptKey for a random exchange_id nobody started (a valid g_b, a random
    /// fingerprint). In the sequence; our exchange state is untouched. Correct receiver:
    /// abort (SPEC §4, tdlib).
    AcceptKeyUnknownExchange,
    /// CommitKey with a random fingerprint for our own exchange: when idle, a RequestKey
    /// goes first and the CommitKey follows at once, without waiting for the AcceptKey (our
    /// state: awaiting AcceptKey). In the sequence. Correct receiver: abort — it accepted,
    /// may not abort the exchange, and has no usable key (SPEC §4).
    CommitKeyWrongFingerprint,
    /// CommitKey for a random exchange_id nobody started. In the sequence; our exchange
    /// state is untouched. Correct receiver: abort (SPEC §4, tdlib).
    CommitKeyUnknownExchange,
    /// AbortKey for the exchange we last switched keys for. In the sequence; our keys are
    /// untouched. Correct receiver: abort — nobody may abort after AcceptKey/CommitKey
    /// (SPEC §4); ignoring it is tolerated (the keys are already switched). Needs a
    /// finished exchange.
    AbortKeyAfterCommit,
    /// A text whose `random_bytes` has [`SHORT_RANDOM_BYTES`] bytes. Outside the sequence.
    /// Correct receiver: ignore it (SPEC §2.1).
    ShortRandomBytes,
    /// A message with a `decryptedMessageMediaPhoto` whose key has [`WRONG_MEDIA_KEY_LEN`]
    /// and IV [`WRONG_MEDIA_IV_LEN`] bytes. In the sequence. Correct receiver: refuse the
    /// media — never try to decrypt a file with it (SPEC §6); dropping the message
    /// (Android) is tolerated.
    MediaWrongKeyLengths,
    /// A `decryptedMessageLayer` whose inner message starts with [`UNKNOWN_CONSTRUCTOR_ID`].
    /// In the sequence (stored as a Noop). Correct receiver: use up its seq number and
    /// ignore its content (SPEC §5). Needs a common layer ≥ 17.
    UnknownConstructor,
    /// One of our earlier messages, byte for byte (`data` as it was sent; it must open with
    /// a key we hold, as our side). Outside the sequence. Correct receiver: ignore it — its
    /// out_seq_no was processed, or its key is gone (SPEC §3.2, §2.6).
    Replay { data: Vec<u8> },
    /// A text sealed as if the receiver had sent it (its side's key offset and parities),
    /// as a server reflecting its own message back would deliver. Outside the sequence.
    /// Correct receiver: abort (SPEC §2.3, §3.1). Needs a common layer ≥ 17 (a bare
    /// layer-8 message has nothing that tells a mirror from the peer's own message).
    Mirror,
}

/// What the receiver of a hostile message did, or must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reaction {
    /// Stop using the chat and call `messages.discardEncryption`.
    Abort,
    /// Drop the message without effect; the chat goes on.
    Ignore,
    /// Queue the message and ask for the missing ones with a Resend.
    RequestResend,
    /// Refuse the re-keying exchange (AbortKey, keep the old key); the chat goes on.
    RejectKey,
    /// Deliver the message without a usable file: the media's key/IV are refused.
    RejectMedia,
    /// Process the message but keep speaking the higher layer.
    NoDowngrade,
    /// Refuse a downloaded file whose key fingerprint, size or content does not check
    /// (a server that swapped or truncated it, SPEC §6); the chat goes on.
    RejectFile,
    /// Answer a Resend it cannot satisfy as if it could: re-send what it holds and fill
    /// every other number asked for with a message deleting itself (Telegram Android);
    /// the chat goes on.
    Comply,
}

impl Reaction {
    /// How a report names it: "the client under test did …".
    pub const fn describe(self) -> &'static str {
        match self {
            Reaction::Abort => "abort the chat (discardEncryption)",
            Reaction::Ignore => "ignore the message",
            Reaction::RequestResend => "ask for the missing messages with a Resend",
            Reaction::RejectKey => "reject the new key (AbortKey) and keep the old one",
            Reaction::RejectMedia => "refuse the media (key and IV must be 32 bytes)",
            Reaction::NoDowngrade => "process it without lowering the layer",
            Reaction::RejectFile => "refuse the file (its fingerprint, size or content is wrong)",
            Reaction::Comply => {
                "answer the Resend anyway (re-send what it holds, delete placeholders for the rest)"
            }
        }
    }

    /// Every reaction with its name in scenario files (`required = "abort"`).
    pub const ALL: [(&'static str, Reaction); 8] = [
        ("abort", Reaction::Abort),
        ("ignore", Reaction::Ignore),
        ("resend", Reaction::RequestResend),
        ("reject_key", Reaction::RejectKey),
        ("reject_media", Reaction::RejectMedia),
        ("no_downgrade", Reaction::NoDowngrade),
        ("reject_file", Reaction::RejectFile),
        ("comply", Reaction::Comply),
    ];

    /// The reaction's name in scenario files.
    pub fn name(self) -> &'static str {
        Reaction::ALL
            .iter()
            .find(|(_, reaction)| *reaction == self)
            .map_or("?", |(name, _)| name)
    }

    /// The reaction called `name` in scenario files.
    pub fn from_name(name: &str) -> Option<Reaction> {
        Reaction::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, reaction)| *reaction)
    }
}

impl std::fmt::Display for Reaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl HostileAction {
    /// Every action that needs no input (all but [`HostileAction::Replay`]), for tests,
    /// fuzzing and listings.
    pub fn all_without_data() -> Vec<HostileAction> {
        vec![
            HostileAction::WrongSeqParity {
                field: SeqField::In,
            },
            HostileAction::WrongSeqParity {
                field: SeqField::Out,
            },
            HostileAction::SkipSeqNo,
            HostileAction::RegressingLayer,
            HostileAction::V1AfterV2,
            HostileAction::ResendNeverSent,
            HostileAction::ResendTooMany,
            HostileAction::RequestKeyWhilePending,
            HostileAction::AcceptKeyWrongFingerprint,
            HostileAction::AcceptKeyUnknownExchange,
            HostileAction::CommitKeyWrongFingerprint,
            HostileAction::CommitKeyUnknownExchange,
            HostileAction::AbortKeyAfterCommit,
            HostileAction::ShortRandomBytes,
            HostileAction::MediaWrongKeyLengths,
            HostileAction::UnknownConstructor,
            HostileAction::Mirror,
        ]
    }

    /// A short name (for scenario steps and reports).
    pub const fn name(&self) -> &'static str {
        match self {
            HostileAction::WrongSeqParity {
                field: SeqField::In,
            } => "wrong-in-seq-parity",
            HostileAction::WrongSeqParity {
                field: SeqField::Out,
            } => "wrong-out-seq-parity",
            HostileAction::SkipSeqNo => "skip-seq-no",
            HostileAction::RegressingLayer => "regressing-layer",
            HostileAction::V1AfterV2 => "v1-after-v2",
            HostileAction::ResendNeverSent => "resend-never-sent",
            HostileAction::ResendTooMany => "resend-too-many",
            HostileAction::RequestKeyWhilePending => "request-key-while-pending",
            HostileAction::AcceptKeyWrongFingerprint => "accept-key-wrong-fingerprint",
            HostileAction::AcceptKeyUnknownExchange => "accept-key-unknown-exchange",
            HostileAction::CommitKeyWrongFingerprint => "commit-key-wrong-fingerprint",
            HostileAction::CommitKeyUnknownExchange => "commit-key-unknown-exchange",
            HostileAction::AbortKeyAfterCommit => "abort-key-after-commit",
            HostileAction::ShortRandomBytes => "short-random-bytes",
            HostileAction::MediaWrongKeyLengths => "media-wrong-key-lengths",
            HostileAction::UnknownConstructor => "unknown-constructor",
            HostileAction::Replay { .. } => "replay",
            HostileAction::Mirror => "mirror",
        }
    }

    /// The reaction the spec requires from a correct receiver (the reference chat's).
    pub const fn expected_reaction(&self) -> Reaction {
        match self {
            HostileAction::SkipSeqNo => Reaction::RequestResend,
            HostileAction::RegressingLayer => Reaction::NoDowngrade,
            HostileAction::ShortRandomBytes
            | HostileAction::UnknownConstructor
            | HostileAction::Replay { .. } => Reaction::Ignore,
            HostileAction::MediaWrongKeyLengths => Reaction::RejectMedia,
            HostileAction::WrongSeqParity { .. }
            | HostileAction::V1AfterV2
            | HostileAction::ResendNeverSent
            | HostileAction::ResendTooMany
            | HostileAction::RequestKeyWhilePending
            | HostileAction::AcceptKeyWrongFingerprint
            | HostileAction::AcceptKeyUnknownExchange
            | HostileAction::CommitKeyWrongFingerprint
            | HostileAction::CommitKeyUnknownExchange
            | HostileAction::AbortKeyAfterCommit
            | HostileAction::Mirror => Reaction::Abort,
        }
    }

    /// Other reactions the spec (or a major client it documents) also accepts.
    pub const fn tolerated_reactions(&self) -> &'static [Reaction] {
        match self {
            // "Temporary fallback allowed by the docs: abort the chat on any gap".
            HostileAction::SkipSeqNo => &[Reaction::Abort],
            // tdlib aborts when the peer's layer decreases.
            HostileAction::RegressingLayer => &[Reaction::Abort],
            HostileAction::RequestKeyWhilePending
            | HostileAction::AcceptKeyWrongFingerprint
            | HostileAction::AcceptKeyUnknownExchange => &[Reaction::RejectKey],
            // The keys are switched already: dropping the AbortKey harms nothing.
            HostileAction::AbortKeyAfterCommit => &[Reaction::Ignore],
            // Android drops the whole message.
            HostileAction::MediaWrongKeyLengths => &[Reaction::Ignore],
            _ => &[],
        }
    }

    /// Whether a receiver reacting with `observed` did what the spec allows.
    pub fn accepts(&self, observed: Reaction) -> bool {
        observed == self.expected_reaction() || self.tolerated_reactions().contains(&observed)
    }

    /// The rule broken, with its SPEC section, for reports.
    pub const fn rule(&self) -> &'static str {
        match self {
            HostileAction::WrongSeqParity { .. } => {
                "§3.1: each seq number's parity is fixed by the sender's role"
            }
            HostileAction::SkipSeqNo => "§3.2: a gap is queued and asked for with a Resend",
            HostileAction::RegressingLayer => "§5: the remote layer is only ever raised",
            HostileAction::V1AfterV2 => "§2.5: MTProto 1.0 is forbidden at layer 73 and up",
            HostileAction::ResendNeverSent => "§3.3: a Resend that cannot be satisfied aborts",
            HostileAction::ResendTooMany => "§3.3: a Resend may ask for at most 1000 messages",
            HostileAction::RequestKeyWhilePending => {
                "§4: never start an exchange while another is unfinished"
            }
            HostileAction::AcceptKeyWrongFingerprint => {
                "§4: AcceptKey's key_fingerprint must be the new key's"
            }
            HostileAction::AcceptKeyUnknownExchange => {
                "§4: AcceptKey only answers our own RequestKey"
            }
            HostileAction::CommitKeyWrongFingerprint => {
                "§4: CommitKey's key_fingerprint must be the new key's"
            }
            HostileAction::CommitKeyUnknownExchange => {
                "§4: CommitKey only follows our own AcceptKey"
            }
            HostileAction::AbortKeyAfterCommit => {
                "§4: nobody may abort after sending AcceptKey or CommitKey"
            }
            HostileAction::ShortRandomBytes => "§2.1: random_bytes has at least 15 bytes",
            HostileAction::MediaWrongKeyLengths => "§6: a file's key and IV are 32 bytes each",
            HostileAction::UnknownConstructor => {
                "§5: an inner message we cannot read uses up its seq number and is ignored"
            }
            HostileAction::Replay { .. } => "§3.2: an out_seq_no already processed is dropped",
            HostileAction::Mirror => "§2.3: our own messages never open as the peer's",
        }
    }
}

/// Why a hostile action could not be performed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostileError {
    /// The chat refused (not established, aborted, …).
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// The action needs a state the chat is not in.
    #[error("{action} needs {needs}")]
    Unavailable {
        action: &'static str,
        needs: &'static str,
    },
}

/// The numbers of the next wrapped message, raw and on the wire.
#[derive(Debug, Clone, Copy)]
struct Next {
    in_raw: RawSeqNo,
    in_wire: WireSeqNo,
    out_wire: WireSeqNo,
}

impl SecretChat {
    /// Performs one hostile action: crafts the message and queues it on `poll_transmit`.
    /// Returns the random_id of the (last) message queued.
    pub fn hostile(
        &mut self,
        now: UnixTime,
        action: HostileAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, HostileError> {
        self.check_established()?;
        let name = action.name();
        let unavailable = |needs| HostileError::Unavailable {
            action: name,
            needs,
        };
        match action {
            HostileAction::WrongSeqParity { field } => {
                let next = self.next_numbers(name)?;
                let (in_wire, out_wire) = match field {
                    SeqField::In => (WireSeqNo(next.in_wire.0 ^ 1), next.out_wire),
                    SeqField::Out => (next.in_wire, WireSeqNo(next.out_wire.0 ^ 1)),
                };
                let wrapper = self.wrapper_at(self.layers.common(), in_wire, out_wire, name)?;
                self.craft_text(Some(wrapper), self.version(), self.side, rng)
            }
            HostileAction::SkipSeqNo => {
                if !self.layers.common().has_seq_no() {
                    return Err(unavailable("a common layer of 17 or more"));
                }
                let next = self.next_numbers(name)?;
                let skipped = rng.next_u64() as i64;
                self.history
                    .push(skipped, next.in_raw, noop(self.layers.common()));
                Ok(self.send_text(now, "after a skipped seq_no", 0, rng)?)
            }
            HostileAction::RegressingLayer => {
                if self.layers.common() <= Layer::SEQ_NO {
                    return Err(unavailable("a common layer above 17"));
                }
                self.send_in_sequence(Layer::SEQ_NO, self.version(), text(name), rng)
            }
            HostileAction::V1AfterV2 => {
                if self.layers.common() < Layer::MTPROTO_2 {
                    return Err(unavailable("a common layer of 73 or more"));
                }
                self.send_in_sequence(self.layers.common(), Version::V1, text(name), rng)
            }
            HostileAction::ResendNeverSent => {
                let start = self.incoming.received().0 + RESEND_NEVER_SENT_OFFSET;
                self.send_resend(now, start, start + 1, rng)
            }
            HostileAction::ResendTooMany => {
                let start = self.incoming.received().0;
                self.send_resend(now, start, start + RESEND_TOO_MANY - 1, rng)
            }
            HostileAction::RequestKeyWhilePending => {
                match self.exchange {
                    Exchange::Idle => {
                        self.rekey_now(now, rng)?;
                    }
                    Exchange::AwaitingAccept { .. } => {}
                    Exchange::AwaitingCommit { .. } => {
                        return Err(unavailable("no exchange accepted from the peer"))
                    }
                }
                let a = SecretExponent::generate(rng, &[]);
                let g_a = agreement::public_value(&self.dh, &a);
                let exchange_id = rng.next_u64() as i64;
                self.send_service_action(now, ServiceAction::RequestKey { exchange_id, g_a }, rng)
            }
            HostileAction::AcceptKeyWrongFingerprint => {
                let Exchange::AwaitingCommit {
                    exchange_id,
                    new_key,
                } = &self.exchange
                else {
                    return Err(unavailable("an exchange accepted from the peer"));
                };
                let exchange_id = *exchange_id;
                let wrong = flipped(new_key.fingerprint());
                self.forge_accept_key(now, exchange_id, wrong, rng)
            }
            HostileAction::AcceptKeyUnknownExchange => {
                let b = SecretExponent::generate(rng, &[]);
                let action = ServiceAction::AcceptKey {
                    exchange_id: rng.next_u64() as i64,
                    g_b: agreement::public_value(&self.dh, &b),
                    key_fingerprint: KeyFingerprint::from_i64(rng.next_u64() as i64),
                };
                self.send_service_action(now, action, rng)
            }
            HostileAction::CommitKeyWrongFingerprint => {
                let exchange_id = match self.exchange {
                    Exchange::Idle => self.rekey_now(now, rng)?,
                    Exchange::AwaitingAccept { exchange_id, .. } => exchange_id,
                    Exchange::AwaitingCommit { .. } => {
                        return Err(unavailable("no exchange accepted from the peer"))
                    }
                };
                let action = ServiceAction::CommitKey {
                    exchange_id,
                    key_fingerprint: KeyFingerprint::from_i64(rng.next_u64() as i64),
                };
                self.send_service_action(now, action, rng)
            }
            HostileAction::CommitKeyUnknownExchange => {
                let action = ServiceAction::CommitKey {
                    exchange_id: rng.next_u64() as i64,
                    key_fingerprint: KeyFingerprint::from_i64(rng.next_u64() as i64),
                };
                self.send_service_action(now, action, rng)
            }
            HostileAction::AbortKeyAfterCommit => {
                let Some((exchange_id, _)) = self.committed else {
                    return Err(unavailable("a finished re-keying exchange"));
                };
                self.send_service_action(now, ServiceAction::AbortKey { exchange_id }, rng)
            }
            HostileAction::ShortRandomBytes => {
                let next = self.next_numbers(name)?;
                let common = self.layers.common();
                let wrapper = if common.has_seq_no() {
                    Some(self.wrapper_at(common, next.in_wire, next.out_wire, name)?)
                } else {
                    None
                };
                let random_id = rng.next_u64() as i64;
                let tl = codec::encode(
                    Outbound {
                        wrapper,
                        random_id,
                        payload: &text(name),
                    },
                    rng,
                )
                .map_err(ChatError::from)?;
                let tl = shorten_random_bytes(&tl)
                    .ok_or(unavailable("a message form with random_bytes"))?;
                let data = self.seal_as(&tl, self.version(), self.side, rng)?;
                Ok(self.queue(SendMethod::SendEncrypted, random_id, data))
            }
            HostileAction::MediaWrongKeyLengths => {
                let photo = types::DecryptedMessageMediaPhoto23 {
                    thumb: Vec::new(),
                    thumb_w: 0,
                    thumb_h: 0,
                    w: 640,
                    h: 480,
                    size: 4096,
                    key: vec![0x11; WRONG_MEDIA_KEY_LEN],
                    iv: vec![0x22; WRONG_MEDIA_IV_LEN],
                };
                let message = Message {
                    media: Some(Media::Other(Box::new(photo.into()))),
                    ..Message::default()
                };
                Ok(self.send_message(now, message, rng)?)
            }
            HostileAction::UnknownConstructor => {
                let common = self.layers.common();
                if !common.has_seq_no() {
                    return Err(unavailable("a common layer of 17 or more"));
                }
                let next = self.next_numbers(name)?;
                let random_id = rng.next_u64() as i64;
                let mut random_bytes = vec![0u8; codec::RANDOM_BYTES_LEN];
                rng.fill_bytes(&mut random_bytes);
                let mut tl = Vec::new();
                types::DecryptedMessageLayer::CONSTRUCTOR_ID.write_to(&mut tl);
                random_bytes.write_to(&mut tl);
                common.0.write_to(&mut tl);
                next.in_wire.0.write_to(&mut tl);
                next.out_wire.0.write_to(&mut tl);
                UNKNOWN_CONSTRUCTOR_ID.write_to(&mut tl);
                random_id.write_to(&mut tl);
                String::from("a constructor from the future").write_to(&mut tl);
                let data = self.seal_as(&tl, self.version(), self.side, rng)?;
                self.history
                    .push(random_id, next.in_raw, noop(self.layers.common()));
                self.count_encrypted();
                Ok(self.queue(SendMethod::SendEncryptedService, random_id, data))
            }
            HostileAction::Replay { data } => {
                let random_id = self.random_id_of_own(&data).ok_or(unavailable(
                    "a message this chat sent, under a key it holds",
                ))?;
                Ok(self.queue(SendMethod::SendEncrypted, random_id, data))
            }
            HostileAction::Mirror => {
                // A bare layer-8 message under MTProto 1.0 has neither seq numbers nor a
                // side in its keys: its mirror cannot be told from the peer's own message.
                if !self.layers.common().has_seq_no() {
                    return Err(unavailable("a common layer of 17 or more"));
                }
                let receiver = self.side.peer();
                let wire = |raw: RawSeqNo, field| {
                    raw.to_wire(field, receiver)
                        .map_err(|_| unavailable("seq numbers below 2^30"))
                };
                let wrapper = Wrapper {
                    layer: self.layers.common(),
                    in_seq_no: wire(self.history.sent(), SeqField::In)?,
                    out_seq_no: wire(self.incoming.received(), SeqField::Out)?,
                };
                self.craft_text(Some(wrapper), self.version(), receiver, rng)
            }
        }
    }

    /// The envelope version the common layer calls for.
    fn version(&self) -> Version {
        self.layers.common().sending_version()
    }

    fn next_numbers(&self, action: &'static str) -> Result<Next, HostileError> {
        let in_raw = self.incoming.received();
        let out_raw = self.history.sent();
        let overflow = |_| HostileError::Unavailable {
            action,
            needs: "seq numbers below 2^30",
        };
        Ok(Next {
            in_raw,
            in_wire: in_raw.to_wire(SeqField::In, self.side).map_err(overflow)?,
            out_wire: out_raw
                .to_wire(SeqField::Out, self.side)
                .map_err(overflow)?,
        })
    }

    fn wrapper_at(
        &self,
        layer: Layer,
        in_seq_no: WireSeqNo,
        out_seq_no: WireSeqNo,
        action: &'static str,
    ) -> Result<Wrapper, HostileError> {
        if !layer.has_seq_no() {
            return Err(HostileError::Unavailable {
                action,
                needs: "a common layer of 17 or more",
            });
        }
        Ok(Wrapper {
            layer,
            in_seq_no,
            out_seq_no,
        })
    }

    /// Seals TL bytes with the current key, as `side`, with `version`.
    fn seal_as(
        &self,
        tl: &[u8],
        version: Version,
        side: Side,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, HostileError> {
        let keys = self.keys.as_ref().ok_or(ChatError::WrongState {
            state: "without a key",
            expected: "established",
        })?;
        Ok(envelope::seal(keys.current(), version, side, tl, rng).map_err(ChatError::from)?)
    }

    fn queue(&mut self, method: SendMethod, random_id: i64, data: Vec<u8>) -> i64 {
        self.outbox.push_back(Transmit {
            method,
            random_id,
            data,
        });
        random_id
    }

    fn count_encrypted(&mut self) {
        if let Some(keys) = self.keys.as_mut() {
            keys.usage_mut().encrypted = keys.usage().encrypted.saturating_add(1);
        }
    }

    /// A text outside the sequence: nothing stored, no number used up.
    fn craft_text(
        &mut self,
        wrapper: Option<Wrapper>,
        version: Version,
        side: Side,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, HostileError> {
        let random_id = rng.next_u64() as i64;
        let tl = codec::encode(
            Outbound {
                wrapper,
                random_id,
                payload: &text("hostile"),
            },
            rng,
        )
        .map_err(ChatError::from)?;
        let data = self.seal_as(&tl, version, side, rng)?;
        Ok(self.queue(SendMethod::SendEncrypted, random_id, data))
    }

    /// A message in the sequence, wrapped at `layer` and sealed with `version`: it uses up
    /// the next numbers and is stored (a Resend re-sends it the honest way).
    fn send_in_sequence(
        &mut self,
        layer: Layer,
        version: Version,
        payload: Payload,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, HostileError> {
        let next = self.next_numbers("a message in the sequence")?;
        let wrapper = self.wrapper_at(layer, next.in_wire, next.out_wire, "wrapping")?;
        let random_id = rng.next_u64() as i64;
        let tl = codec::encode(
            Outbound {
                wrapper: Some(wrapper),
                random_id,
                payload: &payload,
            },
            rng,
        )
        .map_err(ChatError::from)?;
        let data = self.seal_as(&tl, version, self.side, rng)?;
        let method = SendMethod::SendEncrypted;
        // Stored as the honest message at the common layer: a Resend re-sends that.
        let stored = Stored {
            method,
            payload,
            layer: self.layers.common(),
        };
        self.history.push(random_id, next.in_raw, stored);
        self.count_encrypted();
        Ok(self.queue(method, random_id, data))
    }

    fn send_service_action(
        &mut self,
        now: UnixTime,
        action: ServiceAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, HostileError> {
        Ok(self.send_payload(
            now,
            Payload::Service(action),
            SendMethod::SendEncryptedService,
            rng,
        )?)
    }

    /// `Resend{start, end}` for raw numbers of the peer's messages, in its wire form.
    fn send_resend(
        &mut self,
        now: UnixTime,
        start: u32,
        end: u32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, HostileError> {
        let sender = self.side.peer();
        let wire = |raw| {
            RawSeqNo(raw)
                .to_wire(SeqField::Out, sender)
                .map_err(|_| HostileError::Unavailable {
                    action: "resend",
                    needs: "seq numbers below 2^30",
                })
        };
        let action = ServiceAction::Resend {
            start_seq_no: wire(start)?,
            end_seq_no: wire(end)?,
        };
        self.send_service_action(now, action, rng)
    }

    /// Rewrites our honest AcceptKey for `exchange_id` if it is still in the outbox, or
    /// sends another one after it.
    fn forge_accept_key(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        wrong: KeyFingerprint,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, HostileError> {
        let pending = self.outbox.iter().find_map(|transmit| {
            let stored = self.history.find(transmit.random_id)?;
            match &stored.payload.payload {
                Payload::Service(ServiceAction::AcceptKey {
                    exchange_id: id,
                    g_b,
                    ..
                }) if *id == exchange_id => Some((transmit.random_id, g_b.clone())),
                _ => None,
            }
        });
        if let Some((random_id, g_b)) = pending {
            let forged = Payload::Service(ServiceAction::AcceptKey {
                exchange_id,
                g_b,
                key_fingerprint: wrong,
            });
            let rewritten = self.history.rewrite(random_id, |stored| Stored {
                payload: forged,
                ..stored.clone()
            });
            if let super::history::Rewrite::Rewritten { out_seq_no } = rewritten {
                self.rewrite_pending_transmit(random_id, out_seq_no, rng)?;
                return Ok(random_id);
            }
        }
        let b = SecretExponent::generate(rng, &[]);
        let action = ServiceAction::AcceptKey {
            exchange_id,
            g_b: agreement::public_value(&self.dh, &b),
            key_fingerprint: wrong,
        };
        self.send_service_action(now, action, rng)
    }

    /// The random_id inside one of our own messages, if `data` opens with a key we hold as
    /// sent by our side.
    fn random_id_of_own(&self, data: &[u8]) -> Option<i64> {
        let fingerprint = envelope::key_fingerprint(data)?;
        let (_, key) = self.keys.as_ref()?.find(fingerprint)?;
        let opened = [Version::V2, Version::V1]
            .into_iter()
            .find_map(|version| envelope::open(key, version, self.side, data).ok())?;
        match codec::decode(opened.tl()).ok()?.content {
            codec::Content::Payload { random_id, .. } => Some(random_id),
            codec::Content::Undecodable { .. } => None,
        }
    }
}

fn text(body: &str) -> Payload {
    Payload::Message(Message {
        text: body.to_owned(),
        ..Message::default()
    })
}

/// A Noop stored under a number we skip: a Resend fills the hole with it.
fn noop(layer: Layer) -> Stored {
    Stored {
        method: SendMethod::SendEncryptedService,
        payload: Payload::Service(ServiceAction::Noop),
        layer,
    }
}

fn flipped(fingerprint: KeyFingerprint) -> KeyFingerprint {
    KeyFingerprint::from_i64(fingerprint.as_i64() ^ 1)
}

/// The same message with its `random_bytes` cut to [`SHORT_RANDOM_BYTES`].
fn shorten_random_bytes(tl: &[u8]) -> Option<Vec<u8>> {
    match e2e::Object::from_bytes(tl).ok()? {
        e2e::Object::DecryptedMessageLayer(mut layer) => {
            layer.random_bytes.truncate(SHORT_RANDOM_BYTES);
            Some(layer.to_bytes())
        }
        e2e::Object::DecryptedMessage8(mut message) => {
            message.random_bytes.truncate(SHORT_RANDOM_BYTES);
            Some(message.to_bytes())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_constructor_id_is_not_in_the_schema() {
        assert!(e2e::constructor_info(UNKNOWN_CONSTRUCTOR_ID).is_none());
    }

    #[test]
    fn every_action_has_a_distinct_name_and_accepts_its_expected_reaction() {
        let actions = HostileAction::all_without_data();
        let mut names: Vec<_> = actions.iter().map(HostileAction::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), actions.len());
        for action in actions {
            assert!(action.accepts(action.expected_reaction()), "{action:?}");
            assert!(!action
                .tolerated_reactions()
                .contains(&action.expected_reaction()));
        }
    }

    #[test]
    fn ignoring_a_resend_of_5000_is_a_failed_verdict_but_dropping_bad_media_is_tolerated() {
        // A verdict example: ignoring a Resend of 5000 messages is not what the spec asks.
        assert!(!HostileAction::ResendTooMany.accepts(Reaction::Ignore));
        assert!(HostileAction::MediaWrongKeyLengths.accepts(Reaction::Ignore));
    }

    #[test]
    fn reaction_names_round_trip_and_unknown_names_are_refused() {
        for (name, reaction) in Reaction::ALL {
            assert_eq!(reaction.name(), name);
            assert_eq!(Reaction::from_name(name), Some(reaction));
        }
        assert_eq!(Reaction::from_name("Abort"), None);
        assert_eq!(Reaction::from_name(""), None);
    }
}
