//! One incoming message, check by check (SPEC §2.5, §2.6, §3, §5).
//!
//! ```text
//!   encryptedMessage.bytes
//!     │ key_fingerprint → current / previous / pending key     unknown ⇒ ignore
//!     │ open: the versions the profile tries                  fails ⇒ abort (mirrored?),
//!     │                                                         android: ignore
//!     │ decode TL                                              malformed ⇒ abort
//!     │   unknown inner constructor (tdlib: abort; others: ignore below, seq used up)
//!     │ random_bytes ≥ 15                  fewer ⇒ ignore (tdlib: no check, processed)
//!     │ bare (layer 8)?  ──▶ drop a replayed random_id, process at once
//!     │ seq numbers: parity, in_seq_no ≤ what we sent          violation ⇒ abort
//!     │   (android: out_seq_no parity unchecked — old, or a gap that never fills;
//!     │    in_seq_no not checked at all)
//!     │ version rules (no v1 at layer ≥ 73 or after v2)        violation ⇒ abort
//!     │                                         (android: none; see super::version)
//!     │ duplicate out_seq_no                                   ⇒ ignore, unseen
//!     │ pending key ⇒ the peer committed: switch now
//!     │ layer ⇒ raise the remote layer
//!     │ Resend ⇒ answer at once, even if queued (android: when its turn comes;
//!     │   it fills what it does not hold with messages deleting themselves)
//!     │ in order, tdlib and spec: a lower layer than the last  ⇒ abort
//!     ▼ in order ⇒ process, then drain the queue; gap ⇒ queue + Resend
//!
//! Where the profiles differ ([`super::profile`]), the trace line names the profile.
//! ```

use rand::{CryptoRng, RngCore};

use super::codec::{self, Content, MIN_RANDOM_BYTES};
use super::events::{ChatEvent, IgnoreReason, UserAction};
use super::history::{Fill, Refill};
use super::keys::KeySlot;
use super::layer::{self, Layer, RemoteLayerChange};
use super::payload::{Payload, ServiceAction};
use super::profile::{
    GapResend, OnBadMediaKey, OnLayerDecrease, OnResend, OnShortRandomBytes, OnUndecryptable,
    OnUnknownConstructor, OnWrongParity, ResendTiming, Row, TtlRange, VersionPolicy,
};
use super::rekey::Moment;
use super::sequence::{Arrival, Misparity};
use super::time::UnixTime;
use super::violation::AbortReason;
use super::{wire_msg_key, ChatError, Queued, SecretChat, SEEN_BARE_LIMIT};
use crate::envelope::{self, OpenError, Version};
use crate::key::{ChatKey, KeyFingerprint};
use crate::seq_no::{SeqField, WireSeqNo};

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
        let rules = self.rules();
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
            Err(Failure::Violation(reason)) if rules.undecryptable == OnUndecryptable::Drop => {
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
        if let Content::Undecodable { error } = &inbound.content {
            if rules.unknown_constructor == OnUnknownConstructor::Abort {
                self.decided(Row::E9, || {
                    format!("the inner message does not decode ({error}): a fatal parse error")
                });
                return Err(AbortReason::UndecodableInnerMessage {
                    error: error.clone(),
                }
                .into());
            }
        }
        if inbound.random_bytes_len < MIN_RANDOM_BYTES {
            let got = inbound.random_bytes_len;
            match rules.short_random_bytes {
                OnShortRandomBytes::Ignore => {
                    self.decided(Row::E7, || {
                        format!("random_bytes of {got} bytes, fewer than {MIN_RANDOM_BYTES}: ignored, no seq number used")
                    });
                    self.ignore(IgnoreReason::RandomBytesTooShort {
                        got,
                        min: MIN_RANDOM_BYTES,
                    });
                    return Ok(());
                }
                OnShortRandomBytes::Process => self.decided(Row::E7, || {
                    format!("random_bytes of {got} bytes, fewer than {MIN_RANDOM_BYTES}: not checked, processed")
                }),
            }
        }

        let Some(wrapper) = inbound.wrapper else {
            // A bare layer-8 message: no seq numbers, processed at once.
            self.versions
                .check(rules.versions, version, Layer::BASE, None)?;
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
                layer: None,
            };
            return self.process(now, queued, false, rng);
        };

        if rules.wrong_parity == OnWrongParity::HoldAsGap
            && wrapper
                .out_seq_no
                .to_raw(SeqField::Out, self.side.peer())
                .is_err()
        {
            return self.hold_misparity(now, wrapper.out_seq_no, rng);
        }
        let seq = self.incoming.check(
            wrapper.in_seq_no,
            wrapper.out_seq_no,
            self.history.sent(),
            &rules,
        )?;
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
        self.versions
            .check(rules.versions, version, wrapper.layer, Some(seq.out_seq_no))?;
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
        // A Resend is answered on arrival, even when it waits behind a gap (SPEC §3.3) —
        // or, under a profile that answers it in order, when its turn comes (row S8).
        let resend = match &inbound.content {
            Content::Payload {
                payload:
                    Payload::Service(ServiceAction::Resend {
                        start_seq_no,
                        end_seq_no,
                    }),
                ..
            } => Some((*start_seq_no, *end_seq_no)),
            _ => None,
        };
        if let (Some((start, end)), ResendTiming::OnArrival) = (resend, rules.resend_timing) {
            self.answer_resend(start, end, rng)?;
        }
        let queued = Queued {
            in_seq_no: seq.in_seq_no,
            content: inbound.content,
            key_fingerprint: fingerprint,
            layer: Some(wrapper.layer),
        };
        match self.incoming.arrive(seq, queued, &rules)? {
            Arrival::InOrder(queued) => {
                self.versions.processed_in_order(version);
                self.process(now, queued, true, rng)?;
                while let Some(next) = self.incoming.pop_ready(&rules)? {
                    self.process(now, next, true, rng)?;
                }
                if !self.incoming.has_gap() {
                    self.resend_retry_at = None;
                }
            }
            Arrival::Queued {
                out_seq_no,
                resend: hole,
            } => {
                self.step("seq", || format!("gap: out raw {} queued", out_seq_no.0));
                if resend.is_some() && rules.resend_timing == ResendTiming::InOrder {
                    self.decided(Row::S8, || {
                        "a Resend behind a gap: answered when its turn comes".to_owned()
                    });
                }
                match hole {
                    Some(hole) => {
                        self.send_resend_request(now, hole.start_seq_no, hole.end_seq_no, rng)?
                    }
                    None if rules.gap_resend == GapResend::OncePerStart => {
                        let start = self.incoming.received();
                        self.decided(Row::S5, || {
                            format!(
                                "a Resend from raw {} was sent already: not asked again",
                                start.0
                            )
                        });
                    }
                    None => {}
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

    /// Row S3 of the profiles, Telegram Android: an out_seq_no with our parity is not
    /// refused; compared as a plain number it is old (dropped) or behind a gap, which is
    /// asked for (an inverted range) and never fills.
    fn hold_misparity(
        &mut self,
        now: UnixTime,
        out_seq_no: WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let misparity = self.incoming.misparity(out_seq_no)?;
        let held = matches!(misparity, Misparity::Held { .. });
        self.decided(Row::S3, || {
            format!(
                "out_seq_no {} has our parity: not checked, {}",
                out_seq_no.0,
                if held {
                    "a gap that never fills"
                } else {
                    "old"
                }
            )
        });
        if let Misparity::Held {
            resend: Some((start, end)),
        } = misparity
        {
            self.send_resend_request(now, start, end, rng)?;
        }
        self.ignore(IgnoreReason::WrongParity { out_seq_no, held });
        Ok(())
    }

    /// Row L3 of the profiles: a wrapped message processed in order at a lower layer than
    /// the last one. tdlib (`check_seq_no`) and the spec profile (SPEC §3.4) abort;
    /// Android keeps the higher layer and processes it (SPEC §5's "only ever raised").
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

    /// Answers the peer's `decryptedMessageActionResend` as the profile does (rows R1–R5).
    fn answer_resend(
        &mut self,
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        let answered = match self.rules().resend {
            OnResend::Strict => Some(self.resend_held(start_seq_no, end_seq_no, rng)?),
            OnResend::FillWithDeletes => self.resend_or_fill(start_seq_no, end_seq_no, rng)?,
        };
        if let Some((messages, placeholders)) = answered {
            self.emit(ChatEvent::PeerAskedForResend {
                start_seq_no,
                end_seq_no,
                messages,
                placeholders,
            });
        }
        Ok(())
    }

    /// The strict answer: every message asked for is one we hold (else the chat aborts);
    /// returns how many went out again, and no placeholders.
    fn resend_held(
        &mut self,
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(usize, usize), Failure> {
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
        for &out_seq_no in &wanted {
            self.resend_stored(out_seq_no, rng)?;
        }
        Ok((wanted.len(), 0))
    }

    /// Telegram Android's answer (`resendMessages`): what we hold goes out again, every
    /// other number as a message deleting itself; `None` when the request is dropped.
    fn resend_or_fill(
        &mut self,
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Option<(usize, usize)>, Failure> {
        let fill = self.history.fill_with_deletes(start_seq_no, end_seq_no);
        if let Err(AbortReason::ResendTooLarge { count, max }) = &fill {
            let (count, max) = (*count, *max);
            self.decided(Row::R1, || {
                format!("Resend for {count} numbers: the model stops at {max} and closes the chat (Telegram Android would send them all)")
            });
        }
        let (from, refills) = match fill? {
            Fill::Ignored(why) => {
                self.decided(Row::R1, || {
                    format!(
                        "Resend {}..={}: not answered, {why}",
                        start_seq_no.0, end_seq_no.0
                    )
                });
                self.ignore(IgnoreReason::ResendNotAnswered {
                    start_seq_no,
                    end_seq_no,
                    why: why.to_owned(),
                });
                return Ok(None);
            }
            Fill::Answered {
                start_seq_no: from,
                refills,
            } => (from, refills),
        };
        let held = refills
            .iter()
            .filter(|r| matches!(r, Refill::Held { .. }))
            .count();
        let filled = refills.len() - held;
        self.decided(Row::R1, || {
            format!(
                "Resend {}..={} answered from {}: {held} held re-sent, \
                 {filled} delete placeholders for numbers we do not hold",
                start_seq_no.0, end_seq_no.0, from.0
            )
        });
        for refill in refills {
            match refill {
                Refill::Held { out_seq_no } => self.resend_stored(out_seq_no, rng)?,
                Refill::Placeholder {
                    out_seq_no,
                    in_seq_no,
                } => self.send_placeholder(in_seq_no, out_seq_no, rng)?,
            }
        }
        Ok(Some((held, filled)))
    }

    /// Row M1: the chat TTL a received `SetMessageTTL` sets, or `None` when it shows
    /// nothing (tdlib: a negative one).
    fn chat_ttl(&mut self, ttl_seconds: i32) -> Option<i32> {
        const YEAR: i32 = 365 * 24 * 3600;
        if (0..=YEAR).contains(&ttl_seconds) {
            return Some(ttl_seconds);
        }
        match self.rules().ttl {
            TtlRange::NonNegative if ttl_seconds < 0 => {
                self.decided(Row::M1, || {
                    format!("a chat TTL of {ttl_seconds} s: no self-destruct time, not shown")
                });
                None
            }
            TtlRange::NonNegative => Some(ttl_seconds),
            TtlRange::ClampToYear => {
                self.decided(Row::M1, || {
                    format!("a chat TTL of {ttl_seconds} s: clamped to a year ({YEAR} s)")
                });
                Some(YEAR)
            }
        }
    }

    /// Processes one message in order (`wrapped`: it carried seq numbers).
    fn process(
        &mut self,
        now: UnixTime,
        queued: Queued,
        wrapped: bool,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), Failure> {
        if let Some(layer) = queued.layer {
            self.check_layer_decrease(layer)?;
        }
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
            } if self.rules().bad_media_key == OnBadMediaKey::DropMessage
                && message
                    .media
                    .as_ref()
                    .is_some_and(|m| m.is_file_with_bad_key()) =>
            {
                self.decided(Row::F1, || {
                    "media key or IV not 32 bytes: the whole message is dropped".to_owned()
                });
                self.ignore(IgnoreReason::MediaKeyLength { random_id });
            }
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
        self.maybe_start_rekey(now, Moment::Processed, rng);
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
                if let Some(ttl_seconds) = self.chat_ttl(ttl_seconds) {
                    self.emit(user(UserAction::SetMessageTtl { ttl_seconds }))
                }
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
            ServiceAction::Resend {
                start_seq_no,
                end_seq_no,
            } => {
                // Answered on arrival, unless the profile answers it in order (row S8).
                if self.rules().resend_timing == ResendTiming::InOrder {
                    self.answer_resend(start_seq_no, end_seq_no, rng)?
                }
            }
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
