//! A device that breaks the protocol on purpose: the attacker of a scenario.
//!
//! [`HostileDevice`] wraps an honest [`Device`] (it derefs to it, so it does everything a
//! device does) and adds the attacks of the chat core ([`secretchat_common::chat::hostile`]):
//! [`HostileDevice::perform`] crafts one rule-breaking message now and sends it like any
//! other, so the peer's reaction can be watched; [`HostileDevice::arm`] waits for the
//! moment an attack becomes possible (e.g. a wrong AcceptKey needs the peer's RequestKey
//! first) and fires it right before the chat's next messages leave, through the device's
//! [`OutboxHook`]. The honest `Device` has no attacker methods.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};

use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{HostileAction, HostileError, SecretChat, UnixTime};

use super::outbox::OutboxHook;
use super::{Device, DeviceError, PeerEvent};
use crate::explain::Explainer;

/// A [`Device`] that can also break the protocol's rules on purpose.
#[derive(Debug)]
pub struct HostileDevice {
    device: Device,
    /// The armed actions, shared with the hook installed in the device.
    armed: Arc<Mutex<Armed>>,
}

impl HostileDevice {
    /// Lets `device` play the attacker.
    pub fn new(mut device: Device) -> HostileDevice {
        let armed = Arc::new(Mutex::new(Armed::default()));
        device.outbox_hook = Some(Box::new(Arc::clone(&armed)));
        HostileDevice { device, armed }
    }

    /// The honest device again; actions still armed are dropped.
    pub fn into_inner(mut self) -> Device {
        self.device.outbox_hook = None;
        self.device
    }

    /// Breaks a rule of the protocol now: the crafted message is sent like any other, so
    /// the peer's reaction can be watched. Returns its random_id.
    pub async fn perform(
        &mut self,
        chat_id: i32,
        action: HostileAction,
    ) -> Result<i64, DeviceError> {
        let device = &mut self.device;
        let now = device.now();
        let (rng, entry) = (
            &mut device.rng,
            Device::entry_in(&mut device.chats, chat_id)?,
        );
        let random_id = entry
            .chat
            .hostile(now, action, rng)
            .map_err(|error| DeviceError::Hostile { chat_id, error })?;
        device.finish_action(chat_id, random_id).await
    }

    /// Arms a hostile action: it runs the first time this chat is about to hand messages to
    /// the server while the action is possible — e.g. `AcceptKeyWrongFingerprint` fires
    /// right after the peer's RequestKey is handled and rewrites the honest AcceptKey in
    /// place, before it leaves. Until then it waits; an armed action that fails for
    /// another reason is reported as `SendFailed` (random_id 0).
    pub fn arm(&mut self, chat_id: i32, action: HostileAction) -> Result<(), DeviceError> {
        Device::entry_in(&mut self.device.chats, chat_id)?;
        self.device.explain.line("hostile", || {
            format!(
                "[chat {chat_id}] armed {}: it runs as soon as it can",
                action.name()
            )
        });
        self.armed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .actions
            .push((chat_id, action));
        Ok(())
    }
}

impl Deref for HostileDevice {
    type Target = Device;

    fn deref(&self) -> &Device {
        &self.device
    }
}

impl DerefMut for HostileDevice {
    fn deref_mut(&mut self) -> &mut Device {
        &mut self.device
    }
}

/// Hostile actions waiting for their chat to reach a state where they can run, in the
/// order they were armed.
#[derive(Debug, Default)]
struct Armed {
    actions: Vec<(i32, HostileAction)>,
}

impl OutboxHook for Arc<Mutex<Armed>> {
    /// Runs the armed actions of the chat that can run now.
    fn before_flush(
        &mut self,
        chat_id: i32,
        chat: &mut SecretChat,
        now: UnixTime,
        rng: &mut ChaCha20Rng,
        explain: &Explainer,
    ) -> Vec<PeerEvent> {
        let mut armed = self.lock().unwrap_or_else(PoisonError::into_inner);
        let mut events = Vec::new();
        let mut waiting = Vec::new();
        for (armed_chat, action) in std::mem::take(&mut armed.actions) {
            if armed_chat != chat_id {
                waiting.push((armed_chat, action));
                continue;
            }
            let name = action.name();
            match chat.hostile(now, action.clone(), rng) {
                Err(HostileError::Unavailable { .. }) => waiting.push((armed_chat, action)),
                Ok(random_id) => explain.line("hostile", || {
                    format!("[chat {chat_id}] fired {name} (random_id {random_id})")
                }),
                Err(error) => events.push(PeerEvent::SendFailed {
                    chat_id,
                    random_id: 0,
                    error: format!("armed hostile action {name}: {error}"),
                }),
            }
        }
        armed.actions = waiting;
        events
    }
}
