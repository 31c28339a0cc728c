//! msg_seqno: how many content-related messages came before.
//!
//! "A 32-bit number equal to twice the number of content-related messages created by the
//! sender prior to this message and subsequently incremented by one if the current message
//! is a content-related message ... A container is always generated after its entire
//! contents; therefore, its sequence number is greater than or equal to the sequence numbers
//! of the messages contained in it." A content-related message is one the receiver must
//! acknowledge. (core.telegram.org/mtproto/description#message-sequence-number-msg-seqno)
//!
//! ```text
//! content-related:      seq_no = 2·n + 1, then n += 1
//! not content-related:  seq_no = 2·n
//! ```
//!
//! What a server enforces, with the `bad_msg_notification` codes
//! (service_messages_about_messages, description#content-related-message):
//!
//! * 35 "odd msg_seqno expected (relevant message), but even received": "A client must
//!   always mark all API-level RPC queries as content-related";
//! * 34 "an even msg_seqno expected (irrelevant message), but odd received": "A client must
//!   never mark msgs_ack, msg_container, msg_copy, gzip_packed constructors ... as
//!   content-related". Any other service message may be either. `gzip_packed` is read here
//!   as transparent: the rule applies to what it carries, because Telethon gzips large
//!   requests and sends them odd, as a query must be (telethon/tl/core/gzippacked.py) — a
//!   gzipped *acknowledgement* would still have to be even;
//! * 32 "msg_seqno too low (the server has already received a message with a lower msg_id
//!   but with either a higher or an equal and odd seqno)";
//! * 33 "msg_seqno too high (similarly, there is a message with a higher msg_id but with
//!   either a lower or an equal and odd seqno)".

use std::collections::BTreeMap;

use crate::service_messages::Body;

/// A sender's count of content-related messages, and the wire seq_no it gives each message.
#[derive(Debug, Clone, Default)]
pub struct SeqNo {
    content_related_sent: u32,
}

impl SeqNo {
    /// The seq_no of the next message: `2·n + 1` (and `n` grows) if it is content-related,
    /// `2·n` otherwise. The counter wraps like the 32-bit field it fills.
    pub fn next(&mut self, content_related: bool) -> i32 {
        let n = self.content_related_sent;
        if content_related {
            self.content_related_sent = n.wrapping_add(1);
        }
        n.wrapping_mul(2).wrapping_add(u32::from(content_related)) as i32
    }
}

/// Whether a wire seq_no marks its message content-related (its lowest bit).
pub fn is_content_related(seq_no: i32) -> bool {
    seq_no & 1 == 1
}

/// What a body's seq_no must say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// API calls: odd (else 35).
    ContentRelated,
    /// Acknowledgements and containers: even (else 34).
    NotContentRelated,
    /// Other service messages: either.
    Either,
}

/// The parity rule for a client's (un-gzipped) body.
pub fn parity_rule(body: &Body) -> Parity {
    match body {
        Body::Other(_) => Parity::ContentRelated,
        Body::MsgsAck(_) | Body::Container(_) | Body::Copy(_) => Parity::NotContentRelated,
        _ => Parity::Either,
    }
}

/// A seq_no that breaks a rule, with its notification code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNoRule {
    /// 32.
    TooLow,
    /// 33.
    TooHigh,
    /// 34.
    EvenExpected,
    /// 35.
    OddExpected,
}

/// Checks the parity of `seq_no` against the rule for its body.
pub fn check_parity(seq_no: i32, rule: Parity) -> Result<(), SeqNoRule> {
    match (rule, is_content_related(seq_no)) {
        (Parity::ContentRelated, false) => Err(SeqNoRule::OddExpected),
        (Parity::NotContentRelated, true) => Err(SeqNoRule::EvenExpected),
        _ => Ok(()),
    }
}

/// Checks `(msg_id, seq_no)` against the messages already received in the session (msg_id
/// → seq_no): seq_nos must grow with msg_ids, and two messages may share a seq_no only if it
/// is even.
pub fn check_order(
    received: &BTreeMap<i64, i32>,
    msg_id: i64,
    seq_no: i32,
) -> Result<(), SeqNoRule> {
    let clashes = |other: i32| other == seq_no && is_content_related(seq_no);
    if received
        .range(..msg_id)
        .any(|(_, &earlier)| earlier > seq_no || clashes(earlier))
    {
        return Err(SeqNoRule::TooLow);
    }
    if received
        .range(msg_id.saturating_add(1)..)
        .any(|(_, &later)| later < seq_no || clashes(later))
    {
        return Err(SeqNoRule::TooHigh);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_related_messages_are_odd_and_count() {
        let mut seq = SeqNo::default();
        assert_eq!(
            [false, true, true, false, true].map(|c| seq.next(c)),
            [0, 1, 3, 4, 5]
        );
    }

    #[test]
    fn a_query_must_be_odd_and_an_ack_even_while_a_ping_may_be_either() {
        use crate::service::{functions::Ping, types::MsgsAck};
        let query = Body::Other(vec![0x6b, 0x18, 0xf9, 0xc4]);
        let ack = Body::MsgsAck(MsgsAck { msg_ids: vec![] });
        let ping = Body::Ping(Ping { ping_id: 1 });
        assert_eq!(
            check_parity(2, parity_rule(&query)),
            Err(SeqNoRule::OddExpected)
        );
        assert_eq!(check_parity(3, parity_rule(&query)), Ok(()));
        assert_eq!(
            check_parity(3, parity_rule(&ack)),
            Err(SeqNoRule::EvenExpected)
        );
        assert_eq!(check_parity(4, parity_rule(&ack)), Ok(()));
        assert_eq!(check_parity(3, parity_rule(&ping)), Ok(()));
        assert_eq!(check_parity(4, parity_rule(&ping)), Ok(()));
    }

    #[test]
    fn seq_nos_must_grow_with_msg_ids() {
        let received = BTreeMap::from([(100, 5), (200, 8)]);
        assert_eq!(check_order(&received, 150, 7), Ok(()));
        assert_eq!(check_order(&received, 150, 6), Ok(()));
        assert_eq!(check_order(&received, 150, 4), Err(SeqNoRule::TooLow));
        assert_eq!(check_order(&received, 150, 9), Err(SeqNoRule::TooHigh));
        assert_eq!(
            check_order(&received, 300, 8),
            Ok(()),
            "an even seq_no may repeat"
        );
        assert_eq!(
            check_order(&received, 120, 5),
            Err(SeqNoRule::TooLow),
            "odd may not"
        );
        assert_eq!(check_order(&received, 50, 5), Err(SeqNoRule::TooHigh));
    }
}
