//! # `--web`: a run, live, as an illustrated page
//!
//! `demo --web`, `run FILE --web` and `actor … --web` serve a page while the run goes on,
//! and keep serving it after the run ends until interrupted. The page draws the run as a
//! sequence diagram — a lane per device and one for the server, an arrow per API call,
//! answer and pushed update, faults, hostile modes and verdicts where they happened — and
//! for any arrow shows its JSON as sent and, for an encrypted payload, the bytes split
//! into their parts, the key derivation with the real values and the decrypted TL bytes
//! field by field, each linked to the SPEC section that defines it. The two sides' key
//! pictures stand side by side. A learner can change a scenario and see what changes.
//!
//! In the order a reader meets them:
//!
//! * [`trace`] — [`Trace`], the recorder every participant of a run writes to, in order;
//! * [`anatomy`] — one encrypted message opened and explained, by the protocol code itself;
//! * [`key_image`] — the key visualization as a PNG;
//! * [`spec`] — the protocol digest as a page with an anchor per section;
//! * [`server`] — the routes, the live stream, and [`server::serve`].
//!
//! The page (`peer/web/`) is three plain files embedded in the binary: no JavaScript build
//! step, no library, nothing fetched from the network. It only draws: every byte split,
//! hash and field offset comes from Rust as JSON.

use std::net::SocketAddr;

use clap::Args;

pub mod anatomy;
pub mod key_image;
pub mod server;
pub mod spec;
pub mod trace;

pub use trace::{Kind, Lane, Trace};

/// The flags of every command that can show its run in a browser.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Serve a live, illustrated view of the run in a browser (the URL is printed on a line
    /// of its own, `web view: http://…`); it stays up after the run until Ctrl-C.
    #[arg(long)]
    pub web: bool,
    /// Where the web view listens (default: loopback, a free port).
    #[arg(
        long,
        value_name = "HOST:PORT",
        requires = "web",
        default_value = "127.0.0.1:0"
    )]
    pub web_addr: SocketAddr,
}

/// Starts the web view when `--web` asks for it; the error says why it cannot listen.
pub async fn start(args: &WebArgs) -> Result<Option<WebView>, String> {
    if !args.web {
        return Ok(None);
    }
    WebView::start(args.web_addr)
        .await
        .map(Some)
        .map_err(|err| format!("cannot serve the web view on {}: {err}", args.web_addr))
}

/// A web view being served.
#[derive(Debug, Clone)]
pub struct WebView {
    pub trace: Trace,
    pub url: String,
}

impl WebView {
    /// Starts serving a fresh trace on `addr` and prints the `web view: URL` line.
    pub async fn start(addr: SocketAddr) -> std::io::Result<WebView> {
        let trace = Trace::new();
        let url = server::serve(trace.clone(), addr).await?;
        println!("web view: {url}");
        Ok(WebView { trace, url })
    }

    /// Records the run's closing lines, says the page stays up, and waits for Ctrl-C.
    pub async fn finish_and_hold(&self, summary: Vec<String>) {
        self.trace.finish(summary);
        println!("web view: {} (still serving; Ctrl-C to stop)", self.url);
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handler here: serve until the process is killed.
            std::future::pending::<()>().await;
        }
    }
}

/// Draws what the embedded server's fault engine did on the diagram, as it happens: every
/// `fault`, `hostile` and `released` event of its log becomes a marker. Runs until the
/// task is aborted (or the log is gone).
pub fn follow_server_log(
    trace: Trace,
    events: std::sync::Arc<secretchat_server::event_log::EventLog>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut changes = events.subscribe();
        let mut since = events.last_id();
        loop {
            let page = events.since(since, secretchat_server::event_log::MAX_PAGE);
            for event in &page.events {
                since = event["id"].as_u64().unwrap_or(since);
                if let Some((kind, label)) = marker_of(event) {
                    trace.marker(kind, label, false, event.clone());
                }
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    })
}

/// The marker a server event becomes, if it is one the diagram shows.
fn marker_of(event: &serde_json::Value) -> Option<(Kind, String)> {
    let text = |key: &str| event.get(key).and_then(serde_json::Value::as_str);
    let chat = event
        .get("chat_id")
        .and_then(serde_json::Value::as_i64)
        .map_or(String::new(), |chat| format!(", chat {chat}"));
    match text("event")? {
        "fault" => Some((
            Kind::Fault,
            format!(
                "rule {} {} {}{chat}{}",
                event["rule"],
                text("action").unwrap_or("?"),
                text("update").or(text("method")).unwrap_or(""),
                text("username")
                    .zip(text("device_name"))
                    .map_or(String::new(), |(user, device)| format!(
                        " → {user}/{device}"
                    )),
            ),
        )),
        "hostile" => Some((
            Kind::Hostile,
            format!(
                "hostile mode {} {}{chat}",
                event["mode_id"],
                text("mode").unwrap_or("?")
            ),
        )),
        "released" => Some((
            Kind::Fault,
            format!(
                "rule {} released {}{chat}",
                event["rule"],
                text("update").unwrap_or("")
            ),
        )),
        _ => None,
    }
}
