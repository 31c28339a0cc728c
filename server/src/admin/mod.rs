//! # The admin surface — *the mock's invention*
//!
//! A separate router, served on its own listener (loopback by default, `--admin-bind`,
//! `--admin-port`) and guarded by its own bearer token (`--admin-token`). Device tokens
//! never work here and the admin token never works on the client API: the two token
//! spaces do not meet. One file per group of routes:
//!
//! * [`state`] — `GET /admin/state`: users, devices (qts, pts, queue lengths), chats and
//!   their state, stored files, the clock, and the process's resident memory
//!   (`process.rss_bytes`, from `/proc/self/status`; `null` where there is no such file);
//! * [`clock`] — `POST /admin/clock/advance {"seconds": N}`: moves the server clock
//!   forward (expiry and week-based re-keying become testable in seconds); expired updates
//!   are dropped at once;
//! * `POST /admin/reset` (here) — forgets every user, device, chat and file, every fault
//!   rule, hostile mode and event, and returns the clock to real time;
//! * [`faults`] — fault rules: `/admin/faults` (`docs/faults.md`);
//! * [`hostile`] — hostile modes: `/admin/hostile`, `/admin/hostile/mitm`;
//! * [`events`] — the event log: `GET /admin/events?since=N`;
//! * [`ui`] — `/ui`, the same as a live page in a browser, opened by a link the log prints
//!   (its own read-only credential, not the admin token: see there).

use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::error::RpcError;
use crate::extract::{json_object, parse_strict};
use crate::faults::installed::Spec;
use crate::state::AppState;

pub mod clock;
pub mod events;
pub mod faults;
pub mod hostile;
pub mod state;
pub mod ui;

pub use state::resident_memory_bytes;

/// The admin router, with its token check.
pub fn admin_app(state: AppState) -> Router {
    Router::new()
        .route("/admin/state", get(state::admin_state))
        .route("/admin/clock/advance", post(clock::advance_clock))
        .route("/admin/reset", post(reset))
        .route(
            "/admin/mtproto/public-key",
            get(crate::mtproto::server_key::serve_public_key),
        )
        .merge(faults::routes())
        .merge(hostile::routes())
        .merge(events::routes())
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
        .merge(ui::routes(state.clone()))
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

async fn reset(State(state): State<AppState>) -> Json<Value> {
    state.reset();
    tracing::info!("state reset");
    Json(json!({"reset": true}))
}

/// How the admin surface names and checks one kind of installation (fault rules, hostile
/// modes): both are installed, listed and removed the same way.
pub trait Admitted: Spec + DeserializeOwned + Clone {
    /// Its name in answers and logs: `"fault rule"`, `"hostile mode"`.
    const WHAT: &'static str;
    /// Its name before "id must be a number": `"rule"`, `"hostile mode"`.
    const ID: &'static str;
    /// Checks a spec before it is installed: a clear sentence for what is wrong.
    fn admit(&self) -> Result<(), String>;
    /// What it does, for the log line.
    fn describe(&self) -> &'static str;
}

/// `POST` a spec → `{id, seed, <key>: spec}`; bad JSON or a spec that cannot act installs
/// nothing.
async fn install<S: Admitted>(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, RpcError> {
    let body = json_object(request, &state).await?;
    let refused = |err: String| RpcError::bad_request(format!("{}: {err}", S::WHAT));
    let spec: S = parse_strict(body).map_err(|err| refused(err.to_string()))?;
    spec.admit().map_err(refused)?;
    let (id, seed) = state.faults.install(spec.clone());
    tracing::info!(id, seed, does = spec.describe(), "{} installed", S::WHAT);
    Ok(Json(json!({"id": id, "seed": seed, (S::KEY): spec})))
}

/// `DELETE` every installation of a kind → `{deleted: n}`.
async fn remove_all<S: Admitted>(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"deleted": state.faults.remove::<S>(&*state, None)}))
}

/// `DELETE …/{id}` → `{deleted: 1}`, or an error naming the id that is not there.
async fn remove_one<S: Admitted>(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RpcError> {
    let id = parse_id(&id, S::ID)?;
    match state.faults.remove::<S>(&*state, Some(id)) {
        0 => Err(no_such(S::WHAT, id)),
        n => Ok(Json(json!({"deleted": n}))),
    }
}

/// A rule's or mode's id from the path.
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
