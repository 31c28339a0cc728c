//! # Faults: a server that misbehaves on purpose
//!
//! Users come to this mock to find out whether *their* secret-chat client survives a
//! network and a server that misbehave, and refuses what it must refuse. This module is
//! that misbehaviour, at the level of protocol messages — never bytes on a socket —
//! driven through the admin surface (`docs/faults.md`):
//!
//! * **fault rules** — [`rule`]: which deliveries or answers a rule matches; [`action`]:
//!   what it does to them (drop, duplicate, reorder, hold, delay, skip qts, corrupt,
//!   replay, reflect, answer an error); [`firing`]: which rule acts on an event, and its
//!   action at work; [`held`]: what rules keep back, and when it comes out;
//! * **hostile modes** per chat or device — [`hostile`]: bad DH parameters, degenerate
//!   g_a/g_b, an altered fingerprint, swapped or truncated files, MTProto 1.0 padding
//!   malleability, and how they rewrite a chat's deliveries; [`mitm`]: a real man in the
//!   middle of the key exchange and of every re-key;
//! * **answer rewriting** — [`answers`]: the modes that change what a call answers;
//! * [`installed`] — a rule or mode as installed (id, seed, its own generator, counters):
//!   one type for both, installed, listed and removed the same way;
//! * [`engine`] — what the one mutex holds, and the order a delivery goes through it. The
//!   hooks are [`Faults::on_delivery`] (every update for a device goes through
//!   `Server::deliver`, [`crate::delivery`]) and [`Faults::before_call`] /
//!   [`Faults::rewrite_answer`] (around every `/api/` call, by the HTTP door's
//!   `crate::methods::answer_hook`);
//! * [`context`] — [`FaultContext`], all the engine sees of the server: the clock, the
//!   event log ([`crate::event_log`]), device and user look-ups, stored files, the DH
//!   parameters, and landing a delivery in a device's queue.
//!
//! The admin routes that install and list all this are in [`crate::admin`].
//!
//! ```text
//!   send ─▶ relay ─▶ Server::deliver ─┬─ nothing armed ─────────────────▶ land: queue (qts) ─▶ device
//!                                     └─ Faults::on_delivery: hostile ─▶ rules ─▶ land / held
//!   call ─▶ answer_hook: error rules ─▶ method ─▶ hostile answer rewrite ─▶ device
//! ```
//!
//! Nothing the server accepted is lost by accident: a delivery leaves the normal path only
//! because a rule or mode the operator installed says so, and that is logged. Held
//! deliveries are released when their condition holds, when their rule is deleted, or by
//! `POST /admin/faults/{id}/release`. With nothing installed the hooks cost one atomic
//! load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use secretchat_common::tl::api::enums;
use serde_json::Value;

pub mod action;
pub mod answers;
pub mod context;
pub mod engine;
pub mod firing;
pub mod held;
pub mod hostile;
pub mod installed;
pub mod mitm;
pub mod rule;

pub use context::FaultContext;
use engine::Engine;
use installed::Spec;

use crate::delivery::{Delivery, Fate};
use crate::device::{DeviceId, DeviceRecord};
use crate::error::RpcError;

/// The fault engine as the server holds it: the engine behind one mutex, and a flag the
/// hooks read without taking it.
#[derive(Debug)]
pub struct Faults {
    /// Whether anything is installed or held: the hooks' fast path reads only this.
    armed: AtomicBool,
    engine: Mutex<Engine>,
}

impl Faults {
    /// An engine whose default seeds come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            armed: AtomicBool::new(false),
            engine: Mutex::new(Engine::new(seed)),
        }
    }

    /// Whether any rule, mode or held delivery exists.
    pub fn is_armed(&self) -> bool {
        self.armed.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the engine under its lock, then records whether anything is armed.
    fn with<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let mut engine = self.lock();
        let out = f(&mut engine);
        self.armed.store(engine.is_active(), Ordering::Release);
        out
    }

    /// The delivery hook (step by step in [`engine`]).
    pub fn on_delivery(
        &self,
        ctx: &dyn FaultContext,
        to: &DeviceRecord,
        from: Option<DeviceId>,
        delivery: Delivery,
    ) -> Result<Fate, RpcError> {
        self.with(|engine| engine.on_delivery(ctx, to, from, delivery))
    }

    /// The answer hook's first half: an `error` rule for this call, if one fires.
    pub fn before_call(
        &self,
        ctx: &dyn FaultContext,
        device: Option<&DeviceRecord>,
        method: &str,
    ) -> Option<RpcError> {
        self.with(|engine| engine.before_call(ctx, device, method))
    }

    /// Whether the answer to `method` may be rewritten by an installed mode.
    pub fn rewrites_answer(&self, method: &str) -> bool {
        self.lock().rewrites_answer(method)
    }

    /// The answer hook's second half: hostile modes rewrite a successful answer (as JSON).
    /// `request` is the call's body (for `upload.getFile`'s location and range).
    pub fn rewrite_answer(
        &self,
        ctx: &dyn FaultContext,
        device: Option<&DeviceRecord>,
        method: &str,
        request: &Value,
        answer: &mut Value,
    ) {
        self.lock()
            .rewrite_answer(ctx, device, method, request, answer);
    }

    /// Releases held deliveries whose server-clock date has come (called on every hook
    /// and when the admin advances the clock).
    pub fn tick(&self, ctx: &dyn FaultContext) {
        if self.is_armed() {
            self.with(|engine| engine.release_due(ctx));
        }
    }

    /// Installs a rule or hostile mode; answers its id and seed.
    pub fn install<S: Spec>(&self, spec: S) -> (u64, u64) {
        self.with(|engine| engine.install(spec))
    }

    /// Removes the rule or mode `id` (`None`: every one of its kind) — a rule releases what
    /// it holds first; answers how many were removed.
    pub fn remove<S: Spec>(&self, ctx: &dyn FaultContext, id: Option<u64>) -> usize {
        self.with(|engine| engine.remove::<S>(ctx, id))
    }

    /// Releases everything a rule holds; answers how many deliveries came out, or `None`
    /// if there is no such rule.
    pub fn release(&self, ctx: &dyn FaultContext, rule_id: u64) -> Option<usize> {
        self.with(|engine| engine.release(ctx, rule_id))
    }

    /// The installed rules as the admin surface lists them.
    pub fn rules_json(&self) -> Value {
        self.lock().rules_json()
    }

    /// The installed hostile modes as the admin surface lists them.
    pub fn hostile_json(&self) -> Value {
        self.lock().hostile_json()
    }

    /// The two keys of an intercepted chat, side by side.
    pub fn mitm_json(&self, chat_id: i32) -> Option<Value> {
        self.lock().mitm.get(&chat_id).map(|m| m.to_json(chat_id))
    }

    /// Forgets every rule, mode and held delivery (`POST /admin/reset`).
    pub fn reset(&self) {
        self.with(Engine::clear);
    }
}

/// A copy of `delivery` with the bytes it carries changed by `f`: a message's `bytes`, or
/// the g_a / g_b of an `updateEncryption`; other deliveries are copied unchanged.
fn with_bytes(delivery: &Delivery, f: impl FnOnce(&mut Vec<u8>)) -> Delivery {
    match delivery {
        Delivery::Message(message) => {
            let mut message = message.as_ref().clone();
            match &mut message {
                enums::EncryptedMessage::EncryptedMessage(m) => f(&mut m.bytes),
                enums::EncryptedMessage::EncryptedMessageService(m) => f(&mut m.bytes),
            }
            Delivery::Message(Arc::new(message))
        }
        Delivery::Other(enums::Update::UpdateEncryption(update)) => {
            let mut update = update.clone();
            match &mut update.chat {
                enums::EncryptedChat::EncryptedChatRequested(c) => f(&mut c.g_a),
                enums::EncryptedChat::EncryptedChat(c) => f(&mut c.g_a_or_b),
                _ => {}
            }
            Delivery::Other(enums::Update::UpdateEncryption(update))
        }
        other => other.clone(),
    }
}

/// The `bytes` of an encrypted message.
fn message_bytes(message: &enums::EncryptedMessage) -> &[u8] {
    match message {
        enums::EncryptedMessage::EncryptedMessage(m) => &m.bytes,
        enums::EncryptedMessage::EncryptedMessageService(m) => &m.bytes,
    }
}
