//! One incoming message, check by check (SPEC §2.5, §2.6, §3, §5).
//!
//! ```text
//!   encryptedMessage.bytes
//!     │ key_fingerprint → current / previous / pending key     unknown ⇒ ignore
//!     │ open: the versions the profile tries                  fails ⇒ abort (mirrored?),
//!     │                                                         android: ignore
//!     │ decode TL                                              malformed ⇒ abort
//!     │ random_bytes ≥ 15                                      fewer ⇒ ignore
//!     │ bare (layer 8)?  ──▶ drop a replayed random_id, process at once
//!     │ seq numbers: parity, in_seq_no ≤ what we sent          violation ⇒ abort
//!     │ version rules (no v1 at layer ≥ 73 or after v2)        violation ⇒ abort
//!     │                                         (android: none; see super::version)
//!     │ duplicate out_seq_no                                   ⇒ ignore, unseen
//!     │ pending key ⇒ the peer committed: switch now
//!     │ layer ⇒ raise the remote layer
//!     │ Resend ⇒ answer at once, even if queued
//!     │ in order, profile spec: a lower layer than the last    ⇒ abort
//!     ▼ in order ⇒ process, then drain the queue; gap ⇒ queue + Resend
//!
//! Where the profiles differ ([`super::profile`]), the trace line names the profile.
//! ```

use rand::{CryptoRng, RngCore};

use super::codec::{self, Content, MIN_RANDOM_BYTES};
use super::events::{ChatEvent, IgnoreReason, UserAction};
use super::keys::KeySlot;
use super::layer::{self, Layer, RemoteLayerChange};
use super::payload::{Payload, ServiceAction};
use super::profile::{OnLayerDecrease, OnUndecryptable, Row, VersionPolicy};
use super::sequence::Arrival;
use super::time::UnixTime;
use super::violation::AbortReason;
use super::{wire_msg_key, ChatError, Queued, SecretChat, SEEN_BARE_LIMIT};
use crate::envelope::{self, OpenError, Version};
use crate::key::{ChatKey, KeyFingerprint};

impl SecretChat {
    /// An `encryptedMessage(.Service).bytes` arrived. Violations abort the chat (an
    /// [`ChatEvent::Aborted`] and `Err(ChatError::Aborted)`); harmless oddities are
    /// [`ChatEvent::Ignored`].
    pub fn handle_encrypted(
        &mut self,
        now: UnixTime,
        data: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        self.check_established()?;
        match self.receive(now, data, rng) {
            Ok(()) => Ok(()),
            Err(Failure::Violation(reason)) => Err(self.abort(reason)),
            Err(Failure::Caller(error)) => Err(error),
        }
    }

    fn ignore(&mut self, reason: IgnoreReason) {
        self.step("ignore", || format!("{reason:?}"));
        self.emit(ChatEvent::Ignored { reason });
    }

    fn receive(
        &mut self,
        now: UnixTime,
        data: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        // Too short to hold a header and one block: there may not even be a fingerprint.
        let fingerprint =
            envelope::key_fingerprint(data).filter(|_| data.len() >= envelope::MIN_WIRE_LEN);
        let Some(fingerprint) = fingerprint else {
            self.ignore(IgnoreReason::TooShort { len: data.len() });
            return Ok(());
        };
        let Some((slot, key)) = self.key_for(fingerprint) else {
            self.ignore(IgnoreReason::UnknownFingerprint {
                key_fingerprint: fingerprint,
            });
            return Ok(());
        };
        let (tl, version) = match self.open(&key, fingerprint, data) {
            Err(Failure::Violation(reason))
                if self.rules().undecryptable == OnUndecryptable::Drop =>
            {
                self.decided(Row::E4, || {
                    format!(
                        "a message under a key we hold does not open ({reason}): dropped silently"
                    )
                });
                self.ignore(IgnoreReason::Undecryptable {
                    key_fingerprint: fingerprint,
                    error: reason.to_string(),
                });
                return Ok(());
            }
            opened => opened?,
        };
        let sender = self.side.peer();
        self.step("open", || {
            format!(
                "key {fingerprint} ({slot:?}), {version:?} from the {sender:?}: msg_key {} \
                 checked, {} TL bytes",
                hex::encode(wire_msg_key(data)),
                tl.len()
            )
        });
        let inbound = codec::decode(&tl).map_err(|error| AbortReason::Malformed { error })?;
        if inbound.random_bytes_len < MIN_RANDOM_BYTES {
            self.ignore(IgnoreReason::RandomBytesTooShort {
                got: inbound.random_bytes_len,
                min: MIN_RANDOM_BYTES,
            });
            return Ok(());
        }

        let Some(wrapper) = inbound.wrapper else {
            // A bare layer-8 message: no seq numbers, processed at once.
            self.versions
                .check(self.rules().versions, version, Layer::BASE, None)?;
            if let Content::Payload { random_id, .. } = &inbound.content {
                let random_id = *random_id;
                if self.seen_bare.contains(&random_id) {
                    self.ignore(IgnoreReason::DuplicateRandomId { random_id });
                    return Ok(());
                }
                if self.seen_bare.len() >= SEEN_BARE_LIMIT {
                    self.seen_bare.pop_front();
                }
                self.seen_bare.push_back(random_id);
            }
            self.switch_if_pending(now, slot, rng)?;
            let queued = Queued {
                in_seq_no: self.incoming.received().min(self.history.sent()),
                content: inbound.content,
                key_fingerprint: fingerprint,
            };
            return self.process(now, queued, false, rng);
        };

        let seq =
            self.incoming
                .check(wrapper.in_seq_no, wrapper.out_seq_no, self.history.sent())?;
        let expected = self.incoming.received();
        self.step("seq", || {
            format!(
                "in_seq_no wire {} → raw {}, out_seq_no wire {} → raw {}; expecting out raw {}",
                wrapper.in_seq_no.0,
                seq.in_seq_no.0,
                wrapper.out_seq_no.0,
                seq.out_seq_no.0,
                expected.0
            )
        });
        self.versions.check(
            self.rules().versions,
            version,
            wrapper.layer,
            Some(seq.out_seq_no),
        )?;
        if self.incoming.is_duplicate(seq) {
            self.ignore(IgnoreReason::Duplicate {
                out_seq_no: seq.out_seq_no,
            });
            return Ok(());
        }
        self.switch_if_pending(now, slot, rng)?;
        if wrapper.layer.has_seq_no() {
            self.observe_layer(now, wrapper.layer, rng)?;
        }
        // A Resend is answered on arrival, even when it waits behind a gap (SPEC §3.3).
        if let Content::Payload {
            payload:
                Payload::Service(ServiceAction::Resend {
                    start_seq_no,
                    end_seq_no,
                }),
            ..
        } = &inbound.content
        {
            self.answer_resend(*start_seq_no, *end_seq_no, rng)?;
        }
        let queued = Queued {
            in_seq_no: seq.in_seq_no,
            content: inbound.content,
            key_fingerprint: fingerprint,
        };
        match self.incoming.arrive(seq, queued)? {
            Arrival::InOrder(queued) => {
                self.check_layer_decrease(wrapper.layer)?;
                self.versions.processed_in_order(version);
                self.process(now, queued, true, rng)?;
                while let Some(next) = self.incoming.pop_ready()? {
                    self.process(now, next, true, rng)?;
                }
                if !self.incoming.has_gap() {
                    self.resend_retry_at = None;
                }
            }
            Arrival::Queued { out_seq_no, resend } => {
                self.step("seq", || format!("gap: out raw {} queued", out_seq_no.0));
                if let Some(hole) = resend {
                    self.send_resend_request(now, hole, rng)?;
                }
            }
            Arrival::Duplicate { out_seq_no } => {
                self.ignore(IgnoreReason::Duplicate { out_seq_no });
            }
        }
        Ok(())
    }

    /// The key (and which one) a fingerprint names: current, previous or pending.
    fn key_for(&self, fingerprint: KeyFingerprint) -> Option<(KeySlot, ChatKey)> {
        let keys = self.keys.as_ref()?;
        if let Some((slot, key)) = keys.find(fingerprint) {
            return Some((slot, key.clone()));
        }
        self.exchange
            .pending_key()
            .filter(|key| key.fingerprint() == fingerprint)
            .map(|key| (KeySlot::Pending, key.clone()))
    }

    /// Opens with the expected version, then the other (SPEC §2.5), always as sent by the
    /// *peer's* side: a message we sealed ourselves and that came back does not open. When
    /// neither version works, one more try with our own side tells a reflected message
    /// ([`AbortReason::MirroredMessage`]) from a broken one; either way the chat aborts.
    fn open(
        &mut self,
        key: &ChatKey,
        fingerprint: KeyFingerprint,
        data: &[u8],
    ) -> Result<(Vec<u8>, Version), Failure> {
        let sender = self.side.peer();
        let mut failures = Vec::with_capacity(2);
        let policy = self.rules().versions;
        let order = self.versions.try_order(policy, self.layers.common());
        for (attempt, &version) in order.iter().enumerate() {
            if attempt > 0 && policy == VersionPolicy::V2ThenV1UntilFirstInOrderV2 {
                self.decided(Row::E1, || {
                    "MTProto 2.0 failed, tried 1.0 (no MTProto 2.0 message processed yet)"
                        .to_owned()
                });
            }
            match envelope::open(key, version, sender, data) {
                Ok(opened) => {
                    self.step("open", || {
                        format!(
                            "msg_key {} → aes_key {}, aes_iv {}",
                            hex::encode(opened.msg_key().as_bytes()),
                            hex::encode(opened.aes_key_iv().key()),
                            hex::encode(opened.aes_key_iv().iv())
                        )
                    });
                    self.step("tl", || super::explain_tl(opened.tl()));
                    return Ok((opened.into_tl(), version));
                }
                Err(error) => {
                    self.step("open", || {
                        format!("{version:?} from the {sender:?} does not open: {error}")
                    });
                    failures.push(error);
                }
            }
        }
        if policy == VersionPolicy::V2ThenV1UntilFirstInOrderV2 && order.len() == 1 {
            self.decided(Row::E1, || {
                "MTProto 2.0 failed; 1.0 not tried: the first message processed in order was 2.0"
                    .to_owned()
            });
        }
        if envelope::open(key, Version::V2, self.side, data).is_ok() {
            return Err(AbortReason::MirroredMessage.into());
        }
        // The most telling failure: a length or padding rule broken under a matching
        // msg_key says more than a msg_key mismatch under the other version.
        let error = failures
            .iter()
            .copied()
            .find(|error| *error != OpenError::MsgKeyMismatch)
            .unwrap_or(OpenError::MsgKeyMismatch);
        Err(AbortReason::Undecryptable {
            key_fingerprint: fingerprint,
            error,
        }
        .into())
    }

    /// Row L3 of the profiles: a wrapped message processed in order at a lower layer than
    /// the last one. The default keeps the higher layer and processes it (SPEC §5); the
    /// spec profile aborts (SPEC §3.4, as tdlib's `check_seq_no` does).
    fn check_layer_decrease(&mut self, layer: Layer) -> Result<(), Failure> {
        let last = self
            .last_in_order_layer
            .replace(layer.max(self.last_in_order_layer.unwrap_or(layer)));
        let Some(last) = last.filter(|last| layer < *last) else {
            return Ok(());
        };
        match self.rules().layer_decrease {
            OnLayerDecrease::Keep => Ok(()),
            OnLayerDecrease::Abort => {
                self.decided(Row::L3, || {
                    format!("layer {layer} after layer {last}: the peer's layer went down")
                });
                Err(AbortReason::LayerDecreased {
                    from: last,
                    to: layer,
                }
                .into())
            }
        }
    }

    /// A message under the pending key: the peer has committed (SPEC §4 step 4).
    fn switch_if_pending(
        &mut self,
        now: UnixTime,
        slot: KeySlot,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        if slot != KeySlot::Pending {
            return Ok(());
        }
        if let Some((exchange_id, new_key)) = self.exchange.commit_implicitly() {
            self.step("rekey", || {
                format!("message under the new key of exchange {exchange_id}: switching")
            });
            self.switch_key(now, exchange_id, new_key, true, rng)?;
            self.previous_until = Some(super::pfs::PreviousKeyUntil::CommitKeyProcessed);
        }
        Ok(())
    }

    /// Raises the remote layer (SPEC §5) and sends NotifyLayer when case 2 applies.
    pub(super) fn observe_layer(
        &mut self,
        now: UnixTime,
        layer: Layer,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let change = self.layers.observe_remote(layer);
        if let RemoteLayerChange::Raised { from, to } = change {
            self.step("layer", || {
                format!("remote layer raised from {from} to {to}")
            });
            self.emit(ChatEvent::PeerLayerRaised { from, to });
            if let Some(keys) = self.keys.as_mut() {
                keys.note_common_layer(self.layers.common());
            }
            if to > self.layers.own_max() {
                self.emit(ChatEvent::PeerIsNewer {
                    peer_layer: to,
                    own_layer: self.layers.own_max(),
                });
            }
            let age = now.seconds_since(self.created);
            if self.config.notify_when_remote_raised
                && layer::raise_calls_for_notify_layer(change, age)
            {
                self.send_notify_layer(now, rng)?;
            }
        }
        Ok(())
    }

    fn answer_resend(
        &mut self,
        start_seq_no: crate::seq_no::WireSeqNo,
        end_seq_no: crate::seq_no::WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let wanted: Vec<_> = self
            .history
            .resend(start_seq_no, end_seq_no)?
            .into_iter()
            .map(|m| m.out_seq_no)
            .collect();
        self.step("resend", || {
            format!(
                "peer asks for out_seq_no {}..={} ({} messages)",
                start_seq_no.0,
                end_seq_no.0,
                wanted.len()
            )
        });
        let messages = wanted.len();
        for out_seq_no in wanted {
            self.resend_stored(out_seq_no, rng)?;
        }
        self.emit(ChatEvent::PeerAskedForResend {
            start_seq_no,
            end_seq_no,
            messages,
        });
        Ok(())
    }

    /// Processes one message in order (`wrapped`: it carried seq numbers).
    fn process(
        &mut self,
        now: UnixTime,
        queued: Queued,
        wrapped: bool,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        if wrapped {
            self.history.forget_confirmed(queued.in_seq_no);
        }
        let may_go = self.previous_may_go(queued.in_seq_no, wrapped);
        if let Some(keys) = self.keys.as_mut() {
            if queued.key_fingerprint == keys.current().fingerprint() {
                keys.usage_mut().decrypted = keys.usage().decrypted.saturating_add(1);
                // The peer sends under our current key, after its switch point: the previous
                // key is no longer needed.
                if may_go && keys.drop_previous() {
                    self.previous_until = None;
                    self.step("rekey", || "previous key dropped".to_owned());
                }
            }
        }
        match queued.content {
            Content::Payload {
                random_id,
                payload: Payload::Message(message),
            } => self.emit(ChatEvent::MessageReceived { random_id, message }),
            Content::Payload {
                random_id,
                payload: Payload::Service(action),
            } => self.process_action(now, random_id, action, rng)?,
            // Its seq number is used up; its content is not for us.
            Content::Undecodable { error } => {
                self.ignore(IgnoreReason::UndecodableMessage { error })
            }
        }
        self.maybe_start_rekey(now, rng);
        Ok(())
    }

    fn process_action(
        &mut self,
        now: UnixTime,
        random_id: i64,
        action: ServiceAction,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let user = |action| ChatEvent::ActionReceived { random_id, action };
        match action {
            ServiceAction::SetMessageTtl { ttl_seconds } => {
                self.emit(user(UserAction::SetMessageTtl { ttl_seconds }))
            }
            ServiceAction::ReadMessages { random_ids } => {
                self.emit(user(UserAction::ReadMessages { random_ids }))
            }
            ServiceAction::DeleteMessages { random_ids } => {
                self.emit(user(UserAction::DeleteMessages { random_ids }))
            }
            ServiceAction::ScreenshotMessages { random_ids } => {
                self.emit(user(UserAction::ScreenshotMessages { random_ids }))
            }
            ServiceAction::FlushHistory => self.emit(user(UserAction::FlushHistory)),
            ServiceAction::Typing { action } => self.emit(user(UserAction::Typing { action })),
            // Already answered on arrival.
            ServiceAction::Resend { .. } => {}
            ServiceAction::NotifyLayer { layer } => self.observe_layer(now, layer, rng)?,
            ServiceAction::RequestKey { exchange_id, g_a } => {
                self.on_request_key(now, exchange_id, &g_a, rng)?
            }
            ServiceAction::AcceptKey {
                exchange_id,
                g_b,
                key_fingerprint,
            } => self.on_accept_key(now, exchange_id, &g_b, key_fingerprint, rng)?,
            ServiceAction::CommitKey {
                exchange_id,
                key_fingerprint,
            } => self.on_commit_key(now, exchange_id, key_fingerprint, rng)?,
            ServiceAction::AbortKey { exchange_id } => self.on_abort_key(exchange_id)?,
            ServiceAction::Noop => {}
        }
        Ok(())
    }
}

/// Why receiving stopped: the peer broke a rule, or sending the answer failed.
#[derive(Debug)]
pub(super) enum Failure {
    Violation(AbortReason),
    Caller(ChatError),
}

impl From<AbortReason> for Failure {
    fn from(reason: AbortReason) -> Self {
        Failure::Violation(reason)
    }
}

impl From<ChatError> for Failure {
    fn from(error: ChatError) -> Self {
        Failure::Caller(error)
    }
}
