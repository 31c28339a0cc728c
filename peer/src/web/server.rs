//! # The web view's HTTP side: the page, its data, its live stream
//!
//! Served by axum (the server's stack), on loopback by default. The page's files are
//! embedded in the binary with `include_str!` — no build step, nothing fetched from
//! elsewhere, so it works offline:
//!
//! * `GET /` — the page; `/web.js`, `/web.css` its code and style; `/spec` the protocol
//!   digest with an anchor per section ([`super::spec`]);
//! * `GET /api/run` — lanes, key pictures, and the run's closing lines once it ended;
//! * `GET /api/rows?from=N&limit=M` — compact rows of the diagram ([`Trace::rows`]);
//! * `GET /api/entry/{n}` — one entry's details, computed on request ([`Trace::detail`]);
//! * `GET /api/stream` — server-sent events: `rows` (new rows, in order) and `run` (the
//!   lanes, pictures or end changed);
//! * `GET /key/{lane}/{chat}.png` — a device's key picture in a chat ([`super::key_image`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::trace::{Lane, Trace};
use super::{key_image, spec};

const PAGE: &str = include_str!("../../web/index.html");
const SCRIPT: &str = include_str!("../../web/web.js");
const STYLE: &str = include_str!("../../web/web.css");

/// The most rows one answer or one stream event carries.
const ROWS_PER_BATCH: usize = 2000;
/// A burst of entries goes out as one stream event: the stream waits this long.
const COALESCE: Duration = Duration::from_millis(50);

/// The router of the web view of `trace`.
pub fn app(trace: Trace) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/web.js", get(|| asset(SCRIPT, "text/javascript")))
        .route("/web.css", get(|| asset(STYLE, "text/css")))
        .route("/spec", get(|| async { Html(spec::page()) }))
        .route("/api/run", get(run))
        .route("/api/rows", get(rows))
        .route("/api/entry/{index}", get(entry))
        .route("/api/stream", get(stream))
        .route("/key/{lane}/{file}", get(key_picture))
        .with_state(trace)
}

/// Listens on `addr` and serves the web view of `trace` until the process ends; returns
/// the page's URL.
pub async fn serve(trace: Trace, addr: SocketAddr) -> std::io::Result<String> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app(trace)).await });
    Ok(format!("http://{local}/"))
}

async fn asset(text: &'static str, content_type: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, text).into_response()
}

async fn run(State(trace): State<Trace>) -> Json<Value> {
    Json(trace.run())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowsQuery {
    #[serde(default)]
    from: usize,
    limit: Option<usize>,
}

async fn rows(State(trace): State<Trace>, Query(query): Query<RowsQuery>) -> Json<Value> {
    let limit = query.limit.unwrap_or(ROWS_PER_BATCH).min(ROWS_PER_BATCH);
    Json(json!({"from": query.from, "rows": trace.rows(query.from, limit), "total": trace.len()}))
}

async fn entry(State(trace): State<Trace>, Path(index): Path<String>) -> Response {
    match index
        .parse::<usize>()
        .ok()
        .and_then(|index| trace.detail(index))
    {
        Some(detail) => Json(detail).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("there is no entry {index:?}")})),
        )
            .into_response(),
    }
}

async fn key_picture(
    State(trace): State<Trace>,
    Path((lane, file)): Path<(String, String)>,
) -> Response {
    let picture = lane.parse::<u16>().ok().zip(
        file.strip_suffix(".png")
            .and_then(|chat| chat.parse::<i32>().ok()),
    );
    match picture.and_then(|(lane, chat)| trace.picture(Lane(lane), chat)) {
        Some(visualization) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            key_image::png(&visualization),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such key picture").into_response(),
    }
}

async fn stream(
    State(trace): State<Trace>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(feed(trace, tx));
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}

/// Sends every row once, in order, from the first, and the run again whenever it changed.
async fn feed(trace: Trace, tx: mpsc::Sender<Result<Event, Infallible>>) {
    let mut changes = trace.subscribe();
    let (mut sent, mut version) = (0usize, None);
    loop {
        let (_, now) = *changes.borrow_and_update();
        if version != Some(now) {
            if !send(&tx, "run", &trace.run()).await {
                return;
            }
            version = Some(now);
        }
        loop {
            let rows = trace.rows(sent, ROWS_PER_BATCH);
            if rows.is_empty() {
                break;
            }
            let batch = json!({"from": sent, "rows": rows});
            sent += rows.len();
            if !send(&tx, "rows", &batch).await {
                return;
            }
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(COALESCE).await;
            }
            () = tx.closed() => return,
        }
    }
}

async fn send(tx: &mpsc::Sender<Result<Event, Infallible>>, name: &str, data: &Value) -> bool {
    let event = Event::default().event(name).data(data.to_string());
    tx.send(Ok(event)).await.is_ok()
}
