//! # `secretchat-peer load`: many chats through one server
//!
//! Two phases, each timed on its own:
//!
//! ```text
//!  handshakes   N × (2 sign-ins, getDhConfig, requestEncryption, poll, acceptEncryption, poll)
//!               → handshakes/s                                    (C chats in flight at once)
//!  messages     every chat: both devices send M texts and read M, concurrently
//!               → messages/s (2·N·M / elapsed), delivery latency p50/p99
//!                 (each text carries its send time; measured when the peer's poll returns it)
//! ```
//!
//! Every step is the real protocol (full DH handshakes, NotifyLayer, sealing and opening
//! every message, re-keying after 100 messages as the default policy says). The server's
//! memory is read at the end: `VmRSS` of this process for the embedded server (clients
//! included), or `process.rss_bytes` of `/admin/state` for an external one when its admin
//! URL and token are given.
//!
//! Concurrency: C chats (default 32) run at once as tokio tasks; on 2 cores more only adds
//! queueing. The progress bar is drawn on stderr and hidden when stderr is not a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secretchat_server::config::ServerConfig;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::device::{AcceptOutcome, Device, DeviceError, DeviceOptions, PeerEvent};
use crate::embedded::{AdminClient, EmbeddedError, EmbeddedServer};

/// How long one chat may take for its handshake or its messages.
const CHAT_DEADLINE: Duration = Duration::from_secs(300);

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub chats: usize,
    /// Messages each way per chat.
    pub messages: usize,
    /// An external server; `None` starts one in this process.
    pub server: Option<String>,
    /// The external server's admin URL and token, to read its memory.
    pub admin: Option<(String, String)>,
    /// Chats in flight at once.
    pub concurrency: usize,
    pub seed: u64,
    /// Draw the progress bar (still hidden when stderr is not a terminal).
    pub progress: bool,
}

/// Why the load run stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Server(#[from] EmbeddedError),
    #[error("chat {index}: {source}")]
    Device { index: usize, source: DeviceError },
    #[error("chat {index}: {what} did not happen within {CHAT_DEADLINE:?}")]
    Timeout { index: usize, what: &'static str },
    #[error("chat {index}: {what}")]
    Broken { index: usize, what: String },
    #[error("--chats and --concurrency must be at least 1")]
    Nothing,
    #[error("a load task failed: {0}")]
    Task(String),
}

/// The figures.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub chats: usize,
    pub messages_each_way: usize,
    pub concurrency: usize,
    pub handshake_time: Duration,
    pub message_time: Duration,
    pub messages_delivered: usize,
    pub latency_p50: Duration,
    pub latency_p99: Duration,
    pub latency_max: Duration,
    /// Resident memory, and where it was read.
    pub memory: Option<(u64, &'static str)>,
    pub server: String,
}

impl LoadReport {
    pub fn handshakes_per_second(&self) -> f64 {
        self.chats as f64 / self.handshake_time.as_secs_f64().max(1e-9)
    }

    pub fn messages_per_second(&self) -> f64 {
        self.messages_delivered as f64 / self.message_time.as_secs_f64().max(1e-9)
    }

    /// The report as printed.
    pub fn lines(&self) -> Vec<String> {
        let memory = match &self.memory {
            Some((bytes, source)) => {
                format!("{:.1} MiB ({source})", *bytes as f64 / (1024.0 * 1024.0))
            }
            None => {
                "unknown (give --admin-url and --admin-token for an external server)".to_owned()
            }
        };
        vec![
            format!(
                "server        {} ({} chats in flight at once)",
                self.server, self.concurrency
            ),
            format!(
                "handshakes    {} in {:.2} s = {:.1} handshakes/s",
                self.chats,
                self.handshake_time.as_secs_f64(),
                self.handshakes_per_second()
            ),
            format!(
                "messages      {} ({} each way per chat) in {:.2} s = {:.0} messages/s",
                self.messages_delivered,
                self.messages_each_way,
                self.message_time.as_secs_f64(),
                self.messages_per_second()
            ),
            format!(
                "latency       p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (send → received on the other device)",
                ms(self.latency_p50),
                ms(self.latency_p99),
                ms(self.latency_max)
            ),
            format!("memory        {memory}"),
        ]
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs the load.
pub async fn run(options: LoadOptions) -> Result<LoadReport, LoadError> {
    if options.chats == 0 || options.concurrency == 0 {
        return Err(LoadError::Nothing);
    }
    let embedded = match &options.server {
        Some(_) => None,
        None => {
            let mut config = ServerConfig::embedded();
            config.seed = Some(options.seed);
            Some(EmbeddedServer::start(config).await?)
        }
    };
    let url = match (&options.server, &embedded) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.url.clone(),
        (None, None) => unreachable!("an embedded server is started when no URL is given"),
    };
    let outcome = run_phases(&options, &url).await;
    let memory = match (&embedded, &options.admin) {
        (Some(_), _) => secretchat_server::admin::resident_memory_bytes()
            .map(|b| (b, "VmRSS of this process: server and clients")),
        (None, Some((admin_url, token))) => AdminClient::new(admin_url, token)
            .state()
            .await
            .ok()
            .and_then(|state| state["process"]["rss_bytes"].as_u64())
            .map(|b| (b, "server's /admin/state")),
        (None, None) => None,
    };
    if let Some(server) = embedded {
        server.shut_down().await;
    }
    let (handshake_time, message_time, mut latencies) = outcome?;
    latencies.sort_unstable();
    let percentile = |p: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index.min(latencies.len() - 1)]
    };
    Ok(LoadReport {
        chats: options.chats,
        messages_each_way: options.messages,
        concurrency: options.concurrency,
        handshake_time,
        message_time,
        messages_delivered: latencies.len(),
        latency_p50: percentile(0.50),
        latency_p99: percentile(0.99),
        latency_max: latencies.last().copied().unwrap_or_default(),
        memory,
        server: if options.server.is_some() {
            url
        } else {
            format!("embedded at {url}")
        },
    })
}

fn progress_bar(options: &LoadOptions, len: u64, what: &str) -> ProgressBar {
    let bar = if options.progress && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec})",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(what.to_owned());
    bar
}

type Pair = (usize, Device, Device, i32);

async fn run_phases(
    options: &LoadOptions,
    url: &str,
) -> Result<(Duration, Duration, Vec<Duration>), LoadError> {
    let mut rng = ChaCha20Rng::seed_from_u64(options.seed);
    // A tag keeps usernames apart between runs against the same external server.
    let tag: u32 = rng.gen_range(0..0x100_0000);
    let limit = Arc::new(Semaphore::new(options.concurrency));

    // Phase 1: handshakes.
    let bar = progress_bar(options, options.chats as u64, "handshakes");
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for index in 0..options.chats {
        let limit = Arc::clone(&limit);
        let url = url.to_owned();
        let seeds = (rng.gen::<u64>(), rng.gen::<u64>());
        let bar = bar.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let pair = handshake(&url, tag, index, seeds).await;
            bar.inc(1);
            pair
        });
    }
    let mut pairs: Vec<Pair> = Vec::with_capacity(options.chats);
    while let Some(joined) = tasks.join_next().await {
        pairs.push(joined.map_err(|err| LoadError::Task(err.to_string()))??);
    }
    let handshake_time = started.elapsed();
    bar.finish_and_clear();

    // Phase 2: messages.
    let total = (2 * options.chats * options.messages) as u64;
    let bar = progress_bar(options, total, "messages");
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (index, alice, bob, chat_id) in pairs {
        let limit = Arc::clone(&limit);
        let bar = bar.clone();
        let messages = options.messages;
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let (a, b) = tokio::join!(
                converse(index, alice, chat_id, messages, started, bar.clone()),
                converse(index, bob, chat_id, messages, started, bar),
            );
            let mut latencies = a?;
            latencies.extend(b?);
            Ok::<_, LoadError>(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(total as usize);
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined.map_err(|err| LoadError::Task(err.to_string()))??);
    }
    let message_time = started.elapsed();
    bar.finish_and_clear();
    Ok((handshake_time, message_time, latencies))
}

async fn handshake(
    url: &str,
    tag: u32,
    index: usize,
    seeds: (u64, u64),
) -> Result<Pair, LoadError> {
    let fail = |source| LoadError::Device { index, source };
    let options = |seed| DeviceOptions {
        seed: Some(seed),
        ..DeviceOptions::default()
    };
    let (alice_name, bob_name) = (
        format!("l{tag:06x}_{index}a"),
        format!("l{tag:06x}_{index}b"),
    );
    let mut alice = Device::sign_in(url, &alice_name, "load", options(seeds.0))
        .await
        .map_err(fail)?;
    let mut bob = Device::sign_in(url, &bob_name, "load", options(seeds.1))
        .await
        .map_err(fail)?;
    let chat_id = alice.request_chat(&bob_name).await.map_err(fail)?;
    wait_for(
        index,
        &mut bob,
        "the request",
        |e| matches!(e, PeerEvent::ChatRequested { chat_id: c, .. } if *c == chat_id),
    )
    .await?;
    if let AcceptOutcome::Refused { reason } = bob.accept_chat(chat_id).await.map_err(fail)? {
        return Err(LoadError::Broken {
            index,
            what: format!("bob refused the chat: {reason}"),
        });
    }
    wait_for(
        index,
        &mut alice,
        "the accepted chat",
        |e| matches!(e, PeerEvent::ChatEstablished { chat_id: c, .. } if *c == chat_id),
    )
    .await?;
    if alice.key_fingerprint(chat_id) != bob.key_fingerprint(chat_id) {
        return Err(LoadError::Broken {
            index,
            what: "the two sides hold different keys".to_owned(),
        });
    }
    Ok((index, alice, bob, chat_id))
}

async fn wait_for(
    index: usize,
    device: &mut Device,
    what: &'static str,
    predicate: impl Fn(&PeerEvent) -> bool,
) -> Result<(), LoadError> {
    let start = Instant::now();
    while start.elapsed() < CHAT_DEADLINE {
        let events = device
            .poll(Duration::from_secs(5))
            .await
            .map_err(|source| LoadError::Device { index, source })?;
        if events.iter().any(&predicate) {
            return Ok(());
        }
    }
    Err(LoadError::Timeout { index, what })
}

/// One side of a chat: sends `messages` texts stamped with their send time and reads the
/// peer's (answering re-key steps and resends on the way).
async fn converse(
    index: usize,
    mut device: Device,
    chat_id: i32,
    messages: usize,
    epoch: Instant,
    bar: ProgressBar,
) -> Result<Vec<Duration>, LoadError> {
    let fail = |source| LoadError::Device { index, source };
    let mut latencies = Vec::with_capacity(messages);
    let (mut sent, mut received) = (0usize, 0usize);
    let start = Instant::now();
    loop {
        if sent < messages {
            let stamp = epoch.elapsed().as_micros();
            device
                .send_text(chat_id, &format!("{stamp} #{sent}"), 0)
                .await
                .map_err(fail)?;
            sent += 1;
        }
        // Done: nothing the peer still needs comes from this side (its messages are on
        // the server; a re-key it started completes on its side without us).
        if sent == messages && received >= messages {
            return Ok(latencies);
        }
        // While sending, only collect what is already there; then long-poll.
        let wait = if sent < messages {
            Duration::ZERO
        } else {
            Duration::from_secs(5)
        };
        for event in device.poll(wait).await.map_err(fail)? {
            match event {
                PeerEvent::Message { text, .. } => {
                    let now = epoch.elapsed();
                    let stamp = text
                        .split(' ')
                        .next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .ok_or_else(|| LoadError::Broken {
                            index,
                            what: format!("a message without a time stamp: {text:?}"),
                        })?;
                    latencies.push(now.saturating_sub(Duration::from_micros(stamp)));
                    received += 1;
                    bar.inc(1);
                }
                PeerEvent::Aborted { reason, .. } => {
                    return Err(LoadError::Broken {
                        index,
                        what: format!("the chat was aborted: {reason}"),
                    })
                }
                PeerEvent::SendFailed { error, .. } => {
                    return Err(LoadError::Broken {
                        index,
                        what: format!("a protocol message was refused: {error}"),
                    })
                }
                _ => {}
            }
        }
        if start.elapsed() > CHAT_DEADLINE {
            return Err(LoadError::Timeout {
                index,
                what: "every message",
            });
        }
    }
}
