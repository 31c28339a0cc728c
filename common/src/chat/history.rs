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

/// Our sent messages, by raw out_seq_no.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct OutgoingHistory<P> {
    /// Our role: decides the parity of the numbers in Resend requests.
    me: Side,
    /// The raw out_seq_no of `entries[0]`; everything below was confirmed by the peer.
    first: RawSeqNo,
    entries: VecDeque<Outgoing<P>>,
}

impl<P> OutgoingHistory<P> {
    pub fn new(me: Side) -> Self {
        Self {
            me,
            first: RawSeqNo(0),
            entries: VecDeque::new(),
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
}
