//! # Pushes: updates sent to a signed-in client the moment they land
//!
//! Telegram does not wait to be asked: an update for a device goes out at once on its live
//! connections, as an `Updates` object outside any `rpc_result` (core.telegram.org/api/updates).
//! The door listens to the device exactly as the HTTP door's event stream does
//! ([`crate::delivery::Listeners::subscribe`]) — so it sees what every other door sees,
//! faults included — and wraps each update as
//!
//! ```text
//! updates#74ae4240 updates:[update] users:[] chats:[] date:int seq:0
//! ```
//!
//! (`seq = 0`: Telethon checks a non-zero seq against its own and would ask for a difference;
//! the secret-chat updates carry their own qts). A listener that fell behind gets
//! `updatesTooLong` and recovers with `updates.getDifference`. Every secret-chat update has the
//! same form at every layer the door serves, so the HTTP door's types encode it.
//!
//! **An `updateEncryption` or `updateEncryptedMessagesRead` pushed to a session is handed
//! over**: the session keeps it and resends it until the client acknowledges it (MTProto's
//! own reliability), so the device's queue forgets it ([`crate::update_queue`]'s
//! `forget_other`). These updates carry no pts a client could report back — Telethon's
//! `getDifference` sends the pts of its last `getState` — and a queue that kept them would
//! hand a client the request of a chat it accepted long ago (telethon-secret-chat would
//! accept it again, over its key). Encrypted messages stay queued: they carry their qts, and
//! the client acknowledges them with `getDifference` or `messages.receivedQueue`.
//!
//! Only sessions that asked for updates get them (`updates.getState` or `getDifference`
//! outside `invokeWithoutUpdates`, [`super::auth_keys::KeyState::update_sessions`]): Pyrogram
//! hands every non-service message of any of its sessions to its update handler, media
//! sessions included, and would see each update twice. Whatever is not pushed stays queued
//! until the client fetches it: a push is a courtesy, the queue is the record.

use std::sync::Arc;
use std::time::SystemTime;

use secretchat_common::tl::api::{enums, types};
use secretchat_common::tl::TlWrite;
use tokio::sync::broadcast::error::RecvError;

use super::auth_keys::AuthKeyRecord;
use super::dispatch;
use crate::delivery::Pushed;
use crate::device::DeviceId;
use crate::state::Server;

/// Starts pushing to `record` the updates of the device it is signed in as, unless a pusher
/// for that device runs already. Called after each message the key sends.
pub fn ensure_pusher(server: &Arc<Server>, record: &Arc<AuthKeyRecord>) {
    let device_id = {
        let mut state = record.lock();
        let Some(device_id) = state.device else {
            return;
        };
        if state.pushing == Some(device_id) {
            return;
        }
        state.pushing = Some(device_id);
        device_id
    };
    let Some(device) = server.directory.device(device_id) else {
        return;
    };
    let receiver = device.listeners.subscribe();
    drop(device);
    tokio::spawn(run(
        Arc::clone(server),
        Arc::clone(record),
        device_id,
        receiver,
    ));
}

async fn run(
    server: Arc<Server>,
    record: Arc<AuthKeyRecord>,
    device_id: DeviceId,
    mut receiver: tokio::sync::broadcast::Receiver<Pushed>,
) {
    loop {
        let (updates, other_pts) = match receiver.recv().await {
            Ok(pushed) => {
                let other_pts = match &pushed {
                    Pushed::Other { pts, .. } => Some(*pts),
                    _ => None,
                };
                let updates = enums::Updates::Updates(types::Updates {
                    updates: vec![pushed.update()],
                    users: Vec::new(),
                    chats: Vec::new(),
                    date: server.now(),
                    seq: 0,
                });
                (updates, other_pts)
            }
            Err(RecvError::Lagged(_)) => (
                enums::Updates::UpdatesTooLong(types::UpdatesTooLong {}),
                None,
            ),
            // The device logged out.
            Err(RecvError::Closed) => break,
        };
        // Still this key's device? (It may have logged out, or the server was reset.)
        if record.lock().device != Some(device_id) || server.mtproto.keys.get(record.id()).is_none()
        {
            break;
        }
        let handed_over = || {
            if let (Some(pts), Some(device)) = (other_pts, server.directory.device(device_id)) {
                device.mailbox.queue().forget_other(pts);
            }
        };
        dispatch::push(
            &server,
            &record,
            &updates.to_bytes(),
            SystemTime::now(),
            handed_over,
        );
    }
    let mut state = record.lock();
    if state.pushing == Some(device_id) {
        state.pushing = None;
    }
}
