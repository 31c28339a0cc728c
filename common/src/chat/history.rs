//! The outgoing history: what we sent, kept so it can be sent again (SPEC §3.1, §3.3, §3.5).
//!
//! Every wrapped message gets its two sequence numbers and its `random_id` when it is
//! created, and keeps them forever: a message re-sent after a
//! `decryptedMessageActionResend` carries exactly the same numbers and `random_id`, so the
//! peer fills its hole with it. This module stores each outgoing message by its raw
//! `out_seq_no` and answers Resend requests:
//!
//! ```text
//!   Resend{start_seq_no, end_seq_no}   (in *our* out_seq_no wire form)
//!     parity wrong        → abort (not a number we could have sent)
//!     start > end         → abort
//!     end ≥ what we sent  → abort (we cannot send what does not exist)
//!     more than 1000      → abort (tdlib's MAX_RESEND_COUNT)
//!     already confirmed   → abort (the peer's own in_seq_no said it had them)
//!     otherwise           → re-send each stored message, same seq numbers, same random_id
//! ```
//!
//! Telegram Android answers differently (profile `android`, rows R1–R5,
//! [`OutgoingHistory::fill_with_deletes`]): no limit, nothing aborts, and every number it
//! does not hold is filled with a `DeleteMessages` placeholder:
//!
//! ```text
//!   end < peer's in_seq_no, or end < start   → ignored
//!   start < peer's in_seq_no                  → start := peer's in_seq_no
//!   creator and start even                    → start + 1 (Android fixes the parity only there)
//!   an answered range starts at/above start   → ignored (its `requested_holes` table)
//!   otherwise  held messages in start..=end   → re-sent as they were
//!              every other start, start+2 … ≤ end → a placeholder: out_seq_no = n,
//!                  in_seq_no = n + 1, deleting itself; our own count does not move, so
//!                  our next real messages reuse those numbers
//! ```
//!
//! A message the peer confirmed (its `in_seq_no` counts it) is forgotten. A message the
//! user deletes before the server acknowledged it is *rewritten* in place (SPEC §3.5): the
//! stored copy becomes a `decryptedMessageService{same random_id,
//! decryptedMessageActionDeleteMessages{[its own random_id]}}` with the same numbers, so a
//! later Resend delivers a message that deletes itself.
//!
//! The stored payload is generic: the chat stores its decoded message, tests store numbers.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::violation::AbortReason;
use crate::seq_no::{RawSeqNo, SeqField, WireSeqNo};
use crate::side::Side;

/// The most messages one Resend may ask for (tdlib's `MAX_RESEND_COUNT`).
pub const MAX_RESEND_COUNT: u32 = 1000;

/// The most numbers one Resend is answered for under [`OutgoingHistory::fill_with_deletes`].
/// Telegram Android has no limit; the model stops here (and closes the chat) rather than
/// sealing up to 2^30 placeholders for one hostile request.
pub const MAX_FILLED: u32 = 100_000;

/// One message we sent, with the numbers it will always carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing<P> {
    pub random_id: i64,
    pub in_seq_no: RawSeqNo,
    pub out_seq_no: RawSeqNo,
    /// Whether the server accepted it (`sentEncryptedMessage`); see [`OutgoingHistory::rewrite`].
    pub acknowledged: bool,
    pub payload: P,
}

/// What became of a request to rewrite a stored message (SPEC §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// The stored copy now holds the replacement.
    Rewritten { out_seq_no: RawSeqNo },
    /// The server already has the original: nothing to rewrite.
    AlreadyAcknowledged,
    /// No stored message has this random_id (never sent, or confirmed and forgotten).
    NotStored,
}

/// One answer to a Resend under [`OutgoingHistory::fill_with_deletes`], in out_seq_no order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refill {
    /// A message we hold, re-sent with its own numbers and random_id.
    Held { out_seq_no: RawSeqNo },
    /// A number we do not hold: a `DeleteMessages` placeholder with these wire numbers.
    Placeholder {
        out_seq_no: WireSeqNo,
        in_seq_no: WireSeqNo,
    },
}

/// What Telegram Android does with a Resend (rows R1–R5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fill {
    /// Nothing is sent, for this reason.
    Ignored(&'static str),
    /// Where the answered range starts after clamping (it ends where asked), and what
    /// goes out for it.
    Answered {
        start_seq_no: WireSeqNo,
        refills: Vec<Refill>,
    },
}

/// Our sent messages, by raw out_seq_no.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct OutgoingHistory<P> {
    /// Our role: decides the parity of the numbers in Resend requests.
    me: Side,
    /// The raw out_seq_no of `entries[0]`; everything below was confirmed by the peer.
    first: RawSeqNo,
    entries: VecDeque<Outgoing<P>>,
    /// The highest count of our messages the peer's in_seq_no claimed, even beyond what
    /// we sent (only the android profile lets such a claim through).
    #[serde(default)]
    claimed: RawSeqNo,
    /// [`Self::fill_with_deletes`]: the wire ranges already answered (Android's
    /// `requested_holes`).
    #[serde(default)]
    answered: Vec<(i32, i32)>,
}

impl<P> OutgoingHistory<P> {
    pub fn new(me: Side) -> Self {
        Self {
            me,
            first: RawSeqNo(0),
            entries: VecDeque::new(),
            claimed: RawSeqNo(0),
            answered: Vec::new(),
        }
    }

    /// How many wrapped messages we have sent: the next raw out_seq_no.
    pub fn sent(&self) -> RawSeqNo {
        let stored = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        RawSeqNo(self.first.0.saturating_add(stored))
    }

    /// How many sent messages are still kept (not yet confirmed by the peer).
    pub fn stored(&self) -> usize {
        self.entries.len()
    }

    /// Assigns the next out_seq_no to a new message and stores it.
    pub fn push(&mut self, random_id: i64, in_seq_no: RawSeqNo, payload: P) -> &Outgoing<P> {
        let out_seq_no = self.sent();
        self.entries.push_back(Outgoing {
            random_id,
            in_seq_no,
            out_seq_no,
            acknowledged: false,
            payload,
        });
        // Just pushed, so the deque is not empty.
        &self.entries[self.entries.len() - 1]
    }

    /// The peer's `in_seq_no` says it processed our messages below `received`: forget them.
    pub fn forget_confirmed(&mut self, received: RawSeqNo) {
        self.claimed = self.claimed.max(received);
        while self.first < received && self.entries.pop_front().is_some() {
            self.first = self.first.next();
        }
    }

    /// The server accepted the message with this random_id.
    pub fn acknowledge(&mut self, random_id: i64) -> bool {
        match self.entries.iter_mut().find(|m| m.random_id == random_id) {
            Some(message) => {
                message.acknowledged = true;
                true
            }
            None => false,
        }
    }

    /// Replaces the stored payload of an unacknowledged message (SPEC §3.5).
    pub fn rewrite(&mut self, random_id: i64, replacement: impl FnOnce(&P) -> P) -> Rewrite {
        match self.entries.iter_mut().find(|m| m.random_id == random_id) {
            None => Rewrite::NotStored,
            Some(message) if message.acknowledged => Rewrite::AlreadyAcknowledged,
            Some(message) => {
                message.payload = replacement(&message.payload);
                Rewrite::Rewritten {
                    out_seq_no: message.out_seq_no,
                }
            }
        }
    }

    /// The stored message with this random_id.
    pub fn find(&self, random_id: i64) -> Option<&Outgoing<P>> {
        self.entries.iter().find(|m| m.random_id == random_id)
    }

    /// The stored message with this raw out_seq_no.
    pub fn get(&self, out_seq_no: RawSeqNo) -> Option<&Outgoing<P>> {
        let index = out_seq_no.0.checked_sub(self.first.0)?;
        self.entries.get(usize::try_from(index).ok()?)
    }

    /// Checks a received `decryptedMessageActionResend{start_seq_no, end_seq_no}` and
    /// returns the stored messages it asks for, oldest first.
    pub fn resend(
        &self,
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
    ) -> Result<Vec<&Outgoing<P>>, AbortReason> {
        let start = start_seq_no
            .to_raw(SeqField::Out, self.me)
            .map_err(AbortReason::ResendSeqNo)?;
        let end = end_seq_no
            .to_raw(SeqField::Out, self.me)
            .map_err(AbortReason::ResendSeqNo)?;
        if start > end {
            return Err(AbortReason::ResendRangeInverted {
                start_seq_no,
                end_seq_no,
            });
        }
        let count = end.0 - start.0 + 1;
        if count > MAX_RESEND_COUNT {
            return Err(AbortReason::ResendTooLarge {
                count,
                max: MAX_RESEND_COUNT,
            });
        }
        if end >= self.sent() {
            return Err(AbortReason::ResendBeyondSent {
                end,
                sent: self.sent(),
            });
        }
        if start < self.first {
            return Err(AbortReason::ResendOfConfirmed {
                start,
                confirmed: self.first,
            });
        }
        (start.0..=end.0)
            .map(|raw| {
                self.get(RawSeqNo(raw))
                    .ok_or(AbortReason::ResendOfConfirmed {
                        start: RawSeqNo(raw),
                        confirmed: self.first,
                    })
            })
            .collect()
    }

    /// Telegram Android's answer to `decryptedMessageActionResend{start_seq_no,
    /// end_seq_no}` (`processDecryptedObject`, `resendMessages`; the module table). Wire
    /// numbers are compared as they are, like Android's `int`s.
    pub fn fill_with_deletes(
        &mut self,
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
    ) -> Result<Fill, AbortReason> {
        let x = i64::from(SeqField::Out.parity(self.me));
        let confirmed = 2 * i64::from(self.claimed.0) + x;
        let (start, end) = (i64::from(start_seq_no.0), i64::from(end_seq_no.0));
        if end < confirmed {
            return Ok(Fill::Ignored(
                "it ends below the peer's in_seq_no (already confirmed)",
            ));
        }
        if end < start {
            return Ok(Fill::Ignored("its end is below its start"));
        }
        let mut start = start.max(confirmed);
        if self.me == Side::Creator && start % 2 == 0 {
            start += 1;
        }
        let seen = |&(s, e): &(i32, i32)| {
            let (s, e) = (i64::from(s), i64::from(e));
            (s >= start && start <= e) || (s >= end && end <= e)
        };
        if self.answered.iter().any(seen) {
            return Ok(Fill::Ignored(
                "a range starting at or above its start was answered already",
            ));
        }
        let numbers = if end >= start {
            (end - start) / 2 + 1
        } else {
            0
        };
        if numbers > i64::from(MAX_FILLED) {
            return Err(AbortReason::ResendTooLarge {
                count: u32::try_from(numbers).unwrap_or(u32::MAX),
                max: MAX_FILLED,
            });
        }
        // Both fit an i32: start ≤ end ≤ i32::MAX, and start ≥ confirmed ≥ 0.
        let wire = |n: i64| WireSeqNo(i32::try_from(n).unwrap_or(i32::MAX));
        let wire_of = |raw: RawSeqNo| 2 * i64::from(raw.0) + x;
        let holds = |n: i64| {
            (n - x) % 2 == 0
                && u32::try_from((n - x) / 2).is_ok_and(|raw| self.get(RawSeqNo(raw)).is_some())
        };
        let mut refills: Vec<Refill> = self
            .entries
            .iter()
            .map(|m| m.out_seq_no)
            .filter(|&raw| (start..=end).contains(&wire_of(raw)))
            .map(|out_seq_no| Refill::Held { out_seq_no })
            .collect();
        refills.extend((start..=end).step_by(2).filter(|&n| !holds(n)).map(|n| {
            Refill::Placeholder {
                out_seq_no: wire(n),
                in_seq_no: WireSeqNo(wire(n).0.wrapping_add(1)),
            }
        }));
        let order = |refill: &Refill| match refill {
            Refill::Held { out_seq_no } => wire_of(*out_seq_no),
            Refill::Placeholder { out_seq_no, .. } => i64::from(out_seq_no.0),
        };
        refills.sort_by_key(order);
        self.answered.push((wire(start).0, end_seq_no.0));
        Ok(Fill::Answered {
            start_seq_no: wire(start),
            refills,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq_no::SeqNoError;

    /// A creator's history with `n` messages (payload = index, random_id = 100 + index).
    fn creator_history(n: u32) -> OutgoingHistory<u32> {
        let mut history = OutgoingHistory::new(Side::Creator);
        for i in 0..n {
            history.push(100 + i64::from(i), RawSeqNo(0), i);
        }
        history
    }

    /// The creator's out_seq_no wire form of raw `raw`.
    fn wire(raw: u32) -> WireSeqNo {
        RawSeqNo(raw).to_wire(SeqField::Out, Side::Creator).unwrap()
    }

    #[test]
    fn messages_get_consecutive_out_seq_nos() {
        let mut history = OutgoingHistory::new(Side::Participant);
        assert_eq!(history.push(7, RawSeqNo(0), ()).out_seq_no, RawSeqNo(0));
        assert_eq!(history.push(8, RawSeqNo(1), ()).out_seq_no, RawSeqNo(1));
        assert_eq!(history.sent(), RawSeqNo(2));
    }

    #[test]
    fn resend_returns_the_stored_messages_with_their_numbers() {
        let history = creator_history(5);
        let resent: Vec<_> = history
            .resend(wire(1), wire(3))
            .unwrap()
            .into_iter()
            .map(|m| (m.out_seq_no.0, m.random_id, m.payload))
            .collect();
        assert_eq!(resent, vec![(1, 101, 1), (2, 102, 2), (3, 103, 3)]);
    }

    #[test]
    fn resend_with_wrong_parity_aborts() {
        let history = creator_history(5);
        assert_eq!(
            history.resend(WireSeqNo(2), wire(3)).unwrap_err(),
            AbortReason::ResendSeqNo(SeqNoError::WrongParity {
                field: SeqField::Out,
                got: WireSeqNo(2),
                sender: Side::Creator,
                expected_x: 1
            })
        );
    }

    #[test]
    fn resend_with_start_after_end_aborts() {
        let history = creator_history(5);
        assert_eq!(
            history.resend(wire(3), wire(1)).unwrap_err(),
            AbortReason::ResendRangeInverted {
                start_seq_no: wire(3),
                end_seq_no: wire(1)
            }
        );
    }

    #[test]
    fn resend_of_messages_never_sent_aborts() {
        let history = creator_history(5);
        assert_eq!(
            history.resend(wire(4), wire(5)).unwrap_err(),
            AbortReason::ResendBeyondSent {
                end: RawSeqNo(5),
                sent: RawSeqNo(5)
            }
        );
    }

    #[test]
    fn resend_of_more_than_1000_messages_aborts() {
        let history = creator_history(5);
        assert_eq!(
            history.resend(wire(0), wire(1000)).unwrap_err(),
            AbortReason::ResendTooLarge {
                count: 1001,
                max: MAX_RESEND_COUNT
            }
        );
    }

    #[test]
    fn resend_of_messages_the_peer_confirmed_aborts() {
        let mut history = creator_history(5);
        history.forget_confirmed(RawSeqNo(3));
        assert_eq!(history.stored(), 2);
        assert_eq!(
            history.resend(wire(2), wire(4)).unwrap_err(),
            AbortReason::ResendOfConfirmed {
                start: RawSeqNo(2),
                confirmed: RawSeqNo(3)
            }
        );
        assert_eq!(history.resend(wire(3), wire(4)).unwrap().len(), 2);
        assert_eq!(history.sent(), RawSeqNo(5));
    }

    #[test]
    fn deleting_an_unacknowledged_message_rewrites_its_stored_copy() {
        let mut history = creator_history(3);
        assert_eq!(
            history.rewrite(101, |_| 999),
            Rewrite::Rewritten {
                out_seq_no: RawSeqNo(1)
            }
        );
        let stored = history.get(RawSeqNo(1)).unwrap();
        assert_eq!((stored.random_id, stored.payload), (101, 999));
    }

    #[test]
    fn an_acknowledged_message_is_not_rewritten() {
        let mut history = creator_history(3);
        assert!(history.acknowledge(102));
        assert_eq!(history.rewrite(102, |_| 999), Rewrite::AlreadyAcknowledged);
        assert_eq!(history.rewrite(555, |_| 999), Rewrite::NotStored);
        assert_eq!(history.get(RawSeqNo(2)).unwrap().payload, 2);
    }

    /// The participant's history (`out_seq_no` x = 0) with `n` messages, the first
    /// `confirmed` of them confirmed by the peer.
    fn participant_history(n: u32, confirmed: u32) -> OutgoingHistory<u32> {
        let mut history = OutgoingHistory::new(Side::Participant);
        for i in 0..n {
            history.push(100 + i64::from(i), RawSeqNo(0), i);
        }
        history.forget_confirmed(RawSeqNo(confirmed));
        history
    }

    fn placeholder(out: i32) -> Refill {
        Refill::Placeholder {
            out_seq_no: WireSeqNo(out),
            in_seq_no: WireSeqNo(out + 1),
        }
    }

    fn held(raw: u32) -> Refill {
        Refill::Held {
            out_seq_no: RawSeqNo(raw),
        }
    }

    /// Telegram Android SecretChatHelper.java resendMessages: no limit; what it holds goes
    /// out again, every other number as `createDeleteMessage(…, seq, seq + 1, …)`.
    #[test]
    fn android_fills_numbers_it_never_sent_with_delete_placeholders() {
        // Sent raw 0..=2 (wire 0, 2, 4), the peer confirmed raw 0.
        let mut history = participant_history(3, 1);
        let Ok(Fill::Answered {
            start_seq_no,
            refills,
            ..
        }) = history.fill_with_deletes(WireSeqNo(2), WireSeqNo(10))
        else {
            panic!("answered");
        };
        assert_eq!(start_seq_no, WireSeqNo(2));
        assert_eq!(
            refills,
            vec![
                held(1),
                held(2),
                placeholder(6),
                placeholder(8),
                placeholder(10)
            ]
        );
        // Our own count does not move: the next message reuses wire 6.
        assert_eq!(history.sent(), RawSeqNo(3));
    }

    /// processDecryptedObject (ActionResend): `start < in_seq_no` → raised to it; `end <
    /// in_seq_no` or `end < start` → nothing sent.
    #[test]
    fn android_raises_the_start_to_the_peers_in_seq_no_and_drops_what_ends_below_it() {
        let mut history = participant_history(5, 3);
        let Ok(Fill::Answered {
            start_seq_no,
            refills,
            ..
        }) = history.fill_with_deletes(WireSeqNo(0), WireSeqNo(8))
        else {
            panic!("answered");
        };
        assert_eq!(start_seq_no, WireSeqNo(6));
        assert_eq!(refills, vec![held(3), held(4)]);
        let mut history = participant_history(5, 3);
        assert!(matches!(
            history.fill_with_deletes(WireSeqNo(0), WireSeqNo(4)),
            Ok(Fill::Ignored(_))
        ));
        assert!(matches!(
            history.fill_with_deletes(WireSeqNo(8), WireSeqNo(6)),
            Ok(Fill::Ignored(_))
        ));
    }

    /// resendMessages: `requested_holes` — a request is skipped when a range answered
    /// before starts at or above its start.
    #[test]
    fn android_answers_a_range_once() {
        let mut history = participant_history(5, 0);
        assert!(matches!(
            history.fill_with_deletes(WireSeqNo(4), WireSeqNo(6)),
            Ok(Fill::Answered { .. })
        ));
        for (start, end) in [(4, 6), (0, 8), (2, 4)] {
            assert_eq!(
                history.fill_with_deletes(WireSeqNo(start), WireSeqNo(end)),
                Ok(Fill::Ignored(
                    "a range starting at or above its start was answered already"
                )),
                "{start}..={end}"
            );
        }
        // A range starting above every answered start is answered.
        assert!(matches!(
            history.fill_with_deletes(WireSeqNo(6), WireSeqNo(8)),
            Ok(Fill::Answered { .. })
        ));
    }

    /// resendMessages: `if (encryptedChat.admin_id == … && sSeq % 2 == 0) sSeq++;` — only
    /// the creator's start gets its parity fixed.
    #[test]
    fn android_fixes_the_parity_of_the_start_only_as_the_creator() {
        let mut history = creator_history(3);
        let Ok(Fill::Answered {
            start_seq_no,
            refills,
            ..
        }) = history.fill_with_deletes(WireSeqNo(2), WireSeqNo(5))
        else {
            panic!("answered");
        };
        assert_eq!(start_seq_no, wire(1));
        assert_eq!(refills, vec![held(1), held(2)]);
        // The participant keeps an odd start: every slot is a wrong-parity placeholder,
        // and what it holds in the range goes out too.
        let mut history = participant_history(3, 0);
        let Ok(Fill::Answered { refills, .. }) =
            history.fill_with_deletes(WireSeqNo(1), WireSeqNo(4))
        else {
            panic!("answered");
        };
        assert_eq!(
            refills,
            vec![placeholder(1), held(1), placeholder(3), held(2)]
        );
    }

    /// The model's one limit: Android would seal every number up to 2^31; the peer stops
    /// at MAX_FILLED and closes the chat instead.
    #[test]
    fn android_model_refuses_to_fill_more_than_max_filled_numbers() {
        let mut history = participant_history(1, 0);
        assert_eq!(
            history.fill_with_deletes(WireSeqNo(0), WireSeqNo(i32::MAX)),
            Err(AbortReason::ResendTooLarge {
                count: 1 << 30,
                max: MAX_FILLED
            })
        );
        assert!(matches!(
            history.fill_with_deletes(WireSeqNo(0), WireSeqNo(2 * MAX_FILLED as i32 - 2)),
            Ok(Fill::Answered { refills, .. }) if refills.len() == MAX_FILLED as usize
        ));
    }
}
