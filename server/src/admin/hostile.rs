//! # Hostile modes on the admin surface (`docs/faults.md`)
//!
//! * `POST /admin/hostile` (a mode, [`crate::faults::hostile`]) → `{id, seed, hostile}`;
//! * `GET /admin/hostile` → `{modes: [{id, seed, hostile, bound_chat_id, applied}]}`;
//! * `DELETE /admin/hostile/{id}`, `DELETE /admin/hostile` → `{deleted: n}`;
//! * `GET /admin/hostile/mitm?chat_id=N` — an intercepted chat's two keys side by side.

use axum::extract::State;
use axum::http::Uri;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::{install, query_number, remove_all, remove_one, Admitted};
use crate::error::RpcError;
use crate::faults::hostile::HostileSpec;
use crate::state::AppState;

/// The routes, merged into [`super::admin_app`] (which adds the token check).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/hostile",
            post(install::<HostileSpec>)
                .get(list_hostile)
                .delete(remove_all::<HostileSpec>),
        )
        .route("/admin/hostile/mitm", get(mitm))
        .route("/admin/hostile/{id}", delete(remove_one::<HostileSpec>))
}

impl Admitted for HostileSpec {
    const WHAT: &'static str = "hostile mode";
    const ID: &'static str = "hostile mode";

    fn admit(&self) -> Result<(), String> {
        self.check()
    }

    fn describe(&self) -> &'static str {
        self.mode.name()
    }
}

async fn list_hostile(State(state): State<AppState>) -> Json<Value> {
    Json(state.faults.hostile_json())
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
