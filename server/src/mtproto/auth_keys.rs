//! # Auth keys: the door's devices-to-be
//!
//! An MTProto client is known by its auth key (core.telegram.org/mtproto/auth_key): 2048 bits
//! agreed once in the handshake and then used for every message, on any number of
//! connections and sessions, until the client forgets it. The server finds the key by the
//! `auth_key_id` each packet starts with. Keys outlive connections — Pyrogram makes its key on
//! one connection and uses it on the next; Telethon reconnects with a saved key hours later.
//!
//! Each [`AuthKeyRecord`] holds the key, its sessions (the sans-I/O
//! [`AuthKeySessions`]), what the client said in `initConnection`, the live connections it
//! talks on, and — once it signs in — the device it is. To the rest of the server an auth
//! key signed in is simply a device, beside the HTTP door's devices.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use dashmap::DashMap;
use secretchat_mtproto::auth_key::{AuthKey, AuthKeyId};
use secretchat_mtproto::handshake::{AuthKeyKind, NewAuthKey};
use secretchat_mtproto::session::{AuthKeySessions, ConnectionId, InitConnection, PlainMessage};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::device::DeviceId;

/// What a connection task is asked to write or do.
#[derive(Debug)]
pub enum Outbound {
    /// Seal `message` with the record's key and send it.
    Message(Arc<AuthKeyRecord>, PlainMessage),
    /// `ping_delay_disconnect` ran out, or the key was destroyed: close the connection.
    Close,
}

/// A live connection an auth key talks on.
#[derive(Debug)]
pub struct Link {
    pub outbox: mpsc::UnboundedSender<Outbound>,
    /// The transport, as detected ("abridged", "full", "intermediate (obfuscated2)", …).
    pub transport: String,
    pub peer: SocketAddr,
}

/// The mutable part of an auth key.
#[derive(Debug)]
pub struct KeyState {
    pub sessions: AuthKeySessions,
    /// The device this key is signed in as.
    pub device: Option<DeviceId>,
    /// What the last `initConnection` said.
    pub client: Option<InitConnection>,
    pub links: BTreeMap<ConnectionId, Link>,
    /// Sessions that asked for updates (`updates.getState` or `getDifference` outside
    /// `invokeWithoutUpdates`): the ones pushes go to.
    pub update_sessions: Vec<i64>,
    /// The device whose updates a pusher task sends to this key ([`super::pushes`]).
    pub pushing: Option<DeviceId>,
    /// `auth.bindTempAuthKey`: the permanent key this temporary key stands for.
    pub bound_to: Option<AuthKeyId>,
    /// `destroy_auth_key` was asked: forget the key once its answer is out.
    pub destroyed: bool,
}

/// One auth key the server knows.
#[derive(Debug)]
pub struct AuthKeyRecord {
    pub key: AuthKey,
    pub kind: AuthKeyKind,
    /// The DC the client named in `p_q_inner_data_dc` (tdlib), if any.
    pub dc: Option<i32>,
    pub created: SystemTime,
    state: Mutex<KeyState>,
}

impl AuthKeyRecord {
    pub fn id(&self) -> AuthKeyId {
        self.key.id()
    }

    /// The key's state. Held only for work that does not wait (no `.await` inside).
    pub fn lock(&self) -> MutexGuard<'_, KeyState> {
        // A panic while holding the lock is a server bug; the state is still the last
        // consistent one, so keep serving rather than poison every later call.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A temporary key past its `expires_in` is no longer accepted.
    pub fn expired(&self, now: SystemTime) -> bool {
        match self.kind {
            AuthKeyKind::Permanent => false,
            AuthKeyKind::Temporary { expires_in } => {
                let lifetime = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
                now.duration_since(self.created).unwrap_or_default() > lifetime
            }
        }
    }
}

/// Every auth key, by id.
#[derive(Debug, Default)]
pub struct AuthKeys {
    keys: DashMap<AuthKeyId, Arc<AuthKeyRecord>>,
}

impl AuthKeys {
    pub fn get(&self, id: AuthKeyId) -> Option<Arc<AuthKeyRecord>> {
        self.keys.get(&id).map(|entry| Arc::clone(&entry))
    }

    pub fn contains(&self, id: AuthKeyId) -> bool {
        self.keys.contains_key(&id)
    }

    /// Stores a key the handshake just created, with sessions that accept its first salt.
    pub fn insert(
        &self,
        new: NewAuthKey,
        sessions: AuthKeySessions,
        now: SystemTime,
    ) -> Arc<AuthKeyRecord> {
        let NewAuthKey {
            auth_key,
            server_salt,
            kind,
            dc,
        } = new;
        let mut sessions = sessions;
        sessions.accept_handshake_salt(server_salt, now);
        let record = Arc::new(AuthKeyRecord {
            key: auth_key,
            kind,
            dc,
            created: now,
            state: Mutex::new(KeyState {
                sessions,
                device: None,
                client: None,
                links: BTreeMap::new(),
                update_sessions: Vec::new(),
                pushing: None,
                bound_to: None,
                destroyed: false,
            }),
        });
        self.keys.insert(record.id(), Arc::clone(&record));
        record
    }

    pub fn remove(&self, id: AuthKeyId) {
        self.keys.remove(&id);
    }

    /// Every key signed in as `device`.
    pub fn signed_in_as(&self, device: DeviceId) -> Vec<Arc<AuthKeyRecord>> {
        self.keys
            .iter()
            .filter(|entry| entry.lock().device == Some(device))
            .map(|entry| Arc::clone(&entry))
            .collect()
    }

    pub fn all(&self) -> Vec<Arc<AuthKeyRecord>> {
        let mut all: Vec<_> = self.keys.iter().map(|entry| Arc::clone(&entry)).collect();
        all.sort_by_key(|record| record.created);
        all
    }

    pub fn clear(&self) {
        self.keys.clear();
    }

    /// What `/admin/state` shows of each key.
    pub fn snapshot(&self) -> Vec<AuthKeyView> {
        self.all()
            .iter()
            .map(|record| AuthKeyView::of(record))
            .collect()
    }
}

/// An auth key as `/admin/state` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AuthKeyView {
    /// The 8 wire bytes in hex, as every packet under the key starts.
    pub auth_key_id: String,
    /// "permanent" or "temporary".
    pub kind: &'static str,
    /// Decimal text, as `/admin/state` writes every 64-bit id.
    pub device_id: Option<String>,
    pub layer: Option<i32>,
    pub client: Option<ClientView>,
    pub sessions: Vec<String>,
    pub connections: Vec<ConnectionView>,
    pub bound_to: Option<String>,
}

/// What `initConnection` said.
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub api_id: i32,
    pub app_version: String,
    pub device_model: String,
    pub system_version: String,
    pub lang_code: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    pub id: u64,
    pub transport: String,
    pub peer: String,
}

/// An id as clients print it: the unsigned value in hex.
fn hex_id(id: i64) -> String {
    format!("{:016x}", id as u64)
}

impl AuthKeyView {
    fn of(record: &AuthKeyRecord) -> Self {
        let state = record.lock();
        AuthKeyView {
            auth_key_id: record.id().to_string(),
            kind: match record.kind {
                AuthKeyKind::Permanent => "permanent",
                AuthKeyKind::Temporary { .. } => "temporary",
            },
            device_id: state.device.map(|device| device.0.to_string()),
            layer: state.sessions.layer(),
            client: state.client.as_ref().map(|init| ClientView {
                api_id: init.api_id,
                app_version: init.app_version.clone(),
                device_model: init.device_model.clone(),
                system_version: init.system_version.clone(),
                lang_code: init.lang_code.clone(),
            }),
            sessions: state.sessions.session_ids().map(hex_id).collect(),
            connections: state
                .links
                .iter()
                .map(|(id, link)| ConnectionView {
                    id: id.0,
                    transport: link.transport.clone(),
                    peer: link.peer.to_string(),
                })
                .collect(),
            bound_to: state.bound_to.map(|id| id.to_string()),
        }
    }
}
