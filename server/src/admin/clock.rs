//! # `POST /admin/clock/advance {"seconds": N}`: the server clock moves forward
//!
//! The clock is real time plus an offset only this route moves, and only forward
//! ([`crate::clock`]): expiry after 7 days and week-based re-keying become testable in
//! seconds. Updates that expire are dropped at once, and held deliveries whose
//! server-clock date has come are released.

use axum::extract::{Request, State};
use axum::Json;
use serde_json::{json, Value};

use crate::error::RpcError;
use crate::extract::json_object;
use crate::state::AppState;

pub async fn advance_clock(
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
