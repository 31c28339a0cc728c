//! # A device: one authorization key, its mailbox and its listeners
//!
//! Telegram delivers secret-chat updates per *authorization key*, not per user (SPEC §7):
//! each of Bob's phones and laptops has its own queue and its own `qts`. In the mock a
//! device is what a bearer token stands for. Its [`Mailbox`] holds
//!
//! * the [`UpdateQueue`] of encrypted messages (qts) and other updates (pts), kept until
//!   acknowledged or 7 days old;
//! * the answers to this device's recent sends, by `random_id`, so a resend gets the same
//!   answer and is not delivered twice.
//!
//! Its [`Listeners`] are who hears that an update landed — long-polls waiting for a
//! wake-up, live connections subscribed to its pushes ([`crate::delivery`], where updates
//! are queued).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::delivery::Listeners;
use crate::update_queue::{UpdateQueue, EXPIRY_SECONDS};
use secretchat_common::tl::api::{enums, types};

/// A device id: stands for the device's authorization key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct DeviceId(pub i64);

/// The queue type of a device.
pub type DeviceQueue = UpdateQueue<enums::EncryptedMessage, enums::Update>;

/// Which front door a device signed in through: where its deliveries go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceDoor {
    /// The HTTP/JSON API (a bearer token).
    Http,
    /// The MTProto door (an auth key).
    Mtproto,
}

impl DeviceDoor {
    pub const fn name(self) -> &'static str {
        match self {
            DeviceDoor::Http => "http",
            DeviceDoor::Mtproto => "mtproto",
        }
    }
}

/// A signed-in device: who it is, what it was sent, who listens for it.
#[derive(Debug)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub user_id: i64,
    pub name: String,
    pub door: DeviceDoor,
    pub mailbox: Mailbox,
    pub listeners: Listeners,
}

impl DeviceRecord {
    pub fn new(id: DeviceId, user_id: i64, name: String, door: DeviceDoor) -> Self {
        Self {
            id,
            user_id,
            name,
            door,
            mailbox: Mailbox::new(),
            listeners: Listeners::new(),
        }
    }
}

/// What a device receives, and the answers it was given.
#[derive(Debug)]
pub struct Mailbox {
    queue: Mutex<DeviceQueue>,
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

    /// Leaves `count` qts values unused (a fault: a gap the device will never see filled).
    /// Returns the first and last skipped value.
    pub fn skip_qts(&self, count: u32) -> (i32, i32) {
        self.queue().skip_qts(count)
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
    use std::sync::Arc;

    use super::*;

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
