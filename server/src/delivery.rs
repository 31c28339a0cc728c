//! # Delivery: an update lands in a device's queue, and whoever listens hears of it
//!
//! Telegram hands secret-chat updates to each authorization key (SPEC §7) — here, to each
//! signed-in device. Everything the server hands a device goes through
//! [`Server::deliver`]: a relayed message, `updateEncryption` as a chat is requested,
//! accepted or discarded ([`Server::tell`]), a read receipt, a typing notice. While a fault
//! rule or hostile mode is installed the fault engine sees the delivery first
//! ([`crate::faults`]); either way it ends in [`land`]:
//!
//! ```text
//!   relay, tell,   ─▶ Server::deliver ─┬─ nothing armed ──────────────────────▶ land
//!   read, typing                       └─ Faults::on_delivery (modes, rules) ─▶ land, later,
//!                                                                                twice or never
//!   land: room check (PEER_QUEUE_FULL) ─▶ queue (qts / pts) ─▶ wake long-polls
//!         ─▶ push to live listeners ─▶ event log
//! ```
//!
//! **Hearing of it: the hook every door uses.** Each device has [`Listeners`]. A long-poll
//! (`updates.getDifference` with a `timeout`) subscribes to its wake-ups with
//! [`Listeners::subscribe_wake`] before it reads the queue, so a delivery in between still
//! wakes it. A live connection subscribes with [`Listeners::subscribe`] and receives every
//! update as it lands, as a [`Pushed`] — `GET /api/updates.stream` (server-sent events)
//! does, and so does any other door to the same server: it sees exactly what the others
//! see (faults included), and delivery needs to know nothing about doors. Typing notices
//! are pushed only, never queued. A listener that falls [`PUSH_CAPACITY`] pushes behind
//! is told it lagged (the stream answers `updatesTooLong`: call `updates.getDifference`).

use std::sync::Arc;

use secretchat_common::tl::api::{enums, types};
use serde::Deserialize;
use tokio::sync::{broadcast, watch};

use crate::device::{DeviceId, DeviceRecord};
use crate::error::RpcError;
use crate::event_log::{EventLog, LogEvent};
use crate::state::Server;

/// How many live pushes a slow listener may fall behind before it is told it lagged.
pub const PUSH_CAPACITY: usize = 256;

/// Something handed to a device.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// `updateNewEncryptedMessage` (queued, numbered by qts).
    Message(Arc<enums::EncryptedMessage>),
    /// `updateEncryption` or `updateEncryptedMessagesRead` (queued, numbered by pts).
    Other(enums::Update),
    /// `updateEncryptedChatTyping` (live stream only).
    Typing { chat_id: i32 },
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Fate {
    /// Queued for the device, now or later (a held or delayed delivery lands eventually).
    Queued,
    /// Taken out on purpose by a `drop` rule: it never reaches the device.
    Dropped,
}

/// The kinds of update a device receives: the names fault rules match (`"update"`) and
/// the event log shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// `updateNewEncryptedMessage{encryptedMessage}` (qts).
    NewEncryptedMessage,
    /// `updateNewEncryptedMessage{encryptedMessageService}` (qts).
    NewEncryptedServiceMessage,
    /// `updateEncryption{encryptedChatRequested}`.
    EncryptionRequested,
    /// `updateEncryption{encryptedChatWaiting}`.
    EncryptionWaiting,
    /// `updateEncryption{encryptedChat}` (the acceptance, with g_b and key_fingerprint).
    EncryptionAccepted,
    /// `updateEncryption{encryptedChatDiscarded}`.
    EncryptionDiscarded,
    /// `updateEncryption{encryptedChatEmpty}`.
    EncryptionEmpty,
    /// `updateEncryptedMessagesRead`.
    Read,
    /// `updateEncryptedChatTyping` (live stream only).
    Typing,
}

impl UpdateKind {
    pub fn name(self) -> &'static str {
        match self {
            UpdateKind::NewEncryptedMessage => "new_encrypted_message",
            UpdateKind::NewEncryptedServiceMessage => "new_encrypted_service_message",
            UpdateKind::EncryptionRequested => "encryption_requested",
            UpdateKind::EncryptionWaiting => "encryption_waiting",
            UpdateKind::EncryptionAccepted => "encryption_accepted",
            UpdateKind::EncryptionDiscarded => "encryption_discarded",
            UpdateKind::EncryptionEmpty => "encryption_empty",
            UpdateKind::Read => "read",
            UpdateKind::Typing => "typing",
        }
    }

    /// Numbered by qts (the message queue) rather than pts.
    pub fn is_message(self) -> bool {
        matches!(
            self,
            UpdateKind::NewEncryptedMessage | UpdateKind::NewEncryptedServiceMessage
        )
    }
}

impl Delivery {
    pub fn kind(&self) -> UpdateKind {
        match self {
            Delivery::Message(message) => match message.as_ref() {
                enums::EncryptedMessage::EncryptedMessage(_) => UpdateKind::NewEncryptedMessage,
                enums::EncryptedMessage::EncryptedMessageService(_) => {
                    UpdateKind::NewEncryptedServiceMessage
                }
            },
            Delivery::Other(enums::Update::UpdateEncryption(update)) => match &update.chat {
                enums::EncryptedChat::EncryptedChatRequested(_) => UpdateKind::EncryptionRequested,
                enums::EncryptedChat::EncryptedChatWaiting(_) => UpdateKind::EncryptionWaiting,
                enums::EncryptedChat::EncryptedChat(_) => UpdateKind::EncryptionAccepted,
                enums::EncryptedChat::EncryptedChatDiscarded(_) => UpdateKind::EncryptionDiscarded,
                enums::EncryptedChat::EncryptedChatEmpty(_) => UpdateKind::EncryptionEmpty,
            },
            Delivery::Other(_) => UpdateKind::Read,
            Delivery::Typing { .. } => UpdateKind::Typing,
        }
    }

    pub fn chat_id(&self) -> Option<i32> {
        match self {
            Delivery::Message(message) => Some(match message.as_ref() {
                enums::EncryptedMessage::EncryptedMessage(m) => m.chat_id,
                enums::EncryptedMessage::EncryptedMessageService(m) => m.chat_id,
            }),
            Delivery::Other(enums::Update::UpdateEncryption(update)) => Some(match &update.chat {
                enums::EncryptedChat::EncryptedChatRequested(c) => c.id,
                enums::EncryptedChat::EncryptedChatWaiting(c) => c.id,
                enums::EncryptedChat::EncryptedChat(c) => c.id,
                enums::EncryptedChat::EncryptedChatDiscarded(c) => c.id,
                enums::EncryptedChat::EncryptedChatEmpty(c) => c.id,
            }),
            Delivery::Other(enums::Update::UpdateEncryptedMessagesRead(read)) => Some(read.chat_id),
            Delivery::Other(_) => None,
            Delivery::Typing { chat_id } => Some(*chat_id),
        }
    }
}

/// An update as a live listener receives it, the moment it lands.
#[derive(Debug, Clone)]
pub enum Pushed {
    /// `updateNewEncryptedMessage{message, qts}` (also queued).
    Message {
        qts: i32,
        message: Arc<enums::EncryptedMessage>,
    },
    /// `updateEncryption` or `updateEncryptedMessagesRead` (also queued, as `pts`).
    Other {
        pts: i32,
        update: Arc<enums::Update>,
    },
    /// `updateEncryptedChatTyping{chat_id}`: pushed only, never queued.
    Typing { chat_id: i32 },
}

impl Pushed {
    /// The update as Telegram pushes it: `updateNewEncryptedMessage{message, qts}`, the
    /// queued update itself, or `updateEncryptedChatTyping{chat_id}`.
    pub fn update(&self) -> enums::Update {
        match self {
            Pushed::Message { qts, message } => {
                enums::Update::UpdateNewEncryptedMessage(types::UpdateNewEncryptedMessage {
                    message: message.as_ref().clone(),
                    qts: *qts,
                })
            }
            Pushed::Other { update, .. } => update.as_ref().clone(),
            Pushed::Typing { chat_id } => {
                enums::Update::UpdateEncryptedChatTyping(types::UpdateEncryptedChatTyping {
                    chat_id: *chat_id,
                })
            }
        }
    }
}

/// Who hears that something landed for one device: long-polls waiting for a wake-up, and
/// live connections of any door.
#[derive(Debug)]
pub struct Listeners {
    wake: watch::Sender<u64>,
    push: broadcast::Sender<Pushed>,
}

impl Default for Listeners {
    fn default() -> Self {
        Self::new()
    }
}

impl Listeners {
    pub fn new() -> Self {
        Self {
            wake: watch::Sender::new(0),
            push: broadcast::Sender::new(PUSH_CAPACITY),
        }
    }

    /// **The hook every door uses for live pushes**: a receiver of every update that lands
    /// for this device from now on, as it lands (the event stream subscribes here; so does
    /// any other door's live connection).
    pub fn subscribe(&self) -> broadcast::Receiver<Pushed> {
        self.push.subscribe()
    }

    /// A receiver that changes whenever something is queued for this device. Subscribe
    /// before reading the queue, then wait on it.
    pub fn subscribe_wake(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// Wakes every long-poll of this device without delivering anything (it logged out).
    pub fn wake_waiters(&self) {
        self.wake.send_modify(|tick| *tick = tick.wrapping_add(1));
    }

    /// Something was queued: wake the long-polls, push it live (unless the push is lost).
    fn queued(&self, pushed: Pushed, push: Push) {
        self.wake_waiters();
        if push == Push::Live {
            self.push(pushed);
        }
    }

    /// Pushes to live listeners only (a typing notice).
    fn push(&self, pushed: Pushed) {
        if self.push.receiver_count() > 0 {
            let _ = self.push.send(pushed);
        }
    }
}

/// Refuses a message with `PEER_QUEUE_FULL` when the device already holds `max_queue_len`
/// of them; other updates always have room.
pub fn check_room(
    device: &DeviceRecord,
    delivery: &Delivery,
    max_queue_len: usize,
) -> Result<(), RpcError> {
    if matches!(delivery, Delivery::Message(_))
        && device.mailbox.queue().message_count() >= max_queue_len
    {
        return Err(RpcError::PeerQueueFull { max: max_queue_len });
    }
    Ok(())
}

/// Queues a delivery for a device, wakes its long-polls, pushes it to its live listeners
/// and logs it. `max_queue_len` applies to messages only, checked under the queue's lock
/// (fault outputs pass `usize::MAX`: a released or duplicated message is never refused).
pub fn land(
    events: &EventLog,
    now: i32,
    device: &DeviceRecord,
    delivery: Delivery,
    max_queue_len: usize,
) -> Result<(), RpcError> {
    land_with(events, now, device, delivery, max_queue_len, Push::Live)
}

/// Queues a delivery without pushing it live (the `lose_push` fault): the device learns of
/// it only from `updates.getDifference`. A typing notice, which is never queued, is gone.
pub fn land_unpushed(
    events: &EventLog,
    now: i32,
    device: &DeviceRecord,
    delivery: Delivery,
) -> Result<(), RpcError> {
    land_with(events, now, device, delivery, usize::MAX, Push::Lost)
}

/// Whether a landed update goes out to live listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Push {
    Live,
    Lost,
}

fn land_with(
    events: &EventLog,
    now: i32,
    device: &DeviceRecord,
    delivery: Delivery,
    max_queue_len: usize,
    push: Push,
) -> Result<(), RpcError> {
    let update = delivery.kind().name();
    let chat_id = delivery.chat_id();
    let counter = match delivery {
        Delivery::Message(message) => {
            let qts = {
                let mut queue = device.mailbox.queue();
                if queue.message_count() >= max_queue_len {
                    return Err(RpcError::PeerQueueFull { max: max_queue_len });
                }
                queue.push_message(now, Arc::clone(&message))
            };
            device
                .listeners
                .queued(Pushed::Message { qts, message }, push);
            Some(("qts", qts))
        }
        Delivery::Other(other) => {
            let other = Arc::new(other);
            let pts = device.mailbox.queue().push_other(now, Arc::clone(&other));
            device
                .listeners
                .queued(Pushed::Other { pts, update: other }, push);
            Some(("pts", pts))
        }
        Delivery::Typing { chat_id } => {
            if push == Push::Live {
                device.listeners.push(Pushed::Typing { chat_id });
            }
            None
        }
    };
    events.record(
        now,
        LogEvent::Delivered {
            device: device.id,
            door: device.door,
            update,
            chat_id,
            counter,
        },
    );
    Ok(())
}

impl Server {
    /// Hands an update to a device: **the one place** every delivery goes through (the
    /// relay, `updateEncryption`, read receipts, typing), so the fault engine sees them
    /// all. A message is refused with `PEER_QUEUE_FULL` when the device already holds
    /// `--max-queue-len` of them; `from` is the sending device, if any (for `reflect`).
    pub fn deliver(
        &self,
        to: &DeviceRecord,
        from: Option<DeviceId>,
        delivery: Delivery,
    ) -> Result<Fate, RpcError> {
        if self.faults.is_armed() {
            return self.faults.on_delivery(self, to, from, delivery);
        }
        let max = self.limits.max_queue_len;
        land(&self.events, self.now(), to, delivery, max)?;
        Ok(Fate::Queued)
    }

    /// Queues `updateEncryption{chat, date}` for a device.
    pub fn tell(&self, device: &DeviceRecord, chat: enums::EncryptedChat) {
        let date = self.now();
        let update = enums::Update::UpdateEncryption(types::UpdateEncryption { chat, date });
        // Only messages can be refused (a full queue); other updates always land.
        let _ = self.deliver(device, None, Delivery::Other(update));
    }

    /// Queues `updateEncryption{chat}` for a device by id, if it is still signed in.
    pub fn tell_id(&self, device: DeviceId, chat: enums::EncryptedChat) {
        if let Some(device) = self.directory.device(device) {
            self.tell(&device, chat);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceDoor;

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

    fn device() -> DeviceRecord {
        DeviceRecord::new(DeviceId(1), 1, "phone".into(), DeviceDoor::Http)
    }

    #[test]
    fn delivery_beyond_the_queue_limit_is_refused_and_queues_nothing() {
        let (events, device) = (EventLog::new(), device());
        land(&events, 0, &device, Delivery::Message(message(1)), 1).unwrap();
        assert_eq!(
            land(&events, 0, &device, Delivery::Message(message(2)), 1),
            Err(RpcError::PeerQueueFull { max: 1 })
        );
        assert_eq!(device.mailbox.queue().message_count(), 1);
    }

    #[test]
    fn delivery_wakes_a_subscribed_waiter() {
        let (events, device) = (EventLog::new(), device());
        let wake = device.listeners.subscribe_wake();
        assert!(!wake.has_changed().unwrap());
        land(&events, 0, &device, Delivery::Message(message(1)), 10).unwrap();
        assert!(wake.has_changed().unwrap());
    }

    #[test]
    fn delivery_is_pushed_to_live_listeners_sharing_the_message() {
        let (events, device) = (EventLog::new(), device());
        let mut push = device.listeners.subscribe();
        let sent = message(5);
        land(
            &events,
            0,
            &device,
            Delivery::Message(Arc::clone(&sent)),
            10,
        )
        .unwrap();
        match push.try_recv().unwrap() {
            Pushed::Message { qts, message } => {
                assert_eq!(qts, 2);
                assert!(Arc::ptr_eq(&message, &sent));
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
}
