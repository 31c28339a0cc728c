//! # The engine: rules and modes applied to deliveries and answers
//!
//! One mutex holds the installed rules, the hostile modes, the man-in-the-middle state and
//! the held deliveries; the hooks take it only when something is installed. For each
//! delivery, in order:
//!
//! 1. held deliveries whose server-clock date has come are released;
//! 2. the hostile modes of the delivery's chat rewrite it ([`super::hostile`]);
//! 3. the rules, in install order, each count the delivery if it matches them; the first
//!    whose `nth`, `times` and probability draw all allow it acts (at most one per
//!    delivery);
//! 4. deliveries held "until K more deliveries" to this device count this one.
//!
//! Every rule has its own ChaCha20 generator seeded with its `seed` (given, or drawn from
//! the server's `--seed`): the probability draws (made only when `probability < 1`),
//! random bytes and shuffles come from it, so the same run with the same seeds does the
//! same things. Lock order: chat → engine → device queue; the engine never takes a chat.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secretchat_common::tl::api::{enums, types};
use serde_json::{json, Value};

use super::action::{corrupt, Action, Clock, Corruption};
use super::hostile::{bad_dh_params, HostileSpec, Malleability, Mode};
use super::mitm::{Direction, Mitm};
use super::rule::{DeliveryView, DeviceMatcher, DeviceView, RuleSpec};
use super::{FaultContext, Faults};
use crate::delivery::{self, Delivery, Fate, UpdateKind};
use crate::device::{Device, DeviceId};
use crate::error::RpcError;
use crate::event_log::Event;

/// An installed rule with its generator and counters.
#[derive(Debug)]
struct Installed {
    id: u64,
    seed: u64,
    spec: RuleSpec,
    rng: ChaCha20Rng,
    /// Events that matched its filters.
    matched: u64,
    /// Times it acted.
    applied: u64,
    /// A `reorder` rule's window being filled.
    window: Vec<(Arc<Device>, Delivery)>,
}

/// When a held delivery comes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// By `POST /admin/faults/{id}/release` (or deleting the rule).
    Manual,
    /// After this many more deliveries to the same device.
    AfterDeliveries(u32),
    /// At this server-clock date.
    At(i32),
}

#[derive(Debug)]
struct Held {
    rule: u64,
    device: Arc<Device>,
    delivery: Delivery,
    release: Release,
}

/// An installed hostile mode.
#[derive(Debug)]
struct Hostile {
    id: u64,
    seed: u64,
    spec: HostileSpec,
    /// For `next_chat_of`: the chat it was bound to.
    bound_chat: Option<i32>,
    rng: ChaCha20Rng,
    applied: u64,
}

impl Hostile {
    fn chat(&self) -> Option<i32> {
        self.spec.chat_id.or(self.bound_chat)
    }
}

/// The engine's state (behind [`Faults`]' mutex).
#[derive(Debug)]
pub struct Engine {
    rng: ChaCha20Rng,
    next_id: u64,
    rules: Vec<Installed>,
    held: Vec<Held>,
    hostile: Vec<Hostile>,
    mitm: HashMap<i32, Mitm>,
    /// Files seen in messages of chats, for the file modes.
    file_chats: HashMap<i64, i32>,
}

impl Engine {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            next_id: 1,
            rules: Vec::new(),
            held: Vec::new(),
            hostile: Vec::new(),
            mitm: HashMap::new(),
            file_chats: HashMap::new(),
        }
    }

    pub fn is_active(&self) -> bool {
        !self.rules.is_empty() || !self.held.is_empty() || !self.hostile.is_empty()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
        self.held.clear();
        self.hostile.clear();
        self.mitm.clear();
        self.file_chats.clear();
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

/// The names a rule matches devices by.
fn names(ctx: &dyn FaultContext, device: &Device) -> (String, String) {
    let username = ctx.username(device.user_id).unwrap_or_default();
    (username, device.name.clone())
}

fn device_matches(matcher: &DeviceMatcher, ctx: &dyn FaultContext, device: &Device) -> bool {
    match matcher {
        DeviceMatcher::Id { id } => id.parse::<i64>() == Ok(device.id.0),
        DeviceMatcher::Names { user, device: name } => {
            *name == device.name && ctx.username(device.user_id).is_some_and(|u| u == *user)
        }
    }
}

/// Counts an event a rule matched and answers whether the rule acts on it: `nth`,
/// `times`, then the draw. When an earlier rule already acts (`taken`), the event is only
/// counted: no draw is made and `times` is not spent.
fn fires(rule: &mut Installed, taken: bool) -> bool {
    rule.matched += 1;
    if taken {
        return false;
    }
    if rule
        .spec
        .matcher
        .nth
        .is_some_and(|nth| !nth.contains(rule.matched))
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

fn message_bytes(message: &enums::EncryptedMessage) -> &[u8] {
    match message {
        enums::EncryptedMessage::EncryptedMessage(m) => &m.bytes,
        enums::EncryptedMessage::EncryptedMessageService(m) => &m.bytes,
    }
}

impl Faults {
    /// Installs a rule; answers its id and seed.
    pub fn install_rule(&self, spec: RuleSpec) -> (u64, u64) {
        let mut engine = self.lock();
        let id = engine.fresh_id();
        let seed = spec.seed.unwrap_or_else(|| engine.rng.gen());
        engine.rules.push(Installed {
            id,
            seed,
            spec,
            rng: ChaCha20Rng::seed_from_u64(seed),
            matched: 0,
            applied: 0,
            window: Vec::new(),
        });
        self.rearm(&engine);
        (id, seed)
    }

    /// The installed rules as the admin surface lists them.
    pub fn rules_json(&self) -> Value {
        let engine = self.lock();
        let rules: Vec<Value> = engine
            .rules
            .iter()
            .map(|rule| {
                json!({
                    "id": rule.id,
                    "seed": rule.seed,
                    "rule": rule.spec,
                    "matched": rule.matched,
                    "applied": rule.applied,
                    "held": engine.held.iter().filter(|h| h.rule == rule.id).count() + rule.window.len(),
                })
            })
            .collect();
        json!({"rules": rules, "held": engine.held.len()})
    }

    /// Releases everything a rule holds (its reorder window in arrival order); answers how
    /// many deliveries came out, or `None` if there is no such rule.
    pub fn release(&self, ctx: &dyn FaultContext, rule_id: u64) -> Option<usize> {
        let mut engine = self.lock();
        let released = self.release_rule(ctx, &mut engine, rule_id)?;
        self.rearm(&engine);
        Some(released)
    }

    fn release_rule(
        &self,
        ctx: &dyn FaultContext,
        engine: &mut Engine,
        rule_id: u64,
    ) -> Option<usize> {
        let rule = engine.rules.iter_mut().find(|r| r.id == rule_id)?;
        let window = std::mem::take(&mut rule.window);
        let (mine, rest): (Vec<Held>, Vec<Held>) = std::mem::take(&mut engine.held)
            .into_iter()
            .partition(|h| h.rule == rule_id);
        engine.held = rest;
        let now = ctx.now();
        let mut count = 0;
        for held in mine {
            self.land_released(
                ctx,
                now,
                rule_id,
                &held.device,
                held.delivery,
                "released by the admin",
            );
            count += 1;
        }
        for (device, delivery) in window {
            self.land_released(
                ctx,
                now,
                rule_id,
                &device,
                delivery,
                "reorder window released by the admin",
            );
            count += 1;
        }
        Some(count)
    }

    /// Deletes a rule, releasing what it holds first; `false` if there is no such rule.
    pub fn delete_rule(&self, ctx: &dyn FaultContext, rule_id: u64) -> bool {
        let mut engine = self.lock();
        if self.release_rule(ctx, &mut engine, rule_id).is_none() {
            return false;
        }
        engine.rules.retain(|r| r.id != rule_id);
        self.rearm(&engine);
        true
    }

    /// Deletes every rule, releasing what they hold; answers how many rules there were.
    pub fn delete_all_rules(&self, ctx: &dyn FaultContext) -> usize {
        let mut engine = self.lock();
        let ids: Vec<u64> = engine.rules.iter().map(|r| r.id).collect();
        for id in &ids {
            self.release_rule(ctx, &mut engine, *id);
        }
        engine.rules.clear();
        self.rearm(&engine);
        ids.len()
    }

    /// Installs a hostile mode; answers its id and seed.
    pub fn install_hostile(&self, spec: HostileSpec) -> (u64, u64) {
        let mut engine = self.lock();
        let id = engine.fresh_id();
        let seed = spec.seed.unwrap_or_else(|| engine.rng.gen());
        engine.hostile.push(Hostile {
            id,
            seed,
            spec,
            bound_chat: None,
            rng: ChaCha20Rng::seed_from_u64(seed),
            applied: 0,
        });
        self.rearm(&engine);
        (id, seed)
    }

    pub fn hostile_json(&self) -> Value {
        let engine = self.lock();
        let modes: Vec<Value> = engine
            .hostile
            .iter()
            .map(|h| {
                json!({"id": h.id, "seed": h.seed, "hostile": h.spec,
                       "bound_chat_id": h.bound_chat, "applied": h.applied})
            })
            .collect();
        json!({"modes": modes})
    }

    /// Removes a hostile mode (`None` = all); answers how many were removed.
    pub fn delete_hostile(&self, id: Option<u64>) -> usize {
        let mut engine = self.lock();
        let before = engine.hostile.len();
        engine.hostile.retain(|h| id.is_some_and(|id| id != h.id));
        let removed = before - engine.hostile.len();
        let chats: Vec<i32> = engine
            .hostile
            .iter()
            .filter(|h| h.spec.mode == Mode::Mitm)
            .filter_map(Hostile::chat)
            .collect();
        engine.mitm.retain(|chat, _| chats.contains(chat));
        self.rearm(&engine);
        removed
    }

    /// The two keys of an intercepted chat, side by side.
    pub fn mitm_json(&self, chat_id: i32) -> Option<Value> {
        self.lock().mitm.get(&chat_id).map(|m| m.to_json(chat_id))
    }

    fn land_released(
        &self,
        ctx: &dyn FaultContext,
        now: i32,
        rule: u64,
        device: &Device,
        delivery: Delivery,
        why: &str,
    ) {
        ctx.events().record(
            now,
            Event::Fault(json!({
                "event": "released",
                "rule": rule,
                "device": device.id.0.to_string(),
                "update": delivery.kind().name(),
                "chat_id": delivery.chat_id(),
                "detail": why,
            })),
        );
        let _ = ctx.land(now, device, delivery);
    }

    /// Releases held deliveries whose server-clock date has come (called on every hook
    /// and when the admin advances the clock).
    pub fn tick(&self, ctx: &dyn FaultContext) {
        if !self.is_armed() {
            return;
        }
        let mut engine = self.lock();
        self.release_due(ctx, &mut engine);
        self.rearm(&engine);
    }

    fn release_due(&self, ctx: &dyn FaultContext, engine: &mut Engine) {
        let now = ctx.now();
        if !engine
            .held
            .iter()
            .any(|h| matches!(h.release, Release::At(at) if at <= now))
        {
            return;
        }
        let (due, rest): (Vec<Held>, Vec<Held>) = std::mem::take(&mut engine.held)
            .into_iter()
            .partition(|h| matches!(h.release, Release::At(at) if at <= now));
        engine.held = rest;
        for held in due {
            self.land_released(
                ctx,
                now,
                held.rule,
                &held.device,
                held.delivery,
                "its server-clock date came",
            );
        }
    }

    /// The delivery hook: everything `Server::deliver` hands out while armed.
    pub fn on_delivery(
        &self,
        ctx: &dyn FaultContext,
        to: &Device,
        from: Option<DeviceId>,
        delivery: Delivery,
    ) -> Result<Fate, RpcError> {
        let mut engine = self.lock();
        let now = ctx.now();
        ctx.check_room(to, &delivery)?;
        self.release_due(ctx, &mut engine);
        let delivery = self.hostile_delivery(ctx, &mut engine, to, delivery);

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
        for (index, rule) in engine.rules.iter_mut().enumerate() {
            if rule.spec.matches_delivery(&view) && fires(rule, acting.is_some()) {
                acting = Some(index);
            }
        }
        let dropped = acting
            .and_then(|index| engine.rules.get(index))
            .is_some_and(|rule| matches!(rule.spec.action, Action::Drop));
        let landed = match acting {
            None => {
                ctx.land(now, to, delivery)?;
                true
            }
            Some(index) => self.act(ctx, &mut engine, index, to, from, delivery, &view)?,
        };
        if landed {
            self.count_delivery(ctx, now, &mut engine, to.id);
        }
        self.rearm(&engine);
        Ok(if dropped { Fate::Dropped } else { Fate::Queued })
    }

    /// Counts one delivery to `device` for the holds waiting on it.
    fn count_delivery(
        &self,
        ctx: &dyn FaultContext,
        now: i32,
        engine: &mut Engine,
        device: DeviceId,
    ) {
        let mut due = Vec::new();
        for (index, held) in engine.held.iter_mut().enumerate() {
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
            let held = engine.held.remove(index);
            self.land_released(
                ctx,
                now,
                held.rule,
                &held.device,
                held.delivery,
                "the deliveries it waited for passed",
            );
        }
    }

    /// Applies rule `index`'s action. Answers whether the original delivery landed now.
    #[allow(clippy::too_many_arguments)]
    fn act(
        &self,
        ctx: &dyn FaultContext,
        engine: &mut Engine,
        index: usize,
        to: &Device,
        from: Option<DeviceId>,
        delivery: Delivery,
        view: &DeliveryView<'_>,
    ) -> Result<bool, RpcError> {
        let now = ctx.now();
        let Engine { rules, held, .. } = engine;
        let Some(rule) = rules.get_mut(index) else {
            ctx.land(now, to, delivery)?;
            return Ok(true);
        };
        let rule_id = rule.id;
        let arc = || ctx.device(to.id);
        let log = |detail: String| {
            ctx.events().record(
                now,
                Event::Fault(json!({
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
            Action::Drop => {
                log("dropped on purpose".into());
                Ok(false)
            }
            Action::Duplicate { copies } => {
                log(format!("delivered, then {copies} more copies"));
                ctx.land(now, to, delivery.clone())?;
                for _ in 0..copies {
                    ctx.land(now, to, delivery.clone())?;
                }
                Ok(true)
            }
            Action::Reorder { window } => {
                let Some(device) = arc() else {
                    ctx.land(now, to, delivery)?;
                    return Ok(true);
                };
                rule.window.push((device, delivery));
                let filled = rule.window.len();
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
                let mut items: Vec<Option<(Arc<Device>, Delivery)>> =
                    std::mem::take(&mut rule.window)
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
            Action::Hold {
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
            Action::Delay { seconds, clock } => {
                match (clock, tokio::runtime::Handle::try_current()) {
                    (Clock::Wall, Ok(runtime)) => {
                        log(format!("delayed {seconds} s of wall-clock time"));
                        if let Some(device) = arc() {
                            let events = Arc::clone(ctx.events());
                            let generation = Arc::clone(&self.generation);
                            let started = generation.load(Ordering::Acquire);
                            let due =
                                now.saturating_add(i32::try_from(seconds).unwrap_or(i32::MAX));
                            runtime.spawn(async move {
                                tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
                                if generation.load(Ordering::Acquire) == started {
                                    events.record(due, Event::Fault(json!({
                                    "event": "released", "rule": rule_id,
                                    "device": device.id.0.to_string(),
                                    "update": delivery.kind().name(), "chat_id": delivery.chat_id(),
                                    "detail": "its wall-clock delay passed",
                                })));
                                    let _ =
                                        delivery::land(&events, due, &device, delivery, usize::MAX);
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
            Action::SkipQts { count } => {
                let skipped = to.mailbox.skip_qts(count);
                log(format!(
                    "qts {}..={} skipped before this message",
                    skipped.0, skipped.1
                ));
                ctx.land(now, to, delivery)?;
                Ok(true)
            }
            Action::Corrupt(how) => {
                let mut detail = String::new();
                let corrupted = with_bytes(&delivery, |bytes| {
                    detail = corrupt(bytes, &how, &mut rule.rng);
                });
                log(detail);
                ctx.land(now, to, corrupted)?;
                Ok(true)
            }
            Action::Replay { after_deliveries } => {
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
            Action::Reflect => {
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
            Action::Error { .. } => {
                ctx.land(now, to, delivery)?;
                Ok(true)
            }
        }
    }

    /// The answer hook's first half: an `error` rule for this call, if one fires.
    pub fn before_call(
        &self,
        ctx: &dyn FaultContext,
        device: Option<&Device>,
        method: &str,
    ) -> Option<RpcError> {
        let mut engine = self.lock();
        self.release_due(ctx, &mut engine);
        let names = device.map(|d| (d.id, names(ctx, d)));
        let view = names
            .as_ref()
            .map(|(id, (username, device_name))| DeviceView {
                id: *id,
                username,
                device_name,
            });
        let mut answer = None;
        for rule in engine.rules.iter_mut() {
            if !rule.spec.matches_call(view.as_ref(), method) || !fires(rule, answer.is_some()) {
                continue;
            }
            if let Action::Error {
                error_code,
                error_message,
            } = &rule.spec.action
            {
                ctx.events().record(
                    ctx.now(),
                    Event::Fault(json!({
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
        self.rearm(&engine);
        answer
    }

    fn log_hostile(
        &self,
        ctx: &dyn FaultContext,
        now: i32,
        hostile: &Hostile,
        device: Option<DeviceId>,
        chat_id: Option<i32>,
        detail: Value,
    ) {
        let mut event = json!({
            "event": "hostile",
            "mode_id": hostile.id,
            "seed": hostile.seed,
            "mode": hostile.spec.mode.name(),
            "device": device.map(|d| d.0.to_string()),
            "chat_id": chat_id,
        });
        if let (Some(event), Value::Object(detail)) = (event.as_object_mut(), detail) {
            event.extend(detail);
        }
        ctx.events().record(now, Event::Fault(event));
    }

    /// Binds `next_chat_of` modes armed for the user who created `chat_id`.
    fn bind_next_chat(
        &self,
        ctx: &dyn FaultContext,
        engine: &mut Engine,
        chat_id: i32,
        admin_id: i64,
    ) {
        if engine.hostile.iter().any(|h| h.chat() == Some(chat_id)) {
            return;
        }
        let Some(admin) = ctx.username(admin_id) else {
            return;
        };
        for hostile in engine.hostile.iter_mut() {
            if hostile.bound_chat.is_none()
                && hostile.spec.next_chat_of.as_deref() == Some(admin.as_str())
            {
                hostile.bound_chat = Some(chat_id);
            }
        }
    }

    /// Step 2 of a delivery: the chat's hostile modes rewrite it.
    fn hostile_delivery(
        &self,
        ctx: &dyn FaultContext,
        engine: &mut Engine,
        to: &Device,
        delivery: Delivery,
    ) -> Delivery {
        let now = ctx.now();
        let Some(chat_id) = delivery.chat_id() else {
            return delivery;
        };
        if let Delivery::Other(enums::Update::UpdateEncryption(types::UpdateEncryption {
            chat: enums::EncryptedChat::EncryptedChatRequested(requested),
            ..
        })) = &delivery
        {
            self.bind_next_chat(ctx, engine, chat_id, requested.admin_id);
        }
        if let Delivery::Message(message) = &delivery {
            if let enums::EncryptedMessage::EncryptedMessage(types::EncryptedMessage {
                file: enums::EncryptedFile::EncryptedFile(file),
                ..
            }) = message.as_ref()
            {
                engine.file_chats.insert(file.id, chat_id);
            }
        }
        let Engine { hostile, mitm, .. } = engine;
        let mut delivery = delivery;
        let config = ctx.dh();
        for mode in hostile.iter_mut().filter(|h| h.chat() == Some(chat_id)) {
            let kind = delivery.kind();
            match (&mode.spec.mode, kind) {
                (Mode::DegenerateGA { value }, UpdateKind::EncryptionRequested) => {
                    let forged = value.value(config);
                    delivery = with_bytes(&delivery, |g_a| *g_a = forged);
                    mode.applied += 1;
                    self.log_hostile(
                        ctx,
                        now,
                        mode,
                        Some(to.id),
                        Some(chat_id),
                        json!({"detail": format!("g_a replaced with {value:?}")}),
                    );
                }
                (Mode::DegenerateGB { value }, UpdateKind::EncryptionAccepted) => {
                    let forged = value.value(config);
                    delivery = with_bytes(&delivery, |g_b| *g_b = forged);
                    mode.applied += 1;
                    self.log_hostile(
                        ctx,
                        now,
                        mode,
                        Some(to.id),
                        Some(chat_id),
                        json!({"detail": format!("g_b replaced with {value:?}")}),
                    );
                }
                (Mode::AlteredFingerprint, UpdateKind::EncryptionAccepted) => {
                    if let Delivery::Other(enums::Update::UpdateEncryption(mut update)) = delivery {
                        if let enums::EncryptedChat::EncryptedChat(chat) = &mut update.chat {
                            let real = chat.key_fingerprint;
                            chat.key_fingerprint ^= 1;
                            self.log_hostile(
                                ctx,
                                now,
                                mode,
                                Some(to.id),
                                Some(chat_id),
                                json!({
                                    "detail": "key_fingerprint XOR 1",
                                    "real_key_fingerprint": real.to_string(),
                                    "forwarded_key_fingerprint": chat.key_fingerprint.to_string(),
                                }),
                            );
                        }
                        mode.applied += 1;
                        delivery = Delivery::Other(enums::Update::UpdateEncryption(update));
                    }
                }
                (
                    Mode::PaddingMalleability(variant),
                    UpdateKind::NewEncryptedMessage | UpdateKind::NewEncryptedServiceMessage,
                ) => {
                    let how = match variant {
                        Malleability::AppendBlocks { blocks } => {
                            Corruption::Extend { blocks: *blocks }
                        }
                        Malleability::RewriteLastBlock => Corruption::ReplaceLastBlock,
                    };
                    let mut detail = String::new();
                    delivery = with_bytes(&delivery, |bytes| {
                        detail = corrupt(bytes, &how, &mut mode.rng)
                    });
                    mode.applied += 1;
                    self.log_hostile(
                        ctx,
                        now,
                        mode,
                        Some(to.id),
                        Some(chat_id),
                        json!({"detail": detail}),
                    );
                }
                (Mode::Mitm, _) => {
                    delivery = self.mitm_delivery(ctx, mitm, mode, to, chat_id, delivery);
                }
                _ => {}
            }
        }
        delivery
    }

    fn mitm_delivery(
        &self,
        ctx: &dyn FaultContext,
        mitm: &mut HashMap<i32, Mitm>,
        mode: &mut Hostile,
        to: &Device,
        chat_id: i32,
        delivery: Delivery,
    ) -> Delivery {
        let now = ctx.now();
        let config = ctx.dh();
        let note = |mode: &Hostile, detail: Value| {
            self.log_hostile(ctx, now, mode, Some(to.id), Some(chat_id), detail);
        };
        match delivery {
            Delivery::Other(enums::Update::UpdateEncryption(mut update)) => {
                match &mut update.chat {
                    // A's g_a on its way to B: start intercepting, show B the server's g_a'.
                    enums::EncryptedChat::EncryptedChatRequested(requested) => {
                        if let Entry::Vacant(slot) = mitm.entry(chat_id) {
                            let admin_id = requested.admin_id;
                            match Mitm::start(config, admin_id, &requested.g_a, &mut mode.rng) {
                                Ok(state) => {
                                    slot.insert(state);
                                }
                                Err(err) => note(
                                    mode,
                                    json!({"detail": format!("cannot intercept: A's g_a fails the checks: {err}")}),
                                ),
                            }
                        }
                        if let Some(state) = mitm.get(&chat_id) {
                            requested.g_a = state.g_a_forged.clone();
                            mode.applied += 1;
                            note(
                                mode,
                                json!({"detail": "B is shown the server's g_a' instead of A's g_a"}),
                            );
                        }
                    }
                    // B's g_b on its way to A: the key with B, then show A g_b' and key_A's
                    // fingerprint.
                    enums::EncryptedChat::EncryptedChat(accepted)
                        if to.user_id == accepted.admin_id =>
                    {
                        let Some(state) = mitm.get_mut(&chat_id) else {
                            return Delivery::Other(enums::Update::UpdateEncryption(update));
                        };
                        let g_b = &accepted.g_a_or_b;
                        match state.participant_accepted(config, g_b, accepted.key_fingerprint) {
                            Ok(matches) => {
                                accepted.g_a_or_b = state.g_b_forged.clone();
                                let key_a = state.first_key_with_admin.fingerprint();
                                accepted.key_fingerprint = key_a.as_i64();
                                mode.applied += 1;
                                let mut detail = state.to_json(chat_id);
                                detail["detail"] = json!(
                                    "A is shown the server's g_b' and the fingerprint of key_A; \
                                     the server now holds a key with each side"
                                );
                                detail["participant_fingerprint_matches_key_with_participant"] =
                                    json!(matches);
                                note(mode, detail);
                            }
                            Err(err) => note(
                                mode,
                                json!({"detail": format!("cannot intercept: B's g_b fails the checks: {err}")}),
                            ),
                        }
                    }
                    enums::EncryptedChat::EncryptedChat(accepted) => {
                        if let Some(state) = mitm.get(&chat_id) {
                            accepted.g_a_or_b = state.g_a_forged.clone();
                        }
                    }
                    _ => {}
                }
                Delivery::Other(enums::Update::UpdateEncryption(update))
            }
            // Every message: open with the sender's key, seal with the receiver's.
            Delivery::Message(message) => {
                let Some(state) = mitm.get_mut(&chat_id) else {
                    return Delivery::Message(message);
                };
                let direction = if to.user_id == state.admin_id {
                    Direction::ToAdmin
                } else {
                    Direction::ToParticipant
                };
                let wire = message_bytes(&message);
                match state.reencrypt(config, direction, wire, &mut mode.rng) {
                    Ok(relayed) => {
                        mode.applied += 1;
                        if let Some(mut detail) = relayed.note {
                            // The keys as they stand after this action, next to what it did.
                            detail["keys"] = state.to_json(chat_id);
                            note(mode, detail);
                        }
                        with_bytes(&Delivery::Message(message), |bytes| *bytes = relayed.wire)
                    }
                    Err(why) => {
                        state.forwarded_unopened += 1;
                        note(
                            mode,
                            json!({"detail": format!("forwarded unchanged: {why}")}),
                        );
                        Delivery::Message(message)
                    }
                }
            }
            other => other,
        }
    }

    /// Whether the answer to `method` may be rewritten by an installed mode.
    pub fn rewrites_answer(&self, method: &str) -> bool {
        let engine = self.lock();
        match method {
            "messages.getDhConfig" => engine
                .hostile
                .iter()
                .any(|h| matches!(h.spec.mode, Mode::BadDh { .. })),
            "messages.acceptEncryption" | "messages.requestEncryption" => {
                !engine.hostile.is_empty()
            }
            "upload.getFile" => engine.hostile.iter().any(|h| {
                matches!(
                    h.spec.mode,
                    Mode::SwapFile { .. } | Mode::TruncateFile { .. }
                )
            }),
            _ => false,
        }
    }

    /// The answer hook's second half: hostile modes rewrite a successful answer (as JSON).
    /// `request` is the call's body (for `upload.getFile`'s location and range).
    pub fn rewrite_answer(
        &self,
        ctx: &dyn FaultContext,
        device: Option<&Device>,
        method: &str,
        request: &Value,
        answer: &mut Value,
    ) {
        let mut engine = self.lock();
        let now = ctx.now();
        let device_id = device.map(|d| d.id);
        match method {
            "messages.getDhConfig" => {
                let Some(device) = device else { return };
                let Some(mode) = engine.hostile.iter_mut().find(|h| {
                    matches!(h.spec.mode, Mode::BadDh { .. })
                        && h.spec
                            .device
                            .as_ref()
                            .is_some_and(|m| device_matches(m, ctx, device))
                }) else {
                    return;
                };
                let Mode::BadDh { params } = mode.spec.mode else {
                    return;
                };
                let (p, g) = bad_dh_params(params);
                let random = answer.get("random").cloned().unwrap_or(json!(""));
                *answer = json!({
                    "_": "messages.dhConfig",
                    "g": g,
                    "p": base64_encode(&p),
                    // A version the client cannot have cached, so it takes these values.
                    "version": ctx.dh_version().wrapping_add(1_000_000),
                    "random": random,
                });
                mode.applied += 1;
                let hostile = &*mode;
                self.log_hostile(ctx,now, hostile, device_id, None,
                    json!({"detail": format!("served {params:?}: g = {g}, p of {} bytes", p.len())}));
            }
            "messages.requestEncryption" => {
                let chat_id = answer["id"].as_i64().and_then(|id| i32::try_from(id).ok());
                let admin_id = answer["admin_id"].as_str().and_then(|id| id.parse().ok());
                if let (Some(chat_id), Some(admin_id)) = (chat_id, admin_id) {
                    self.bind_next_chat(ctx, &mut engine, chat_id, admin_id);
                }
            }
            "messages.acceptEncryption" => {
                let Some(chat_id) = answer["id"].as_i64().and_then(|id| i32::try_from(id).ok())
                else {
                    return;
                };
                let forged = engine
                    .mitm
                    .get(&chat_id)
                    .map(|m| m.g_a_forged.clone())
                    .or_else(|| {
                        engine.hostile.iter().find_map(|h| match &h.spec.mode {
                            Mode::DegenerateGA { value } if h.chat() == Some(chat_id) => {
                                Some(value.value(ctx.dh()))
                            }
                            _ => None,
                        })
                    });
                if let Some(forged) = forged {
                    answer["g_a_or_b"] = json!(base64_encode(&forged));
                }
            }
            "upload.getFile" => {
                let location = &request["location"];
                let Some(file_id) = location["id"]
                    .as_str()
                    .and_then(|id| id.parse::<i64>().ok())
                else {
                    return;
                };
                let Some(chat_id) = engine.file_chats.get(&file_id).copied() else {
                    return;
                };
                let Some(mode) = engine.hostile.iter_mut().find(|h| {
                    h.chat() == Some(chat_id)
                        && matches!(
                            h.spec.mode,
                            Mode::SwapFile { .. } | Mode::TruncateFile { .. }
                        )
                }) else {
                    return;
                };
                let Some(bytes) = answer["bytes"].as_str().and_then(base64_decode) else {
                    return;
                };
                let replaced = match &mode.spec.mode {
                    Mode::TruncateFile { bytes: cut } => {
                        let keep = bytes
                            .len()
                            .saturating_sub(usize::try_from(*cut).unwrap_or(usize::MAX));
                        bytes[..keep].to_vec()
                    }
                    Mode::SwapFile { with_file_id } => {
                        let other = with_file_id.parse::<i64>().ok().and_then(|id| ctx.file(id));
                        let offset = request["offset"]
                            .as_str()
                            .and_then(|o| o.parse::<i64>().ok())
                            .unwrap_or(0);
                        let limit = request["limit"]
                            .as_i64()
                            .and_then(|l| i32::try_from(l).ok())
                            .unwrap_or(0);
                        match other.map(|f| f.range(offset, limit)) {
                            Some(Ok(range)) => range.to_vec(),
                            _ => {
                                self.log_hostile(ctx,now, mode, device_id, Some(chat_id),
                                    json!({"detail": format!("swap_file: file {with_file_id} is not stored or has no such range; served unchanged")}));
                                return;
                            }
                        }
                    }
                    _ => return,
                };
                let detail = format!(
                    "file {file_id}: served {} bytes instead of {}",
                    replaced.len(),
                    bytes.len()
                );
                answer["bytes"] = json!(base64_encode(&replaced));
                mode.applied += 1;
                let hostile = &*mode;
                self.log_hostile(
                    ctx,
                    now,
                    hostile,
                    device_id,
                    Some(chat_id),
                    json!({"detail": detail}),
                );
            }
            _ => {}
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}
