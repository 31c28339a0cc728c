//! Re-keying as the chat runs it: starting, answering, switching, dropping (SPEC §4).
//!
//! [`super::rekey`] says what each message means in each state; this part does the rest:
//! the Diffie-Hellman with the chat's `(p, g)` and its checks, the fingerprint checks,
//! the messages to send, and the key switch:
//!
//! * the side that sent CommitKey switches at once and keeps the old key until a message
//!   under the new key arrives from the peer (processed in order);
//! * the side that sent AcceptKey switches at CommitKey, or at the first message under the
//!   new key, and answers with a Noop under the new key so the other side can drop its
//!   old key; it too drops the old key at the first in-order message under the new one.
//!
//! Under the android profile, a re-key message that does not fit is answered with AbortKey
//! instead of closing the chat ([`super::rekey_android`]).
//!
//! A new exchange starts only when none is running, no old key is held, the common layer
//! has PFS (≥ 20), and [`super::rekey::RekeyPolicy`] says the key is due — or on demand
//! with [`SecretChat::rekey_now`].

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use super::agreement::{self, SecretExponent};
use super::events::{ChatEvent, IgnoreReason, SendMethod};
use super::payload::{Payload, ServiceAction};
use super::profile::{OnRekeyMismatch, PublicValueRange, Row};
use super::receive::Failure;
use super::rekey::{Moment, OnAbortKey, OnRequestKey};
use super::time::UnixTime;
use super::violation::AbortReason;
use super::{ChatError, SecretChat};
use crate::key::{ChatKey, KeyFingerprint};

/// What must be processed, in order, before the previous key may be dropped. Until then
/// the peer may still have messages sealed under it on their way — originals sent before
/// its switch, which can arrive after a re-sent copy of an earlier message sealed under the
/// new key — and no new exchange may start (SPEC §4: never start one while another is
/// unfinished).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreviousKeyUntil {
    /// We sent CommitKey as our raw message number `commit` and switched: the peer switches
    /// when it processes it, so its messages with `in_seq_no > commit` are sealed after its
    /// switch.
    PeerProcessed(crate::seq_no::RawSeqNo),
    /// We accepted and switched at the first message under the new key: the peer's
    /// CommitKey, its switch point, has not been processed in order yet.
    CommitKeyProcessed,
}

impl SecretChat {
    /// Whether a message processed in order (opened by the current key) lets the previous
    /// key go: it must come after the peer's switch point.
    pub(super) fn previous_may_go(
        &self,
        in_seq_no: crate::seq_no::RawSeqNo,
        wrapped: bool,
    ) -> bool {
        match self.previous_until {
            None => true,
            Some(PreviousKeyUntil::PeerProcessed(commit)) => wrapped && in_seq_no > commit,
            Some(PreviousKeyUntil::CommitKeyProcessed) => false,
        }
    }

    /// Starts a re-keying exchange now (for scenarios and tests). Returns the exchange_id.
    pub fn rekey_now(
        &mut self,
        now: UnixTime,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.check_established()?;
        self.can_start_rekey()
            .map_err(|why| ChatError::RekeyUnavailable { why })?;
        let a = SecretExponent::generate(rng, &[]);
        // g_a = pow(g, a) mod p, with the chat's original (p, g)
        let g_a = agreement::public_value(&self.dh, &a);
        let exchange_id = rng.next_u64() as i64;
        self.step("rekey", || format!("RequestKey, exchange {exchange_id}"));
        self.send_service(now, ServiceAction::RequestKey { exchange_id, g_a }, rng)?;
        self.exchange.requested(exchange_id, a);
        Ok(exchange_id)
    }

    /// Why an exchange cannot start right now, if it cannot.
    pub(super) fn can_start_rekey(&self) -> Result<(), &'static str> {
        if !self.layers.common().has_pfs() {
            return Err("the common layer is below 20");
        }
        if !self.exchange.is_idle() {
            return Err("another exchange is in progress");
        }
        if self.keys.as_ref().is_some_and(|k| k.holds_previous()) {
            return Err("the previous key is still held");
        }
        Ok(())
    }

    /// Starts an exchange if the key is due, looked at `when` (SPEC §4: 100 messages or a
    /// week; how the profile reads that is its row K1).
    pub(super) fn maybe_start_rekey(
        &mut self,
        now: UnixTime,
        when: Moment,
        rng: &mut (impl RngCore + CryptoRng),
    ) {
        let trigger = self.rules().rekey_trigger;
        let Some(usage) = self.keys.as_ref().map(|keys| *keys.usage()) else {
            return;
        };
        let due = self.config.rekey.is_due(&usage, now, trigger, when);
        if due && self.is_established() && self.can_start_rekey().is_ok() {
            self.decided(Row::K1, || {
                format!(
                    "the key is due ({} sent, {} received, {} s old, looked at {when:?}): RequestKey",
                    usage.encrypted,
                    usage.decrypted,
                    now.seconds_since(usage.since)
                )
            });
            // Cannot fail: established and allowed were both just checked.
            let _ = self.rekey_now(now, rng);
        }
    }

    pub(super) fn send_service(
        &mut self,
        now: UnixTime,
        action: ServiceAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<i64, ChatError> {
        self.send_payload(
            now,
            Payload::Service(action),
            SendMethod::SendEncryptedService,
            rng,
        )
    }

    /// `RequestKey{exchange_id, g_a}` from the peer.
    pub(super) fn on_request_key(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        g_a: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        if self.keys.as_ref().is_some_and(|k| k.holds_previous()) {
            return Err(AbortReason::RequestKeyWhileOldKeyHeld { exchange_id }.into());
        }
        if self.rules().rekey_mismatch == OnRekeyMismatch::AbortKey {
            return self.android_on_request_key(now, exchange_id, g_a, rng);
        }
        let ours = match &self.exchange {
            super::rekey::Exchange::AwaitingAccept { exchange_id, .. } => Some(*exchange_id),
            _ => None,
        };
        match self.exchange.on_request_key(exchange_id)? {
            OnRequestKey::IgnoreTheirs => {
                self.ignore_event(IgnoreReason::RequestKeyLostTieBreak {
                    theirs: exchange_id,
                    ours: ours.unwrap_or_default(),
                });
            }
            OnRequestKey::DropBoth => {
                self.ignore_event(IgnoreReason::RequestKeySameExchangeId { exchange_id });
            }
            OnRequestKey::Accept { reuse } => {
                let b = match reuse {
                    Some(a) => a,
                    None => SecretExponent::generate(rng, &[]),
                };
                // new_key = pow(g_a, b) mod p, after the range checks on g_a
                let new_key = self.compute_key(&b, g_a, "g_a")?;
                let g_b = agreement::public_value(&self.dh, &b);
                let key_fingerprint = new_key.fingerprint();
                self.step("rekey", || {
                    format!("AcceptKey, exchange {exchange_id}, new key {key_fingerprint}")
                });
                self.send_service(
                    now,
                    ServiceAction::AcceptKey {
                        exchange_id,
                        g_b,
                        key_fingerprint,
                    },
                    rng,
                )?;
                self.exchange.accepted(exchange_id, new_key);
            }
        }
        Ok(())
    }

    /// `AcceptKey{exchange_id, g_b, key_fingerprint}` for our request: check, CommitKey, switch.
    pub(super) fn on_accept_key(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        g_b: &[u8],
        announced: KeyFingerprint,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        if self.rules().rekey_mismatch == OnRekeyMismatch::AbortKey {
            return self.android_on_accept_key(now, exchange_id, g_b, announced, rng);
        }
        let a = self.exchange.on_accept_key(exchange_id)?;
        // new_key = pow(g_b, a) mod p, after the range checks on g_b
        let new_key = self.compute_key(&a, g_b, "g_b")?;
        let computed = new_key.fingerprint();
        if computed != announced {
            return Err(AbortReason::NewKeyFingerprintMismatch {
                announced,
                computed,
            }
            .into());
        }
        self.commit(now, exchange_id, new_key, rng)
    }

    /// Our request was answered with a key that checks out: CommitKey, then switch.
    pub(super) fn commit(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        new_key: ChatKey,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let computed = new_key.fingerprint();
        self.exchange.reset();
        self.step("rekey", || format!("CommitKey, exchange {exchange_id}"));
        let commit = self.history.sent();
        // The CommitKey still goes under the old key; everything after under the new one.
        self.send_service(
            now,
            ServiceAction::CommitKey {
                exchange_id,
                key_fingerprint: computed,
            },
            rng,
        )?;
        self.switch_key(now, exchange_id, new_key, false, rng)?;
        self.previous_until = Some(PreviousKeyUntil::PeerProcessed(commit));
        Ok(())
    }

    /// `CommitKey{exchange_id, key_fingerprint}` for the exchange we accepted.
    pub(super) fn on_commit_key(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        announced: KeyFingerprint,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        // Already switched at the first message under the new key: nothing left to do.
        if self.committed == Some((exchange_id, announced)) && self.exchange.is_idle() {
            self.step("rekey", || {
                format!("CommitKey for exchange {exchange_id}: already switched")
            });
            if self.previous_until == Some(PreviousKeyUntil::CommitKeyProcessed) {
                self.previous_until = None;
            }
            return Ok(());
        }
        if self.rules().rekey_mismatch == OnRekeyMismatch::AbortKey
            && self.android_rejects_commit_key(now, exchange_id, announced, rng)?
        {
            return Ok(());
        }
        let new_key = self.exchange.on_commit_key(exchange_id)?;
        let computed = new_key.fingerprint();
        if computed != announced {
            return Err(AbortReason::NewKeyFingerprintMismatch {
                announced,
                computed,
            }
            .into());
        }
        self.switch_key(now, exchange_id, new_key, true, rng)?;
        Ok(())
    }

    /// `AbortKey{exchange_id}`. An AbortKey for the exchange we last switched keys for
    /// comes from a side that had sent AcceptKey or CommitKey for it, which may not abort
    /// (SPEC §4): a violation, as tdlib treats it, not an unknown exchange.
    pub(super) fn on_abort_key(&mut self, exchange_id: i64) -> Result<(), Failure> {
        if self.rules().rekey_mismatch == OnRekeyMismatch::AbortKey {
            self.android_on_abort_key(exchange_id);
            return Ok(());
        }
        let finished = self.committed.is_some_and(|(id, _)| id == exchange_id);
        if finished && self.exchange.is_idle() {
            return Err(AbortReason::AbortAfterCommit { exchange_id }.into());
        }
        match self.exchange.on_abort_key(exchange_id)? {
            OnAbortKey::Aborted => self.emit(ChatEvent::RekeyAborted { exchange_id }),
            OnAbortKey::Ignored => self.ignore_event(IgnoreReason::UnknownAbortKey { exchange_id }),
        }
        Ok(())
    }

    /// Makes `new_key` current. The side that accepted answers with a Noop under the new
    /// key, so the side that committed learns it may drop its old key.
    pub(super) fn switch_key(
        &mut self,
        now: UnixTime,
        exchange_id: i64,
        new_key: ChatKey,
        we_accepted: bool,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        let key_fingerprint = new_key.fingerprint();
        if let Some(keys) = self.keys.as_mut() {
            keys.switch_to(new_key, now);
        }
        self.committed = Some((exchange_id, key_fingerprint));
        self.step("rekey", || {
            format!("switched to key {key_fingerprint} (exchange {exchange_id})")
        });
        self.emit(ChatEvent::KeyChanged {
            exchange_id,
            key_fingerprint,
        });
        if we_accepted {
            self.send_service(now, ServiceAction::Noop, rng)?;
        }
        Ok(())
    }

    /// `key = pow(g_x, exponent) mod p` after the range checks the profile applies to the
    /// peer's `g_x` (row D2): both ranges, or only the mandatory one (Telegram Android),
    /// which the trace notes when it lets through a value the recommended range refuses.
    pub(super) fn compute_key(
        &mut self,
        exponent: &SecretExponent,
        peer_value: &[u8],
        value: &'static str,
    ) -> Result<ChatKey, AbortReason> {
        let range = self.rules().public_values;
        let key = agreement::compute_key(&self.dh, exponent, peer_value, value, range)?;
        if range == PublicValueRange::MandatoryOnly
            && crate::dh::check_recommended_range(self.dh.checked(), peer_value).is_err()
        {
            self.decided(Row::D2, || {
                format!("{value} is outside the recommended range: accepted (mandatory range only)")
            });
        }
        Ok(key)
    }

    fn ignore_event(&mut self, reason: IgnoreReason) {
        self.emit(ChatEvent::Ignored { reason });
    }
}
