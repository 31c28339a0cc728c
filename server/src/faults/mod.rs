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
//!   server hands something out: [`Faults::on_delivery`] (every update for a device goes
//!   through `Server::deliver`, [`crate::delivery`]) and [`Faults::before_call`] /
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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub mod action;
pub mod context;
pub mod engine;
pub mod hostile;
pub mod mitm;
pub mod rule;

pub use context::FaultContext;
use engine::Engine;

/// The fault engine as the server holds it.
#[derive(Debug)]
pub struct Faults {
    /// Whether anything is installed or held: the hooks' fast path reads only this.
    armed: AtomicBool,
    engine: Mutex<Engine>,
    /// Bumped by a reset, so a wall-clock timer started before it does nothing.
    generation: Arc<AtomicU64>,
}

impl Faults {
    /// An engine whose default seeds come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            armed: AtomicBool::new(false),
            engine: Mutex::new(Engine::new(seed)),
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

    /// Forgets every rule, mode and held delivery (`POST /admin/reset`).
    pub fn reset(&self) {
        let mut engine = self.lock();
        engine.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.rearm(&engine);
    }
}
