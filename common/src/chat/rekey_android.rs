//! Re-key messages that do not fit the exchange, as Telegram Android answers them (rows
//! K3–K7 of the profiles, `SecretChatHelper.java` `processDecryptedObject`).
//!
//! tdlib closes the chat on every one of them ([`super::pfs`]). Android keeps one
//! `exchange_id` for whatever exchange is in progress (its own or the peer's) and answers
//! a message that does not fit with `decryptedMessageActionAbortKey`, forgetting the
//! exchange, and goes on with the old key:
//!
//! ```text
//!   RequestKey{theirs}   exchange in progress, ours > theirs   ignored
//!                        ours ≤ theirs                          AbortKey{ours}, then accept theirs
//!                        g_a outside 1 < g_a < p − 1            AbortKey{theirs}
//!   AcceptKey{theirs}    not our request, bad g_b, or a fingerprint that is not the key's
//!                                                               reset, AbortKey{theirs}
//!   CommitKey{theirs}    not the exchange we accepted, or a fingerprint that is not the
//!                        key's                                  reset, AbortKey{theirs}
//!   AbortKey{theirs}     the exchange in progress               reset; any other: ignored
//! ```
//!
//! The messages that do fit go the common way ([`super::pfs`]).

use rand::{CryptoRng, RngCore};

use super::agreement::{self, SecretExponent};
use super::events::{ChatEvent, IgnoreReason};
use super::payload::ServiceAction;
use super::profile::Row;
use super::receive::Failure;
use super::rekey::Exchange;
use super::time::UnixTime;
use super::SecretChat;
use crate::key::KeyFingerprint;

impl SecretChat {
    /// Android's answer to a re-key message that does not fit: `AbortKey{exchange_id}`,
    /// the exchange in progress forgotten, the old key kept.
    fn reject_key(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        why: String,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        self.decided(Row::K3, || {
            format!("{why}: AbortKey for exchange {exchange_id}, the chat goes on")
        });
        self.exchange.reset();
        self.send_service(now, ServiceAction::AbortKey { exchange_id }, rng)?;
        self.emit(ChatEvent::RekeyRejected { exchange_id, why });
        Ok(())
    }

    /// `RequestKey{theirs, g_a}` under the android profile.
    pub(super) fn android_on_request_key(
        &mut self,
        now: UnixTime,
        theirs: i64,
        g_a: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        if let Some(ours) = self.exchange.exchange_id() {
            if ours > theirs {
                self.decided(Row::K3, || {
                    format!("RequestKey {theirs} while exchange {ours} (larger) is in progress: ignored")
                });
                self.emit(ChatEvent::Ignored {
                    reason: IgnoreReason::RequestKeyLostTieBreak { theirs, ours },
                });
                return Ok(());
            }
            self.reject_key(
                now,
                ours,
                format!("RequestKey {theirs} while exchange {ours} is in progress"),
                rng,
            )?;
        }
        let b = SecretExponent::generate(rng, &[]);
        // new_key = pow(g_a, b) mod p, after the range check on g_a
        let new_key = match self.compute_key(&b, g_a, "g_a") {
            Ok(key) => key,
            Err(reason) => return self.reject_key(now, theirs, reason.to_string(), rng),
        };
        let g_b = agreement::public_value(&self.dh, &b);
        let key_fingerprint = new_key.fingerprint();
        self.send_service(
            now,
            ServiceAction::AcceptKey {
                exchange_id: theirs,
                g_b,
                key_fingerprint,
            },
            rng,
        )?;
        self.exchange.accepted(theirs, new_key);
        Ok(())
    }

    /// `AcceptKey{theirs, g_b, fingerprint}` under the android profile.
    pub(super) fn android_on_accept_key(
        &mut self,
        now: UnixTime,
        theirs: i64,
        g_b: &[u8],
        announced: KeyFingerprint,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let Exchange::AwaitingAccept { exchange_id, a } = &self.exchange else {
            let state = self.exchange.describe();
            return self.reject_key(
                now,
                theirs,
                format!("AcceptKey {theirs} while {state}"),
                rng,
            );
        };
        if *exchange_id != theirs {
            let ours = *exchange_id;
            return self.reject_key(
                now,
                theirs,
                format!("AcceptKey {theirs} while awaiting AcceptKey for {ours}"),
                rng,
            );
        }
        let a = a.clone();
        let new_key = match self.compute_key(&a, g_b, "g_b") {
            Ok(key) => key,
            Err(reason) => return self.reject_key(now, theirs, reason.to_string(), rng),
        };
        let computed = new_key.fingerprint();
        if computed != announced {
            return self.reject_key(
                now,
                theirs,
                format!("AcceptKey announces key {announced}, the new key is {computed}"),
                rng,
            );
        }
        self.commit(now, theirs, new_key, rng)
    }

    /// `CommitKey{theirs, fingerprint}` under the android profile; `Ok(false)` when it
    /// fits and the common path should switch.
    pub(super) fn android_rejects_commit_key(
        &mut self,
        now: UnixTime,
        theirs: i64,
        announced: KeyFingerprint,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<bool, Failure> {
        let fits = matches!(
            &self.exchange,
            Exchange::AwaitingCommit { exchange_id, new_key }
                if *exchange_id == theirs && new_key.fingerprint() == announced
        );
        if fits {
            return Ok(false);
        }
        let state = self.exchange.describe();
        self.reject_key(
            now,
            theirs,
            format!("CommitKey {theirs} with key {announced} while {state}"),
            rng,
        )?;
        Ok(true)
    }

    /// `AbortKey{theirs}` under the android profile: it ends the exchange in progress if
    /// it names it, and is ignored otherwise — after the switch too.
    pub(super) fn android_on_abort_key(&mut self, theirs: i64) {
        if self.exchange.exchange_id() == Some(theirs) {
            self.exchange.reset();
            self.emit(ChatEvent::RekeyAborted {
                exchange_id: theirs,
            });
            return;
        }
        self.decided(Row::K3, || {
            format!("AbortKey {theirs} names no exchange in progress: ignored")
        });
        self.emit(ChatEvent::Ignored {
            reason: IgnoreReason::UnknownAbortKey {
                exchange_id: theirs,
            },
        });
    }
}
