//! # The mock server inside this process
//!
//! `demo`, `load`, scenarios and tests need a server without any set-up: an
//! [`EmbeddedServer`] runs `secretchat-server`'s two listeners — the client API and the
//! admin surface — on ephemeral loopback ports in the current tokio runtime, and stops
//! them when dropped (or, waiting for requests in flight, on [`EmbeddedServer::shut_down`]).
//! [`AdminClient`] speaks the admin surface (`/admin/state`, `/admin/clock/advance`,
//! `/admin/reset`) of this or any other server.

use std::sync::Arc;
use std::time::Duration;

use secretchat_server::config::ServerConfig;
use secretchat_server::state::{AppState, Server};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::{ApiClient, ApiError};

/// The admin token used when the config gives none.
const DEFAULT_ADMIN_TOKEN: &str = "embedded-admin-token";

/// Why the embedded server could not start, or an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("the server refuses its config: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("admin {path}: {reason}")]
    Admin { path: String, reason: String },
}

/// A running in-process server.
pub struct EmbeddedServer {
    /// Base URL of the client API (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Base URL of the admin surface.
    pub admin_url: String,
    pub admin_token: String,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    /// Drops expired updates once a minute; runs until aborted.
    sweeper: JoinHandle<()>,
}

impl std::fmt::Debug for EmbeddedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("url", &self.url)
            .field("admin_url", &self.admin_url)
            .finish_non_exhaustive()
    }
}

impl EmbeddedServer {
    /// Starts the server with `config`; its ports are ignored (both listeners take an
    /// ephemeral port on 127.0.0.1). Must be called inside a tokio runtime.
    pub async fn start(mut config: ServerConfig) -> Result<EmbeddedServer, EmbeddedError> {
        let admin_token = config
            .admin_token
            .clone()
            .unwrap_or_else(|| DEFAULT_ADMIN_TOKEN.to_owned());
        config.admin_token = Some(admin_token.clone());
        let state: AppState =
            Arc::new(Server::new(&config).map_err(|err| EmbeddedError::Config(err.to_string()))?);
        let api = bind().await?;
        let admin = bind().await?;
        let url = local_url(&api)?;
        let admin_url = local_url(&admin)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (api_stop, api_stopped) = oneshot::channel::<()>();
        let (admin_stop, admin_stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = stopped.await;
            let _ = api_stop.send(());
            let _ = admin_stop.send(());
        });
        let sweeper_state = Arc::clone(&state);
        let sweeper = tokio::spawn(secretchat_server::sweep_expired(sweeper_state));
        let tasks = vec![
            tokio::spawn(secretchat_server::serve(
                api,
                secretchat_server::app(Arc::clone(&state)),
                async {
                    let _ = api_stopped.await;
                },
            )),
            tokio::spawn(secretchat_server::serve(
                admin,
                secretchat_server::admin_app(Arc::clone(&state)),
                async {
                    let _ = admin_stopped.await;
                },
            )),
        ];
        Ok(EmbeddedServer {
            url,
            admin_url,
            admin_token,
            state,
            stop: Some(stop),
            tasks,
            sweeper,
        })
    }

    /// Starts a server with [`ServerConfig::for_tests`] (seeded, default limits).
    pub async fn start_default() -> Result<EmbeddedServer, EmbeddedError> {
        Self::start(ServerConfig::for_tests()).await
    }

    /// An admin client for this server.
    pub fn admin(&self) -> AdminClient {
        AdminClient::new(&self.admin_url, &self.admin_token)
    }

    /// The server's state, for in-process inspection.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops both listeners after the requests in flight (long-polls end early).
    pub async fn shut_down(mut self) {
        self.sweeper.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in self.tasks.drain(..) {
            if task.is_finished() {
                continue;
            }
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.sweeper.abort();
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn bind() -> Result<TcpListener, EmbeddedError> {
    TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| EmbeddedError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })
}

fn local_url(listener: &TcpListener) -> Result<String, EmbeddedError> {
    let addr = listener
        .local_addr()
        .map_err(|source| EmbeddedError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
    Ok(format!("http://{addr}"))
}

/// A client of the admin surface: the same HTTP wrapper as the API
/// ([`ApiClient::request`]), with the admin URL and token.
#[derive(Debug, Clone)]
pub struct AdminClient {
    api: Result<ApiClient, ApiError>,
}

impl AdminClient {
    /// A client of the admin surface at `admin_url` (`http://127.0.0.1:8081`); a URL that
    /// is not plain HTTP makes every call fail with the reason.
    pub fn new(admin_url: &str, token: &str) -> Self {
        Self {
            api: ApiClient::new(admin_url).map(|api| api.with_token(token)),
        }
    }

    /// `GET /admin/state`: users, devices and their queues, chats, files, clock, memory.
    pub async fn state(&self) -> Result<Value, EmbeddedError> {
        self.send("/admin/state", None).await
    }

    /// `POST /admin/clock/advance`: moves the server clock forward.
    pub async fn advance_clock(&self, seconds: u32) -> Result<Value, EmbeddedError> {
        self.send("/admin/clock/advance", Some(json!({ "seconds": seconds })))
            .await
    }

    /// `POST /admin/reset`: forgets everything.
    pub async fn reset(&self) -> Result<Value, EmbeddedError> {
        self.send("/admin/reset", Some(json!({}))).await
    }

    async fn send(&self, path: &str, body: Option<Value>) -> Result<Value, EmbeddedError> {
        let fail = |error: &ApiError| EmbeddedError::Admin {
            path: path.to_owned(),
            reason: error.to_string(),
        };
        let api = self.api.as_ref().map_err(fail)?;
        api.request(path, path, body.as_ref(), Duration::ZERO)
            .await
            .map_err(|error| fail(&error))
    }
}
