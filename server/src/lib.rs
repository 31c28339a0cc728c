//! # secretchat-server: the Telegram side of secret chats, over HTTP/JSON
//!
//! A local stand-in for Telegram's servers as a secret chat sees them (SPEC §9): it relays
//! the key exchange, relays encrypted messages into per-device update queues, and stores
//! encrypted files. **It never decrypts anything**: every payload is opaque bytes — unless
//! a test operator switches a chat into the man-in-the-middle hostile mode ([`faults`]).
//!
//! A tour, in the order a request meets the modules:
//!
//! * [`config`] — flags, environment variables and limits (`secretchat-server --help`).
//! * [`app`] / [`serve`] — the router (`POST /api/<method>`, `GET /api/updates.stream`,
//!   `GET /openapi.json`) and the listener loop with graceful shutdown.
//! * [`extract`] — bearer token → [`device::DeviceRecord`]; JSON body → the generated TL
//!   function type (`secretchat_common::tl::api::functions`).
//! * [`methods`] — one file per method, each *parse → apply → answer*; around them all,
//!   the answer hook the fault engine acts through ([`methods::answer_hook`]).
//! * [`state`] — the one [`state::Server`] value every request shares.
//! * [`error`] — the one error type, answered as `{"_":"rpc_error",…}`.
//! * [`directory`] — users, devices, tokens, per-viewer `access_hash` (the mock's sign-in).
//! * [`chats`] — secret chats, their states and who may use them.
//! * [`device`] and [`update_queue`] — per-device queues numbered by qts and pts,
//!   acknowledgement, 7-day expiry.
//! * [`delivery`] — an update lands in a device's queue ([`state::Server::deliver`], the one
//!   path every delivery takes; `PEER_QUEUE_FULL`), wakes its long-polls and is pushed to
//!   its live listeners: [`delivery::Listeners::subscribe`] is the hook every door uses.
//! * [`event_log`] — what the server did, numbered (`GET /admin/events?since=N`).
//! * [`files`] — part rules, assembly, storage, download ranges.
//! * [`clock`] — real time plus an admin-controlled offset.
//! * [`admin`] — the admin surface on its own listener and token: state, clock, reset,
//!   and the routes of the fault engine.
//! * [`faults`] — the misbehaving server: fault rules and hostile modes, seeing the server
//!   only through a [`faults::FaultContext`].
//! * [`fuzzing`] — the request handling the `server_request` fuzz target drives.
//! * [`openapi`] — the documents served at `/openapi.json` (built from the TL schema) and,
//!   on the admin listener, `/admin/openapi.json`.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use secretchat_server::{app, config::ServerConfig, serve, state::Server};
//! let state = Arc::new(Server::new(&ServerConfig::for_tests()).expect("valid config"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! serve(listener, app(state), std::future::pending()).await
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

pub mod admin;
pub mod chats;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod device;
pub mod directory;
pub mod error;
pub mod event_log;
pub mod extract;
pub mod faults;
pub mod files;
pub mod fuzzing;
pub mod methods;
pub mod mtproto;
pub mod openapi;
pub mod state;
pub mod update_queue;

pub use admin::admin_app;

use error::RpcError;
use state::AppState;

/// The client API router.
pub fn app(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    methods::routes()
        .route("/openapi.json", get(openapi::serve_client))
        .route(
            mtproto::server_key::PUBLIC_KEY_PATH,
            get(mtproto::server_key::serve_public_key),
        )
        .fallback(|uri: Uri| async move {
            let method = uri.path().strip_prefix("/api/").unwrap_or(uri.path());
            RpcError::InputMethodInvalid {
                method: method.chars().take(100).collect(),
            }
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            methods::answer_hook::on_call,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Drops expired updates on every device once a minute (each queue pops only its expired
/// front). Runs until the task is aborted.
pub async fn sweep_expired(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let removed = state.expire_all();
        if removed > 0 {
            tracing::debug!(removed, "expired updates dropped");
        }
    }
}
