//! The incoming side of sequence numbers: in order, duplicate, or behind a gap (SPEC §3.2–3.4).
//!
//! Every wrapped message carries the sender's two counters. This tracker keeps `C`, the
//! raw `out_seq_no` of the last message processed in order, and sorts each arrival:
//!
//! ```text
//!   raw out_seq_no ≤ C       duplicate: drop it without looking inside (it may be a
//!                            self-delete rewrite of a message we already have, §3.5)
//!   raw out_seq_no = C + 1   in order: process it, C := C + 1, then drain the queue
//!   raw out_seq_no > C + 1   gap: queue it and ask for the hole with
//!                            decryptedMessageActionResend{start_seq_no, end_seq_no}
//!                            (both in the sender's wire form, one Resend per hole)
//! ```
//!
//! `in_seq_no` says how many of *our* messages the sender had processed. It may never go
//! down and may never exceed what we have sent; either is a violation that aborts the chat,
//! as is a parity bit that does not match the sender's role (a mirrored message).
//!
//! The tracker is generic over the queued item so it can be tested with plain numbers and
//! used by the chat with decoded messages. It never asks for the same seq numbers twice on
//! its own; [`IncomingSequence::holes`] lists what is still missing for a retry timer.
//!
//! Three profile rows live here ([`super::profile`]): how a gap is asked for (S5 —
//! [`GapResend::PerHole`], or Telegram Android's one Resend per start number,
//! [`GapResend::OncePerStart`]), Android's unchecked `out_seq_no` parity (S3,
//! [`IncomingSequence::misparity`]) and its unchecked `in_seq_no` (S4,
//! [`InSeqNoCheck::Unchecked`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::profile::{GapResend, InSeqNoCheck, Rules};
use super::violation::AbortReason;
use crate::seq_no::{RawSeqNo, SeqField, WireSeqNo};
use crate::side::Side;

/// How many messages may wait behind a hole before we give up on the chat (the tdlib and
/// spec profiles; tdlib itself sets no limit, Telegram Android gives up at 4: row S7).
pub const MAX_QUEUED: usize = 1000;

/// A `decryptedMessageActionResend` to send: the missing raw numbers and their wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendRequest {
    pub start_raw: RawSeqNo,
    pub end_raw: RawSeqNo,
    /// `start_seq_no`, in the remote sender's transformed form.
    pub start_seq_no: WireSeqNo,
    /// `end_seq_no`, in the remote sender's transformed form.
    pub end_seq_no: WireSeqNo,
}

/// What to do with an arriving message.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival<T> {
    /// Next in order: process it now (then call [`IncomingSequence::pop_ready`] until empty).
    InOrder(T),
    /// Already processed (or already waiting in the queue): drop it unseen.
    Duplicate { out_seq_no: RawSeqNo },
    /// Behind a hole: it has been queued. `resend` is the request to send, if this hole has
    /// not been asked for yet.
    Queued {
        out_seq_no: RawSeqNo,
        resend: Option<ResendRequest>,
    },
}

/// A message's two counters after their parity checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedSeqNo {
    pub in_seq_no: RawSeqNo,
    pub out_seq_no: RawSeqNo,
}

/// The receive-side sequence state of one chat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct IncomingSequence<T> {
    /// Role of the side whose messages we receive (decides the parity bits).
    sender: Side,
    /// `C + 1`: the raw out_seq_no we expect next = how many messages we have processed.
    next_out: RawSeqNo,
    /// The highest in_seq_no processed so far (it must never decrease).
    last_in: RawSeqNo,
    /// Messages waiting behind a hole, by raw out_seq_no.
    queue: BTreeMap<u32, (CheckedSeqNo, T)>,
    /// The highest raw out_seq_no we have already asked for with a Resend.
    requested_up_to: Option<RawSeqNo>,
    /// [`GapResend::OncePerStart`]: the raw start numbers already asked for (Android's
    /// `requestedHoles`, never cleared while the chat runs).
    #[serde(default)]
    requested_starts: BTreeSet<u32>,
}

/// Where an out_seq_no with the wrong parity falls when parity is not checked (Telegram
/// Android compares the wire numbers as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misparity {
    /// Not above the last number processed: dropped as old.
    Old,
    /// Above it, but never the next one: a gap. `resend` is the Resend Android sends, from
    /// the next expected wire number to `out_seq_no − 2` (inverted when the two are
    /// adjacent), unless a Resend with that start was already sent.
    Held {
        resend: Option<(WireSeqNo, WireSeqNo)>,
    },
}

impl<T> IncomingSequence<T> {
    /// A tracker for messages sent by `sender`.
    pub fn new(sender: Side) -> Self {
        Self {
            sender,
            next_out: RawSeqNo(0),
            last_in: RawSeqNo(0),
            queue: BTreeMap::new(),
            requested_up_to: None,
            requested_starts: BTreeSet::new(),
        }
    }

    /// How many of the peer's messages we have processed (our `in_seq_no`, raw).
    pub fn received(&self) -> RawSeqNo {
        self.next_out
    }

    /// How many messages wait behind a hole.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether anything is missing below a queued message.
    pub fn has_gap(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Checks the parity of both fields (SPEC §3.1) and that `in_seq_no` does not exceed
    /// the `sent` messages we have sent (SPEC §3.4). Every arriving message goes through
    /// this first, whatever its position. Under [`InSeqNoCheck::Unchecked`] only
    /// `out_seq_no` is checked; `in_seq_no` is read as it comes (a wrong parity counts as
    /// the number below it, a negative one as 0).
    pub fn check(
        &self,
        in_seq_no: WireSeqNo,
        out_seq_no: WireSeqNo,
        sent: RawSeqNo,
        rules: &Rules,
    ) -> Result<CheckedSeqNo, AbortReason> {
        let out_raw = out_seq_no
            .to_raw(SeqField::Out, self.sender)
            .map_err(AbortReason::SeqNo)?;
        let in_raw = match rules.in_seq_no {
            InSeqNoCheck::Checked => {
                let in_raw = in_seq_no
                    .to_raw(SeqField::In, self.sender)
                    .map_err(AbortReason::SeqNo)?;
                if in_raw > sent {
                    return Err(AbortReason::InSeqNoBeyondSent { got: in_raw, sent });
                }
                in_raw
            }
            InSeqNoCheck::Unchecked => {
                let x = i64::from(SeqField::In.parity(self.sender));
                let raw = (i64::from(in_seq_no.0) - x).max(0) / 2;
                RawSeqNo(u32::try_from(raw).unwrap_or(u32::MAX))
            }
        };
        Ok(CheckedSeqNo {
            in_seq_no: in_raw,
            out_seq_no: out_raw,
        })
    }

    /// Whether a checked message was already processed or is already queued.
    pub fn is_duplicate(&self, seq: CheckedSeqNo) -> bool {
        seq.out_seq_no < self.next_out || self.queue.contains_key(&seq.out_seq_no.0)
    }

    /// Sorts a checked message: in order, duplicate, or queued behind a hole; a hole is
    /// asked for as `policy` says.
    pub fn arrive(
        &mut self,
        seq: CheckedSeqNo,
        item: T,
        rules: &Rules,
    ) -> Result<Arrival<T>, AbortReason> {
        if self.is_duplicate(seq) {
            return Ok(Arrival::Duplicate {
                out_seq_no: seq.out_seq_no,
            });
        }
        if seq.out_seq_no == self.next_out {
            self.advance(seq, rules)?;
            return Ok(Arrival::InOrder(item));
        }
        if self.queue.len() >= rules.max_queued {
            return Err(AbortReason::TooManyQueued {
                limit: rules.max_queued,
            });
        }
        self.queue.insert(seq.out_seq_no.0, (seq, item));
        let resend = match rules.gap_resend {
            GapResend::PerHole => self.request_for_hole_below(seq.out_seq_no)?,
            GapResend::OncePerStart => self
                .request_once_per_start(RawSeqNo(seq.out_seq_no.0 - 1))
                .map(|(start, end)| self.request(start, end))
                .transpose()?,
        };
        Ok(Arrival::Queued {
            out_seq_no: seq.out_seq_no,
            resend,
        })
    }

    /// The next queued message whose turn has come, if any (call until `None` after every
    /// in-order message).
    pub fn pop_ready(&mut self, rules: &Rules) -> Result<Option<T>, AbortReason> {
        let Some(entry) = self.queue.first_entry() else {
            return Ok(None);
        };
        if *entry.key() != self.next_out.0 {
            return Ok(None);
        }
        let (seq, item) = entry.remove();
        self.advance(seq, rules)?;
        Ok(Some(item))
    }

    /// Every hole still open, as Resend requests (for a retry after a lost Resend).
    pub fn holes(&self) -> Result<Vec<ResendRequest>, AbortReason> {
        let mut holes = Vec::new();
        let mut expected = self.next_out;
        for &raw in self.queue.keys() {
            if raw > expected.0 {
                holes.push(self.request(expected, RawSeqNo(raw - 1))?);
            }
            expected = RawSeqNo(raw).next();
        }
        Ok(holes)
    }

    /// Processes `seq` in order: `in_seq_no` must not decrease (SPEC §3.4), unless the
    /// profile does not check it.
    fn advance(&mut self, seq: CheckedSeqNo, rules: &Rules) -> Result<(), AbortReason> {
        if rules.in_seq_no == InSeqNoCheck::Checked && seq.in_seq_no < self.last_in {
            return Err(AbortReason::InSeqNoDecreased {
                got: seq.in_seq_no,
                previous: self.last_in,
            });
        }
        self.last_in = self.last_in.max(seq.in_seq_no);
        self.next_out = self.next_out.next();
        Ok(())
    }

    /// The Resend for the hole just below `arrived`, unless it was already asked for.
    ///
    /// `start = out_seq_no(last good) + 2`, `end = out_seq_no(received) − 2` (SPEC §3.2): in
    /// raw numbers, from the first number neither processed, queued nor requested, up to
    /// the one just below the arrival.
    fn request_for_hole_below(
        &mut self,
        arrived: RawSeqNo,
    ) -> Result<Option<ResendRequest>, AbortReason> {
        let end = RawSeqNo(arrived.0 - 1);
        let mut start = match self.requested_up_to {
            Some(asked) => self.next_out.max(asked.next()),
            None => self.next_out,
        };
        while start <= end && self.queue.contains_key(&start.0) {
            start = start.next();
        }
        if start > end {
            return Ok(None);
        }
        // Only the part of the hole directly below the arrival: stop at the first queued one.
        let hole_start = (start.0..=end.0)
            .rev()
            .take_while(|raw| !self.queue.contains_key(raw))
            .last()
            .map_or(start, RawSeqNo);
        self.requested_up_to = Some(end.max(self.requested_up_to.unwrap_or(end)));
        self.request(hole_start, end).map(Some)
    }

    /// Telegram Android's Resend for a gap (`sendResendMessage(chat, seq_in + 2,
    /// out_seq_no − 2)`): from the first number not processed up to `end`, whatever is
    /// queued in between — unless a Resend with this start was sent before
    /// (`requestedHoles`).
    fn request_once_per_start(&mut self, end: RawSeqNo) -> Option<(RawSeqNo, RawSeqNo)> {
        let start = self.next_out;
        self.requested_starts
            .insert(start.0)
            .then_some((start, end))
    }

    /// An `out_seq_no` whose parity is wrong, when parity is not checked (Telegram Android,
    /// `decryptMessage`): compared as a plain number with the last one processed.
    pub fn misparity(&mut self, out_seq_no: WireSeqNo) -> Result<Misparity, AbortReason> {
        let wire = |raw: RawSeqNo| {
            raw.to_wire(SeqField::Out, self.sender)
                .map_err(AbortReason::SeqNo)
        };
        let expected = wire(self.next_out)?;
        // Android's `seq_in`: the last processed number, `expected − 2` on the wire.
        if i64::from(out_seq_no.0) <= i64::from(expected.0) - 2 {
            return Ok(Misparity::Old);
        }
        let resend = self
            .requested_starts
            .insert(self.next_out.0)
            .then(|| (expected, WireSeqNo(out_seq_no.0.saturating_sub(2))));
        Ok(Misparity::Held { resend })
    }

    fn request(&self, start: RawSeqNo, end: RawSeqNo) -> Result<ResendRequest, AbortReason> {
        let wire = |raw: RawSeqNo| {
            raw.to_wire(SeqField::Out, self.sender)
                .map_err(AbortReason::SeqNo)
        };
        Ok(ResendRequest {
            start_raw: start,
            end_raw: end,
            start_seq_no: wire(start)?,
            end_seq_no: wire(end)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq_no::SeqNoError;

    /// One Resend per hole (the tdlib profile).
    const PER_HOLE: &Rules = &Rules::TDLIB;
    /// One Resend per start number (the android profile).
    const ONCE_PER_START: &Rules = &Rules::ANDROID;

    /// Telegram Android SecretChatHelper.java decryptMessage / sendResendMessage: every
    /// arrival behind a gap asks from `seq_in + 2` up to `out_seq_no − 2`, and a start
    /// already in `requestedHoles` is not asked again — so a second hole opened while the
    /// first is open is not asked for.
    #[test]
    fn android_asks_once_per_start_so_a_second_hole_behind_the_first_is_not_asked_for() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 0), 10, ONCE_PER_START).unwrap();
        let Ok(Arrival::Queued { resend, .. }) = incoming.arrive(seq(0, 2), 12, ONCE_PER_START)
        else {
            panic!("queued");
        };
        let first = resend.expect("the first hole is asked for");
        assert_eq!((first.start_raw, first.end_raw), (RawSeqNo(1), RawSeqNo(1)));
        // 3 is missing too: Android would ask 1..=3, but start 1 was asked already.
        let Ok(Arrival::Queued { resend, .. }) = incoming.arrive(seq(0, 4), 14, ONCE_PER_START)
        else {
            panic!("queued");
        };
        assert_eq!(resend, None);
        // The first hole fills: 1 and 2 are processed, 4 still waits; nothing asks for 3.
        assert_eq!(
            incoming.arrive(seq(0, 1), 11, ONCE_PER_START),
            Ok(Arrival::InOrder(11))
        );
        assert_eq!(incoming.pop_ready(ONCE_PER_START), Ok(Some(12)));
        assert_eq!(incoming.pop_ready(ONCE_PER_START), Ok(None));
        // Another arrival behind the gap has a new start (3) and asks from there.
        let Ok(Arrival::Queued { resend, .. }) = incoming.arrive(seq(0, 5), 15, ONCE_PER_START)
        else {
            panic!("queued");
        };
        let again = resend.expect("a new start is asked for");
        assert_eq!((again.start_raw, again.end_raw), (RawSeqNo(3), RawSeqNo(4)));
    }

    /// Telegram Android SecretChatHelper.java decryptMessage has no parity check: an
    /// out_seq_no of the wrong parity is either old (`out_seq_no <= seq_in`) or a gap that
    /// never fills, asked for with an inverted Resend.
    #[test]
    fn android_treats_a_wrong_parity_out_seq_no_as_old_or_as_a_gap_that_never_fills() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 0), 10, ONCE_PER_START).unwrap();
        // From the creator the wire out_seq_no is 2·raw + 1: 1 was processed, 3 is next.
        assert_eq!(incoming.misparity(WireSeqNo(0)), Ok(Misparity::Old));
        assert_eq!(
            incoming.misparity(WireSeqNo(4)),
            Ok(Misparity::Held {
                resend: Some((WireSeqNo(3), WireSeqNo(2)))
            })
        );
        // Same start again: Android's requestedHoles suppresses the Resend.
        assert_eq!(
            incoming.misparity(WireSeqNo(6)),
            Ok(Misparity::Held { resend: None })
        );
        assert!(!incoming.has_gap(), "a held message is never processed");
    }

    /// Messages from the creator, as the participant sees them.
    fn from_creator() -> IncomingSequence<u32> {
        IncomingSequence::new(Side::Creator)
    }

    fn seq(in_raw: u32, out_raw: u32) -> CheckedSeqNo {
        CheckedSeqNo {
            in_seq_no: RawSeqNo(in_raw),
            out_seq_no: RawSeqNo(out_raw),
        }
    }

    #[test]
    fn messages_in_order_are_processed_at_once() {
        let mut incoming = from_creator();
        assert_eq!(
            incoming.arrive(seq(0, 0), 10, PER_HOLE),
            Ok(Arrival::InOrder(10))
        );
        assert_eq!(
            incoming.arrive(seq(0, 1), 11, PER_HOLE),
            Ok(Arrival::InOrder(11))
        );
        assert_eq!(incoming.received(), RawSeqNo(2));
    }

    #[test]
    fn duplicate_out_seq_no_is_dropped() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 0), 10, PER_HOLE).unwrap();
        assert_eq!(
            incoming.arrive(seq(0, 0), 99, PER_HOLE),
            Ok(Arrival::Duplicate {
                out_seq_no: RawSeqNo(0)
            })
        );
        assert_eq!(incoming.received(), RawSeqNo(1));
    }

    #[test]
    fn gap_triggers_resend_request_in_the_senders_wire_form() {
        // SPEC §3.6: B received A's out 1 (raw 0), then out 7 (raw 3): Resend(3, 5).
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 0), 10, PER_HOLE).unwrap();
        assert_eq!(
            incoming.arrive(seq(0, 3), 13, PER_HOLE),
            Ok(Arrival::Queued {
                out_seq_no: RawSeqNo(3),
                resend: Some(ResendRequest {
                    start_raw: RawSeqNo(1),
                    end_raw: RawSeqNo(2),
                    start_seq_no: WireSeqNo(3),
                    end_seq_no: WireSeqNo(5),
                })
            })
        );
    }

    #[test]
    fn later_messages_behind_the_same_hole_do_not_ask_again() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 2), 12, PER_HOLE).unwrap();
        assert_eq!(
            incoming.arrive(seq(0, 3), 13, PER_HOLE),
            Ok(Arrival::Queued {
                out_seq_no: RawSeqNo(3),
                resend: None
            })
        );
    }

    #[test]
    fn a_second_hole_gets_its_own_resend() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 2), 12, PER_HOLE).unwrap(); // hole 0..=1
        let Ok(Arrival::Queued { resend, .. }) = incoming.arrive(seq(0, 5), 15, PER_HOLE) else {
            panic!("expected the message to be queued");
        };
        let resend = resend.expect("the hole 3..=4 is new");
        assert_eq!(
            (resend.start_raw, resend.end_raw),
            (RawSeqNo(3), RawSeqNo(4))
        );
    }

    #[test]
    fn filling_the_hole_releases_the_queue_in_order() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 2), 12, PER_HOLE).unwrap();
        incoming.arrive(seq(0, 1), 11, PER_HOLE).unwrap();
        assert_eq!(incoming.pop_ready(PER_HOLE), Ok(None));
        assert_eq!(
            incoming.arrive(seq(0, 0), 10, PER_HOLE),
            Ok(Arrival::InOrder(10))
        );
        assert_eq!(incoming.pop_ready(PER_HOLE), Ok(Some(11)));
        assert_eq!(incoming.pop_ready(PER_HOLE), Ok(Some(12)));
        assert_eq!(incoming.pop_ready(PER_HOLE), Ok(None));
        assert_eq!(incoming.received(), RawSeqNo(3));
        assert!(!incoming.has_gap());
    }

    #[test]
    fn a_message_already_in_the_queue_is_a_duplicate() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 2), 12, PER_HOLE).unwrap();
        assert_eq!(
            incoming.arrive(seq(0, 2), 12, PER_HOLE),
            Ok(Arrival::Duplicate {
                out_seq_no: RawSeqNo(2)
            })
        );
    }

    #[test]
    fn mirrored_message_fails_the_parity_check() {
        // The participant's own out_seq_no 0 comes back as if the creator had sent it.
        let incoming = from_creator();
        assert_eq!(
            incoming.check(WireSeqNo(1), WireSeqNo(0), RawSeqNo(5), PER_HOLE),
            Err(AbortReason::SeqNo(SeqNoError::WrongParity {
                field: SeqField::Out,
                got: WireSeqNo(0),
                sender: Side::Creator,
                expected_x: 1
            }))
        );
    }

    #[test]
    fn in_seq_no_beyond_what_we_sent_aborts() {
        let incoming = from_creator();
        // in_seq_no 6 = raw 3 (creator's in x = 0), but we sent only 2 messages.
        assert_eq!(
            incoming.check(WireSeqNo(6), WireSeqNo(1), RawSeqNo(2), PER_HOLE),
            Err(AbortReason::InSeqNoBeyondSent {
                got: RawSeqNo(3),
                sent: RawSeqNo(2)
            })
        );
    }

    /// Telegram Android SecretChatHelper.java decryptMessage: `chat.in_seq_no =
    /// layer.in_seq_no` is stored as it comes — no parity, bound or order check (row S4).
    #[test]
    fn android_takes_any_in_seq_no_as_it_comes() {
        let mut incoming = from_creator();
        // Beyond what we sent, and with the wrong parity (the creator's in x is 0).
        let beyond = incoming
            .check(WireSeqNo(41), WireSeqNo(1), RawSeqNo(2), ONCE_PER_START)
            .unwrap();
        assert_eq!(beyond.in_seq_no, RawSeqNo(20));
        incoming.arrive(seq(9, 0), 10, ONCE_PER_START).unwrap();
        // Going down is no violation either.
        assert_eq!(
            incoming.arrive(seq(1, 1), 11, ONCE_PER_START),
            Ok(Arrival::InOrder(11))
        );
        // The out_seq_no parity is still this row's business (S3), not S4's.
        assert!(incoming
            .check(WireSeqNo(0), WireSeqNo(2), RawSeqNo(2), ONCE_PER_START)
            .is_err());
    }

    #[test]
    fn decreasing_in_seq_no_aborts() {
        let mut incoming = from_creator();
        incoming.arrive(seq(2, 0), 10, PER_HOLE).unwrap();
        assert_eq!(
            incoming.arrive(seq(1, 1), 11, PER_HOLE),
            Err(AbortReason::InSeqNoDecreased {
                got: RawSeqNo(1),
                previous: RawSeqNo(2)
            })
        );
    }

    #[test]
    fn holes_lists_every_missing_range() {
        let mut incoming = from_creator();
        incoming.arrive(seq(0, 2), 12, PER_HOLE).unwrap();
        incoming.arrive(seq(0, 5), 15, PER_HOLE).unwrap();
        let holes: Vec<_> = incoming
            .holes()
            .unwrap()
            .into_iter()
            .map(|r| (r.start_raw.0, r.end_raw.0))
            .collect();
        assert_eq!(holes, vec![(0, 1), (3, 4)]);
    }

    #[test]
    fn too_many_queued_messages_abort() {
        let mut incoming = from_creator();
        for raw in 1..=MAX_QUEUED as u32 {
            incoming.arrive(seq(0, raw), raw, PER_HOLE).unwrap();
        }
        assert_eq!(
            incoming.arrive(seq(0, MAX_QUEUED as u32 + 1), 0, PER_HOLE),
            Err(AbortReason::TooManyQueued { limit: MAX_QUEUED })
        );
    }

    /// Telegram Android SecretChatHelper.java decryptMessage: `if (arr.size() >= 4)` the
    /// chat is discarded — the 5th message to wait behind a gap ends it (row S7).
    #[test]
    fn android_gives_up_on_the_fifth_message_behind_a_gap() {
        let mut incoming = from_creator();
        for raw in 1..=4 {
            incoming.arrive(seq(0, raw), raw, ONCE_PER_START).unwrap();
        }
        assert_eq!(
            incoming.arrive(seq(0, 5), 5, ONCE_PER_START),
            Err(AbortReason::TooManyQueued { limit: 4 })
        );
    }
}
