//! # Fault rules on the admin surface (`docs/faults.md`)
//!
//! * `POST /admin/faults` (a rule, [`crate::faults::rule`]) → `{id, seed, rule}`;
//! * `GET /admin/faults` → `{rules: [{id, seed, rule, matched, applied, held}], held}`;
//! * `DELETE /admin/faults/{id}`, `DELETE /admin/faults` — both release what the rules
//!   hold first;
//! * `POST /admin/faults/{id}/release` → `{released: n}`.

use axum::extract::{Path, Request, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{no_such, parse_id};
use crate::error::RpcError;
use crate::extract::json_object;
use crate::faults::rule::RuleSpec;
use crate::methods::tl_line;
use crate::state::AppState;

/// The routes, merged into [`super::admin_app`] (which adds the token check).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/faults",
            post(install_rule).get(list_rules).delete(delete_rules),
        )
        .route("/admin/faults/{id}", delete(delete_rule))
        .route("/admin/faults/{id}/release", post(release))
}

async fn install_rule(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, RpcError> {
    let body = json_object(request, &state).await?;
    let spec: RuleSpec = serde_json::from_value(Value::Object(body))
        .map_err(|err| RpcError::bad_request(format!("fault rule: {err}")))?;
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
    let deleted = state.faults.delete_all_rules(&*state);
    Json(json!({"deleted": deleted}))
}

async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RpcError> {
    let id = parse_id(&id, "rule")?;
    if !state.faults.delete_rule(&*state, id) {
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
        .release(&*state, id)
        .ok_or_else(|| no_such("fault rule", id))?;
    Ok(Json(json!({"released": released})))
}
