//! Shared helpers of the peer's end-to-end tests: an embedded server, devices, and waits
//! with deadlines that fail with everything that was seen.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use secretchat_peer::device::{AcceptOutcome, Device, DeviceOptions, PeerEvent};
use secretchat_peer::embedded::EmbeddedServer;

pub const DEADLINE: Duration = Duration::from_secs(20);

pub async fn server() -> EmbeddedServer {
    EmbeddedServer::start_default()
        .await
        .expect("embedded server starts")
}

pub async fn device(server: &EmbeddedServer, user: &str, name: &str, seed: u64) -> Device {
    Device::sign_in(
        &server.url,
        user,
        name,
        DeviceOptions {
            seed: Some(seed),
            ..DeviceOptions::default()
        },
    )
    .await
    .expect("sign in")
}

/// Polls `device` until an event matches, within the deadline; fails listing what came.
/// Events after the match in the same poll are dropped: wait for the last of several
/// events with one loop instead.
pub async fn expect_event(
    device: &mut Device,
    what: &str,
    mut matches: impl FnMut(&PeerEvent) -> bool,
) -> PeerEvent {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < DEADLINE {
        let events = device
            .poll(Duration::from_secs(1))
            .await
            .unwrap_or_else(|err| panic!("{}: poll failed: {err}", device.username()));
        for event in events {
            if matches(&event) {
                return event;
            }
            seen.push(event.to_string());
        }
    }
    panic!(
        "{}/{} did not see {what} within {DEADLINE:?}; it saw:\n  {}",
        device.username(),
        device.device_name(),
        seen.join("\n  ")
    )
}

/// Alice asks Bob; Bob accepts; both see the chat established. Returns the chat id.
pub async fn establish(alice: &mut Device, bob: &mut Device) -> i32 {
    let chat_id = alice.request_chat(bob.username()).await.expect("request");
    expect_event(
        bob,
        "ChatRequested",
        |e| matches!(e, PeerEvent::ChatRequested { chat_id: c, .. } if *c == chat_id),
    )
    .await;
    assert_eq!(
        bob.accept_chat(chat_id).await.expect("accept"),
        AcceptOutcome::Accepted
    );
    expect_event(
        bob,
        "ChatEstablished (bob)",
        |e| matches!(e, PeerEvent::ChatEstablished { chat_id: c, .. } if *c == chat_id),
    )
    .await;
    expect_event(
        alice,
        "ChatEstablished (alice)",
        |e| matches!(e, PeerEvent::ChatEstablished { chat_id: c, .. } if *c == chat_id),
    )
    .await;
    chat_id
}

/// Polls until a text message with exactly `text` arrives in `chat_id`.
pub async fn expect_text(device: &mut Device, chat_id: i32, text: &str) -> i64 {
    match expect_event(device, &format!("message {text:?}"), |e| {
        matches!(e, PeerEvent::Message { chat_id: c, text: t, .. } if *c == chat_id && t == text)
    })
    .await
    {
        PeerEvent::Message { random_id, .. } => random_id,
        _ => unreachable!(),
    }
}
