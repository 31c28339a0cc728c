//! Why a chat is aborted: every rule a peer (or the server) can break.
//!
//! rustls sorts errors by who is at fault; here every variant of [`AbortReason`] is a rule
//! the *peer's* messages broke, and the spec's reaction to all of them is the same: stop
//! using the chat and have the transport call `messages.discardEncryption`. Each variant
//! says what was received and what was expected, and names its SPEC section.
//!
//! Softer outcomes are not violations: a duplicate or a message under an unknown key is
//! ignored ([`super::events::IgnoreReason`]), and a mistake by the *caller* (sending on a
//! chat that is not established yet) is a [`super::ChatError`].

use crate::key::KeyFingerprint;
use crate::seq_no::{RawSeqNo, SeqNoError, WireSeqNo};

use super::layer::Layer;

/// A rule broken by the peer. The reaction is always: abort the chat (discardEncryption).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbortReason {
    // ---- handshake (SPEC §1) ----
    /// The `key_fingerprint` the peer announced is not the one of the key we computed:
    /// someone is in the middle, or a bug. SPEC §1.4 step 8.
    #[error("key_fingerprint mismatch: the peer announced {announced}, our key has {computed}")]
    KeyFingerprintMismatch {
        announced: KeyFingerprint,
        computed: KeyFingerprint,
    },
    /// The server's `encryptedChat` names another chat than the one we asked for (tdlib:
    /// "chat_id mismatch", fatal). SPEC §0.
    #[error("encryptedChat has id {got}, but we asked for chat {expected}")]
    ChatIdMismatch { expected: i32, got: i32 },
    /// A `g_a`/`g_b` from the peer failed the DH range checks (SPEC §1.3).
    #[error("the peer's {value} failed the DH checks: {error}")]
    InvalidPublicValue {
        value: &'static str,
        error: crate::dh::DhError,
    },

    // ---- envelope (SPEC §2) ----
    /// A message under a key we hold did not open (bad msg_key, bad length, bad padding):
    /// tdlib treats this as fatal. SPEC §2.6.
    #[error("a message under key {key_fingerprint} does not open: {error}")]
    Undecryptable {
        key_fingerprint: KeyFingerprint,
        error: crate::envelope::OpenError,
    },
    /// Our own message came back: it opens only with our side's key offset. SPEC §2.3, §3.1.
    #[error("a message we sent ourselves was delivered back to us")]
    MirroredMessage,
    /// An MTProto 1.0 message carrying layer ≥ 73. SPEC §2.5.
    #[error(
        "MTProto 1.0 is forbidden at {layer} (out_seq_no raw {out_seq_no}); Telegram Android \
         (--profile android) accepts it while the chat has seen no MTProto 2.0 message first"
    )]
    MtProto1AtLayer73 { layer: Layer, out_seq_no: RawSeqNo },
    /// An MTProto 1.0 message after an MTProto 2.0 one with a lower seq_no. SPEC §2.5.
    #[error("MTProto 1.0 message with out_seq_no raw {out_seq_no} after MTProto 2.0 was seen from raw {v2_from}")]
    MtProto1AfterMtProto2 {
        out_seq_no: RawSeqNo,
        v2_from: RawSeqNo,
    },
    /// A wrapped message at a lower layer than the last one processed in order (the spec
    /// profile's reading of SPEC §3.4; the default keeps the higher layer).
    #[error("the peer's layer went down from {from} to {to}")]
    LayerDecreased { from: Layer, to: Layer },
    /// The decrypted TL is not a message: it does not decode, or it is another object.
    /// (A `decryptedMessageLayer` that decodes up to an unknown inner message is not this:
    /// it is ignored, see [`super::events::IgnoreReason::UndecodableMessage`].)
    #[error("the decrypted message does not decode: {error}")]
    Malformed { error: super::codec::CodecError },

    // ---- sequence numbers (SPEC §3) ----
    /// Wrong parity (a mirrored or forged message) or a negative number. SPEC §3.1.
    #[error("sequence number: {0}")]
    SeqNo(SeqNoError),
    /// `in_seq_no` went down. SPEC §3.4.
    #[error("in_seq_no decreased from raw {previous} to raw {got}")]
    InSeqNoDecreased { got: RawSeqNo, previous: RawSeqNo },
    /// `in_seq_no` claims more of our messages than we sent. SPEC §3.4.
    #[error("in_seq_no says raw {got} of our messages were received, but we sent {sent}")]
    InSeqNoBeyondSent { got: RawSeqNo, sent: RawSeqNo },
    /// Too many messages wait behind a hole that does not get filled. SPEC §3.2.
    #[error("more than {limit} messages queued behind a gap")]
    TooManyQueued { limit: usize },
    /// A Resend whose numbers have the wrong parity for our messages. SPEC §3.3.
    #[error("Resend range: {0}")]
    ResendSeqNo(SeqNoError),
    /// A Resend with `start_seq_no > end_seq_no`. SPEC §3.3.
    #[error("Resend range is inverted: start_seq_no {start_seq_no} > end_seq_no {end_seq_no}")]
    ResendRangeInverted {
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
    },
    /// A Resend for messages we never sent. SPEC §3.3.
    #[error("Resend asks up to raw {end}, but we sent only {sent} messages")]
    ResendBeyondSent { end: RawSeqNo, sent: RawSeqNo },
    /// A Resend for more than 1000 messages (tdlib `MAX_RESEND_COUNT`). SPEC §3.3.
    #[error("Resend asks for {count} messages, at most {max} allowed")]
    ResendTooLarge { count: u32, max: u32 },
    /// A Resend for messages the peer had itself confirmed receiving (its in_seq_no). SPEC §3.3.
    #[error(
        "Resend asks from raw {start}, but the peer confirmed everything below raw {confirmed}"
    )]
    ResendOfConfirmed {
        start: RawSeqNo,
        confirmed: RawSeqNo,
    },

    // ---- re-keying (SPEC §4) ----
    /// An AcceptKey while we are not waiting for one, or for another exchange.
    #[error("AcceptKey for exchange {got} while {expected}")]
    UnexpectedAcceptKey { got: i64, expected: String },
    /// A CommitKey while we are not waiting for one, or for another exchange.
    #[error("CommitKey for exchange {got} while {expected}")]
    UnexpectedCommitKey { got: i64, expected: String },
    /// A RequestKey while we are in the middle of another exchange we accepted.
    #[error("RequestKey for exchange {exchange_id} while {expected}")]
    UnexpectedRequestKey { exchange_id: i64, expected: String },
    /// An AbortKey for the exchange we accepted: after AcceptKey nobody may abort.
    #[error("AbortKey for exchange {exchange_id} after we sent AcceptKey")]
    AbortAfterAccept { exchange_id: i64 },
    /// AcceptKey/CommitKey announced a fingerprint that is not the new key's.
    #[error("the new key's fingerprint is {computed}, the peer announced {announced}")]
    NewKeyFingerprintMismatch {
        announced: KeyFingerprint,
        computed: KeyFingerprint,
    },
    /// An AbortKey for the exchange whose key we already switched to: its sender had sent
    /// AcceptKey or CommitKey for it, after which nobody may abort. SPEC §4.
    #[error("AbortKey for exchange {exchange_id}, whose new key is already in use")]
    AbortAfterCommit { exchange_id: i64 },
    /// A RequestKey while we still hold the previous key (tdlib: "old key is used").
    #[error("RequestKey for exchange {exchange_id} while the previous key is still in use")]
    RequestKeyWhileOldKeyHeld { exchange_id: i64 },
}
