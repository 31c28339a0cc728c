//! # What the fault engine sees of the server
//!
//! The engine sits on the delivery path and around every call, but it does not get the
//! server: it gets a [`FaultContext`] — the server implements it (`state.rs`), a test may
//! implement it with less. Through it the engine can read the clock, write to the event
//! log, look devices and users up (to match rules by name, to hold a delivery for a device,
//! to reflect a message to its sender), read a stored file (`swap_file`), read the DH
//! parameters the server serves (the man in the middle checks and forges with them), and
//! land a delivery in a device's queue. It cannot sign anyone in, touch a chat or call a
//! method — which also keeps the lock order simple: the engine never takes a chat.

use std::sync::Arc;

use secretchat_common::dh::CheckedConfig;

use crate::delivery::{self, Delivery};
use crate::device::{DeviceId, DeviceRecord};
use crate::error::RpcError;
use crate::event_log::EventLog;
use crate::files::StoredFile;

/// The narrow view of the server the fault engine works with.
pub trait FaultContext {
    /// Now, on the server clock (a TL date).
    fn now(&self) -> i32;

    /// The event log every applied fault is written to (shared: a wall-clock timer keeps
    /// a handle to it).
    fn events(&self) -> &Arc<EventLog>;

    /// A signed-in device by id (`None` once it logged out).
    fn device(&self, id: DeviceId) -> Option<Arc<DeviceRecord>>;

    /// The username of a user, if the user exists.
    fn username(&self, user_id: i64) -> Option<String>;

    /// A stored file by id.
    fn file(&self, id: i64) -> Option<Arc<StoredFile>>;

    /// The `(p, g)` `messages.getDhConfig` serves.
    fn dh(&self) -> &CheckedConfig;

    /// The config `version` `messages.getDhConfig` serves.
    fn dh_version(&self) -> i32;

    /// `--max-queue-len`: unacknowledged messages a device may hold.
    fn max_queue_len(&self) -> usize;

    /// Refuses a message with `PEER_QUEUE_FULL` when the device's queue is full, as the
    /// honest path does.
    fn check_room(&self, device: &DeviceRecord, delivery: &Delivery) -> Result<(), RpcError> {
        delivery::check_room(device, delivery, self.max_queue_len())
    }

    /// Lands a delivery in a device's queue at date `now`, with no queue limit: what a
    /// fault puts out (a released, duplicated or replayed message) is never refused.
    fn land(&self, now: i32, device: &DeviceRecord, delivery: Delivery) -> Result<(), RpcError> {
        delivery::land(self.events(), now, device, delivery, usize::MAX)
    }

    /// [`FaultContext::land`] without the live push (the `lose_push` action).
    fn land_unpushed(
        &self,
        now: i32,
        device: &DeviceRecord,
        delivery: Delivery,
    ) -> Result<(), RpcError> {
        delivery::land_unpushed(self.events(), now, device, delivery)
    }
}
