//! Re-keying for perfect forward secrecy: the exchange state machine (SPEC §4).
//!
//! Every so often the two sides run a fresh Diffie-Hellman *inside* the chat, with four
//! ordinary service messages encrypted under the current key. "A" here is whoever starts
//! this exchange, not necessarily the chat's creator:
//!
//! ```text
//!        A                                              B
//!   Idle │ RequestKey{exchange_id, g_a} ───────────────▶ │ Idle
//!        │                                              │ checks g_a, new_key = g_a^b
//!        │ ◀─────────── AcceptKey{exchange_id, g_b, fp} │ AwaitingCommit (may not abort now)
//!  Awai- │ new_key = g_b^a, checks fp                   │
//!  ting- │ CommitKey{exchange_id, fp} ─────────────────▶ │ switches to new_key
//!  Accept│ switches to new_key, keeps the old one       │ (or at the first message that
//!        │                                              │  arrives under new_key)
//!        │ ◀──────────────────────── Noop (new key)     │
//!        │ drops the old key                            │
//! ```
//!
//! If both sides send RequestKey at once, the `exchange_id`s are compared as **signed**
//! 64-bit numbers: the larger one wins, the side with the smaller one answers the other's
//! request (it may reuse its own secret `a` as `b`), equal ids drop both. AbortKey is only
//! honoured while waiting for AcceptKey; after sending AcceptKey a side may not be aborted.
//!
//! The Diffie-Hellman arithmetic is not done here: this module decides what each message
//! means in the current state, and hands the secret exponent (`S`) or the new key back to
//! the chat, which computes and checks. When an exchange may start is [`RekeyPolicy`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::keys::{key_serde, KeyUsage};
use super::profile::RekeyTrigger;
use super::time::UnixTime;
use super::violation::AbortReason;
use crate::key::ChatKey;

/// Where our side of an exchange stands.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "S: Serialize", deserialize = "S: Deserialize<'de>"))]
pub enum Exchange<S> {
    /// No exchange in progress.
    Idle,
    /// We sent `RequestKey{exchange_id, g_a}` and wait for the AcceptKey; `a` is our secret.
    AwaitingAccept { exchange_id: i64, a: S },
    /// We sent `AcceptKey`: the new key is ready and becomes current at CommitKey.
    AwaitingCommit {
        exchange_id: i64,
        #[serde(with = "key_serde")]
        new_key: ChatKey,
    },
}

impl<S> fmt::Debug for Exchange<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What to do with a received `RequestKey`.
#[derive(Debug, PartialEq, Eq)]
pub enum OnRequestKey<S> {
    /// Answer it with AcceptKey. `reuse` is our own secret from a request that lost the
    /// tie-break, which may serve as `b` (saves a fresh exponent).
    Accept { reuse: Option<S> },
    /// Ours wins the tie-break (larger signed exchange_id): ignore theirs, silently.
    IgnoreTheirs,
    /// Equal ids: both exchanges are dropped, silently.
    DropBoth,
}

/// What a received `AbortKey` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnAbortKey {
    /// Our request was refused; we are idle again.
    Aborted,
    /// It names no exchange we know: ignored.
    Ignored,
}

impl<S> Exchange<S> {
    pub fn is_idle(&self) -> bool {
        matches!(self, Exchange::Idle)
    }

    /// A short description of the state, for error messages.
    pub fn describe(&self) -> String {
        match self {
            Exchange::Idle => "no exchange is in progress".to_owned(),
            Exchange::AwaitingAccept { exchange_id, .. } => {
                format!("awaiting AcceptKey for exchange {exchange_id}")
            }
            Exchange::AwaitingCommit { exchange_id, .. } => {
                format!("awaiting CommitKey for exchange {exchange_id}")
            }
        }
    }

    /// The exchange in progress, ours or the peer's (Telegram Android's `chat.exchange_id`).
    pub fn exchange_id(&self) -> Option<i64> {
        match self {
            Exchange::Idle => None,
            Exchange::AwaitingAccept { exchange_id, .. }
            | Exchange::AwaitingCommit { exchange_id, .. } => Some(*exchange_id),
        }
    }

    /// Forgets the exchange in progress, whatever it was (Telegram Android resets
    /// `exchange_id`, `future_auth_key` and `future_key_fingerprint` together).
    pub fn reset(&mut self) {
        *self = Exchange::Idle;
    }

    /// We sent `RequestKey{exchange_id, g_a}`.
    pub fn requested(&mut self, exchange_id: i64, a: S) {
        *self = Exchange::AwaitingAccept { exchange_id, a };
    }

    /// We sent `AcceptKey` for `exchange_id` with `new_key`.
    pub fn accepted(&mut self, exchange_id: i64, new_key: ChatKey) {
        *self = Exchange::AwaitingCommit {
            exchange_id,
            new_key,
        };
    }

    /// The peer sent `RequestKey{exchange_id = theirs}`.
    pub fn on_request_key(&mut self, theirs: i64) -> Result<OnRequestKey<S>, AbortReason> {
        match std::mem::replace(self, Exchange::Idle) {
            Exchange::Idle => Ok(OnRequestKey::Accept { reuse: None }),
            Exchange::AwaitingAccept { exchange_id, a } => {
                // Signed comparison: exchange_id is a TL `long`.
                if exchange_id > theirs {
                    *self = Exchange::AwaitingAccept { exchange_id, a };
                    Ok(OnRequestKey::IgnoreTheirs)
                } else if exchange_id < theirs {
                    Ok(OnRequestKey::Accept { reuse: Some(a) })
                } else {
                    Ok(OnRequestKey::DropBoth)
                }
            }
            busy @ Exchange::AwaitingCommit { .. } => {
                let expected = busy.describe();
                *self = busy;
                Err(AbortReason::UnexpectedRequestKey {
                    exchange_id: theirs,
                    expected,
                })
            }
        }
    }

    /// The peer sent `AcceptKey{exchange_id}`: returns our secret `a` to compute the key.
    pub fn on_accept_key(&mut self, exchange_id: i64) -> Result<S, AbortReason> {
        match std::mem::replace(self, Exchange::Idle) {
            Exchange::AwaitingAccept {
                exchange_id: ours,
                a,
            } if ours == exchange_id => Ok(a),
            other => {
                let expected = other.describe();
                *self = other;
                Err(AbortReason::UnexpectedAcceptKey {
                    got: exchange_id,
                    expected,
                })
            }
        }
    }

    /// The peer sent `CommitKey{exchange_id}`: returns the new key to switch to.
    pub fn on_commit_key(&mut self, exchange_id: i64) -> Result<ChatKey, AbortReason> {
        match std::mem::replace(self, Exchange::Idle) {
            Exchange::AwaitingCommit {
                exchange_id: ours,
                new_key,
            } if ours == exchange_id => Ok(new_key),
            other => {
                let expected = other.describe();
                *self = other;
                Err(AbortReason::UnexpectedCommitKey {
                    got: exchange_id,
                    expected,
                })
            }
        }
    }

    /// A message arrived under the pending key before the CommitKey (it was lost or is
    /// late): the peer has switched, so do we (SPEC §4 step 4). Returns the new key.
    pub fn commit_implicitly(&mut self) -> Option<(i64, ChatKey)> {
        match std::mem::replace(self, Exchange::Idle) {
            Exchange::AwaitingCommit {
                exchange_id,
                new_key,
            } => Some((exchange_id, new_key)),
            other => {
                *self = other;
                None
            }
        }
    }

    /// The pending key of an accepted exchange, to open messages sent under it.
    pub fn pending_key(&self) -> Option<&ChatKey> {
        match self {
            Exchange::AwaitingCommit { new_key, .. } => Some(new_key),
            _ => None,
        }
    }

    /// The peer sent `AbortKey{exchange_id}`.
    pub fn on_abort_key(&mut self, exchange_id: i64) -> Result<OnAbortKey, AbortReason> {
        match self {
            Exchange::AwaitingAccept {
                exchange_id: ours, ..
            } if *ours == exchange_id => {
                *self = Exchange::Idle;
                Ok(OnAbortKey::Aborted)
            }
            Exchange::AwaitingCommit {
                exchange_id: ours, ..
            } if *ours == exchange_id => Err(AbortReason::AbortAfterAccept { exchange_id }),
            _ => Ok(OnAbortKey::Ignored),
        }
    }
}

/// When to start a new exchange (SPEC §4): after `after_messages` messages or
/// `after_seconds` of use. How the two numbers are read — strictly above or at, which
/// counter, and when it is looked at — is the profile's row K1 ([`RekeyTrigger`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyPolicy {
    pub after_messages: u32,
    pub after_seconds: u64,
}

impl Default for RekeyPolicy {
    /// 100 messages or one week, as the official clients do.
    fn default() -> Self {
        Self {
            after_messages: 100,
            after_seconds: 7 * 24 * 3600,
        }
    }
}

/// When a chat looks at whether its key is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A new message has just been given its numbers and sent.
    Sent,
    /// A received message has just been processed.
    Processed,
    /// The time [`RekeyPolicy::deadline`] named has come.
    Timer,
}

impl RekeyPolicy {
    /// Whether a key used like `usage` is due for replacement at `now`, looked at `when`,
    /// as `trigger` reads the policy.
    pub fn is_due(
        &self,
        usage: &KeyUsage,
        now: UnixTime,
        trigger: RekeyTrigger,
        when: Moment,
    ) -> bool {
        let aged = now >= self.deadline(usage);
        match trigger {
            RekeyTrigger::MessagesAbove => usage.messages() > self.after_messages || aged,
            RekeyTrigger::MessagesAboveOnceUsed => {
                usage.encrypted >= 1 && (usage.messages() > self.after_messages || aged)
            }
            RekeyTrigger::SentOrReceived => match when {
                Moment::Sent => usage.encrypted >= self.after_messages || aged,
                Moment::Processed => {
                    usage.decrypted >= self.after_messages.saturating_add(self.after_messages / 5)
                }
                Moment::Timer => false,
            },
        }
    }

    /// The first moment the key is due by age: more than `after_seconds` after it came into
    /// use (every profile reads "a week" as "more than a week").
    pub fn deadline(&self, usage: &KeyUsage) -> UnixTime {
        usage
            .since
            .plus_seconds(self.after_seconds.saturating_add(1))
    }

    /// When a timer should look again, if the profile looks by time at all.
    pub fn timer(&self, usage: &KeyUsage, trigger: RekeyTrigger) -> Option<UnixTime> {
        match trigger {
            RekeyTrigger::SentOrReceived => None,
            RekeyTrigger::MessagesAboveOnceUsed if usage.encrypted == 0 => None,
            _ => Some(self.deadline(usage)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ChatKey {
        ChatKey::from_bytes(&[byte; 256]).unwrap()
    }

    fn awaiting_accept(exchange_id: i64) -> Exchange<&'static str> {
        let mut exchange = Exchange::Idle;
        exchange.requested(exchange_id, "our a");
        exchange
    }

    #[test]
    fn request_key_when_idle_is_accepted() {
        let mut exchange: Exchange<&str> = Exchange::Idle;
        assert_eq!(
            exchange.on_request_key(5),
            Ok(OnRequestKey::Accept { reuse: None })
        );
    }

    #[test]
    fn concurrent_request_with_smaller_id_is_ignored() {
        let mut exchange = awaiting_accept(10);
        assert_eq!(exchange.on_request_key(9), Ok(OnRequestKey::IgnoreTheirs));
        assert!(matches!(
            exchange,
            Exchange::AwaitingAccept {
                exchange_id: 10,
                ..
            }
        ));
    }

    #[test]
    fn concurrent_request_with_larger_id_wins_and_our_secret_is_reused() {
        let mut exchange = awaiting_accept(10);
        assert_eq!(
            exchange.on_request_key(11),
            Ok(OnRequestKey::Accept {
                reuse: Some("our a")
            })
        );
        assert!(exchange.is_idle());
    }

    #[test]
    fn exchange_ids_are_compared_as_signed_numbers() {
        // As unsigned, -1 (0xffff…) would win; as a TL long it is smaller than 1.
        let mut exchange = awaiting_accept(-1);
        assert_eq!(
            exchange.on_request_key(1),
            Ok(OnRequestKey::Accept {
                reuse: Some("our a")
            })
        );
    }

    #[test]
    fn concurrent_requests_with_equal_ids_drop_both() {
        let mut exchange = awaiting_accept(7);
        assert_eq!(exchange.on_request_key(7), Ok(OnRequestKey::DropBoth));
        assert!(exchange.is_idle());
    }

    #[test]
    fn accept_key_for_another_exchange_aborts() {
        let mut exchange = awaiting_accept(7);
        assert_eq!(
            exchange.on_accept_key(8),
            Err(AbortReason::UnexpectedAcceptKey {
                got: 8,
                expected: "awaiting AcceptKey for exchange 7".to_owned()
            })
        );
    }

    #[test]
    fn accept_key_when_idle_aborts() {
        let mut exchange: Exchange<&str> = Exchange::Idle;
        assert_eq!(
            exchange.on_accept_key(8),
            Err(AbortReason::UnexpectedAcceptKey {
                got: 8,
                expected: "no exchange is in progress".to_owned()
            })
        );
    }

    #[test]
    fn matching_accept_key_hands_back_our_secret() {
        let mut exchange = awaiting_accept(7);
        assert_eq!(exchange.on_accept_key(7), Ok("our a"));
        assert!(exchange.is_idle());
    }

    #[test]
    fn commit_key_hands_over_the_pending_key() {
        let mut exchange: Exchange<&str> = Exchange::Idle;
        exchange.accepted(3, key(9));
        assert_eq!(exchange.pending_key(), Some(&key(9)));
        assert_eq!(exchange.on_commit_key(3), Ok(key(9)));
        assert!(exchange.is_idle());
    }

    #[test]
    fn commit_key_when_not_awaiting_one_aborts() {
        let mut exchange = awaiting_accept(3);
        assert_eq!(
            exchange.on_commit_key(3),
            Err(AbortReason::UnexpectedCommitKey {
                got: 3,
                expected: "awaiting AcceptKey for exchange 3".to_owned()
            })
        );
    }

    #[test]
    fn a_message_under_the_pending_key_commits_it() {
        let mut exchange: Exchange<&str> = Exchange::Idle;
        exchange.accepted(3, key(9));
        assert_eq!(exchange.commit_implicitly(), Some((3, key(9))));
        assert_eq!(exchange.commit_implicitly(), None);
    }

    #[test]
    fn abort_key_is_honoured_only_while_awaiting_accept() {
        let mut exchange = awaiting_accept(3);
        assert_eq!(exchange.on_abort_key(4), Ok(OnAbortKey::Ignored));
        assert_eq!(exchange.on_abort_key(3), Ok(OnAbortKey::Aborted));
        assert!(exchange.is_idle());

        let mut accepted: Exchange<&str> = Exchange::Idle;
        accepted.accepted(5, key(1));
        assert_eq!(
            accepted.on_abort_key(5),
            Err(AbortReason::AbortAfterAccept { exchange_id: 5 })
        );
    }

    #[test]
    fn request_key_while_we_accepted_another_aborts() {
        let mut exchange: Exchange<&str> = Exchange::Idle;
        exchange.accepted(5, key(1));
        assert_eq!(
            exchange.on_request_key(6),
            Err(AbortReason::UnexpectedRequestKey {
                exchange_id: 6,
                expected: "awaiting CommitKey for exchange 5".to_owned()
            })
        );
    }

    const TDLIB: RekeyTrigger = RekeyTrigger::MessagesAbove;
    const WEEK: i64 = 7 * 24 * 3600;

    /// tdlib SecretChatActor.cpp run_pfs l.577: `last_message_id + 100 < message_id`,
    /// messages in and out — the 101st message makes the key due, whoever sent it.
    #[test]
    fn tdlib_is_due_after_more_than_100_messages_either_way() {
        let policy = RekeyPolicy::default();
        let mut usage = KeyUsage::new(UnixTime(0));
        usage.decrypted = 100;
        assert!(!policy.is_due(&usage, UnixTime(10), TDLIB, Moment::Processed));
        usage.decrypted = 101;
        assert!(policy.is_due(&usage, UnixTime(10), TDLIB, Moment::Processed));
    }

    /// run_pfs l.578: `last_timestamp + 60 * 60 * 24 * 7 < Time::now()`.
    #[test]
    fn a_key_is_due_only_after_more_than_a_week() {
        let policy = RekeyPolicy::default();
        let usage = KeyUsage::new(UnixTime(1000));
        assert!(!policy.is_due(&usage, UnixTime(1000 + WEEK), TDLIB, Moment::Timer));
        assert!(policy.is_due(&usage, UnixTime(1000 + WEEK + 1), TDLIB, Moment::Timer));
        assert_eq!(policy.timer(&usage, TDLIB), Some(UnixTime(1000 + WEEK + 1)));
    }

    /// SPEC §4: "provided it encrypted at least one message".
    #[test]
    fn the_spec_profile_never_replaces_a_key_that_encrypted_nothing() {
        let spec = RekeyTrigger::MessagesAboveOnceUsed;
        let policy = RekeyPolicy::default();
        let mut usage = KeyUsage::new(UnixTime(0));
        usage.decrypted = 500;
        assert!(!policy.is_due(&usage, UnixTime(100 * WEEK), spec, Moment::Timer));
        assert_eq!(policy.timer(&usage, spec), None);
        usage.encrypted = 1;
        assert!(policy.is_due(&usage, UnixTime(100 * WEEK), spec, Moment::Timer));
    }

    /// Telegram Android SecretChatHelper.java: `key_use_count_out >= 100` or a week-old
    /// key, looked at as a message gets its numbers (performSendEncryptedRequest);
    /// `key_use_count_in >= 120` as one is processed (processDecryptedObject); no timer.
    #[test]
    fn android_counts_sent_and_received_messages_apart_and_has_no_timer() {
        let android = RekeyTrigger::SentOrReceived;
        let policy = RekeyPolicy::default();
        let mut usage = KeyUsage::new(UnixTime(0));
        usage.encrypted = 99;
        usage.decrypted = 119;
        for when in [Moment::Sent, Moment::Processed, Moment::Timer] {
            assert!(!policy.is_due(&usage, UnixTime(10), android, when));
        }
        usage.encrypted = 100;
        assert!(policy.is_due(&usage, UnixTime(10), android, Moment::Sent));
        assert!(!policy.is_due(&usage, UnixTime(10), android, Moment::Processed));
        usage.decrypted = 120;
        assert!(policy.is_due(&usage, UnixTime(10), android, Moment::Processed));
        let old = KeyUsage::new(UnixTime(0));
        assert!(policy.is_due(&old, UnixTime(WEEK + 1), android, Moment::Sent));
        assert!(!policy.is_due(&old, UnixTime(WEEK + 1), android, Moment::Timer));
        assert_eq!(policy.timer(&old, android), None);
    }
}
