//! # The event log on the admin surface
//!
//! `GET /admin/events?since=N&limit=M` → `{events: [...], last_id, missed}`: the events
//! after event `N` ([`crate::event_log`]), at most `M` (and at most
//! [`crate::event_log::MAX_PAGE`]) of them.

use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{query, query_number};
use crate::error::RpcError;
use crate::event_log::MAX_PAGE;
use crate::state::AppState;

/// The route, merged into [`super::admin_app`] (which adds the token check).
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/events", get(events))
}

async fn events(State(state): State<AppState>, uri: Uri) -> Result<Json<Value>, RpcError> {
    for (key, _) in query(&uri) {
        if key != "since" && key != "limit" {
            return Err(RpcError::bad_request(format!(
                "unknown query parameter {key:?} (since, limit)"
            )));
        }
    }
    let since: u64 = query_number(&uri, "since")?.unwrap_or(0);
    let limit: usize = query_number(&uri, "limit")?.unwrap_or(MAX_PAGE);
    let page = state.events.since(since, limit);
    Ok(Json(json!({
        "events": page.events,
        "last_id": page.last_id,
        "missed": page.missed,
    })))
}
