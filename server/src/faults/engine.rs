//! # The engine: what the one mutex holds, and the order a delivery goes through it
//!
//! One mutex ([`super::Faults`]) holds the installed rules and hostile modes, the
//! man-in-the-middle state of each intercepted chat, the held deliveries and the files
//! seen in messages of chats; the hooks take it only when something is installed. For
//! each delivery, in order ([`Engine::on_delivery`]):
//!
//! 1. held deliveries whose server-clock date has come are released ([`super::held`]);
//! 2. the hostile modes of the delivery's chat rewrite it ([`super::hostile`], the man in
//!    the middle in [`super::mitm`]);
//! 3. the rules, in install order, each count the delivery if it matches them; the first
//!    whose `nth`, `times` and probability draw all allow it acts (at most one per
//!    delivery; [`super::firing`]);
//! 4. deliveries held "until K more deliveries" to this device count this one, if it
//!    landed.
//!
//! Every rule and mode has its own ChaCha20 generator seeded with its `seed` (given, or
//! drawn from the server's `--seed`; [`super::installed`]): the probability draws (made
//! only when `probability < 1`), random bytes and shuffles come from it, so the same run
//! with the same seeds does the same things. Lock order: chat → engine → device queue;
//! the engine never takes a chat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::held::Held;
use super::hostile::HostileSpec;
use super::installed::Installed;
use super::mitm::Mitm;
use super::rule::RuleSpec;
use super::FaultContext;
use crate::delivery::{Delivery, Fate};
use crate::device::{DeviceId, DeviceRecord};
use crate::error::RpcError;

/// The engine's state (behind [`super::Faults`]' mutex).
#[derive(Debug)]
pub struct Engine {
    /// Draws the seeds of installations that name none.
    pub(super) rng: ChaCha20Rng,
    pub(super) next_id: u64,
    pub(super) rules: Vec<Installed<RuleSpec>>,
    pub(super) held: Vec<Held>,
    pub(super) hostile: Vec<Installed<HostileSpec>>,
    pub(super) mitm: HashMap<i32, Mitm>,
    /// Files seen in messages of chats, for the file modes.
    pub(super) file_chats: HashMap<i64, i32>,
    /// Bumped by a reset, so a wall-clock timer started before it does nothing.
    pub(super) generation: Arc<AtomicU64>,
}

impl Engine {
    /// An engine whose default seeds come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            next_id: 1,
            rules: Vec::new(),
            held: Vec::new(),
            hostile: Vec::new(),
            mitm: HashMap::new(),
            file_chats: HashMap::new(),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether any rule, mode or held delivery exists.
    pub fn is_active(&self) -> bool {
        !self.rules.is_empty() || !self.held.is_empty() || !self.hostile.is_empty()
    }

    /// Forgets every rule, mode and held delivery; wall-clock timers already started will
    /// land nothing.
    pub fn clear(&mut self) {
        self.rules.clear();
        self.held.clear();
        self.hostile.clear();
        self.mitm.clear();
        self.file_chats.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The delivery hook: everything `Server::deliver` hands out while armed, in the order
    /// the module comment gives.
    pub fn on_delivery(
        &mut self,
        ctx: &dyn FaultContext,
        to: &DeviceRecord,
        from: Option<DeviceId>,
        delivery: Delivery,
    ) -> Result<Fate, RpcError> {
        let now = ctx.now();
        ctx.check_room(to, &delivery)?;
        self.release_due(ctx);
        let delivery = self.hostile_delivery(ctx, to, delivery);
        let (fate, landed) = self.apply_rules(ctx, now, to, from, delivery)?;
        if landed {
            self.count_delivery(ctx, now, to.id);
        }
        Ok(fate)
    }
}
