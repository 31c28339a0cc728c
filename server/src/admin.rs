//! # The admin surface — *the mock's invention*
//!
//! A separate router, served on its own listener (loopback by default, `--admin-bind`,
//! `--admin-port`) and guarded by its own bearer token (`--admin-token`). Device tokens
//! never work here and the admin token never works on the client API: the two token
//! spaces do not meet.
//!
//! * `GET /admin/state` — users, devices (qts, pts, queue lengths), chats and their state,
//!   stored files, the clock, and the process's resident memory (`process.rss_bytes`,
//!   from `/proc/self/status`; `null` where there is no such file);
//! * `POST /admin/clock/advance {"seconds": N}` — moves the server clock forward (expiry
//!   and week-based re-keying become testable in seconds); expired updates are dropped at
//!   once;
//! * `POST /admin/reset` — forgets every user, device, chat and file, every fault rule,
//!   hostile mode and event, and returns the clock to real time;
//! * the fault engine's routes — `/admin/faults`, `/admin/hostile`, `/admin/events`
//!   ([`crate::faults::routes`], `docs/faults.md`).

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::error::RpcError;
use crate::extract::json_object;
use crate::state::AppState;

/// The admin router, with its token check.
pub fn admin_app(state: AppState) -> Router {
    Router::new()
        .route("/admin/state", get(admin_state))
        .route("/admin/clock/advance", post(advance_clock))
        .route("/admin/reset", post(reset))
        .merge(crate::faults::routes::routes())
        .fallback(|| async {
            RpcError::InputMethodInvalid {
                method: "(unknown admin route)".into(),
            }
        })
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_admin_token,
        ))
        // After the token layer: the document is public, like the client API's.
        .route("/admin/openapi.json", get(crate::openapi::serve_admin))
        .with_state(state)
}

async fn require_admin_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, RpcError> {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let expected = state.admin_token().as_bytes();
    if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected)) {
        return Err(RpcError::AdminTokenInvalid);
    }
    Ok(next.run(request).await)
}

async fn admin_state(State(state): State<AppState>) -> Json<Value> {
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
                        "qts": counters.qts,
                        "pts": counters.pts,
                        "queued_messages": queue.message_count(),
                        "queued_other_updates": queue.other_count(),
                    })
                })
                .collect();
            json!({"id": user.id.to_string(), "username": user.username, "devices": devices})
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
    Json(json!({
        "users": users,
        "chats": chats,
        "files": {"stored": state.files.len(), "stored_bytes": stored_bytes, "uploads_in_progress": state.uploads.len()},
        "clock": {"now": state.now(), "offset_seconds": state.clock.offset_seconds()},
        "process": {"rss_bytes": resident_memory_bytes()},
    }))
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

async fn advance_clock(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, RpcError> {
    let body = json_object(request, &state).await?;
    let seconds = body
        .get("seconds")
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| RpcError::bad_request("expected {\"seconds\": N} with 0 <= N < 2^32"))?;
    if body.len() != 1 {
        return Err(RpcError::bad_request("only the field `seconds` is allowed"));
    }
    let offset = state.clock.advance(seconds);
    let expired = state.expire_all();
    tracing::info!(seconds, offset, expired, "clock advanced");
    Ok(Json(
        json!({"now": state.now(), "offset_seconds": offset, "expired_updates": expired}),
    ))
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    state.reset();
    tracing::info!("state reset");
    Json(json!({"reset": true}))
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
