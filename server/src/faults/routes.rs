//! # The admin routes of the fault engine (`docs/faults.md`)
//!
//! All behind the admin token, on the admin listener:
//!
//! * `POST /admin/faults` (a rule) → `{id, seed, rule}`; `GET /admin/faults`;
//!   `DELETE /admin/faults/{id}`, `DELETE /admin/faults` (both release what the rules
//!   hold first); `POST /admin/faults/{id}/release`;
//! * `POST /admin/hostile` (a mode) → `{id, seed, hostile}`; `GET /admin/hostile`;
//!   `DELETE /admin/hostile/{id}`, `DELETE /admin/hostile`;
//!   `GET /admin/hostile/mitm?chat_id=N` — an intercepted chat's two keys side by side;
//! * `GET /admin/events?since=N&limit=M` — the event log after event N.

use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::hostile::HostileSpec;
use super::rule::RuleSpec;
use crate::error::RpcError;
use crate::extract::{json_object, parse_strict};
use crate::methods::tl_line;
use crate::state::AppState;

/// The routes, merged into [`crate::admin::admin_app`] (which adds the token check).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/faults",
            post(install_rule).get(list_rules).delete(delete_rules),
        )
        .route("/admin/faults/{id}", delete(delete_rule))
        .route("/admin/faults/{id}/release", post(release))
        .route(
            "/admin/hostile",
            post(install_hostile)
                .get(list_hostile)
                .delete(delete_all_hostile),
        )
        .route("/admin/hostile/mitm", get(mitm))
        .route("/admin/hostile/{id}", delete(delete_hostile))
        .route("/admin/events", get(events))
}

fn parse_id(text: &str, what: &str) -> Result<u64, RpcError> {
    text.parse()
        .map_err(|_| RpcError::bad_request(format!("{what} id must be a number, got {text:?}")))
}

fn no_such(what: &'static str, id: u64) -> RpcError {
    RpcError::AdminObjectMissing {
        what,
        id: i64::try_from(id).unwrap_or(i64::MAX),
    }
}

async fn install_rule(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, RpcError> {
    let body = json_object(request, &state).await?;
    let spec: RuleSpec =
        parse_strict(body).map_err(|err| RpcError::bad_request(format!("fault rule: {err}")))?;
    spec.check(|method| tl_line(method).is_some())
        .map_err(|err| RpcError::bad_request(format!("fault rule: {err}")))?;
    let (id, seed) = state.faults.install_rule(spec.clone());
    tracing::info!(
        id,
        seed,
        action = spec.action.name(),
        "fault rule installed"
    );
    Ok(Json(json!({"id": id, "seed": seed, "rule": spec})))
}

async fn list_rules(State(state): State<AppState>) -> Json<Value> {
    Json(state.faults.rules_json())
}

async fn delete_rules(State(state): State<AppState>) -> Json<Value> {
    let deleted = state.faults.delete_all_rules(&state);
    Json(json!({"deleted": deleted}))
}

async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RpcError> {
    let id = parse_id(&id, "rule")?;
    if !state.faults.delete_rule(&state, id) {
        return Err(no_such("fault rule", id));
    }
    Ok(Json(json!({"deleted": 1})))
}

async fn release(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RpcError> {
    let id = parse_id(&id, "rule")?;
    let released = state
        .faults
        .release(&state, id)
        .ok_or_else(|| no_such("fault rule", id))?;
    Ok(Json(json!({"released": released})))
}

async fn install_hostile(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, RpcError> {
    let body = json_object(request, &state).await?;
    let spec: HostileSpec =
        parse_strict(body).map_err(|err| RpcError::bad_request(format!("hostile mode: {err}")))?;
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

/// `?a=1&b=2` as pairs (values are plain numbers here, no percent-decoding needed).
fn query(uri: &Uri) -> Vec<(&str, &str)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect()
}

fn query_number<T: std::str::FromStr>(uri: &Uri, name: &str) -> Result<Option<T>, RpcError> {
    match query(uri).into_iter().find(|(key, _)| *key == name) {
        None => Ok(None),
        Some((_, value)) => value.parse().map(Some).map_err(|_| {
            RpcError::bad_request(format!(
                "query parameter {name} must be a number, got {value:?}"
            ))
        }),
    }
}

async fn mitm(State(state): State<AppState>, uri: Uri) -> Result<Json<Value>, RpcError> {
    let chat_id: i32 = query_number(&uri, "chat_id")?
        .ok_or_else(|| RpcError::bad_request("expected ?chat_id=N"))?;
    state
        .faults
        .mitm_json(chat_id)
        .map(Json)
        .ok_or(RpcError::AdminObjectMissing {
            what: "intercepted chat",
            id: i64::from(chat_id),
        })
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
    let limit: usize = query_number(&uri, "limit")?.unwrap_or(super::event_log::MAX_PAGE);
    let page = state.faults.events.since(since, limit);
    Ok(Json(json!({
        "events": page.events,
        "last_id": page.last_id,
        "missed": page.missed,
    })))
}
