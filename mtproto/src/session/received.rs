//! What a session remembers of the client's messages: the last N msg_ids.
//!
//! "The identifiers (msg_id) of the last N messages received from the other side must be
//! stored, and if a message comes in with msg_id lower than all or equal to any of the
//! stored values, the message is to be ignored. Otherwise, the new message msg_id is added
//! to the set, and, if the number of stored msg_id values is greater than N, the oldest
//! (i. e. the lowest) is forgotten." (core.telegram.org/mtproto/description#important-checks)
//!
//! Below the forgotten ones the server cannot tell a new message from a replay: that is
//! `bad_msg_notification` 20, "message too old, and it cannot be verified whether the server
//! has received a message with this msg_id or not". A msg_id lower than every stored one but
//! above anything forgotten is new (a client may send out of order); the session announces
//! it with another `new_session_created` (service_messages).
//!
//! The same record answers `msgs_state_req`, one status byte per msg_id
//! (service_messages_about_messages): 1 nothing is known (forgotten, or not a client
//! msg_id), 2 not received (within the stored range), 3 not received (above it), 4 received,
//! plus 8 if the server has acknowledged it, 16 if it needs no acknowledgement, 32 if it is
//! an API call being processed or processed, 64 if its answer has been generated.

use std::collections::BTreeMap;

use super::seq_no::is_content_related;

/// One remembered client message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub seq_no: i32,
    pub kind: ReceivedKind,
    /// The server has acknowledged it (a `msgs_ack` or an `rpc_result` was queued).
    pub acknowledged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedKind {
    /// A container (only its msg_id matters: a reused one is error 19).
    Container,
    /// A service message.
    Service,
    /// An API call, and how far it got.
    Call(CallState),
}

/// How far an API call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Handed to the application, not answered yet.
    Pending,
    /// Answered with a result.
    Succeeded,
    /// Answered with an `rpc_error`.
    Failed,
}

/// The last `capacity` client msg_ids of a session.
#[derive(Debug, Clone)]
pub struct ReceivedWindow {
    entries: BTreeMap<i64, Received>,
    capacity: usize,
    /// The highest msg_id forgotten so far: anything at or below it is "too old" (20).
    forgotten_up_to: Option<i64>,
}

impl ReceivedWindow {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            capacity: capacity.max(1),
            forgotten_up_to: None,
        }
    }

    pub fn get(&self, msg_id: i64) -> Option<&Received> {
        self.entries.get(&msg_id)
    }

    pub fn get_mut(&mut self, msg_id: i64) -> Option<&mut Received> {
        self.entries.get_mut(&msg_id)
    }

    /// Whether `msg_id` is at or below a forgotten msg_id: it may be a replay (20).
    pub fn is_too_old(&self, msg_id: i64) -> bool {
        self.forgotten_up_to.is_some_and(|floor| msg_id <= floor)
    }

    /// Remembers a message, forgetting the lowest one past the capacity.
    pub fn insert(&mut self, msg_id: i64, received: Received) {
        self.entries.insert(msg_id, received);
        while self.entries.len() > self.capacity {
            if let Some((forgotten, _)) = self.entries.pop_first() {
                self.forgotten_up_to =
                    Some(self.forgotten_up_to.map_or(forgotten, |f| f.max(forgotten)));
            }
        }
    }

    /// msg_id → seq_no of every remembered message (for the seq_no order rules).
    pub fn seq_nos(&self) -> BTreeMap<i64, i32> {
        self.entries.iter().map(|(&id, r)| (id, r.seq_no)).collect()
    }

    /// The `msgs_state_info` status byte of `msg_id`; `answer_generated` says whether an
    /// answer to it exists.
    pub fn status(&self, msg_id: i64, answer_generated: bool) -> u8 {
        const NOTHING_KNOWN: u8 = 1;
        const NOT_RECEIVED: u8 = 2;
        const NOT_RECEIVED_YET: u8 = 3;
        const RECEIVED: u8 = 4;
        if msg_id.rem_euclid(4) != 0 || self.is_too_old(msg_id) {
            return NOTHING_KNOWN;
        }
        let Some(received) = self.entries.get(&msg_id) else {
            return match self.entries.last_key_value() {
                Some((&highest, _)) if msg_id < highest => NOT_RECEIVED,
                _ => NOT_RECEIVED_YET,
            };
        };
        let mut status = RECEIVED;
        if received.acknowledged {
            status |= 8;
        }
        if !is_content_related(received.seq_no) {
            status |= 16;
        }
        if let ReceivedKind::Call(state) = received.kind {
            status |= 32;
            if state != CallState::Pending || answer_generated {
                status |= 64;
            }
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(seq_no: i32) -> Received {
        Received {
            seq_no,
            kind: ReceivedKind::Call(CallState::Pending),
            acknowledged: false,
        }
    }

    #[test]
    fn past_the_capacity_the_lowest_msg_id_is_forgotten_and_becomes_too_old() {
        let mut window = ReceivedWindow::new(2);
        window.insert(400, call(1));
        window.insert(800, call(3));
        window.insert(1200, call(5));
        assert!(window.get(400).is_none());
        assert!(window.is_too_old(400));
        assert!(window.is_too_old(396));
        assert!(!window.is_too_old(404), "above the forgotten one it is new");
    }

    #[test]
    fn msgs_state_statuses_follow_the_table() {
        let mut window = ReceivedWindow::new(2);
        window.insert(400, call(1));
        window.insert(800, call(3));
        window.insert(1200, call(5));
        if let Some(received) = window.get_mut(1200) {
            received.acknowledged = true;
        }
        window.insert(
            1600,
            Received {
                seq_no: 6,
                kind: ReceivedKind::Service,
                acknowledged: false,
            },
        );
        assert_eq!(window.status(400, false), 1, "forgotten");
        assert_eq!(window.status(1201, false), 1, "not a client msg_id");
        assert_eq!(
            window.status(1400, false),
            2,
            "within the range, not received"
        );
        assert_eq!(window.status(2000, false), 3, "above the range");
        assert_eq!(window.status(1200, false), 4 + 8 + 32);
        assert_eq!(window.status(1200, true), 4 + 8 + 32 + 64);
        assert_eq!(window.status(1600, false), 4 + 16);
    }
}
