//! # Fault rules at work: which rule acts, and what its action does
//!
//! A rule ([`super::rule`]) is matched against every delivery and every call. The rules,
//! in install order, each count an event they match; the first whose `nth`, `times` and
//! probability draw all allow it acts — at most one per event; a later matching rule only
//! counts it (no draw, no `times` spent). For a delivery the acting rule's action
//! ([`super::action`]) decides what lands and when; for a call only `error` acts, answering
//! instead of the method. Every action is written to the event log with the rule's id and
//! seed.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use super::action::{corrupt, Clock, FaultAction};
use super::engine::Engine;
use super::held::{land_released, Held, Release};
use super::installed::{Installed, Spec};
use super::rule::{DeliveryView, DeviceView, RuleSpec};
use super::{with_bytes, FaultContext};
use crate::delivery::{Delivery, Fate};
use crate::device::{DeviceId, DeviceRecord};
use crate::error::RpcError;
use crate::event_log::LogEvent;

/// What an installed rule keeps besides its counters.
#[derive(Debug, Default)]
pub struct RuleState {
    /// Events that matched its filters.
    pub matched: u64,
    /// A `reorder` rule's window being filled.
    pub window: Vec<(Arc<DeviceRecord>, Delivery)>,
}

impl Spec for RuleSpec {
    const KEY: &'static str = "rule";
    type State = RuleState;

    fn seed(&self) -> Option<u64> {
        self.seed
    }

    fn installed(engine: &mut Engine) -> &mut Vec<Installed<Self>> {
        &mut engine.rules
    }

    /// A deleted rule first releases what it holds, so nothing is lost.
    fn removed(engine: &mut Engine, ctx: &dyn FaultContext, removed: Vec<Installed<Self>>) {
        for rule in removed {
            engine.release_rule(ctx, rule.id, rule.state.window);
        }
    }
}

/// The names a rule matches devices by.
fn names(ctx: &dyn FaultContext, device: &DeviceRecord) -> (String, String) {
    let username = ctx.username(device.user_id).unwrap_or_default();
    (username, device.name.clone())
}

/// Counts an event a rule matched and answers whether the rule acts on it: `nth`,
/// `times`, then the draw. When an earlier rule already acts (`taken`), the event is only
/// counted: no draw is made and `times` is not spent.
fn fires(rule: &mut Installed<RuleSpec>, taken: bool) -> bool {
    rule.state.matched += 1;
    if taken {
        return false;
    }
    if rule
        .spec
        .matcher
        .nth
        .is_some_and(|nth| !nth.contains(rule.state.matched))
    {
        return false;
    }
    if rule.spec.times.is_some_and(|times| rule.applied >= times) {
        return false;
    }
    if rule.spec.probability < 1.0 && rule.rng.gen::<f64>() >= rule.spec.probability {
        return false;
    }
    rule.applied += 1;
    true
}

impl Engine {
    /// The installed rules as the admin surface lists them.
    pub fn rules_json(&self) -> Value {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|rule| {
                let held = self.held.iter().filter(|h| h.rule == rule.id).count();
                rule.json(json!({
                    "matched": rule.state.matched,
                    "applied": rule.applied,
                    "held": held + rule.state.window.len(),
                }))
            })
            .collect();
        json!({"rules": rules, "held": self.held.len()})
    }

    /// Releases everything a rule holds (its reorder window in arrival order); answers how
    /// many deliveries came out, or `None` if there is no such rule.
    pub fn release(&mut self, ctx: &dyn FaultContext, rule_id: u64) -> Option<usize> {
        let rule = self.rules.iter_mut().find(|r| r.id == rule_id)?;
        let window = std::mem::take(&mut rule.state.window);
        Some(self.release_rule(ctx, rule_id, window))
    }

    /// Step 3 of a delivery: the rules match it, and the one that fires (if any) acts.
    /// Answers its fate and whether it landed now (to count it for the holds).
    pub fn apply_rules(
        &mut self,
        ctx: &dyn FaultContext,
        now: i32,
        to: &DeviceRecord,
        from: Option<DeviceId>,
        delivery: Delivery,
    ) -> Result<(Fate, bool), RpcError> {
        let (username, device_name) = names(ctx, to);
        let kind = delivery.kind();
        let view = DeliveryView {
            device: DeviceView {
                id: to.id,
                username: &username,
                device_name: &device_name,
            },
            kind,
            chat_id: delivery.chat_id(),
            qts: kind
                .is_message()
                .then(|| to.mailbox.queue().state().qts.wrapping_add(1)),
            has_sender: from.is_some(),
        };
        let mut acting = None;
        for (index, rule) in self.rules.iter_mut().enumerate() {
            if rule.spec.matches_delivery(&view) && fires(rule, acting.is_some()) {
                acting = Some(index);
            }
        }
        let dropped = acting
            .and_then(|index| self.rules.get(index))
            .is_some_and(|rule| matches!(rule.spec.action, FaultAction::Drop));
        let landed = match acting {
            None => {
                ctx.land(now, to, delivery)?;
                true
            }
            Some(index) => self.act(ctx, index, to, from, delivery, &view)?,
        };
        let fate = if dropped { Fate::Dropped } else { Fate::Queued };
        Ok((fate, landed))
    }

    /// Applies rule `index`'s action. Answers whether the original delivery landed now.
    fn act(
        &mut self,
        ctx: &dyn FaultContext,
        index: usize,
        to: &DeviceRecord,
        from: Option<DeviceId>,
        delivery: Delivery,
        view: &DeliveryView<'_>,
    ) -> Result<bool, RpcError> {
        let now = ctx.now();
        let Engine {
            rules,
            held,
            generation,
            ..
        } = self;
        let Some(rule) = rules.get_mut(index) else {
            ctx.land(now, to, delivery)?;
            return Ok(true);
        };
        let rule_id = rule.id;
        let arc = || ctx.device(to.id);
        let log = |detail: String| {
            ctx.events().record(
                now,
                LogEvent::Fault(json!({
                    "event": "fault",
                    "rule": rule_id,
                    "seed": rule.seed,
                    "action": rule.spec.action.name(),
                    "device": to.id.0.to_string(),
                    "username": view.device.username,
                    "device_name": view.device.device_name,
                    "update": view.kind.name(),
                    "chat_id": view.chat_id,
                    "qts": view.qts,
                    "detail": detail,
                })),
            );
        };
        // A device that logged out meanwhile has nobody left to receive it.
        let mut hold = |release: Release, delivery: Delivery| {
            if let Some(device) = arc() {
                held.push(Held {
                    rule: rule_id,
                    device,
                    delivery,
                    release,
                });
            }
        };
        match rule.spec.action.clone() {
            FaultAction::Drop => {
                log("dropped on purpose".into());
                Ok(false)
            }
            FaultAction::Duplicate { copies } => {
                log(format!("delivered, then {copies} more copies"));
                ctx.land(now, to, delivery.clone())?;
                for _ in 0..copies {
                    ctx.land(now, to, delivery.clone())?;
                }
                Ok(true)
            }
            FaultAction::Reorder { window } => {
                let Some(device) = arc() else {
                    ctx.land(now, to, delivery)?;
                    return Ok(true);
                };
                rule.state.window.push((device, delivery));
                let filled = rule.state.window.len();
                if filled < window as usize {
                    log(format!("held for reordering ({filled} of {window})"));
                    return Ok(false);
                }
                let mut order: Vec<usize> = (0..filled).collect();
                order.shuffle(&mut rule.rng);
                if order.iter().enumerate().all(|(i, o)| i == *o) {
                    order.rotate_left(1);
                }
                log(format!(
                    "window of {window} released in the order {order:?} (0 = the first held)"
                ));
                let mut items: Vec<Option<(Arc<DeviceRecord>, Delivery)>> =
                    std::mem::take(&mut rule.state.window)
                        .into_iter()
                        .map(Some)
                        .collect();
                for o in order {
                    if let Some((device, delivery)) = items.get_mut(o).and_then(Option::take) {
                        ctx.land(now, &device, delivery)?;
                    }
                }
                Ok(true)
            }
            FaultAction::Hold {
                after_deliveries,
                until_server_time,
            } => {
                let release = match (after_deliveries, until_server_time) {
                    (Some(n), _) => Release::AfterDeliveries(n),
                    (None, Some(at)) => Release::At(at),
                    (None, None) => Release::Manual,
                };
                log(format!("held until {release:?}"));
                hold(release, delivery);
                Ok(false)
            }
            FaultAction::Delay { seconds, clock } => {
                match (clock, tokio::runtime::Handle::try_current()) {
                    (Clock::Wall, Ok(runtime)) => {
                        log(format!("delayed {seconds} s of wall-clock time"));
                        if let Some(device) = arc() {
                            let events = Arc::clone(ctx.events());
                            let generation = Arc::clone(generation);
                            let started = generation.load(Ordering::Acquire);
                            let due =
                                now.saturating_add(i32::try_from(seconds).unwrap_or(i32::MAX));
                            runtime.spawn(async move {
                                tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
                                // A reset since then forgot this delivery with the rule.
                                if generation.load(Ordering::Acquire) == started {
                                    land_released(
                                        &events,
                                        due,
                                        rule_id,
                                        &device,
                                        delivery,
                                        "its wall-clock delay passed",
                                    );
                                }
                            });
                        }
                        Ok(false)
                    }
                    _ => {
                        let at = now.saturating_add(i32::try_from(seconds).unwrap_or(i32::MAX));
                        log(format!(
                            "delayed {seconds} s of server-clock time, until {at}"
                        ));
                        hold(Release::At(at), delivery);
                        Ok(false)
                    }
                }
            }
            FaultAction::LosePush => {
                log("queued; its live push lost (the device learns of it from updates.getDifference)".into());
                ctx.land_unpushed(now, to, delivery)?;
                Ok(true)
            }
            FaultAction::SkipQts { count } => {
                let skipped = to.mailbox.skip_qts(count);
                log(format!(
                    "qts {}..={} skipped before this message",
                    skipped.0, skipped.1
                ));
                ctx.land(now, to, delivery)?;
                Ok(true)
            }
            FaultAction::Corrupt(how) => {
                let mut detail = String::new();
                let corrupted = with_bytes(&delivery, |bytes| {
                    detail = corrupt(bytes, &how, &mut rule.rng);
                });
                log(detail);
                ctx.land(now, to, corrupted)?;
                Ok(true)
            }
            FaultAction::Replay { after_deliveries } => {
                log(format!(
                    "delivered, and again after {after_deliveries} more deliveries"
                ));
                ctx.land(now, to, delivery.clone())?;
                // Counts from the next delivery on: this one is already counted by the caller.
                hold(
                    Release::AfterDeliveries(after_deliveries.saturating_add(1)),
                    delivery,
                );
                Ok(true)
            }
            FaultAction::Reflect => {
                let sender = from.and_then(|id| ctx.device(id));
                log(format!(
                    "delivered, and reflected back to its sender {}",
                    from.map_or("(unknown)".into(), |d| d.0.to_string())
                ));
                ctx.land(now, to, delivery.clone())?;
                if let Some(sender) = sender {
                    ctx.land(now, &sender, delivery)?;
                }
                Ok(true)
            }
            FaultAction::Error { .. } => {
                ctx.land(now, to, delivery)?;
                Ok(true)
            }
        }
    }

    /// The answer hook's first half: an `error` rule for this call, if one fires.
    pub fn before_call(
        &mut self,
        ctx: &dyn FaultContext,
        device: Option<&DeviceRecord>,
        method: &str,
    ) -> Option<RpcError> {
        self.release_due(ctx);
        let names = device.map(|d| (d.id, names(ctx, d)));
        let view = names
            .as_ref()
            .map(|(id, (username, device_name))| DeviceView {
                id: *id,
                username,
                device_name,
            });
        let mut answer = None;
        for rule in self.rules.iter_mut() {
            if !rule.spec.matches_call(view.as_ref(), method) || !fires(rule, answer.is_some()) {
                continue;
            }
            if let FaultAction::Error {
                error_code,
                error_message,
            } = &rule.spec.action
            {
                ctx.events().record(
                    ctx.now(),
                    LogEvent::Fault(json!({
                        "event": "fault",
                        "rule": rule.id,
                        "seed": rule.seed,
                        "action": "error",
                        "method": method,
                        "device": device.map(|d| d.id.0.to_string()),
                        "detail": format!("answered {error_code} {error_message} (time {} of {})",
                            rule.applied, rule.spec.times.map_or("unlimited".into(), |t| t.to_string())),
                    })),
                );
                answer = Some(RpcError::Injected {
                    rule: rule.id,
                    code: *error_code,
                    message: error_message.clone(),
                });
            }
        }
        answer
    }
}
