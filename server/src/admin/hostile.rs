//! # Hostile modes on the admin surface (`docs/faults.md`)
//!
//! * `POST /admin/hostile` (a mode, [`crate::faults::hostile`]) → `{id, seed, hostile}`;
//! * `GET /admin/hostile` → `{modes: [{id, seed, hostile, bound_chat_id, applied}]}`;
//! * `DELETE /admin/hostile/{id}`, `DELETE /admin/hostile` → `{deleted: n}`;
//! * `GET /admin/hostile/mitm?chat_id=N` — an intercepted chat's two keys side by side.

use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{no_such, parse_id, query_number};
use crate::error::RpcError;
use crate::extract::json_object;
use crate::faults::hostile::HostileSpec;
use crate::state::AppState;

/// The routes, merged into [`super::admin_app`] (which adds the token check).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/hostile",
            post(install_hostile)
                .get(list_hostile)
                .delete(delete_all_hostile),
        )
        .route("/admin/hostile/mitm", get(mitm))
        .route("/admin/hostile/{id}", delete(delete_hostile))
}

async fn install_hostile(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, RpcError> {
    let body = json_object(request, &state).await?;
    let spec: HostileSpec = serde_json::from_value(Value::Object(body))
        .map_err(|err| RpcError::bad_request(format!("hostile mode: {err}")))?;
    spec.check()
        .map_err(|err| RpcError::bad_request(format!("hostile mode: {err}")))?;
    let (id, seed) = state.faults.install_hostile(spec.clone());
    tracing::info!(id, seed, mode = spec.mode.name(), "hostile mode installed");
    Ok(Json(json!({"id": id, "seed": seed, "hostile": spec})))
}

async fn list_hostile(State(state): State<AppState>) -> Json<Value> {
    Json(state.faults.hostile_json())
}

async fn delete_all_hostile(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"deleted": state.faults.delete_hostile(None)}))
}

async fn delete_hostile(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RpcError> {
    let id = parse_id(&id, "hostile mode")?;
    match state.faults.delete_hostile(Some(id)) {
        0 => Err(no_such("hostile mode", id)),
        n => Ok(Json(json!({"deleted": n}))),
    }
}

async fn mitm(State(state): State<AppState>, uri: Uri) -> Result<Json<Value>, RpcError> {
    let chat_id: i32 = query_number(&uri, "chat_id")?
        .ok_or_else(|| RpcError::bad_request("expected ?chat_id=N"))?;
    state
        .faults
        .mitm_json(chat_id)
        .map(Json)
        .ok_or_else(|| RpcError::bad_request(format!("chat {chat_id} is not intercepted (yet)")))
}
