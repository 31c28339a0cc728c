//! # The server's shared state
//!
//! One [`Server`] value, shared by every request behind an `Arc`: the directory of users
//! and devices (each device with its own queue lock), the secret chats, the uploads in
//! progress, the stored files, the event log and the fault engine. The maps are
//! [`DashMap`]s — sharded, so requests touching different chats or devices do not wait
//! for each other; there is no global lock on the hot path. Lock order, to keep clear of
//! deadlocks: a device's reply cache, then a chat, then device queues; never two entries
//! of the same map at once.
//!
//! Its methods are spread by concept: delivering to devices ([`Server::deliver`],
//! [`Server::tell`]) is in [`crate::delivery`]; here are building it, the random source,
//! discarding chats, logging out, expiry and reset; and, at the end, the narrow view of
//! the server the fault engine is given ([`FaultContext`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dashmap::DashMap;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secretchat_common::dh::{check_config, CheckedConfig};

use crate::chats::{ChatRecord, ChatState, Role};
use crate::clock::Clock;
use crate::config::{Limits, ServerConfig};
use crate::device::{DeviceId, DeviceRecord};
use crate::directory::{Directory, Fresh};
use crate::event_log::{EventLog, LogEvent};
use crate::faults::{FaultContext, Faults};
use crate::files::{PartialUpload, StoredFile, UploadLimits};
use crate::mtproto::server_key::ServerKeySource;
use crate::mtproto::Door;

/// What `Server::new` can refuse.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("--dh-prime is not hex: {0}")]
    PrimeNotHex(#[from] hex::FromHexError),
    #[error("the configured DH parameters fail the checks every client makes: {0}")]
    BadDhConfig(#[from] secretchat_common::dh::DhError),
    #[error("--dh-version must not be 0 (clients send 0 when they have no cached config)")]
    ZeroDhVersion,
    #[error(transparent)]
    RsaKey(#[from] crate::mtproto::server_key::ServerKeyError),
}

/// The `(p, g, version)` `messages.getDhConfig` serves.
#[derive(Debug, Clone)]
pub struct ServedDh {
    pub config: CheckedConfig,
    pub version: i32,
}

/// The whole state of the mock.
#[derive(Debug)]
pub struct Server {
    pub limits: Limits,
    pub clock: Clock,
    pub dh: ServedDh,
    pub directory: Directory,
    pub chats: DashMap<i32, ChatRecord>,
    pub uploads: DashMap<(DeviceId, i64), PartialUpload>,
    pub files: DashMap<i64, Arc<StoredFile>>,
    /// What the server did, numbered (`GET /admin/events`).
    pub events: Arc<EventLog>,
    /// Fault rules and hostile modes (`docs/faults.md`).
    pub faults: Faults,
    /// The MTProto door's keys and connections ([`crate::mtproto`]).
    pub mtproto: Door,
    admin_token: String,
    rng: Mutex<ChaCha20Rng>,
}

/// The state as handlers see it.
pub type AppState = Arc<Server>;

impl Server {
    /// Builds the state from the configuration; refuses DH parameters no client would use.
    pub fn new(config: &ServerConfig) -> Result<Self, StartError> {
        let mut rng = match config.seed {
            Some(seed) => ChaCha20Rng::seed_from_u64(seed),
            None => ChaCha20Rng::from_entropy(),
        };
        let dh_config = match (&config.dh.dh_prime, config.dh.dh_g) {
            (None, None) => CheckedConfig::telegram_default(),
            (prime, g) => {
                let default = CheckedConfig::telegram_default();
                let p = match prime {
                    Some(hex_text) => hex::decode(hex_text.trim())?,
                    None => default.p_bytes().to_vec(),
                };
                check_config(&p, g.unwrap_or(default.g()))?
            }
        };
        let version = config.dh.dh_version.unwrap_or(1);
        if version == 0 {
            return Err(StartError::ZeroDhVersion);
        }
        let admin_token = config
            .admin_token
            .clone()
            .unwrap_or_else(|| hex::encode(rng.gen::<[u8; 16]>()));
        let secret = rng.gen::<[u8; 32]>();
        let faults = Faults::new(rng.gen());
        let server_key = ServerKeySource::new(config.mtproto.rsa_key.as_deref(), config.seed)?;
        let mtproto = Door::new(
            server_key,
            Duration::from_secs(config.mtproto.mtproto_idle_timeout),
        );
        Ok(Self {
            limits: config.limits.clone(),
            clock: Clock::new(),
            dh: ServedDh {
                config: dh_config,
                version,
            },
            directory: Directory::new(secret),
            chats: DashMap::new(),
            uploads: DashMap::new(),
            files: DashMap::new(),
            events: Arc::new(EventLog::new()),
            faults,
            mtproto,
            admin_token,
            rng: Mutex::new(rng),
        })
    }

    /// The admin surface's bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Now, as a TL date.
    pub fn now(&self) -> i32 {
        self.clock.now()
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, ChaCha20Rng> {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A random non-zero `long` (ids, access hashes).
    pub fn random_i64(&self) -> i64 {
        let mut rng = self.rng();
        loop {
            let value: i64 = rng.gen();
            if value != 0 {
                return value;
            }
        }
    }

    /// `len` random bytes (getDhConfig `random`).
    pub fn random_bytes(&self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        self.rng().fill_bytes(&mut bytes);
        bytes
    }

    /// Fresh ids and a token for a sign-in.
    pub fn fresh(&self) -> Fresh {
        let mut rng = self.rng();
        Fresh {
            user_id: rng.gen_range(1..i64::from(i32::MAX)),
            device_id: rng.gen_range(1..i64::MAX),
            token: hex::encode(rng.gen::<[u8; 32]>()),
        }
    }

    pub fn upload_limits(&self) -> UploadLimits {
        UploadLimits {
            max_parts: self.limits.max_file_parts,
            max_file_bytes: self.limits.max_file_bytes,
        }
    }

    /// Deletes, on every device, updates and remembered answers older than 7 days. Each
    /// queue pops only its expired front, so this costs the number of devices plus what is
    /// removed.
    pub fn expire_all(&self) -> usize {
        let now = self.now();
        let removed = self
            .directory
            .all_devices()
            .iter()
            .map(|device| device.mailbox.expire(now))
            .sum();
        if removed > 0 {
            self.events.record(now, LogEvent::Expired { removed });
        }
        self.faults.tick(self);
        removed
    }

    /// Marks `chat` discarded by `by` and tells everyone else who could see it: the other
    /// side (its bound device, or all of the participant's devices while none is bound) and
    /// the discarding side's other devices that were shown the request.
    pub fn discard(&self, chat: &mut ChatRecord, by: DeviceId, history_deleted: bool) {
        let participant_device = chat.participant_device();
        chat.state = ChatState::Discarded {
            history_deleted,
            participant_device,
        };
        let view = chat.discarded_view(history_deleted);
        if chat.admin_device != by {
            self.tell_id(chat.admin_device, view.clone());
        }
        match participant_device {
            Some(bound) if bound != by => self.tell_id(bound, view),
            Some(_) => {}
            None => {
                for device in self.directory.devices_of(chat.participant_id) {
                    if device.id != by {
                        self.tell(&device, view.clone());
                    }
                }
            }
        }
    }

    /// A device logs out: its queue and tokens go, and the chats it was a side of are
    /// discarded for the other side (its key is gone, so the chats cannot continue).
    pub fn log_out(&self, device: &DeviceRecord) {
        self.directory.log_out(device);
        device.mailbox.queue().clear();
        device.listeners.wake_waiters();
        self.uploads.retain(|(owner, _), _| *owner != device.id);
        for mut chat in self.chats.iter_mut() {
            let live = !matches!(chat.state, ChatState::Discarded { .. });
            let bound =
                chat.admin_device == device.id || chat.participant_device() == Some(device.id);
            if live && bound {
                self.discard(&mut chat, device.id, false);
            }
        }
    }

    /// The role of a device in the chat `peer` names, with the access check.
    pub fn role_in(
        &self,
        chat: &ChatRecord,
        device: &DeviceRecord,
        access_hash: i64,
    ) -> Option<Role> {
        chat.check_access(device.id, device.user_id, access_hash)
    }

    /// Forgets everything and returns the clock to real time (`POST /admin/reset`).
    pub fn reset(&self) {
        self.directory.clear();
        self.chats.clear();
        self.uploads.clear();
        self.files.clear();
        self.faults.reset();
        self.events.clear();
        self.clock.reset();
        // Clients of the MTProto door get −404 on their next packet and make a new key.
        self.mtproto.keys.clear();
    }
}

/// What the fault engine may see and do of the server.
impl FaultContext for Server {
    fn now(&self) -> i32 {
        self.clock.now()
    }

    fn events(&self) -> &Arc<EventLog> {
        &self.events
    }

    fn device(&self, id: DeviceId) -> Option<Arc<DeviceRecord>> {
        self.directory.device(id)
    }

    fn username(&self, user_id: i64) -> Option<String> {
        self.directory.user(user_id).map(|user| user.username)
    }

    fn file(&self, id: i64) -> Option<Arc<StoredFile>> {
        self.files.get(&id).map(|file| Arc::clone(file.value()))
    }

    fn dh(&self) -> &CheckedConfig {
        &self.dh.config
    }

    fn dh_version(&self) -> i32 {
        self.dh.version
    }

    fn max_queue_len(&self) -> usize {
        self.limits.max_queue_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_dh_version_is_refused_at_start() {
        let mut config = ServerConfig::for_tests();
        config.dh.dh_version = Some(0);
        assert!(matches!(
            Server::new(&config),
            Err(StartError::ZeroDhVersion)
        ));
    }

    #[test]
    fn a_generator_that_is_not_a_quadratic_residue_is_refused_at_start() {
        let mut config = ServerConfig::for_tests();
        config.dh.dh_g = Some(2);
        assert!(matches!(
            Server::new(&config),
            Err(StartError::BadDhConfig(_))
        ));
    }

    #[test]
    fn the_same_seed_gives_the_same_random_choices() {
        let a = Server::new(&ServerConfig::for_tests()).unwrap();
        let b = Server::new(&ServerConfig::for_tests()).unwrap();
        assert_eq!(a.random_i64(), b.random_i64());
    }
}
