//! # Fault rules on the admin surface (`docs/faults.md`)
//!
//! * `POST /admin/faults` (a rule, [`crate::faults::rule`]) → `{id, seed, rule}`;
//! * `GET /admin/faults` → `{rules: [{id, seed, rule, matched, applied, held}], held}`;
//! * `DELETE /admin/faults/{id}`, `DELETE /admin/faults` — both release what the rules
//!   hold first;
//! * `POST /admin/faults/{id}/release` → `{released: n}`.

use axum::extract::{Path, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{install, no_such, parse_id, remove_all, remove_one, Admitted};
use crate::error::RpcError;
use crate::faults::rule::RuleSpec;
use crate::methods::tl_line;
use crate::state::AppState;

/// The routes, merged into [`super::admin_app`] (which adds the token check).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/faults",
            post(install::<RuleSpec>)
                .get(list_rules)
                .delete(remove_all::<RuleSpec>),
        )
        .route("/admin/faults/{id}", delete(remove_one::<RuleSpec>))
        .route("/admin/faults/{id}/release", post(release))
}

impl Admitted for RuleSpec {
    const WHAT: &'static str = "fault rule";
    const ID: &'static str = "rule";

    fn admit(&self) -> Result<(), String> {
        self.check(|method| tl_line(method).is_some())
    }

    fn describe(&self) -> &'static str {
        self.action.name()
    }
}

async fn list_rules(State(state): State<AppState>) -> Json<Value> {
    Json(state.faults.rules_json())
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
