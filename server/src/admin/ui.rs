//! # `/ui`: a live dashboard of the server, in a browser — *the mock's invention*
//!
//! A page on the admin listener that shows what `GET /admin/state`, `/admin/faults`,
//! `/admin/hostile` and `/admin/events` show, kept up to date as the server works: users
//! and devices with their qts/pts and queue lengths, chats and their states, stored files,
//! installed fault rules and hostile modes, and the event log as it grows. It only reads;
//! changing anything stays with the admin API and its bearer token.
//!
//! **How a browser gets in without a header.** A browser opening a link cannot send
//! `Authorization: Bearer …`, so the dashboard has its own credential, the *view key*,
//! derived from the admin token:
//!
//! ```text
//! view_key = hex(SHA256("secretchat-lab dashboard view key\n" ‖ admin_token))
//! ```
//!
//! The server's log prints `http://127.0.0.1:8081/ui?key=<view_key>` ([`link`]). Opening it
//! answers `303 See Other` to `/ui` with the view key in a cookie (`HttpOnly`,
//! `SameSite=Strict`, `Path=/ui`), so the key leaves the address bar at once; the page and
//! its data routes then accept the cookie. The view key opens **only** these read-only
//! routes: it is not the admin token, and the admin token cannot be computed from it, so a
//! leaked log line or browser history lets someone read the dashboard of a loopback
//! server but change nothing. `SameSite=Strict` keeps other sites' pages from making the
//! browser send the cookie, and the cookie is bound to the host name, so a page that
//! re-binds a DNS name to 127.0.0.1 does not get it either.
//!
//! Routes (the page's files are embedded in the binary with `include_str!`; no build
//! step, no network — the page works offline):
//!
//! * `GET /ui?key=K` → the cookie and a redirect; `GET /ui` → the page;
//! * `GET /ui/state` → `{server, faults, hostile, files}` ([`dashboard_state`]);
//! * `GET /ui/events?since=N` → a page of the event log, as `/admin/events`;
//! * `GET /ui/stream` → server-sent events: `state` (the whole state again whenever it
//!   changed) and `events` (`{events, missed}`, each new event once, in order);
//! * `GET /ui/dashboard.js`, `GET /ui/dashboard.css` — the page's code and style.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{query, query_number};
use crate::error::RpcError;
use crate::event_log::MAX_PAGE;
use crate::state::{AppState, Server};

/// The cookie that carries the view key.
pub const COOKIE: &str = "secretchat_view_key";

/// How many past events a new stream starts with.
const BACKLOG: u64 = 1000;
/// How many stored files the state lists (newest first); the totals count them all.
const FILES_LISTED: usize = 200;
/// A burst of events is sent as one batch: the stream waits this long after a change.
const COALESCE: Duration = Duration::from_millis(100);
/// Changes that log no event (an upload, a rule installed, the clock moved) are noticed
/// within this long.
const RECHECK: Duration = Duration::from_secs(1);

const PAGE: &str = include_str!("../../ui/dashboard.html");
const SCRIPT: &str = include_str!("../../ui/dashboard.js");
const STYLE: &str = include_str!("../../ui/dashboard.css");

/// The dashboard's routes, merged into [`super::admin_app`] beside (not under) the
/// admin-token check: they have their own ([`require_view_key`]).
pub fn routes(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/ui/state", get(state_route))
        .route("/ui/events", get(events_route))
        .route("/ui/stream", get(stream_route))
        .route_layer(middleware::from_fn_with_state(state, require_view_key));
    Router::new()
        .route("/ui", get(page))
        .route("/ui/dashboard.js", get(|| asset(SCRIPT, "text/javascript")))
        .route("/ui/dashboard.css", get(|| asset(STYLE, "text/css")))
        .merge(guarded)
}

/// The view key of a server with this admin token (see the module comment).
pub fn view_key(admin_token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"secretchat-lab dashboard view key\n")
        .chain_update(admin_token.as_bytes())
        .finalize();
    hex::encode(digest)
}

/// The link the log prints: the admin listener's address (loopback when it listens on
/// every address) with the view key.
pub fn link(admin_addr: SocketAddr, admin_token: &str) -> String {
    let ip = match admin_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let addr = SocketAddr::new(ip, admin_addr.port());
    format!("http://{addr}/ui?key={}", view_key(admin_token))
}

/// Everything the dashboard shows, as one JSON value.
pub fn dashboard_state(state: &Server) -> Value {
    let mut files: Vec<Value> = state
        .files
        .iter()
        .map(|file| {
            json!({
                "id": file.id.to_string(),
                "date": file.date,
                "size": file.blob.len(),
                "key_fingerprint": file.key_fingerprint,
            })
        })
        .collect();
    files.sort_by_key(|file| std::cmp::Reverse(file["date"].as_i64()));
    files.truncate(FILES_LISTED);
    json!({
        "server": super::state::snapshot(state),
        "faults": state.faults.rules_json(),
        "hostile": state.faults.hostile_json(),
        "files": files,
    })
}

fn presented_key<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some((_, key)) = query(uri).into_iter().find(|(name, _)| *name == "key") {
        return Some(key);
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn key_is_valid(state: &Server, presented: &str) -> bool {
    let expected = view_key(state.admin_token());
    !presented.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

async fn require_view_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, RpcError> {
    match presented_key(request.uri(), request.headers()) {
        Some(key) if key_is_valid(&state, key) => Ok(next.run(request).await),
        _ => Err(RpcError::AdminTokenInvalid),
    }
}

/// `GET /ui`: with `?key=` the cookie and a redirect that drops the key from the address;
/// with the cookie, the page; otherwise a page saying where the link is.
async fn page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let from_query = query(&uri).into_iter().any(|(name, _)| name == "key");
    match presented_key(&uri, &headers) {
        Some(key) if key_is_valid(&state, key) => {
            if from_query {
                let cookie = format!("{COOKIE}={key}; HttpOnly; SameSite=Strict; Path=/ui");
                (
                    StatusCode::SEE_OTHER,
                    [
                        (header::LOCATION, "/ui".to_owned()),
                        (header::SET_COOKIE, cookie),
                        (header::CACHE_CONTROL, "no-store".to_owned()),
                    ],
                )
                    .into_response()
            } else {
                let headers = [(header::CACHE_CONTROL, "no-store")];
                (headers, Html(PAGE)).into_response()
            }
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            Html(
                "<!doctype html><title>secretchat-lab dashboard</title>\
                 <p>This dashboard opens from the link the server's log prints at start: \
                 <code>dashboard: http://…/ui?key=…</code>.</p>",
            ),
        )
            .into_response(),
    }
}

async fn asset(text: &'static str, content_type: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, text).into_response()
}

async fn state_route(State(state): State<AppState>) -> Json<Value> {
    Json(dashboard_state(&state))
}

async fn events_route(State(state): State<AppState>, uri: Uri) -> Result<Json<Value>, RpcError> {
    let since: u64 = query_number(&uri, "since")?.unwrap_or(0);
    let page = state.events.since(since, MAX_PAGE);
    Ok(Json(json!({
        "events": page.events,
        "last_id": page.last_id,
        "missed": page.missed,
    })))
}

async fn stream_route(
    State(state): State<AppState>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(feed(state, tx));
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}

/// Sends the stream's events until the browser goes away: the state whenever it differs
/// from what was last sent, then the log events recorded since (the state first, so the
/// devices the events name are known).
async fn feed(state: AppState, tx: mpsc::Sender<Result<Event, Infallible>>) {
    let mut changes = state.events.subscribe();
    let mut since = state.events.last_id().saturating_sub(BACKLOG);
    let mut shown: Option<Value> = None;
    loop {
        let now = dashboard_state(&state);
        if shown.as_ref() != Some(&now) {
            if !send(&tx, "state", &now).await {
                return;
            }
            shown = Some(now);
        }
        loop {
            let page = state.events.since(since, MAX_PAGE);
            let Some(last) = page.events.last().and_then(|e| e["id"].as_u64()) else {
                break;
            };
            since = last;
            let full = page.events.len() == MAX_PAGE;
            let batch = json!({"events": page.events, "missed": page.missed});
            if !send(&tx, "events", &batch).await {
                return;
            }
            if !full {
                break;
            }
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(COALESCE).await;
            }
            () = tokio::time::sleep(RECHECK) => {}
            () = tx.closed() => return,
        }
    }
}

async fn send(tx: &mpsc::Sender<Result<Event, Infallible>>, name: &str, data: &Value) -> bool {
    let event = Event::default().event(name).data(data.to_string());
    tx.send(Ok(event)).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_key_is_not_the_admin_token_and_follows_it() {
        let key = view_key("s3cret");
        assert_eq!(key.len(), 64);
        assert!(!key.contains("s3cret"));
        assert_eq!(key, view_key("s3cret"));
        assert_ne!(key, view_key("s3cret2"));
    }

    #[test]
    fn the_link_names_loopback_when_the_listener_takes_every_address() {
        let link = link("0.0.0.0:8081".parse().unwrap(), "t");
        assert_eq!(
            link,
            format!("http://127.0.0.1:8081/ui?key={}", view_key("t"))
        );
        let link = link_for("[::]:9", "t");
        assert!(link.starts_with("http://[::1]:9/ui?key="), "{link}");
    }

    fn link_for(addr: &str, token: &str) -> String {
        link(addr.parse().unwrap(), token)
    }
}
