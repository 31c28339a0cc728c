//! Saving and resuming a device.
//!
//! [`Device::save`] writes JSON: the server URL, the bearer token, the counters, the DH
//! cache and every chat — keys included, so the file is written readable by its owner
//! only; keep it like a key file. [`Device::resume`] reads it back, and the chats continue
//! exactly where they were.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ChatEntry, Device, DeviceError, DeviceOptions, DhCache, KnownFile};
use crate::client::ApiClient;

/// What [`Device::save`] writes.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    username: String,
    device_name: String,
    user_id: i64,
    token: String,
    pts: i32,
    qts: i32,
    clock_offset: i64,
    dh: Option<DhCache>,
    chats: BTreeMap<i32, ChatEntry>,
    known_files: HashMap<i64, KnownFile>,
}

/// [`Saved`] by reference, for writing without cloning the chats.
#[derive(Serialize)]
struct SavedRef<'a> {
    server: &'a str,
    username: &'a str,
    device_name: &'a str,
    user_id: i64,
    token: &'a str,
    pts: i32,
    qts: i32,
    clock_offset: i64,
    dh: &'a Option<DhCache>,
    chats: &'a BTreeMap<i32, ChatEntry>,
    known_files: &'a HashMap<i64, KnownFile>,
}

impl Device {
    /// Writes the device's state (token, counters, DH cache, every chat with its keys) as
    /// JSON. Events not yet returned by [`Device::poll`] are not saved: poll first.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DeviceError> {
        let path = path.as_ref();
        let state_error = |reason: String| DeviceError::State {
            path: path.display().to_string(),
            reason,
        };
        let saved = SavedRef {
            server: self.api.base_url(),
            username: &self.username,
            device_name: &self.device_name,
            user_id: self.user_id,
            token: self.api.token().unwrap_or_default(),
            pts: self.pts,
            qts: self.qts,
            clock_offset: self.clock_offset,
            dh: &self.dh,
            chats: &self.chats,
            known_files: &self.known_files,
        };
        let json = serde_json::to_vec_pretty(&saved).map_err(|err| state_error(err.to_string()))?;
        // The file holds chat keys: readable by its owner only.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|err| state_error(err.to_string()))?;
        std::io::Write::write_all(&mut file, &json).map_err(|err| state_error(err.to_string()))
    }

    /// Reads a state written by [`Device::save`], with default options.
    pub fn resume(path: impl AsRef<Path>) -> Result<Device, DeviceError> {
        Self::resume_with(path, DeviceOptions::default())
    }

    /// Reads a state written by [`Device::save`]. The chats continue exactly where they
    /// were; the next [`Device::poll`] fetches what arrived meanwhile.
    pub fn resume_with(
        path: impl AsRef<Path>,
        options: DeviceOptions,
    ) -> Result<Device, DeviceError> {
        let path = path.as_ref();
        let state_error = |reason: String| DeviceError::State {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read(path).map_err(|err| state_error(err.to_string()))?;
        let saved: Saved =
            serde_json::from_slice(&text).map_err(|err| state_error(err.to_string()))?;
        let api = ApiClient::new(&saved.server)?.with_token(saved.token);
        let mut device = Device::new(
            api,
            &saved.username,
            &saved.device_name,
            saved.user_id,
            &options,
        )?;
        device.pts = saved.pts;
        device.qts = saved.qts;
        device.clock_offset = saved.clock_offset;
        device.dh = saved.dh;
        device.chats = saved.chats;
        device.known_files = saved.known_files;
        Ok(device)
    }
}
