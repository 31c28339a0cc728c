//! # `secretchat-peer bot`: an always-on counterpart
//!
//! For someone testing their own client: the bot signs in as a user, accepts every chat
//! offered to it, and echoes — each text message comes back with the same text, each file
//! comes back as a new upload of the same bytes (so the other side exercises its download
//! and decryption too). Resends and re-keys need nothing from the bot: its
//! [`secretchat_common::chat::SecretChat`]s answer them, and the device sends what they
//! produce. One log line per event; it runs until its shutdown future completes (Ctrl-C
//! in the binary), finishing the poll in progress.

use std::future::Future;
use std::time::Duration;

use crate::client::ApiError;
use crate::device::{AcceptOutcome, Device, DeviceError, DeviceOptions, PeerEvent};

/// How long one long-poll waits for updates.
const POLL_TIMEOUT: Duration = Duration::from_secs(25);
/// How long to wait before polling again after the server could not be reached.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What the bot did, for its final line and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotStats {
    pub chats_accepted: usize,
    pub texts_echoed: usize,
    pub files_echoed: usize,
}

/// Signs in and runs the bot until `shutdown` completes. `log` gets one line per event.
pub async fn run(
    server: &str,
    username: &str,
    options: DeviceOptions,
    shutdown: impl Future<Output = ()>,
    log: impl Fn(&str),
) -> Result<BotStats, DeviceError> {
    let profile = options.profile.unwrap_or_default();
    let mut device = Device::sign_in(server, username, "bot", options).await?;
    log(&format!(
        "signed in as {username} (user id {}) at {}, profile {profile} ({})",
        device.user_id(),
        server,
        profile.client()
    ));
    let mut stats = BotStats::default();
    tokio::pin!(shutdown);
    loop {
        let events = tokio::select! {
            () = &mut shutdown => break,
            events = device.poll(POLL_TIMEOUT) => events,
        };
        let events = match events {
            Ok(events) => events,
            Err(DeviceError::Api(error @ ApiError::Transport { .. })) => {
                log(&format!("poll failed, retrying: {error}"));
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(RETRY_AFTER) => continue,
                }
            }
            Err(error) => return Err(error),
        };
        for event in events {
            log(&event.to_string());
            if let Err(error) = answer(&mut device, &event, &mut stats).await {
                log(&format!(
                    "chat {}: could not answer: {error}",
                    event.chat_id()
                ));
            }
        }
    }
    log(&format!(
        "stopping: {} chats accepted, {} texts and {} files echoed",
        stats.chats_accepted, stats.texts_echoed, stats.files_echoed
    ));
    Ok(stats)
}

async fn answer(
    device: &mut Device,
    event: &PeerEvent,
    stats: &mut BotStats,
) -> Result<(), DeviceError> {
    match event {
        PeerEvent::ChatRequested { chat_id, .. } => {
            // A refused request (a bad g_a) is already reported by the Aborted event.
            let outcome = device.accept_chat(*chat_id).await?;
            stats.chats_accepted += usize::from(outcome == AcceptOutcome::Accepted);
        }
        PeerEvent::Message {
            chat_id,
            text,
            ttl,
            media: None,
            ..
        } if !text.is_empty() => {
            device.send_text(*chat_id, text, *ttl).await?;
            stats.texts_echoed += 1;
        }
        PeerEvent::FileReceived {
            chat_id,
            file_name,
            mime_type,
            bytes,
            ..
        } => {
            device
                .send_file(*chat_id, bytes, file_name, mime_type)
                .await?;
            stats.files_echoed += 1;
        }
        _ => {}
    }
    Ok(())
}
