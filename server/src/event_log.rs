//! # The event log: what the server did, numbered, for a run to be understood afterwards
//!
//! DESIGN.md's "event log": every applied fault and hostile substitution, and the
//! server's ordinary events (sign-in, every update handed to a device with its qts or pts,
//! acknowledgements, expiry), each with a number that only grows. A test or scenario reads
//! `GET /admin/events?since=N` and gets what happened after event `N`; a fault event
//! carries its rule's id and seed, so a failing run can be replayed from the seed.
//!
//! ```text
//!   id  event       what
//!   1   signed_in   alice/phone  device 81…
//!   7   delivered   updateEncryption{encryptedChatRequested}  → bob/phone  pts 2
//!   9   fault       rule 1 (seed 42) drop  new_encrypted_message → bob/phone  chat 5
//! ```
//!
//! The log keeps the newest [`CAPACITY`] events; older ones are forgotten (the answer says
//! how many were, so a reader knows it missed some). Ordinary events are small typed
//! values, rendered to JSON only when read, so logging costs the relay path one short
//! critical section. A live reader (the dashboard's stream, `crate::admin::ui`) waits on
//! [`EventLog::subscribe`] instead of polling; while nobody listens that costs one atomic
//! load.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::device::{DeviceDoor, DeviceId};

/// How many events the log keeps.
pub const CAPACITY: usize = 100_000;

/// The most events one `GET /admin/events` returns.
pub const MAX_PAGE: usize = 10_000;

/// One thing that happened.
#[derive(Debug, Clone)]
pub enum LogEvent {
    /// A device signed in (or signed in again).
    SignedIn {
        user_id: i64,
        device: DeviceId,
        username: String,
        device_name: String,
    },
    /// An update went into a device's queue (or, for typing, out on its live stream).
    Delivered {
        device: DeviceId,
        /// The door the device goes out through (pushed there, or fetched by it).
        door: DeviceDoor,
        update: &'static str,
        chat_id: Option<i32>,
        /// `("qts", n)` for messages, `("pts", n)` for other updates, none for typing.
        counter: Option<(&'static str, i32)>,
    },
    /// A device acknowledged its messages up to `max_qts`.
    Acknowledged {
        device: DeviceId,
        max_qts: i32,
        messages: usize,
    },
    /// A client of the MTProto door called a method the door does not serve.
    UnsupportedMethod {
        device: Option<DeviceId>,
        method: String,
        layer: i32,
    },
    /// Updates older than 7 days were deleted.
    Expired { removed: usize },
    /// A fault rule acted, or a hostile mode substituted something: the details are JSON
    /// (rule id, seed, action, device, chat, qts, method, what changed).
    Fault(Value),
}

impl LogEvent {
    fn to_json(&self) -> Value {
        match self {
            LogEvent::SignedIn {
                user_id,
                device,
                username,
                device_name,
            } => json!({
                "event": "signed_in",
                "user_id": user_id.to_string(),
                "device": device.0.to_string(),
                "username": username,
                "device_name": device_name,
            }),
            LogEvent::Delivered {
                device,
                door,
                update,
                chat_id,
                counter,
            } => {
                let mut value = json!({
                    "event": "delivered",
                    "update": update,
                    "device": device.0.to_string(),
                    "door": door.name(),
                    "chat_id": chat_id,
                });
                if let Some((name, n)) = counter {
                    value[*name] = json!(n);
                }
                value
            }
            LogEvent::Acknowledged {
                device,
                max_qts,
                messages,
            } => json!({
                "event": "acknowledged",
                "device": device.0.to_string(),
                "max_qts": max_qts,
                "messages": messages,
            }),
            LogEvent::UnsupportedMethod {
                device,
                method,
                layer,
            } => json!({
                "event": "unsupported_method",
                "door": "mtproto",
                "device": device.map(|d| d.0.to_string()),
                "method": method,
                "layer": layer,
            }),
            LogEvent::Expired { removed } => json!({"event": "expired", "removed": removed}),
            LogEvent::Fault(detail) => detail.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    /// The id the next event gets (ids start at 1).
    next_id: u64,
    events: VecDeque<(u64, i32, LogEvent)>,
}

/// The numbered log of events.
#[derive(Debug)]
pub struct EventLog {
    log: Mutex<Log>,
    /// The id of the newest event, for live readers.
    newest: watch::Sender<u64>,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new()
    }
}

/// One page of the log, as `GET /admin/events` answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub events: Vec<Value>,
    /// The id of the last event in the log (0 if none yet): pass it as `since` next time.
    pub last_id: u64,
    /// Events after `since` that were forgotten before they were read.
    pub missed: u64,
}

impl EventLog {
    pub fn new() -> Self {
        Self {
            log: Mutex::new(Log {
                next_id: 1,
                events: VecDeque::new(),
            }),
            newest: watch::Sender::new(0),
        }
    }

    /// A receiver that changes whenever an event is recorded (its value: the newest id).
    /// Subscribe before reading [`Self::since`], then wait on it.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.newest.subscribe()
    }

    /// The id of the newest event (0 if none yet).
    pub fn last_id(&self) -> u64 {
        self.lock().next_id - 1
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event at server date `date`; returns its id.
    pub fn record(&self, date: i32, event: LogEvent) -> u64 {
        let mut log = self.lock();
        let id = log.next_id;
        log.next_id += 1;
        log.events.push_back((id, date, event));
        while log.events.len() > CAPACITY {
            log.events.pop_front();
        }
        drop(log);
        if self.newest.receiver_count() > 0 {
            self.newest.send_replace(id);
        }
        id
    }

    /// The events with an id above `since`, oldest first, at most `limit` of them.
    pub fn since(&self, since: u64, limit: usize) -> Page {
        let log = self.lock();
        let oldest_kept = log.events.front().map_or(log.next_id, |(id, _, _)| *id);
        let missed = oldest_kept.saturating_sub(since.saturating_add(1));
        let start = log.events.partition_point(|(id, _, _)| *id <= since);
        let events = log
            .events
            .iter()
            .skip(start)
            .take(limit.min(MAX_PAGE))
            .map(|(id, date, event)| {
                let mut value = event.to_json();
                value["id"] = json!(id);
                value["date"] = json!(date);
                value
            })
            .collect();
        Page {
            events,
            last_id: log.next_id - 1,
            missed,
        }
    }

    /// Forgets every event; ids keep growing (`POST /admin/reset`).
    pub fn clear(&self) {
        self.lock().events.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_after_since_come_back_numbered_and_dated() {
        let log = EventLog::new();
        log.record(10, LogEvent::Expired { removed: 1 });
        log.record(11, LogEvent::Expired { removed: 2 });
        let page = log.since(1, 100);
        assert_eq!(
            page.events,
            vec![json!({"event": "expired", "removed": 2, "id": 2, "date": 11})]
        );
        assert_eq!((page.last_id, page.missed), (2, 0));
    }

    #[test]
    fn a_subscriber_hears_of_each_new_event() {
        let log = EventLog::new();
        let mut newest = log.subscribe();
        assert!(!newest.has_changed().unwrap());
        log.record(0, LogEvent::Expired { removed: 1 });
        assert!(newest.has_changed().unwrap());
        assert_eq!(*newest.borrow_and_update(), 1);
        assert_eq!(log.last_id(), 1);
    }

    #[test]
    fn forgotten_events_are_counted_as_missed() {
        let log = EventLog::new();
        for n in 0..CAPACITY + 5 {
            log.record(0, LogEvent::Expired { removed: n });
        }
        let page = log.since(0, 1);
        assert_eq!(page.missed, 5);
        assert_eq!(page.events[0]["id"], 6);
    }
}
