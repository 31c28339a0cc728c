//! Sequence numbers: the two counters every secret-chat message carries (SPEC §3.1).
//!
//! Each side counts the messages it has sent (`out`) and the messages it has received and
//! processed (`in`), both starting at 0. On the wire the counters are not sent as they are:
//! each is doubled and given a parity bit `x` that depends on who sends and which field it
//! is, so a message reflected back at its sender has the wrong parity and is refused.
//!
//! ```text
//!   wire = 2 · raw + x
//!
//!   sender is…            in_seq_no x   out_seq_no x
//!   chat creator (A)           0             1
//!   chat participant (B)       1             0
//! ```
//!
//! So A's first message carries `out_seq_no = 1` and B's first carries `out_seq_no = 0`.
//! A received field with the wrong parity means the message was mirrored or forged: the
//! spec requires aborting the chat.
//!
//! Two types keep the two meanings apart: [`RawSeqNo`] is a count, [`WireSeqNo`] is the
//! doubled number with its parity bit. The only ways between them are
//! [`RawSeqNo::to_wire`] and [`WireSeqNo::to_raw`], and the latter checks the parity.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::side::Side;

/// Which of the two counters a number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SeqField {
    /// `in_seq_no`: how many of the other side's messages the sender had processed.
    In,
    /// `out_seq_no`: the index of this message among the sender's own messages.
    Out,
}

impl SeqField {
    /// The parity bit `x` of this field when `sender` sends it (the table above).
    pub const fn parity(self, sender: Side) -> u32 {
        match (sender, self) {
            (Side::Creator, SeqField::In) => 0,
            (Side::Creator, SeqField::Out) => 1,
            (Side::Participant, SeqField::In) => 1,
            (Side::Participant, SeqField::Out) => 0,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            SeqField::In => "in_seq_no",
            SeqField::Out => "out_seq_no",
        }
    }
}

/// A raw counter: a number of messages (0, 1, 2, …).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct RawSeqNo(pub u32);

/// A sequence number as it travels in `decryptedMessageLayer`: `2 · raw + x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WireSeqNo(pub i32);

/// A received sequence number that cannot be turned back into a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeqNoError {
    /// The parity bit does not match the sender's role: a mirrored or forged message.
    /// The spec requires aborting the chat.
    #[error("{field} = {got} has the wrong parity for a message from the {sender:?} (expected x = {expected_x})", field = field.name(), got = got.0)]
    WrongParity {
        field: SeqField,
        got: WireSeqNo,
        sender: Side,
        expected_x: u32,
    },
    /// Sequence numbers are never negative. Abort the chat.
    #[error("{field} = {got} is negative", field = field.name(), got = got.0)]
    Negative { field: SeqField, got: WireSeqNo },
    /// A counter too large to be put on the wire as an `int`.
    #[error("sequence counter {0} does not fit in a TL int once doubled")]
    Overflow(u32),
}

impl RawSeqNo {
    /// `wire = 2 · raw + x` for `field` sent by `sender`.
    pub fn to_wire(self, field: SeqField, sender: Side) -> Result<WireSeqNo, SeqNoError> {
        let wire = u64::from(self.0) * 2 + u64::from(field.parity(sender));
        i32::try_from(wire)
            .map(WireSeqNo)
            .map_err(|_| SeqNoError::Overflow(self.0))
    }

    pub const fn next(self) -> RawSeqNo {
        RawSeqNo(self.0.saturating_add(1))
    }
}

impl WireSeqNo {
    /// Checks the parity for `field` sent by `sender` and returns the raw counter.
    pub fn to_raw(self, field: SeqField, sender: Side) -> Result<RawSeqNo, SeqNoError> {
        let Ok(value) = u32::try_from(self.0) else {
            return Err(SeqNoError::Negative { field, got: self });
        };
        let expected_x = field.parity(sender);
        if value % 2 != expected_x {
            return Err(SeqNoError::WrongParity {
                field,
                got: self,
                sender,
                expected_x,
            });
        }
        Ok(RawSeqNo(value / 2))
    }
}

impl fmt::Display for RawSeqNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl fmt::Display for WireSeqNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creators_first_message_has_out_seq_no_one_and_participants_zero() {
        let first = RawSeqNo(0);
        assert_eq!(
            first.to_wire(SeqField::Out, Side::Creator),
            Ok(WireSeqNo(1))
        );
        assert_eq!(
            first.to_wire(SeqField::Out, Side::Participant),
            Ok(WireSeqNo(0))
        );
    }

    #[test]
    fn worked_example_of_the_spec_holds() {
        // SPEC §3.6: B has received two messages and sends its first: (in, out) = (5, 0).
        assert_eq!(
            RawSeqNo(2).to_wire(SeqField::In, Side::Participant),
            Ok(WireSeqNo(5))
        );
        assert_eq!(
            RawSeqNo(0).to_wire(SeqField::Out, Side::Participant),
            Ok(WireSeqNo(0))
        );
    }

    #[test]
    fn mirrored_out_seq_no_is_refused_for_its_parity() {
        // A's own message (out_seq_no 1) read as if B had sent it.
        assert_eq!(
            WireSeqNo(1).to_raw(SeqField::Out, Side::Participant),
            Err(SeqNoError::WrongParity {
                field: SeqField::Out,
                got: WireSeqNo(1),
                sender: Side::Participant,
                expected_x: 0
            })
        );
    }

    #[test]
    fn negative_seq_no_is_refused() {
        assert_eq!(
            WireSeqNo(-2).to_raw(SeqField::In, Side::Creator),
            Err(SeqNoError::Negative {
                field: SeqField::In,
                got: WireSeqNo(-2)
            })
        );
    }

    #[test]
    fn counter_too_large_for_an_int_is_an_error_not_a_wrap() {
        assert_eq!(
            RawSeqNo(u32::MAX).to_wire(SeqField::Out, Side::Creator),
            Err(SeqNoError::Overflow(u32::MAX))
        );
    }

    #[test]
    fn to_wire_and_back_is_identity_for_every_field_and_side() {
        for sender in [Side::Creator, Side::Participant] {
            for field in [SeqField::In, SeqField::Out] {
                for raw in [0, 1, 2, 1000, i32::MAX as u32 / 2 - 1] {
                    let wire = RawSeqNo(raw).to_wire(field, sender).unwrap();
                    assert_eq!(wire.to_raw(field, sender), Ok(RawSeqNo(raw)));
                }
            }
        }
    }
}
