//! # `GET /admin/state`: everything the server holds, at a glance
//!
//! Users and their devices (qts, pts, queue lengths), chats and their state, stored files
//! and uploads in progress, the clock, and the process's resident memory
//! (`process.rss_bytes`, from `/proc/self/status`; `null` where there is no such file).
//! Expired updates are dropped first, so the queue lengths are what a device could fetch.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::state::{AppState, Server};

pub async fn admin_state(State(state): State<AppState>) -> Json<Value> {
    Json(snapshot(&state))
}

/// The answer of `GET /admin/state` (the dashboard shows the same value, [`super::ui`]).
pub fn snapshot(state: &Server) -> Value {
    state.expire_all();
    let users: Vec<Value> = state
        .directory
        .users()
        .into_iter()
        .map(|user| {
            let devices: Vec<Value> = user
                .devices
                .iter()
                .filter_map(|id| state.directory.device(*id))
                .map(|device| {
                    let queue = device.mailbox.queue();
                    let counters = queue.state();
                    json!({
                        "id": device.id.0.to_string(),
                        "name": device.name,
                        "door": device.door.name(),
                        "qts": counters.qts,
                        "pts": counters.pts,
                        "queued_messages": queue.message_count(),
                        "queued_other_updates": queue.other_count(),
                    })
                })
                .collect();
            json!({"id": user.id.to_string(), "username": user.username, "phone": user.phone,
                   "devices": devices})
        })
        .collect();
    let mut chats: Vec<Value> = state
        .chats
        .iter()
        .map(|chat| {
            json!({
                "id": chat.id,
                "state": chat.state_name(),
                "date": chat.date,
                "admin_id": chat.admin_id.to_string(),
                "admin_device": chat.admin_device.0.to_string(),
                "participant_id": chat.participant_id.to_string(),
                "participant_device": chat.participant_device().map(|d| d.0.to_string()),
                "spam_reports": chat.spam_reports,
            })
        })
        .collect();
    chats.sort_by_key(|chat| chat["id"].as_i64());
    let stored_bytes: usize = state.files.iter().map(|f| f.blob.len()).sum();
    json!({
        "users": users,
        "chats": chats,
        "files": {"stored": state.files.len(), "stored_bytes": stored_bytes, "uploads_in_progress": state.uploads.len()},
        "clock": {"now": state.now(), "offset_seconds": state.clock.offset_seconds()},
        "process": {"rss_bytes": resident_memory_bytes()},
        "mtproto": {
            "listening": state.mtproto.addr.get().map(ToString::to_string),
            "auth_keys": state.mtproto.keys.snapshot(),
        },
    })
}

/// The resident set size of this process (`VmRSS` in `/proc/self/status`), if the OS tells.
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

/// `VmRSS:   123456 kB` → bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut fields = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => value.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_vm_rss;

    #[test]
    fn vm_rss_is_read_in_kilobytes_and_returned_in_bytes() {
        let status = "Name:\tx\nVmPeak:\t  9 kB\nVmRSS:\t    2048 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(2048 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert_eq!(parse_vm_rss("VmRSS:\tlots kB\n"), None);
    }
}
