//! # The per-device update queue (qts and pts)
//!
//! Telegram keeps, for every authorization key (here: every signed-in device), a queue of
//! secret-chat updates that survives while the device is offline (SPEC §7). Two counters
//! number what is in it:
//!
//! * **`qts`** numbers encrypted messages (`updateNewEncryptedMessage{message, qts}`). It
//!   starts above 1 (tdlib treats a `qts <= 1` as broken) and grows by exactly 1 per message.
//! * **`pts`** numbers the device's other secret-chat updates (`updateEncryption`,
//!   `updateEncryptedMessagesRead`), which `updates.getDifference` returns in
//!   `other_updates`. (The official constructors carry no pts; the counter only tells the
//!   server what a device has seen.)
//!
//! ```text
//!            acknowledged          handed out again until acknowledged
//!   qts:  … 3   4   5 │ 6   7   8   9          state.qts = 9
//!                     └─ getDifference(qts = 5) returns 6..9 and deletes ..5
//! ```
//!
//! An update stays until the device acknowledges it — `updates.getDifference(pts, qts)`
//! acknowledges everything up to the values *passed in*, `messages.receivedQueue(max_qts)`
//! up to `max_qts` — or until it is 7 days old. Both queues are [`VecDeque`]s ordered by
//! counter (and so by date), so acknowledging and expiring pop from the front: their cost is
//! what they remove, never the queue's length.
//!
//! Items are kept behind [`Arc`]: the encrypted bytes are stored once and shared with the
//! live push (server-sent events) and with whatever answer is being serialized.
//!
//! This module is a plain data structure: no clock (dates are parameters), no locks, no
//! I/O. The server wraps each device's queue in its own mutex.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::RpcError;

/// The value of a fresh queue's counters; the first update gets `INITIAL + 1 = 2`.
pub const INITIAL_COUNTER: i32 = 1;

/// Updates older than this many seconds are deleted even if unacknowledged (SPEC §7).
pub const EXPIRY_SECONDS: i32 = 7 * 24 * 3600;

/// One queued update: its counter value, the server date it was queued at, the item.
#[derive(Debug)]
struct Queued<T> {
    counter: i32,
    date: i32,
    item: Arc<T>,
}

/// `updates.state`'s two counters for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    pub pts: i32,
    pub qts: i32,
}

/// What `updates.getDifference` hands out: everything after the counters passed in, up to
/// the limits, and the state to continue from.
#[derive(Debug)]
pub struct Difference<M, O> {
    /// Messages in qts order, each with its qts.
    pub messages: Vec<(i32, Arc<M>)>,
    /// Other updates in pts order, each with its pts.
    pub others: Vec<(i32, Arc<O>)>,
    /// Where the device stands after applying this difference: the final state, or the
    /// `intermediate_state` of a `differenceSlice`.
    pub state: QueueState,
    /// `false` when a limit cut the answer short (an `updates.differenceSlice`).
    pub complete: bool,
}

impl<M, O> Difference<M, O> {
    /// Nothing after the counters passed in (`updates.differenceEmpty`).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.others.is_empty()
    }
}

/// One device's queue of encrypted messages (`M`, numbered by qts) and other secret-chat
/// updates (`O`, numbered by pts).
#[derive(Debug)]
pub struct UpdateQueue<M, O> {
    qts: i32,
    pts: i32,
    messages: VecDeque<Queued<M>>,
    others: VecDeque<Queued<O>>,
}

impl<M, O> Default for UpdateQueue<M, O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M, O> UpdateQueue<M, O> {
    /// An empty queue with both counters at [`INITIAL_COUNTER`].
    pub fn new() -> Self {
        Self {
            qts: INITIAL_COUNTER,
            pts: INITIAL_COUNTER,
            messages: VecDeque::new(),
            others: VecDeque::new(),
        }
    }

    /// The counters of the newest update of each kind (`updates.state.pts/qts`).
    pub fn state(&self) -> QueueState {
        QueueState {
            pts: self.pts,
            qts: self.qts,
        }
    }

    /// Unacknowledged encrypted messages.
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// Unacknowledged other updates.
    pub fn other_count(&self) -> usize {
        self.others.len()
    }

    /// Queues an encrypted message and returns its `qts` (the previous one + 1).
    pub fn push_message(&mut self, date: i32, message: Arc<M>) -> i32 {
        self.qts = self.qts.wrapping_add(1);
        self.messages.push_back(Queued {
            counter: self.qts,
            date,
            item: message,
        });
        self.qts
    }

    /// Moves qts on by `count` without queueing anything: a gap (the fault engine's
    /// `skip_qts`). Returns the first and last skipped value.
    pub fn skip_qts(&mut self, count: u32) -> (i32, i32) {
        let first = self.qts.wrapping_add(1);
        self.qts = self
            .qts
            .wrapping_add(i32::try_from(count).unwrap_or(i32::MAX));
        (first, self.qts)
    }

    /// Queues another secret-chat update and returns its `pts`.
    pub fn push_other(&mut self, date: i32, update: Arc<O>) -> i32 {
        self.pts = self.pts.wrapping_add(1);
        self.others.push_back(Queued {
            counter: self.pts,
            date,
            item: update,
        });
        self.pts
    }

    /// Forgets the other update numbered `pts`, which the device was handed some other way:
    /// pushed to an MTProto session, whose own acknowledgements and resends now carry it.
    /// Its number stays used; the updates around it stay queued. Answers whether it was
    /// there.
    pub fn forget_other(&mut self, pts: i32) -> bool {
        match self.others.iter().position(|queued| queued.counter == pts) {
            Some(at) => self.others.remove(at).is_some(),
            None => false,
        }
    }

    /// Checks counters a device sends back: they must not be negative nor ahead of what
    /// this queue ever assigned (a device holding a stale state, e.g. after a server reset,
    /// must call `updates.getState`).
    pub fn check_state(&self, pts: i32, qts: i32) -> Result<(), RpcError> {
        for (field, got, current) in [("pts", pts, self.pts), ("qts", qts, self.qts)] {
            if got < 0 || got > current {
                return Err(RpcError::PersistentTimestampInvalid {
                    field,
                    got,
                    current,
                });
            }
        }
        Ok(())
    }

    /// Deletes every message with `qts <= max_qts` and every other update with
    /// `pts <= max_pts`; returns the deleted messages. Costs what it removes.
    pub fn acknowledge(&mut self, max_pts: i32, max_qts: i32) -> Vec<Arc<M>> {
        while self.others.front().is_some_and(|q| q.counter <= max_pts) {
            self.others.pop_front();
        }
        let mut removed = Vec::new();
        while let Some(front) = self.messages.front() {
            if front.counter > max_qts {
                break;
            }
            if let Some(q) = self.messages.pop_front() {
                removed.push(q.item);
            }
        }
        removed
    }

    /// `messages.receivedQueue(max_qts)`: acknowledges messages up to `max_qts`, which must
    /// lie in `1..=qts`, and returns the acknowledged messages.
    pub fn received_queue(&mut self, max_qts: i32) -> Result<Vec<Arc<M>>, RpcError> {
        if max_qts <= 0 || max_qts > self.qts {
            return Err(RpcError::MaxQtsInvalid {
                max_qts,
                qts: self.qts,
            });
        }
        Ok(self.acknowledge(i32::MIN, max_qts))
    }

    /// `updates.getDifference(pts, qts)`: acknowledges everything up to the counters passed
    /// in, then returns what lies after them — at most `message_limit` messages and
    /// `other_limit` other updates; when a limit cuts the answer the state is the
    /// intermediate one to continue from.
    pub fn difference(
        &mut self,
        pts: i32,
        qts: i32,
        message_limit: usize,
        other_limit: usize,
    ) -> Result<Difference<M, O>, RpcError> {
        self.check_state(pts, qts)?;
        self.acknowledge(pts, qts);
        let messages: Vec<(i32, Arc<M>)> = self
            .messages
            .iter()
            .take(message_limit)
            .map(|q| (q.counter, Arc::clone(&q.item)))
            .collect();
        let others: Vec<(i32, Arc<O>)> = self
            .others
            .iter()
            .take(other_limit)
            .map(|q| (q.counter, Arc::clone(&q.item)))
            .collect();
        let messages_cut = messages.len() < self.messages.len();
        let others_cut = others.len() < self.others.len();
        let state = QueueState {
            qts: match messages.last() {
                Some((last, _)) if messages_cut => *last,
                _ if messages_cut => qts,
                _ => self.qts,
            },
            pts: match others.last() {
                Some((last, _)) if others_cut => *last,
                _ if others_cut => pts,
                _ => self.pts,
            },
        };
        Ok(Difference {
            messages,
            others,
            state,
            complete: !messages_cut && !others_cut,
        })
    }

    /// Deletes updates queued before `oldest_kept_date`; returns how many. Pops from the
    /// front only, so it costs what it removes.
    pub fn expire(&mut self, oldest_kept_date: i32) -> usize {
        let mut removed = 0;
        while self
            .messages
            .front()
            .is_some_and(|q| q.date < oldest_kept_date)
        {
            self.messages.pop_front();
            removed += 1;
        }
        while self
            .others
            .front()
            .is_some_and(|q| q.date < oldest_kept_date)
        {
            self.others.pop_front();
            removed += 1;
        }
        removed
    }

    /// Deletes everything (the device logged out). The counters stay, so a stale client
    /// state can never match new updates by accident.
    pub fn clear(&mut self) {
        self.messages.clear();
        self.others.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Queue = UpdateQueue<&'static str, &'static str>;

    fn queue_with(messages: &[&'static str], others: &[&'static str]) -> Queue {
        let mut queue = Queue::new();
        for m in messages {
            queue.push_message(1000, Arc::new(*m));
        }
        for o in others {
            queue.push_other(1000, Arc::new(*o));
        }
        queue
    }

    fn items<T: Copy>(list: &[(i32, Arc<T>)]) -> Vec<(i32, T)> {
        list.iter().map(|(c, item)| (*c, **item)).collect()
    }

    #[test]
    fn first_message_gets_qts_2_and_each_next_one_more() {
        let mut queue = Queue::new();
        assert_eq!(queue.state(), QueueState { pts: 1, qts: 1 });
        assert_eq!(queue.push_message(0, Arc::new("a")), 2);
        assert_eq!(queue.push_message(0, Arc::new("b")), 3);
        assert_eq!(queue.push_other(0, Arc::new("x")), 2);
        assert_eq!(queue.state(), QueueState { pts: 2, qts: 3 });
    }

    #[test]
    fn difference_returns_what_lies_after_the_counters_passed_in() {
        let mut queue = queue_with(&["a", "b", "c"], &["x", "y"]);
        let diff = queue.difference(2, 3, 100, 100).unwrap();
        assert_eq!(items(&diff.messages), vec![(4, "c")]);
        assert_eq!(items(&diff.others), vec![(3, "y")]);
        assert_eq!(diff.state, QueueState { pts: 3, qts: 4 });
        assert!(diff.complete);
    }

    #[test]
    fn difference_acknowledges_up_to_the_counters_passed_in_not_the_returned_state() {
        let mut queue = queue_with(&["a", "b", "c"], &["x"]);
        queue.difference(1, 3, 100, 100).unwrap();
        assert_eq!(queue.message_count(), 1);
        assert_eq!(queue.other_count(), 1);
        // Not acknowledged yet: handed out again.
        let again = queue.difference(1, 3, 100, 100).unwrap();
        assert_eq!(items(&again.messages), vec![(4, "c")]);
        assert_eq!(items(&again.others), vec![(2, "x")]);
    }

    #[test]
    fn difference_is_empty_when_the_device_is_up_to_date() {
        let mut queue = queue_with(&["a"], &[]);
        let diff = queue.difference(1, 2, 100, 100).unwrap();
        assert!(diff.is_empty());
        assert_eq!(diff.state, QueueState { pts: 1, qts: 2 });
        assert_eq!(queue.message_count(), 0);
    }

    #[test]
    fn large_difference_is_sliced_with_an_intermediate_state() {
        let mut queue = queue_with(&["a", "b", "c", "d", "e"], &["x", "y", "z"]);
        let first = queue.difference(0, 0, 2, 100).unwrap();
        assert!(!first.complete);
        assert_eq!(items(&first.messages), vec![(2, "a"), (3, "b")]);
        assert_eq!(first.others.len(), 3);
        assert_eq!(first.state, QueueState { pts: 4, qts: 3 });
        let second = queue
            .difference(first.state.pts, first.state.qts, 2, 100)
            .unwrap();
        assert_eq!(items(&second.messages), vec![(4, "c"), (5, "d")]);
        assert!(second.others.is_empty());
        let third = queue
            .difference(second.state.pts, second.state.qts, 2, 100)
            .unwrap();
        assert_eq!(items(&third.messages), vec![(6, "e")]);
        assert!(third.complete);
        assert_eq!(third.state, QueueState { pts: 4, qts: 6 });
    }

    #[test]
    fn slice_limited_to_zero_keeps_the_counter_passed_in() {
        let mut queue = queue_with(&["a", "b"], &[]);
        let diff = queue.difference(0, 0, 0, 100).unwrap();
        assert!(!diff.complete);
        assert_eq!(diff.state, QueueState { pts: 1, qts: 0 });
    }

    #[test]
    fn difference_rejects_a_qts_ahead_of_the_queue_and_changes_nothing() {
        let mut queue = queue_with(&["a"], &[]);
        assert_eq!(
            queue.difference(0, 3, 100, 100).unwrap_err(),
            RpcError::PersistentTimestampInvalid {
                field: "qts",
                got: 3,
                current: 2
            }
        );
        assert_eq!(
            queue.difference(-1, 0, 100, 100).unwrap_err(),
            RpcError::PersistentTimestampInvalid {
                field: "pts",
                got: -1,
                current: 1
            }
        );
        assert_eq!(queue.message_count(), 1);
    }

    #[test]
    fn received_queue_acknowledges_and_returns_the_acknowledged_messages() {
        let mut queue = queue_with(&["a", "b", "c"], &["x"]);
        let acked = queue.received_queue(3).unwrap();
        assert_eq!(
            acked.iter().map(|m| **m).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(queue.message_count(), 1);
        assert_eq!(queue.other_count(), 1);
    }

    #[test]
    fn received_queue_rejects_max_qts_outside_1_to_qts() {
        let mut queue = queue_with(&["a"], &[]);
        assert_eq!(
            queue.received_queue(0).unwrap_err(),
            RpcError::MaxQtsInvalid { max_qts: 0, qts: 2 }
        );
        assert_eq!(
            queue.received_queue(3).unwrap_err(),
            RpcError::MaxQtsInvalid { max_qts: 3, qts: 2 }
        );
        assert_eq!(queue.message_count(), 1);
    }

    #[test]
    fn expiry_removes_only_updates_older_than_the_cutoff() {
        let mut queue = Queue::new();
        queue.push_message(100, Arc::new("old"));
        queue.push_other(100, Arc::new("old"));
        queue.push_message(200, Arc::new("new"));
        assert_eq!(queue.expire(150), 2);
        let diff = queue.difference(0, 0, 100, 100).unwrap();
        assert_eq!(items(&diff.messages), vec![(3, "new")]);
        assert!(diff.others.is_empty());
    }

    #[test]
    fn clear_keeps_the_counters() {
        let mut queue = queue_with(&["a"], &["x"]);
        queue.clear();
        assert_eq!(queue.message_count() + queue.other_count(), 0);
        assert_eq!(queue.state(), QueueState { pts: 2, qts: 2 });
        assert_eq!(queue.push_message(0, Arc::new("b")), 3);
    }

    #[test]
    fn a_queued_message_is_shared_not_copied() {
        let mut queue: UpdateQueue<Vec<u8>, ()> = UpdateQueue::new();
        let payload = Arc::new(vec![7u8; 4096]);
        queue.push_message(0, Arc::clone(&payload));
        let diff = queue.difference(0, 0, 10, 10).unwrap();
        assert!(Arc::ptr_eq(&diff.messages[0].1, &payload));
    }

    proptest! {
        /// Whatever mix of sends and acknowledgements happens, a full getDifference from the
        /// acknowledged point returns exactly the unacknowledged messages, in order, with
        /// consecutive qts, and the state's qts is the last one assigned.
        #[test]
        fn difference_always_returns_exactly_the_unacknowledged_tail(
            ops in proptest::collection::vec((0u8..3, 0i32..6), 0..60)
        ) {
            let mut queue: UpdateQueue<i32, i32> = UpdateQueue::new();
            let mut sent: Vec<i32> = Vec::new();
            let mut acked = 0i32;
            for (op, arg) in ops {
                match op {
                    0 => {
                        let qts = queue.push_message(0, Arc::new(sent.len() as i32));
                        sent.push(qts);
                    }
                    1 => {
                        let max_qts = (acked + arg).min(queue.state().qts);
                        if max_qts > 0 {
                            queue.received_queue(max_qts).unwrap();
                            acked = acked.max(max_qts);
                        }
                    }
                    _ => {
                        let qts = (acked + arg).min(queue.state().qts);
                        queue.difference(0, qts, 100, 100).unwrap();
                        acked = acked.max(qts);
                    }
                }
            }
            let diff = queue.difference(0, acked, usize::MAX, usize::MAX).unwrap();
            let expected: Vec<i32> = sent.iter().copied().filter(|q| *q > acked).collect();
            prop_assert_eq!(diff.messages.iter().map(|(q, _)| *q).collect::<Vec<_>>(), expected);
            prop_assert_eq!(diff.state.qts, INITIAL_COUNTER + sent.len() as i32);
            prop_assert!(diff.complete);
        }
    }
}
