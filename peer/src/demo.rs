//! # `secretchat-peer demo`: the whole protocol in one command
//!
//! No set-up: the mock server starts in this process, and three fresh devices run a
//! secret chat through it over real HTTP, every step explained:
//!
//! ```text
//!  1. sign-in        alice/phone, bob/phone, bob/laptop
//!  2. handshake      alice asks bob: DH config checked, g_a → both of bob's devices
//!  3. the race       bob/phone accepts; bob/laptop is locked out (encryptedChatDiscarded)
//!  4. the key        alice checks g_b and the fingerprint; both show the same visualization
//!  5. messages       both ways
//!  6. a file         one-time key, uploaded in parts, downloaded, checked, decrypted
//!  7. a re-key       RequestKey → AcceptKey → CommitKey: a new key, the same chat
//!  8. a resend       alice's transport withholds one message; bob sees the gap, asks with
//!                    decryptedMessageActionResend, alice re-sends it, order restored
//!  9. summary        every check, counts, the two visualizations side by side
//! ```
//!
//! Every check is recorded; the command exits non-zero if any failed. `--seed` makes every
//! random choice of the devices and the server reproducible; `--quiet` prints only the
//! summary.

use std::time::{Duration, Instant};

use secretchat_server::config::ServerConfig;

use crate::device::{AcceptOutcome, Device, DeviceError, DeviceOptions, PeerEvent};
use crate::embedded::{EmbeddedError, EmbeddedServer};
use crate::explain::Picture;
use crate::files::sha256_hex;
use crate::web::{Kind, Trace};

/// How long any one stage may take before the demo gives up.
const STAGE_DEADLINE: Duration = Duration::from_secs(15);

/// The demo's knobs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    /// Only the summary.
    pub quiet: bool,
    /// Whose reading of the protocol the devices follow.
    pub profile: secretchat_common::chat::Profile,
    /// Record the run for the web view (`--web`).
    pub trace: Option<Trace>,
}

/// Why the demo could not run to its end (a failed check is not an error: it is in the
/// report).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Server(#[from] EmbeddedError),
    #[error("{stage}: {source}")]
    Device {
        stage: &'static str,
        source: DeviceError,
    },
    #[error("{stage}: nothing happened within {STAGE_DEADLINE:?} (waiting for {what})")]
    Timeout {
        stage: &'static str,
        what: &'static str,
    },
}

/// One verified property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    pub passed: bool,
}

/// What the demo verified and counted.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub checks: Vec<Check>,
    pub messages_sent: usize,
    pub messages_received: usize,
    pub files: usize,
    pub file_bytes: usize,
    pub rekeys: usize,
    pub resends: usize,
    /// The key visualizations of both sides (hex), for the summary.
    pub visualizations: Option<(Vec<String>, Vec<String>, Vec<String>)>,
    pub elapsed: Duration,
}

impl DemoReport {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|check| check.passed)
    }

    /// The summary lines.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = vec!["== summary ==".to_owned()];
        for check in &self.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            lines.push(format!("  {mark} {}", check.what));
        }
        lines.push(format!(
            "  {} messages sent, {} received; {} file ({} bytes); {} re-key; {} resend",
            self.messages_sent,
            self.messages_received,
            self.files,
            self.file_bytes,
            self.rekeys,
            self.resends
        ));
        if let Some((alice, bob, picture)) = &self.visualizations {
            lines.push("  key visualization   alice                      bob".to_owned());
            for (a, b) in alice.iter().zip(bob) {
                lines.push(format!("                      {a}    {b}"));
            }
            for row in picture {
                lines.push(format!("                      {row}"));
            }
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        lines.push(format!(
            "  {passed}/{} checks passed in {:.2} s",
            self.checks.len(),
            self.elapsed.as_secs_f64()
        ));
        lines
    }
}

struct Demo {
    quiet: bool,
    report: DemoReport,
    trace: Option<Trace>,
}

impl Demo {
    fn heading(&self, text: &str) {
        if !self.quiet {
            println!();
            println!("== {text} ==");
        }
    }

    fn say(&self, text: &str) {
        if !self.quiet {
            println!("{text}");
        }
    }

    fn check(&mut self, what: impl Into<String>, passed: bool) {
        let what = what.into();
        if !self.quiet {
            println!("{} {what}", if passed { "✓" } else { "✗ FAILED:" });
        }
        if let Some(trace) = &self.trace {
            let label = format!("{} {what}", if passed { "✓" } else { "✗" });
            trace.marker(
                Kind::Verdict,
                label,
                !passed,
                serde_json::json!({"check": what, "passed": passed}),
            );
        }
        self.report.checks.push(Check { what, passed });
    }
}

/// Polls `devices` in turn (short long-polls) until `done` says the events seen so far
/// (per device, in order) are enough.
async fn pump(
    stage: &'static str,
    what: &'static str,
    devices: &mut [&mut Device],
    mut done: impl FnMut(&[Vec<PeerEvent>]) -> bool,
) -> Result<Vec<Vec<PeerEvent>>, DemoError> {
    let mut seen: Vec<Vec<PeerEvent>> = vec![Vec::new(); devices.len()];
    let start = Instant::now();
    loop {
        for (index, device) in devices.iter_mut().enumerate() {
            let events = device
                .poll(Duration::ZERO)
                .await
                .map_err(|source| DemoError::Device { stage, source })?;
            seen[index].extend(events);
        }
        if done(&seen) {
            return Ok(seen);
        }
        if start.elapsed() > STAGE_DEADLINE {
            return Err(DemoError::Timeout { stage, what });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn has(events: &[PeerEvent], predicate: impl Fn(&PeerEvent) -> bool) -> bool {
    events.iter().any(predicate)
}

fn texts(events: &[PeerEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            PeerEvent::Message { text, media, .. } if media.is_none() => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Runs the demo against a fresh embedded server.
pub async fn run(options: DemoOptions) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let mut config = ServerConfig::embedded();
    config.seed = Some(options.seed);
    let server = EmbeddedServer::start(config).await?;
    let follower = options
        .trace
        .clone()
        .map(|trace| crate::web::follow_server_log(trace, server.state().events.clone()));
    let mut demo = Demo {
        quiet: options.quiet,
        report: DemoReport::default(),
        trace: options.trace.clone(),
    };
    let outcome = run_stages(&server, &mut demo, options).await;
    if let Some(follower) = follower {
        follower.abort();
    }
    server.shut_down().await;
    outcome?;
    demo.report.elapsed = started.elapsed();
    Ok(demo.report)
}

async fn run_stages(
    server: &EmbeddedServer,
    demo: &mut Demo,
    options: DemoOptions,
) -> Result<(), DemoError> {
    let device_options = |label: &str, seed: u64| DeviceOptions {
        explain: !options.quiet,
        label: Some(label.to_owned()),
        seed: Some(seed),
        profile: Some(options.profile),
        trace: options.trace.clone(),
        ..DeviceOptions::default()
    };
    let device_error = |stage| move |source| DemoError::Device { stage, source };

    demo.heading("1. sign-in: three fresh devices");
    demo.say(&format!(
        "the mock server runs in this process at {}",
        server.url
    ));
    let seed = options.seed;
    let mut alice = Device::sign_in(
        &server.url,
        "alice",
        "phone",
        device_options("alice/phone", seed.wrapping_mul(3).wrapping_add(1)),
    )
    .await
    .map_err(device_error("sign-in"))?;
    let mut bob = Device::sign_in(
        &server.url,
        "bob",
        "phone",
        device_options("bob/phone", seed.wrapping_mul(3).wrapping_add(2)),
    )
    .await
    .map_err(device_error("sign-in"))?;
    let mut laptop = Device::sign_in(
        &server.url,
        "bob",
        "laptop",
        device_options("bob/laptop", seed.wrapping_mul(3).wrapping_add(3)),
    )
    .await
    .map_err(device_error("sign-in"))?;

    demo.heading("2. handshake: alice asks bob for a secret chat");
    let chat_id = alice
        .request_chat("bob")
        .await
        .map_err(device_error("request"))?;
    let seen = pump(
        "handshake",
        "the request on both of bob's devices",
        &mut [&mut bob, &mut laptop],
        |seen| {
            seen.iter().all(|events| {
                has(
                    events,
                    |e| matches!(e, PeerEvent::ChatRequested { chat_id: c, .. } if *c == chat_id),
                )
            })
        },
    )
    .await?;
    demo.check(
        "both of bob's devices received encryptedChatRequested",
        seen.iter().all(|events| !events.is_empty()),
    );

    demo.heading("3. the race: bob's phone accepts first, the laptop is locked out");
    let accepted = bob
        .accept_chat(chat_id)
        .await
        .map_err(device_error("accept"))?;
    let seen = pump(
        "lock-out",
        "encryptedChatDiscarded on bob's laptop",
        &mut [&mut laptop],
        |seen| {
            has(
                &seen[0],
                |e| matches!(e, PeerEvent::ChatDiscarded { chat_id: c, .. } if *c == chat_id),
            )
        },
    )
    .await?;
    demo.check(
        "bob's laptop got encryptedChatDiscarded once the phone accepted",
        accepted == AcceptOutcome::Accepted
            && has(&seen[0], |e| matches!(e, PeerEvent::ChatDiscarded { .. })),
    );
    let late = laptop.accept_chat(chat_id).await;
    demo.check("the laptop can no longer accept the chat", late.is_err());

    demo.heading("4. the key: alice checks g_b and the fingerprint");
    pump(
        "key",
        "the chat established on alice's phone",
        &mut [&mut alice, &mut bob],
        |seen| has(&seen[0], |e| matches!(e, PeerEvent::ChatEstablished { .. })),
    )
    .await?;
    let same_fingerprint = alice.key_fingerprint(chat_id).is_some()
        && alice.key_fingerprint(chat_id) == bob.key_fingerprint(chat_id);
    demo.check(
        "alice and bob hold the same key (fingerprints equal)",
        same_fingerprint,
    );
    let (alice_vis, bob_vis) = (alice.visualization(chat_id), bob.visualization(chat_id));
    demo.check(
        "both show the same key visualization",
        alice_vis.is_some() && alice_vis == bob_vis,
    );
    if let (Some(a), Some(b)) = (alice_vis, bob_vis) {
        let picture = match Picture::for_stdout() {
            Picture::Ansi => a.render_ansi(),
            Picture::Blocks => a.render_blocks(),
        };
        demo.report.visualizations = Some((a.hex_lines(), b.hex_lines(), picture));
    }

    demo.heading("5. messages both ways");
    let alice_says = [
        "Hi Bob! Only we can read this.",
        "The server sees ciphertext only.",
    ];
    let bob_says = ["Hi Alice, loud and clear."];
    for text in alice_says {
        alice
            .send_text(chat_id, text, 0)
            .await
            .map_err(device_error("messages"))?;
        demo.report.messages_sent += 1;
    }
    for text in bob_says {
        bob.send_text(chat_id, text, 0)
            .await
            .map_err(device_error("messages"))?;
        demo.report.messages_sent += 1;
    }
    let seen = pump(
        "messages",
        "the messages on both sides",
        &mut [&mut alice, &mut bob],
        |seen| texts(&seen[0]).len() >= bob_says.len() && texts(&seen[1]).len() >= alice_says.len(),
    )
    .await?;
    demo.report.messages_received += texts(&seen[0]).len() + texts(&seen[1]).len();
    demo.check(
        "bob read alice's messages, in order",
        texts(&seen[1]) == alice_says,
    );
    demo.check("alice read bob's message", texts(&seen[0]) == bob_says);

    demo.heading("6. a file: one-time key, parts, download, checks");
    let file: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed as u32) >> 24) as u8)
        .collect();
    alice
        .send_file(chat_id, &file, "holiday.jpg", "image/jpeg")
        .await
        .map_err(device_error("file"))?;
    demo.report.messages_sent += 1;
    let seen = pump("file", "the file on bob's phone", &mut [&mut bob], |seen| {
        has(&seen[0], |e| {
            matches!(
                e,
                PeerEvent::FileReceived { .. } | PeerEvent::FileFailed { .. }
            )
        })
    })
    .await?;
    let received = seen[0].iter().find_map(|e| match e {
        PeerEvent::FileReceived { sha256, len, .. } => Some((sha256.clone(), *len)),
        _ => None,
    });
    demo.report.messages_received += 1;
    let ok = received.as_ref() == Some(&(sha256_hex(&file), file.len()));
    if ok {
        demo.report.files += 1;
        demo.report.file_bytes += file.len();
    }
    demo.check(
        format!(
            "bob decrypted the {} byte file; its SHA-256 matches alice's",
            file.len()
        ),
        ok,
    );

    demo.heading("7. a re-key: a new key for the same chat");
    let before = bob.key_fingerprint(chat_id);
    bob.rekey(chat_id).await.map_err(device_error("re-key"))?;
    pump(
        "re-key",
        "KeyChanged on both sides",
        &mut [&mut alice, &mut bob],
        |seen| {
            seen.iter()
                .all(|events| has(events, |e| matches!(e, PeerEvent::KeyChanged { .. })))
        },
    )
    .await?;
    let after = alice.key_fingerprint(chat_id);
    let rekeyed = after.is_some() && after == bob.key_fingerprint(chat_id) && after != before;
    if rekeyed {
        demo.report.rekeys += 1;
    }
    demo.check("both sides switched to the same new key", rekeyed);
    alice
        .send_text(chat_id, "Still here, with a new key.", 0)
        .await
        .map_err(device_error("re-key"))?;
    demo.report.messages_sent += 1;
    let seen = pump(
        "re-key",
        "a message under the new key",
        &mut [&mut bob],
        |seen| !texts(&seen[0]).is_empty(),
    )
    .await?;
    demo.report.messages_received += texts(&seen[0]).len();
    demo.check(
        "a message under the new key arrives",
        texts(&seen[0]) == ["Still here, with a new key."],
    );

    demo.heading("8. a resend: alice's transport drops one message on purpose");
    alice.withhold_next_message(chat_id);
    let lost = "This one is dropped on the way…";
    let next = "…and this one arrives first.";
    alice
        .send_text(chat_id, lost, 0)
        .await
        .map_err(device_error("resend"))?;
    alice
        .send_text(chat_id, next, 0)
        .await
        .map_err(device_error("resend"))?;
    demo.report.messages_sent += 2;
    let seen = pump(
        "resend",
        "both messages on bob's phone",
        &mut [&mut bob, &mut alice],
        |seen| texts(&seen[0]).len() >= 2,
    )
    .await?;
    demo.report.messages_received += texts(&seen[0]).len();
    let withheld = has(&seen[1], |e| matches!(e, PeerEvent::Withheld { .. }));
    if withheld && texts(&seen[0]) == [lost, next] {
        demo.report.resends += 1;
    }
    demo.check(
        "the dropped message was asked for again and re-sent; bob read both in order",
        withheld && texts(&seen[0]) == [lost, next],
    );
    Ok(())
}
