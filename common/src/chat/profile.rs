//! Peer profiles: whose reading of the protocol a chat follows where the clients differ.
//!
//! The spec (SPEC.md, from the official docs) leaves room, and the clients people run fill
//! it differently. Telegram Android decrypts a message with MTProto 1.0 when MTProto 2.0
//! fails, until it has processed an MTProto 2.0 message; tdlib refuses MTProto 1.0 in any
//! message that says layer 73 or more and closes the chat. Someone fuzzing a client needs
//! both: how the strict reference reacts, and how the client their users run reacts. A
//! [`Profile`] names one reading:
//!
//! ```text
//!   tdlib     tdlib's SecretChatActor (the default): as strict as tdlib wherever tdlib
//!             closes the chat, as lenient where tdlib checks nothing (random_bytes);
//!             elsewhere the reference peer's own, spec-based reading
//!   android   Telegram Android's SecretChatHelper, where its source shows a difference
//!   spec      the strictest reading of the spec, where it is stricter than the default
//! ```
//!
//! A profile is data, not a switch: [`Profile::rules`] gives its [`Rules`], one field per
//! decision where the readings differ, and the chat asks its own config's rules at each of
//! those decisions (never a global). Every field is a [`Row`] of `docs/profiles.md` with the
//! source that shows each profile's behaviour. When a profile decides something, the
//! explain trace names it: `android: MTProto 2.0 failed, tried 1.0 [E1 …]`.
//!
//! Behaviours all profiles share are not here: they are simply what the chat does.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sequence::MAX_QUEUED;

/// Whose reading of the protocol a chat follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// tdlib's `SecretChatActor` (the default).
    #[default]
    Tdlib,
    /// Telegram Android's `SecretChatHelper`.
    Android,
    /// The strictest reading of the spec.
    Spec,
}

impl Profile {
    /// Every profile, in the order reports list them.
    pub const ALL: [Profile; 3] = [Profile::Tdlib, Profile::Android, Profile::Spec];

    /// The name on the command line and in scenario files.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Tdlib => "tdlib",
            Profile::Android => "android",
            Profile::Spec => "spec",
        }
    }

    /// The client whose behaviour the profile follows, as messages name it.
    pub const fn client(self) -> &'static str {
        match self {
            Profile::Tdlib => "tdlib",
            Profile::Android => "Telegram Android",
            Profile::Spec => "the spec's strictest reading",
        }
    }

    /// The profile called `name`.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The names, for error messages: "tdlib, android, spec".
    pub fn names() -> String {
        Profile::ALL.map(Profile::name).join(", ")
    }

    /// The profile's behaviours.
    pub const fn rules(self) -> Rules {
        match self {
            Profile::Tdlib => Rules::TDLIB,
            Profile::Android => Rules::ANDROID,
            Profile::Spec => Rules::SPEC,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which envelope versions a received message may use (rows E1–E3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPolicy {
    /// Try the version the common layer calls for, then the other; refuse MTProto 1.0
    /// (abort) in a message that says layer 73 or more, and above the first MTProto 2.0
    /// message's out_seq_no.
    ByLayer,
    /// Try MTProto 2.0, then 1.0 only while the chat's first wrapped message processed in
    /// order was not MTProto 2.0 (Android's `mtproto_seq`); no rule by layer. A message
    /// neither allowed version opens is a message that does not open (row E4).
    V2ThenV1UntilFirstInOrderV2,
}

/// A message under a key we hold that does not open (row E4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUndecryptable {
    /// Close the chat.
    Abort,
    /// Drop the message silently; the chat goes on.
    Drop,
}

/// A wrapped message whose layer is below the last one's (row L3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLayerDecrease {
    /// Process the message; the remote layer is only ever raised.
    Keep,
    /// Close the chat.
    Abort,
}

/// A `decryptedMessageLayer` whose `random_bytes` has fewer than 15 bytes (row E7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnShortRandomBytes {
    /// Drop it before the seq checks: it uses up no seq number.
    Ignore,
    /// No length check: process it like any other message.
    Process,
}

/// A `decryptedMessageLayer` whose inner message has a constructor we cannot read (row E9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnknownConstructor {
    /// Use up its seq number, ignore its content.
    Ignore,
    /// A parse error: close the chat before any seq check.
    Abort,
}

/// An `out_seq_no` with the parity of our own numbers (row S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnWrongParity {
    /// Close the chat.
    Abort,
    /// No parity check: compare the wire numbers as they are. Not above the last one
    /// processed ⇒ dropped as old; otherwise a gap: a Resend from the next expected number
    /// to `out_seq_no − 2` (inverted, as the numbers fall), and the message waits for a
    /// turn that never comes.
    HoldAsGap,
}

/// What is checked of a received `in_seq_no` (row S4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InSeqNoCheck {
    /// Its parity, that it never decreases, and that it does not exceed what we sent:
    /// any violation closes the chat.
    Checked,
    /// Nothing: it is stored as it comes and only bounds which numbers a Resend may ask
    /// for (a wrong-parity value counts as the number below it).
    Unchecked,
}

/// When a gap in the peer's sequence is asked for (row S5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapResend {
    /// One Resend per hole, for exactly the missing numbers; asked again after
    /// `resend_retry_seconds` while a hole stays open.
    PerHole,
    /// On every arrival behind a gap, a Resend from the first missing number up to just
    /// below the arrival — unless one with the same start was already sent in this chat.
    /// Never asked again.
    OncePerStart,
}

/// A `decryptedMessageActionResend` we cannot satisfy from what we hold (rows R1–R5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnResend {
    /// More than 1000 messages, numbers never sent, already confirmed, or inverted: close
    /// the chat. Every valid request is answered.
    Strict,
    /// No limit: a range ending below the peer's last in_seq_no, or inverted, is dropped;
    /// otherwise its start is raised to that in_seq_no, held messages are re-sent as they
    /// were and every number we do not hold gets a `DeleteMessages` placeholder under that
    /// number (never added to our own count); a range that starts at or below one already
    /// answered is not answered again.
    FillWithDeletes,
}

/// When a received Resend is answered (row S8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendTiming {
    /// On arrival, even while it waits behind a gap (SPEC §3.3).
    OnArrival,
    /// When its turn comes, like any other message.
    InOrder,
}

/// When a key is due for a new exchange (row K1). The numbers are the chat's
/// [`super::RekeyPolicy`] (100 messages and a week unless configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekeyTrigger {
    /// More than `after_messages` messages sent and received with the key, or more than
    /// `after_seconds` of use; looked at after every message, sent or processed, and when
    /// the time comes. Nothing else is asked.
    MessagesAbove,
    /// `after_messages` messages sent with the key, or more than `after_seconds` since it
    /// was made, looked at only as a new message is sent; `after_messages` + 20% received,
    /// looked at only as one is processed. No timer.
    SentOrReceived,
    /// More than `after_messages` messages, or more than `after_seconds`, provided the key
    /// encrypted at least one message.
    MessagesAboveOnceUsed,
}

/// A re-key message that does not fit the exchange (rows K3–K7): a RequestKey while one
/// is pending, an AcceptKey or CommitKey for another exchange or with a wrong
/// fingerprint, an AbortKey after the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRekeyMismatch {
    /// Close the chat.
    Abort,
    /// Answer with `AbortKey` (or drop it) and go on with the old key.
    AbortKey,
}

/// A received `decryptedMessageActionSetMessageTTL` outside `0..=1 year` (row M1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlRange {
    /// A negative value is no self-destruct time: nothing is shown (the chat keeps
    /// `max(0, ttl)`); any non-negative value is taken as it is.
    NonNegative,
    /// Below 0 or above a year (31 536 000 s) becomes a year.
    ClampToYear,
}

/// Which ranges a received DH public value (`g_a`, `g_b`) must lie in (row D2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicValueRange {
    /// Mandatory `1 < g_x < p − 1` and recommended `2^(2048−64) < g_x < p − 2^(2048−64)`.
    Both,
    /// Only the mandatory `1 < g_x < p − 1`.
    MandatoryOnly,
}

/// A file's media whose key or IV is not 32 bytes (row F1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBadMediaKey {
    /// Show the message; the file cannot be fetched.
    ShowWithoutFile,
    /// Drop the whole message (its seq number is used up).
    DropMessage,
}

/// One profile's behaviour at every decision where the readings differ. Each field names
/// its row of `docs/profiles.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// E1–E3: which envelope versions are tried and refused.
    pub versions: VersionPolicy,
    /// E4: a message under a known key that does not open.
    pub undecryptable: OnUndecryptable,
    /// E7: random_bytes shorter than 15 bytes.
    pub short_random_bytes: OnShortRandomBytes,
    /// E9: an inner message with an unknown constructor.
    pub unknown_constructor: OnUnknownConstructor,
    /// L3: a message at a lower layer than the last one.
    pub layer_decrease: OnLayerDecrease,
    /// S3: an out_seq_no with the wrong parity.
    pub wrong_parity: OnWrongParity,
    /// S4: what is checked of in_seq_no.
    pub in_seq_no: InSeqNoCheck,
    /// S5: how gaps are asked for.
    pub gap_resend: GapResend,
    /// S7: how many messages may wait behind a gap; one more closes the chat.
    pub max_queued: usize,
    /// S8: when a received Resend is answered.
    pub resend_timing: ResendTiming,
    /// R1–R5: a Resend we cannot satisfy.
    pub resend: OnResend,
    /// K1: when a key is due for a new exchange.
    pub rekey_trigger: RekeyTrigger,
    /// K3–K7: re-key messages that do not fit.
    pub rekey_mismatch: OnRekeyMismatch,
    /// D2: the ranges a received public value must lie in.
    pub public_values: PublicValueRange,
    /// F1: a media key or IV that is not 32 bytes.
    pub bad_media_key: OnBadMediaKey,
    /// M1: a chat TTL below 0 or above a year.
    pub ttl: TtlRange,
}

impl Rules {
    /// tdlib's `SecretChatActor` at 022d6020, where the audit found it differs from the
    /// spec's strictest reading (E7, E9, L3); elsewhere the reference peer's own reading.
    pub const TDLIB: Rules = Rules {
        versions: VersionPolicy::ByLayer,
        undecryptable: OnUndecryptable::Abort,
        short_random_bytes: OnShortRandomBytes::Process,
        unknown_constructor: OnUnknownConstructor::Abort,
        layer_decrease: OnLayerDecrease::Abort,
        wrong_parity: OnWrongParity::Abort,
        in_seq_no: InSeqNoCheck::Checked,
        gap_resend: GapResend::PerHole,
        max_queued: MAX_QUEUED,
        resend_timing: ResendTiming::OnArrival,
        resend: OnResend::Strict,
        rekey_trigger: RekeyTrigger::MessagesAbove,
        rekey_mismatch: OnRekeyMismatch::Abort,
        public_values: PublicValueRange::Both,
        bad_media_key: OnBadMediaKey::ShowWithoutFile,
        ttl: TtlRange::NonNegative,
    };

    /// Telegram Android, `SecretChatHelper.java` at dff21c0a.
    pub const ANDROID: Rules = Rules {
        versions: VersionPolicy::V2ThenV1UntilFirstInOrderV2,
        undecryptable: OnUndecryptable::Drop,
        short_random_bytes: OnShortRandomBytes::Ignore,
        unknown_constructor: OnUnknownConstructor::Ignore,
        layer_decrease: OnLayerDecrease::Keep,
        wrong_parity: OnWrongParity::HoldAsGap,
        in_seq_no: InSeqNoCheck::Unchecked,
        gap_resend: GapResend::OncePerStart,
        max_queued: 4,
        resend_timing: ResendTiming::InOrder,
        resend: OnResend::FillWithDeletes,
        rekey_trigger: RekeyTrigger::SentOrReceived,
        rekey_mismatch: OnRekeyMismatch::AbortKey,
        public_values: PublicValueRange::MandatoryOnly,
        bad_media_key: OnBadMediaKey::DropMessage,
        ttl: TtlRange::ClampToYear,
    };

    /// The strictest reading of SPEC.md.
    pub const SPEC: Rules = Rules {
        versions: VersionPolicy::ByLayer,
        undecryptable: OnUndecryptable::Abort,
        short_random_bytes: OnShortRandomBytes::Ignore,
        unknown_constructor: OnUnknownConstructor::Ignore,
        layer_decrease: OnLayerDecrease::Abort,
        wrong_parity: OnWrongParity::Abort,
        in_seq_no: InSeqNoCheck::Checked,
        gap_resend: GapResend::PerHole,
        max_queued: MAX_QUEUED,
        resend_timing: ResendTiming::OnArrival,
        resend: OnResend::Strict,
        rekey_trigger: RekeyTrigger::MessagesAboveOnceUsed,
        rekey_mismatch: OnRekeyMismatch::Abort,
        public_values: PublicValueRange::Both,
        bad_media_key: OnBadMediaKey::ShowWithoutFile,
        ttl: TtlRange::NonNegative,
    };
}

/// One row of `docs/profiles.md` a profile decides: a decision where the readings differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Row {
    /// E1: which versions are tried, in which order.
    E1,
    /// E2: an MTProto 1.0 message that says layer 73 or more.
    E2,
    /// E4: a message under a key we hold does not open.
    E4,
    /// E7: random_bytes shorter than 15 bytes.
    E7,
    /// E9: an inner message with an unknown constructor.
    E9,
    /// L3: a message at a lower layer than the last.
    L3,
    /// S3: an out_seq_no with the wrong parity.
    S3,
    /// S4: what is checked of in_seq_no.
    S4,
    /// S5: how a gap is asked for.
    S5,
    /// S7: how many messages may wait behind a gap.
    S7,
    /// S8: when a received Resend is answered.
    S8,
    /// R1–R5: a Resend we cannot satisfy, or one asked again.
    R1,
    /// K1: when a key is due for a new exchange.
    K1,
    /// K3–K7: re-key messages that do not fit the exchange.
    K3,
    /// D2: the range of a received public value.
    D2,
    /// F1: a media key or IV that is not 32 bytes.
    F1,
    /// M1: a chat TTL below 0 or above a year.
    M1,
}

impl Row {
    /// Every row, in the order of `docs/profiles.md`.
    pub const ALL: [Row; 17] = [
        Row::E1,
        Row::E2,
        Row::E4,
        Row::E7,
        Row::E9,
        Row::L3,
        Row::S3,
        Row::S4,
        Row::S5,
        Row::S7,
        Row::S8,
        Row::R1,
        Row::K1,
        Row::K3,
        Row::D2,
        Row::F1,
        Row::M1,
    ];

    /// The row's name in `docs/profiles.md`.
    pub const fn name(self) -> &'static str {
        match self {
            Row::E1 => "E1",
            Row::E2 => "E2",
            Row::E4 => "E4",
            Row::E7 => "E7",
            Row::E9 => "E9",
            Row::L3 => "L3",
            Row::S3 => "S3",
            Row::S4 => "S4",
            Row::S5 => "S5",
            Row::S7 => "S7",
            Row::S8 => "S8",
            Row::R1 => "R1–R5",
            Row::K1 => "K1",
            Row::K3 => "K3–K7",
            Row::D2 => "D2",
            Row::F1 => "F1",
            Row::M1 => "M1",
        }
    }

    /// The decision, in a few words.
    pub const fn decision(self) -> &'static str {
        match self {
            Row::E1 => "which envelope versions are tried, in which order",
            Row::E2 => "an MTProto 1.0 message that says layer 73 or more",
            Row::E4 => "a message under a key we hold does not open",
            Row::E7 => "random_bytes shorter than 15 bytes",
            Row::E9 => "an inner message with an unknown constructor",
            Row::L3 => "a message at a lower layer than the last",
            Row::S3 => "an out_seq_no with the parity of our own numbers",
            Row::S4 => "what is checked of a received in_seq_no",
            Row::S5 => "how a gap in the peer's sequence is asked for",
            Row::S7 => "how many messages may wait behind a gap",
            Row::S8 => "when a received Resend is answered",
            Row::R1 => "a Resend we cannot satisfy from what we hold, or one asked again",
            Row::K1 => "when a key is due for a new exchange",
            Row::K3 => "a re-key message that does not fit the exchange",
            Row::D2 => "the range a received DH public value must lie in",
            Row::F1 => "a media key or IV that is not 32 bytes",
            Row::M1 => "a chat TTL below 0 or above a year",
        }
    }

    /// Where `profile`'s behaviour is shown: a file and function of the client's source,
    /// or the SPEC section.
    pub const fn source(self, profile: Profile) -> &'static str {
        match (profile, self) {
            (Profile::Tdlib, Row::E1) => {
                "repo receive.rs open (by common layer); tdlib SecretChatActor.cpp decrypt l.777 tries {2, 1}"
            }
            (Profile::Tdlib, Row::E2) => {
                "tdlib td/telegram/SecretChatActor.cpp do_inbound_message_encrypted l.853"
            }
            (Profile::Tdlib, Row::E4) => {
                "tdlib td/telegram/SecretChatActor.cpp decrypt → check_status (fatal)"
            }
            (Profile::Tdlib, Row::E7) => {
                "tdlib td/telegram/SecretChatActor.cpp: random_bytes only in create_encrypted_message l.215, never checked on receipt"
            }
            (Profile::Tdlib, Row::E9) => {
                "tdlib td/telegram/SecretChatActor.cpp do_inbound_message_encrypted l.840–866 (parser error, code 0: fatal); td/generate/tl_writer_cpp.cpp gen_fetch_switch_end \"Unknown constructor found\""
            }
            (Profile::Tdlib, Row::L3) => {
                "tdlib td/telegram/SecretChatActor.cpp check_seq_no l.898 \"his_layer is not monotonic\" (fatal)"
            }
            (Profile::Tdlib, Row::S3) => {
                "tdlib td/telegram/SecretChatActor.cpp check_seq_no l.882 \"Bad seq_no parity\" (fatal)"
            }
            (Profile::Tdlib, Row::S5) => {
                "repo sequence.rs (one Resend per hole, retried); tdlib SecretChatActor.cpp run_fill_gaps asks hole by hole"
            }
            (Profile::Tdlib, Row::S4) => {
                "tdlib td/telegram/SecretChatActor.cpp do_inbound_message_encrypted l.856 \"Invalid seq_no\", check_seq_no l.881–896 (parity, \"in_seq_no is not monotonic\", \"in_seq_no is bigger than seq_no_state_.my_out_seq_no\": fatal)"
            }
            (Profile::Tdlib, Row::S7) => {
                "repo sequence.rs MAX_QUEUED (1000); tdlib SecretChatActor.cpp pending_inbound_messages_ has no limit"
            }
            (Profile::Tdlib, Row::S8) => {
                "tdlib td/telegram/SecretChatActor.cpp do_inbound_message_decrypted_unchecked l.905–960 (Resend handled before the gap check; the queued copy becomes a Noop)"
            }
            (Profile::Tdlib, Row::R1) => {
                "tdlib td/telegram/SecretChatActor.cpp do_inbound_message_decrypted_unchecked l.951–960 \"Can't resend too many messages\", \"Can't resend query\" (fatal)"
            }
            (Profile::Tdlib, Row::K1) => {
                "tdlib td/telegram/SecretChatActor.cpp run_pfs l.575–580 (last_message_id + 100 < message_id, in and out; last_timestamp + week < now)"
            }
            (Profile::Tdlib, Row::K3) => {
                "tdlib td/telegram/SecretChatActor.cpp on_inbound_action l.2070–2134 (\"Unexpected RequestKey\", \"AcceptKey: unexpected\", \"CommitKey: unexpected\", \"AbortKey: unexpected\": fatal)"
            }
            (Profile::Tdlib, Row::D2) => {
                "tdlib td/mtproto/DhHandshake.cpp dh_check (recommended range); repo dh public_value.rs (both ranges)"
            }
            (Profile::Tdlib, Row::F1) => {
                "tdlib td/telegram/files/FileEncryptionKey.cpp (\"Wrong key/iv sizes\", Type::None: shown, never downloaded)"
            }
            (Profile::Tdlib, Row::M1) => {
                "tdlib td/telegram/SecretChatActor.cpp on_inbound_action(SetMessageTTL) l.1973 (max(0, ttl)); MessagesManager.cpp on_secret_chat_ttl_changed l.11185 (\"Receive wrong self-destruct time\": not shown)"
            }
            (Profile::Android, Row::E1 | Row::E2) => {
                "Telegram Android SecretChatHelper.java decryptMessage (tryAnotherDecrypt, mtproto_seq)"
            }
            (Profile::Android, Row::E4) => {
                "Telegram Android SecretChatHelper.java decryptMessage (return null)"
            }
            (Profile::Android, Row::E7) => {
                "Telegram Android SecretChatHelper.java decryptMessage (random_bytes.length < 15: return null)"
            }
            (Profile::Android, Row::E9) => {
                "Telegram Android SecretChatHelper.java decryptMessage, processDecryptedObject (unknown object: return null after the seq update)"
            }
            (Profile::Android, Row::L3) => "Telegram Android SecretChatHelper.java applyPeerLayer",
            (Profile::Android, Row::S3) => {
                "Telegram Android SecretChatHelper.java decryptMessage (no parity check: out_seq_no <= seq_in, seq_in != out_seq_no - 2 → sendResendMessage, secretHolesQueue)"
            }
            (Profile::Android, Row::S5) => {
                "Telegram Android SecretChatHelper.java sendResendMessage (requestedHoles: one Resend per start), decryptMessage"
            }
            (Profile::Android, Row::S4) => {
                "Telegram Android SecretChatHelper.java decryptMessage, checkSecretHoles (chat.in_seq_no = layer.in_seq_no, never checked)"
            }
            (Profile::Android, Row::S7) => {
                "Telegram Android SecretChatHelper.java decryptMessage (secretHolesQueue: arr.size() >= 4 → TL_encryptedChatDiscarded, declineSecretChat)"
            }
            (Profile::Android, Row::S8) => {
                "Telegram Android SecretChatHelper.java processDecryptedObject (ActionResend: reached only in order, from decryptMessage or checkSecretHoles)"
            }
            (Profile::Android, Row::R1) => {
                "Telegram Android SecretChatHelper.java processDecryptedObject (ActionResend: end < in_seq_no or end < start → ignored, start raised to in_seq_no), resendMessages (requested_holes, delete placeholders), createDeleteMessage"
            }
            (Profile::Android, Row::K1) => {
                "Telegram Android SecretChatHelper.java performSendEncryptedRequest (key_use_count_out >= 100 or key_create_date a week old, as a message gets its numbers), processDecryptedObject (key_use_count_in >= 120)"
            }
            (Profile::Android, Row::K3) => {
                "Telegram Android SecretChatHelper.java processDecryptedObject (ActionRequestKey/AcceptKey/CommitKey/AbortKey, sendAbortKeyMessage)"
            }
            (Profile::Android, Row::D2) => {
                "Telegram Android SecretChatHelper.java acceptSecretChat, processAcceptedSecretChat, ActionRequestKey/AcceptKey → Utilities.java isGoodGaAndGb (1 < g_x < p − 1)"
            }
            (Profile::Android, Row::F1) => {
                "Telegram Android SecretChatHelper.java processDecryptedObject (media key/iv length != 32: return null)"
            }
            (Profile::Android, Row::M1) => {
                "Telegram Android SecretChatHelper.java processDecryptedObject (ActionSetMessageTTL: ttl < 0 or > 60*60*24*365 → 60*60*24*365)"
            }
            (Profile::Spec, Row::M1) => "SPEC §8.2 (tdlib's max(0, ttl))",
            (Profile::Spec, Row::E1 | Row::E2) => "SPEC §2.5",
            (Profile::Spec, Row::E4) => "SPEC §2.6",
            (Profile::Spec, Row::E7) => "SPEC §2.1 (\"messages with fewer must be ignored\")",
            (Profile::Spec, Row::E9) => "SPEC §5 (an unknown inner message uses up its seq number)",
            (Profile::Spec, Row::L3) => "SPEC §3.4 (\"aborts if the peer's layer decreases\")",
            (Profile::Spec, Row::S3) => "SPEC §3.1",
            (Profile::Spec, Row::S4) => "SPEC §3.4",
            (Profile::Spec, Row::S5) => "SPEC §3.2–3.3",
            (Profile::Spec, Row::S7) => {
                "SPEC §3.2 (aborting on a gap that is not filled is the docs' fallback)"
            }
            (Profile::Spec, Row::S8) => "SPEC §3.3 (\"interpreted immediately on receipt\")",
            (Profile::Spec, Row::R1) => "SPEC §3.3",
            (Profile::Spec, Row::K1) => {
                "SPEC §4 (more than 100 messages or a week, once it encrypted one)"
            }
            (Profile::Spec, Row::K3) => "SPEC §4",
            (Profile::Spec, Row::D2) => "SPEC §1.3",
            (Profile::Spec, Row::F1) => "SPEC §6",
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip_and_unknown_names_are_refused() {
        for profile in Profile::ALL {
            assert_eq!(Profile::from_name(profile.name()), Some(profile));
        }
        assert_eq!(Profile::from_name("Android"), None);
        assert_eq!(Profile::from_name("ios"), None);
        assert_eq!(Profile::names(), "tdlib, android, spec");
    }

    #[test]
    fn the_default_profile_is_tdlib_and_as_strict_as_tdlib_where_tdlib_aborts() {
        assert_eq!(Profile::default(), Profile::Tdlib);
        let tdlib = Profile::Tdlib.rules();
        assert_eq!(tdlib.versions, VersionPolicy::ByLayer);
        assert_eq!(tdlib.undecryptable, OnUndecryptable::Abort);
        // SecretChatActor.cpp check_seq_no l.898, do_inbound_message_encrypted l.840–866.
        assert_eq!(tdlib.layer_decrease, OnLayerDecrease::Abort);
        assert_eq!(tdlib.unknown_constructor, OnUnknownConstructor::Abort);
        // tdlib never checks random_bytes on receipt: the spec's ignore lives in `spec`.
        assert_eq!(tdlib.short_random_bytes, OnShortRandomBytes::Process);
        assert_eq!(
            Profile::Spec.rules().short_random_bytes,
            OnShortRandomBytes::Ignore
        );
    }

    #[test]
    fn every_row_names_a_source_for_every_profile() {
        for row in Row::ALL {
            assert!(!row.decision().is_empty());
            for profile in Profile::ALL {
                assert!(!row.source(profile).is_empty(), "{row} {profile}");
            }
            assert!(row
                .source(Profile::Android)
                .starts_with("Telegram Android SecretChatHelper.java"));
        }
    }

    #[test]
    fn profiles_serialize_by_name() {
        assert_eq!(
            serde_json::to_string(&Profile::Android).unwrap(),
            "\"android\""
        );
        let back: Profile = serde_json::from_str("\"spec\"").unwrap();
        assert_eq!(back, Profile::Spec);
    }
}
