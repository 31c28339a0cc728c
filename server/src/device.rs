//! # A device: one authorization key and its mailbox
//!
//! Telegram delivers secret-chat updates per *authorization key*, not per user (SPEC §7):
//! each of Bob's phones and laptops has its own queue and its own `qts`. In the mock a
//! device is what a bearer token stands for. Its [`Mailbox`] holds
//!
//! * the [`UpdateQueue`] of encrypted messages (qts) and other updates (pts), kept until
//!   acknowledged or 7 days old;
//! * a wake-up signal for long-polling `updates.getDifference` calls (a `watch` counter:
//!   a waiter subscribes *before* looking at the queue, so no delivery is missed);
//! * a broadcast of live pushes for `GET /api/updates.stream` (including typing notices,
//!   which are never queued);
//! * the answers to this device's recent sends, by `random_id`, so a resend gets the same
//!   answer and is not delivered twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use secretchat_common::tl::api::{enums, types};
use tokio::sync::{broadcast, watch};

use crate::error::RpcError;
use crate::update_queue::{UpdateQueue, EXPIRY_SECONDS};

/// A device id: stands for the device's authorization key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct DeviceId(pub i64);

/// How many live pushes a slow event-stream reader may fall behind before it is told
/// `updatesTooLong` (and should call `updates.getDifference`).
const PUSH_CAPACITY: usize = 256;

/// Something pushed live to a device's event stream.
#[derive(Debug, Clone)]
pub enum Pushed {
    /// `updateNewEncryptedMessage{message, qts}` (also queued).
    Message {
        qts: i32,
        message: Arc<enums::EncryptedMessage>,
    },
    /// `updateEncryption` or `updateEncryptedMessagesRead` (also queued).
    Other(Arc<enums::Update>),
    /// `updateEncryptedChatTyping{chat_id}`: pushed only, never queued.
    Typing { chat_id: i32 },
}

/// The queue type of a device.
pub type DeviceQueue = UpdateQueue<enums::EncryptedMessage, enums::Update>;

/// A signed-in device.
#[derive(Debug)]
pub struct Device {
    pub id: DeviceId,
    pub user_id: i64,
    pub name: String,
    pub mailbox: Mailbox,
}

impl Device {
    pub fn new(id: DeviceId, user_id: i64, name: String) -> Self {
        Self {
            id,
            user_id,
            name,
            mailbox: Mailbox::new(),
        }
    }
}

/// What a device receives, and the answers it was given.
#[derive(Debug)]
pub struct Mailbox {
    queue: Mutex<DeviceQueue>,
    wake: watch::Sender<u64>,
    push: broadcast::Sender<Pushed>,
    replies: Mutex<ReplayCache>,
}

impl Default for Mailbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Mailbox {
    pub fn new() -> Self {
        Self {
            queue: Mutex::new(UpdateQueue::new()),
            wake: watch::Sender::new(0),
            push: broadcast::Sender::new(PUSH_CAPACITY),
            replies: Mutex::new(ReplayCache::default()),
        }
    }

    /// The queue, locked. Critical sections are short and never await.
    pub fn queue(&self) -> MutexGuard<'_, DeviceQueue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cache of answers to this device's sends, locked.
    pub fn replies(&self) -> MutexGuard<'_, ReplayCache> {
        self.replies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver that changes whenever something is queued for this device. Subscribe
    /// before reading the queue, then wait on it.
    pub fn subscribe_wake(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// A receiver of live pushes (the event stream).
    pub fn subscribe_push(&self) -> broadcast::Receiver<Pushed> {
        self.push.subscribe()
    }

    /// Queues an encrypted message unless `max_queue_len` messages are already waiting;
    /// wakes long-polls and pushes it live. Returns its qts.
    pub fn deliver_message(
        &self,
        date: i32,
        message: Arc<enums::EncryptedMessage>,
        max_queue_len: usize,
    ) -> Result<i32, RpcError> {
        let qts = {
            let mut queue = self.queue();
            if queue.message_count() >= max_queue_len {
                return Err(RpcError::PeerQueueFull { max: max_queue_len });
            }
            queue.push_message(date, Arc::clone(&message))
        };
        self.wake.send_modify(|tick| *tick = tick.wrapping_add(1));
        if self.push.receiver_count() > 0 {
            let _ = self.push.send(Pushed::Message { qts, message });
        }
        Ok(qts)
    }

    /// Queues another secret-chat update (pts), wakes long-polls, pushes it live. Returns
    /// its pts.
    pub fn deliver_other(&self, date: i32, update: enums::Update) -> i32 {
        let update = Arc::new(update);
        let pts = self.queue().push_other(date, Arc::clone(&update));
        self.wake.send_modify(|tick| *tick = tick.wrapping_add(1));
        if self.push.receiver_count() > 0 {
            let _ = self.push.send(Pushed::Other(update));
        }
        pts
    }

    /// Leaves `count` qts values unused (a fault: a gap the device will never see filled).
    /// Returns the first and last skipped value.
    pub fn skip_qts(&self, count: u32) -> (i32, i32) {
        self.queue().skip_qts(count)
    }

    /// Wakes every long-poll of this device without delivering anything (it logged out).
    pub fn wake_waiters(&self) {
        self.wake.send_modify(|tick| *tick = tick.wrapping_add(1));
    }

    /// Pushes a typing notice to live listeners only.
    pub fn push_typing(&self, chat_id: i32) {
        if self.push.receiver_count() > 0 {
            let _ = self.push.send(Pushed::Typing { chat_id });
        }
    }

    /// Deletes queued updates and remembered answers older than 7 days before `now`.
    pub fn expire(&self, now: i32) -> usize {
        let cutoff = now.saturating_sub(EXPIRY_SECONDS);
        self.replies().expire(cutoff);
        self.queue().expire(cutoff)
    }
}

/// The answer a send got, remembered by `random_id`: kept compact (16 bytes; the file,
/// rare, behind a box) because every send leaves one.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub chat_id: i32,
    pub date: i32,
    pub file: Option<Box<enums::EncryptedFile>>,
}

impl Reply {
    /// `messages.sentEncryptedMessage{date}` or `messages.sentEncryptedFile{date, file}`.
    pub fn answer(&self) -> enums::MessagesSentEncryptedMessage {
        match &self.file {
            None => enums::MessagesSentEncryptedMessage::MessagesSentEncryptedMessage(
                types::MessagesSentEncryptedMessage { date: self.date },
            ),
            Some(file) => enums::MessagesSentEncryptedMessage::MessagesSentEncryptedFile(
                types::MessagesSentEncryptedFile {
                    date: self.date,
                    file: file.as_ref().clone(),
                },
            ),
        }
    }
}

/// Answers to a device's sends by `random_id`, forgotten after 7 days like the queue, or
/// when the device has made `capacity` newer sends (a resend after that would be delivered
/// again; clients resend within seconds). Ordered by date, so expiry and eviction pop from
/// the front and cost what they remove.
#[derive(Debug, Default)]
pub struct ReplayCache {
    by_random_id: HashMap<i64, Reply>,
    by_date: VecDeque<(i32, i64)>,
}

impl ReplayCache {
    pub fn get(&self, random_id: i64) -> Option<&Reply> {
        self.by_random_id.get(&random_id)
    }

    /// Remembers an answer, forgetting the oldest ones beyond `capacity`.
    pub fn insert(&mut self, date: i32, random_id: i64, reply: Reply, capacity: usize) {
        if self.by_random_id.insert(random_id, reply).is_none() {
            self.by_date.push_back((date, random_id));
        }
        while self.by_date.len() > capacity.max(1) {
            if let Some((_, oldest)) = self.by_date.pop_front() {
                self.by_random_id.remove(&oldest);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.by_random_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_random_id.is_empty()
    }

    fn expire(&mut self, cutoff: i32) {
        while let Some(&(date, random_id)) = self.by_date.front() {
            if date >= cutoff {
                break;
            }
            self.by_date.pop_front();
            self.by_random_id.remove(&random_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(random_id: i64) -> Arc<enums::EncryptedMessage> {
        Arc::new(enums::EncryptedMessage::EncryptedMessageService(
            types::EncryptedMessageService {
                random_id,
                chat_id: 1,
                date: 0,
                bytes: vec![0; 40],
            },
        ))
    }

    #[test]
    fn delivery_beyond_the_queue_limit_is_refused_and_queues_nothing() {
        let mailbox = Mailbox::new();
        mailbox.deliver_message(0, message(1), 1).unwrap();
        assert_eq!(
            mailbox.deliver_message(0, message(2), 1),
            Err(RpcError::PeerQueueFull { max: 1 })
        );
        assert_eq!(mailbox.queue().message_count(), 1);
    }

    #[test]
    fn delivery_wakes_a_subscribed_waiter() {
        let mailbox = Mailbox::new();
        let wake = mailbox.subscribe_wake();
        assert!(!wake.has_changed().unwrap());
        mailbox.deliver_message(0, message(1), 10).unwrap();
        assert!(wake.has_changed().unwrap());
    }

    #[test]
    fn delivery_is_pushed_to_live_listeners_sharing_the_message() {
        let mailbox = Mailbox::new();
        let mut push = mailbox.subscribe_push();
        let sent = message(5);
        mailbox.deliver_message(0, Arc::clone(&sent), 10).unwrap();
        match push.try_recv().unwrap() {
            Pushed::Message { qts, message } => {
                assert_eq!(qts, 2);
                assert!(Arc::ptr_eq(&message, &sent));
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Memory per queued message: the payload once (parsed straight from the request into
    /// the message, no second copy), plus fixed costs — the `Arc` allocation of the message,
    /// its queue slot, its replay-cache entry. For a 1 KiB payload the total stays under
    /// 1.5× the payload.
    #[test]
    fn a_queued_1_kib_message_costs_under_one_and_a_half_times_its_payload() {
        use secretchat_common::tl::api::functions;
        use secretchat_common::tl::TlJson;
        use std::mem::size_of;

        let payload = 1024;
        let body = serde_json::json!({
            "_": "messages.sendEncrypted",
            "peer": {"_": "inputEncryptedChat", "chat_id": 1, "access_hash": "2"},
            "random_id": "3",
            "data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![7u8; payload]),
        });
        let call = functions::MessagesSendEncrypted::from_json(&body).unwrap();
        let buffer = call.data.capacity();
        let fixed = 2 * size_of::<usize>() + size_of::<enums::EncryptedMessage>() // Arc + message
            + size_of::<(i32, i32, Arc<enums::EncryptedMessage>)>() // queue slot
            + size_of::<(i64, Reply)>() + size_of::<(i32, i64)>() + 16; // replay entry + index
        let total = buffer + fixed;
        assert!(
            total * 2 <= payload * 3,
            "{total} bytes for a {payload}-byte payload (buffer {buffer}, fixed {fixed})"
        );
    }

    #[test]
    fn a_remembered_answer_takes_16_bytes() {
        assert!(std::mem::size_of::<Reply>() <= 16);
    }

    #[test]
    fn remembered_answers_beyond_the_capacity_are_forgotten_oldest_first() {
        let mut cache = ReplayCache::default();
        let reply = || Reply {
            chat_id: 1,
            date: 0,
            file: None,
        };
        for random_id in 0..5 {
            cache.insert(0, random_id, reply(), 3);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(1).is_none());
        assert!(cache.get(2).is_some());
    }

    #[test]
    fn remembered_answers_expire_after_7_days() {
        let mailbox = Mailbox::new();
        let reply = Reply {
            chat_id: 1,
            date: 100,
            file: None,
        };
        mailbox.replies().insert(100, 9, reply, 10);
        mailbox.expire(100 + EXPIRY_SECONDS);
        assert!(mailbox.replies().get(9).is_some());
        mailbox.expire(101 + EXPIRY_SECONDS);
        assert!(mailbox.replies().get(9).is_none());
    }
}
