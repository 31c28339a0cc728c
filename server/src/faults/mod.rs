//! # Faults: a server that misbehaves on purpose
//!
//! Users come to this mock to find out whether *their* secret-chat client survives a
//! network and a server that misbehave, and refuses what it must refuse (issue 6). This
//! module is that misbehaviour, at the level of protocol messages — never bytes on a
//! socket — driven through the admin surface (`docs/faults.md`):
//!
//! * [`rule`] and [`action`] — **fault rules**: which deliveries or answers a rule matches
//!   and what it does to them (drop, duplicate, reorder, hold, delay, skip qts, corrupt,
//!   replay, reflect, answer an error);
//! * [`hostile`] and [`mitm`] — **hostile modes** per chat or device: bad DH parameters,
//!   degenerate g_a/g_b, a real man in the middle, an altered fingerprint, swapped or
//!   truncated files, MTProto 1.0 padding malleability;
//! * [`engine`] — applies both, with a seeded generator per rule, at the two places the
//!   server hands something out: [`Faults::on_delivery`] (every update queued for a
//!   device goes through [`crate::state::Server::deliver`]) and [`calls::on_call`] (a
//!   middleware around every `/api/` call);
//! * [`event_log`] — every applied fault, with its rule and seed, next to the server's
//!   ordinary events (`GET /admin/events?since=N`);
//! * [`routes`] — the admin routes.
//!
//! ```text
//!   send ─▶ relay ─▶ Server::deliver ─┬─ nothing armed ─────────────────▶ queue (qts) ─▶ device
//!                                     └─ Faults::on_delivery: hostile ─▶ rules ─▶ queue / held
//!   call ─▶ calls::on_call: error rules ─▶ method ─▶ hostile answer rewrite ─▶ device
//! ```
//!
//! Nothing the server accepted is lost by accident: a delivery leaves the normal path only
//! because a rule or mode the operator installed says so, and that is logged. Held
//! deliveries are released when their condition holds, when their rule is deleted, or by
//! `POST /admin/faults/{id}/release`. With nothing installed the hooks cost one atomic
//! load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use secretchat_common::tl::api::enums;

pub mod action;
pub mod calls;
pub mod engine;
pub mod event_log;
pub mod hostile;
pub mod mitm;
pub mod routes;
pub mod rule;

use engine::Engine;
use event_log::EventLog;
use rule::UpdateKind;

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Fate {
    /// Queued for the device, now or later (a held or delayed delivery lands eventually).
    Queued,
    /// Taken out on purpose by a `drop` rule: it never reaches the device.
    Dropped,
}

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

/// The fault engine as the server holds it.
#[derive(Debug)]
pub struct Faults {
    /// Whether anything is installed or held: the hooks' fast path reads only this.
    armed: AtomicBool,
    engine: Mutex<Engine>,
    pub events: Arc<EventLog>,
    /// Bumped by a reset, so a wall-clock timer started before it does nothing.
    generation: Arc<AtomicU64>,
}

impl Faults {
    /// An engine whose default seeds come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            armed: AtomicBool::new(false),
            engine: Mutex::new(Engine::new(seed)),
            events: Arc::new(EventLog::new()),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether any rule, mode or held delivery exists.
    pub fn is_armed(&self) -> bool {
        self.armed.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn rearm(&self, engine: &Engine) {
        self.armed.store(engine.is_active(), Ordering::Release);
    }

    /// Forgets every rule, mode, held delivery and event (`POST /admin/reset`).
    pub fn reset(&self) {
        let mut engine = self.lock();
        engine.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.events.clear();
        self.rearm(&engine);
    }
}
