//! # Held deliveries: what a rule keeps back, and when it comes out
//!
//! `hold`, server-clock `delay` and `replay` keep a delivery in the engine instead of
//! landing it (a `reorder` rule keeps its window in the rule itself). Nothing held is lost:
//! it lands when its condition holds — after K more deliveries to the same device, or when
//! the server clock reaches a date (checked on every hook and when the admin advances the
//! clock) — or when the admin releases or deletes its rule. Each release is logged as a
//! `released` event with the rule's id and the reason.

use std::sync::Arc;

use serde_json::json;

use super::engine::Engine;
use super::FaultContext;
use crate::delivery::{self, Delivery};
use crate::device::{DeviceId, DeviceRecord};
use crate::event_log::{EventLog, LogEvent};

/// When a held delivery comes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// By `POST /admin/faults/{id}/release` (or deleting the rule).
    Manual,
    /// After this many more deliveries to the same device.
    AfterDeliveries(u32),
    /// At this server-clock date.
    At(i32),
}

/// A delivery a rule holds.
#[derive(Debug)]
pub struct Held {
    pub rule: u64,
    pub device: Arc<DeviceRecord>,
    pub delivery: Delivery,
    pub release: Release,
}

/// Logs a release and lands the delivery (never refused: no queue limit). Takes the event
/// log alone, so a wall-clock timer can call it too.
pub fn land_released(
    events: &EventLog,
    now: i32,
    rule: u64,
    device: &DeviceRecord,
    delivery: Delivery,
    why: &str,
) {
    events.record(
        now,
        LogEvent::Fault(json!({
            "event": "released",
            "rule": rule,
            "device": device.id.0.to_string(),
            "update": delivery.kind().name(),
            "chat_id": delivery.chat_id(),
            "detail": why,
        })),
    );
    let _ = delivery::land(events, now, device, delivery, usize::MAX);
}

impl Held {
    /// Lands it, logging why it came out.
    fn land(self, events: &EventLog, now: i32, why: &str) {
        land_released(events, now, self.rule, &self.device, self.delivery, why);
    }
}

impl Engine {
    /// Lands everything rule `rule_id` holds: its held deliveries, then its reorder
    /// `window` in arrival order. Answers how many deliveries came out.
    pub fn release_rule(
        &mut self,
        ctx: &dyn FaultContext,
        rule_id: u64,
        window: Vec<(Arc<DeviceRecord>, Delivery)>,
    ) -> usize {
        let (mine, rest): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.rule == rule_id);
        self.held = rest;
        let now = ctx.now();
        let mut count = 0;
        for held in mine {
            held.land(ctx.events(), now, "released by the admin");
            count += 1;
        }
        for (device, delivery) in window {
            land_released(
                ctx.events(),
                now,
                rule_id,
                &device,
                delivery,
                "reorder window released by the admin",
            );
            count += 1;
        }
        count
    }

    /// Releases held deliveries whose server-clock date has come.
    pub fn release_due(&mut self, ctx: &dyn FaultContext) {
        let now = ctx.now();
        if !self
            .held
            .iter()
            .any(|h| matches!(h.release, Release::At(at) if at <= now))
        {
            return;
        }
        let (due, rest): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| matches!(h.release, Release::At(at) if at <= now));
        self.held = rest;
        for held in due {
            held.land(ctx.events(), now, "its server-clock date came");
        }
    }

    /// Counts one delivery to `device` for the holds waiting on it.
    pub fn count_delivery(&mut self, ctx: &dyn FaultContext, now: i32, device: DeviceId) {
        let mut due = Vec::new();
        for (index, held) in self.held.iter_mut().enumerate() {
            if held.device.id != device {
                continue;
            }
            if let Release::AfterDeliveries(n) = &mut held.release {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    due.push(index);
                }
            }
        }
        for index in due.into_iter().rev() {
            let held = self.held.remove(index);
            held.land(ctx.events(), now, "the deliveries it waited for passed");
        }
    }
}
