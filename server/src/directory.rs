//! # Who is who: users, their devices, bearer tokens
//!
//! *The mock's invention* (DESIGN.md): Telegram signs a device in with a phone code and an
//! MTProto authorization key; the mock signs it in with `auth.signIn {username, device}`
//! and hands back a bearer token that stands for that device's key. A user is created on
//! its first sign-in and may have several devices (up to `--max-devices-per-user`).
//! Signing the same device name in again replaces its token (the old one stops working)
//! and keeps its queue; `auth.logOut` deletes the device and its queue.
//!
//! Users are shown to other users as `user{id, access_hash, username}`. As on Telegram,
//! an `access_hash` is valid only for the user it was given to: here it is derived as
//! the first 8 bytes (little-endian) of `SHA-256(server secret ‖ viewer id ‖ user id)`, so
//! it differs per viewing user and needs no storage.

use std::sync::Arc;

use dashmap::DashMap;
use sha2::{Digest, Sha256};

use crate::device::{DeviceDoor, DeviceId, DeviceRecord};
use crate::error::RpcError;

/// A user and the ids of its signed-in devices.
///
/// Users of the HTTP door are made by username; users of the MTProto door by phone number
/// (`auth.signIn`), with a username only once they set one (`account.updateUsername`) —
/// empty until then. Either door finds a user by username.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    /// Empty for a user who has none (an MTProto user before `account.updateUsername`).
    pub username: String,
    /// Digits only; `None` for users of the HTTP door.
    pub phone: Option<String>,
    /// As `auth.signUp` gave it (or as the mock named an account `auth.signIn` created).
    pub first_name: String,
    pub last_name: String,
    pub devices: Vec<DeviceId>,
}

/// Users, devices and tokens.
#[derive(Debug)]
pub struct Directory {
    secret: [u8; 32],
    users: DashMap<i64, User>,
    usernames: DashMap<String, i64>,
    phones: DashMap<String, i64>,
    devices: DashMap<DeviceId, Arc<DeviceRecord>>,
    tokens: DashMap<String, DeviceId>,
}

/// What `auth.signIn` produced.
#[derive(Debug)]
pub struct SignedIn {
    pub user_id: i64,
    pub device: Arc<DeviceRecord>,
    pub token: String,
}

/// Fresh random values the directory needs (ids and tokens), drawn by the caller's RNG.
pub struct Fresh {
    pub user_id: i64,
    pub device_id: i64,
    pub token: String,
}

/// `[A-Za-z0-9_]{1,32}`: Telegram's username alphabet (without its 5-character minimum).
fn check_name(what: &'static str, name: &str) -> Result<(), RpcError> {
    let ok = (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RpcError::UsernameInvalid {
            what,
            got: name.chars().take(64).collect(),
        })
    }
}

impl Directory {
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            secret,
            users: DashMap::new(),
            usernames: DashMap::new(),
            phones: DashMap::new(),
            devices: DashMap::new(),
            tokens: DashMap::new(),
        }
    }

    /// The `access_hash` of `user_id` as shown to `viewer_id`.
    pub fn access_hash(&self, viewer_id: i64, user_id: i64) -> i64 {
        // access_hash = SHA-256(secret ‖ viewer_id ‖ user_id)[0..8], little-endian
        let digest = Sha256::new()
            .chain_update(self.secret)
            .chain_update(viewer_id.to_le_bytes())
            .chain_update(user_id.to_le_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_le_bytes(first)
    }

    /// Signs `device_name` of `username` in, creating the user on first sign-in.
    pub fn sign_in(
        &self,
        username: &str,
        device_name: &str,
        max_devices: usize,
        fresh: Fresh,
    ) -> Result<SignedIn, RpcError> {
        check_name("username", username)?;
        check_name("device", device_name)?;
        let user_id = *self
            .usernames
            .entry(username.to_owned())
            .or_insert(fresh.user_id);
        let mut user = self.users.entry(user_id).or_insert_with(|| User {
            id: user_id,
            username: username.to_owned(),
            phone: None,
            first_name: username.to_owned(),
            last_name: String::new(),
            devices: Vec::new(),
        });
        let existing = user
            .devices
            .iter()
            .filter_map(|id| self.devices.get(id).map(|d| Arc::clone(d.value())))
            .find(|d| d.name == device_name);
        let device = match existing {
            Some(device) => {
                self.tokens.retain(|_, id| *id != device.id);
                device
            }
            None => {
                if user.devices.len() >= max_devices {
                    return Err(RpcError::DevicesTooMany { max: max_devices });
                }
                let device = Arc::new(DeviceRecord::new(
                    DeviceId(fresh.device_id),
                    user_id,
                    device_name.to_owned(),
                    DeviceDoor::Http,
                ));
                self.devices.insert(device.id, Arc::clone(&device));
                user.devices.push(device.id);
                device
            }
        };
        self.tokens.insert(fresh.token.clone(), device.id);
        Ok(SignedIn {
            user_id,
            device,
            token: fresh.token,
        })
    }

    /// The secret the mock's derived values start from (access hashes, phone code hashes).
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The user with this phone number (digits only).
    pub fn user_by_phone(&self, phone: &str) -> Option<User> {
        let id = *self.phones.get(phone)?;
        self.user(id)
    }

    /// Creates a user known by `phone` (the MTProto door's `auth.signIn` / `auth.signUp`),
    /// or answers the one who has it.
    pub fn user_for_phone(&self, phone: &str, names: (&str, &str), fresh_user_id: i64) -> User {
        let user_id = *self.phones.entry(phone.to_owned()).or_insert(fresh_user_id);
        self.users
            .entry(user_id)
            .or_insert_with(|| User {
                id: user_id,
                username: String::new(),
                phone: Some(phone.to_owned()),
                first_name: names.0.to_owned(),
                last_name: names.1.to_owned(),
                devices: Vec::new(),
            })
            .clone()
    }

    /// A new device of `user_id`, with no token: an MTProto auth key signing in is always a
    /// device of its own.
    pub fn add_device(
        &self,
        user_id: i64,
        device_name: &str,
        max_devices: usize,
        device_id: i64,
    ) -> Result<Arc<DeviceRecord>, RpcError> {
        check_name("device", device_name)?;
        let mut user = self
            .users
            .get_mut(&user_id)
            .ok_or(RpcError::UserIdInvalid { user_id })?;
        if user.devices.len() >= max_devices {
            return Err(RpcError::DevicesTooMany { max: max_devices });
        }
        let device = Arc::new(DeviceRecord::new(
            DeviceId(device_id),
            user_id,
            device_name.to_owned(),
            DeviceDoor::Mtproto,
        ));
        self.devices.insert(device.id, Arc::clone(&device));
        user.devices.push(device.id);
        Ok(device)
    }

    /// `account.updateUsername`: an empty name removes the user's username.
    pub fn set_username(&self, user_id: i64, username: &str) -> Result<User, RpcError> {
        if !username.is_empty() {
            check_name("username", username)?;
        }
        let current = self
            .user(user_id)
            .ok_or(RpcError::UserIdInvalid { user_id })?
            .username;
        if current == username {
            return Err(RpcError::UsernameNotModified {
                username: username.to_owned(),
            });
        }
        if !username.is_empty() {
            match self.usernames.entry(username.to_owned()) {
                dashmap::mapref::entry::Entry::Occupied(_) => {
                    return Err(RpcError::UsernameOccupied {
                        username: username.to_owned(),
                    })
                }
                dashmap::mapref::entry::Entry::Vacant(slot) => {
                    slot.insert(user_id);
                }
            }
        }
        if !current.is_empty() {
            self.usernames.remove(&current);
        }
        let mut user = self
            .users
            .get_mut(&user_id)
            .ok_or(RpcError::UserIdInvalid { user_id })?;
        user.username = username.to_owned();
        Ok(user.clone())
    }

    /// The device a bearer token stands for.
    pub fn authenticate(&self, token: &str) -> Option<Arc<DeviceRecord>> {
        let id = *self.tokens.get(token)?;
        self.devices.get(&id).map(|d| Arc::clone(d.value()))
    }

    /// Deletes a device, its tokens and (by dropping it) its queue.
    pub fn log_out(&self, device: &DeviceRecord) {
        self.tokens.retain(|_, id| *id != device.id);
        self.devices.remove(&device.id);
        if let Some(mut user) = self.users.get_mut(&device.user_id) {
            user.devices.retain(|id| *id != device.id);
        }
    }

    pub fn user(&self, user_id: i64) -> Option<User> {
        self.users.get(&user_id).map(|u| u.value().clone())
    }

    pub fn user_by_name(&self, username: &str) -> Option<User> {
        let id = *self.usernames.get(username)?;
        self.user(id)
    }

    pub fn device(&self, id: DeviceId) -> Option<Arc<DeviceRecord>> {
        self.devices.get(&id).map(|d| Arc::clone(d.value()))
    }

    /// The signed-in devices of a user.
    pub fn devices_of(&self, user_id: i64) -> Vec<Arc<DeviceRecord>> {
        self.user(user_id)
            .map(|u| u.devices.iter().filter_map(|id| self.device(*id)).collect())
            .unwrap_or_default()
    }

    /// Every user (admin state).
    pub fn users(&self) -> Vec<User> {
        let mut users: Vec<User> = self.users.iter().map(|u| u.value().clone()).collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// Every device (expiry sweeps, admin state).
    pub fn all_devices(&self) -> Vec<Arc<DeviceRecord>> {
        self.devices.iter().map(|d| Arc::clone(d.value())).collect()
    }

    /// Forgets everything (admin reset).
    pub fn clear(&self) {
        self.tokens.clear();
        self.devices.clear();
        self.users.clear();
        self.usernames.clear();
        self.phones.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(n: i64) -> Fresh {
        Fresh {
            user_id: 100 + n,
            device_id: 200 + n,
            token: format!("token{n}"),
        }
    }

    #[test]
    fn first_sign_in_creates_the_user_and_later_ones_add_devices() {
        let dir = Directory::new([0; 32]);
        let phone = dir.sign_in("bob", "phone", 10, fresh(1)).unwrap();
        let laptop = dir.sign_in("bob", "laptop", 10, fresh(2)).unwrap();
        assert_eq!(phone.user_id, laptop.user_id);
        assert_eq!(dir.devices_of(phone.user_id).len(), 2);
        assert_eq!(dir.authenticate("token2").unwrap().id, laptop.device.id);
    }

    #[test]
    fn signing_a_device_in_again_replaces_its_token_and_keeps_the_device() {
        let dir = Directory::new([0; 32]);
        let first = dir.sign_in("bob", "phone", 10, fresh(1)).unwrap();
        let again = dir.sign_in("bob", "phone", 10, fresh(2)).unwrap();
        assert_eq!(first.device.id, again.device.id);
        assert!(dir.authenticate("token1").is_none());
        assert!(dir.authenticate("token2").is_some());
    }

    #[test]
    fn too_many_devices_is_refused() {
        let dir = Directory::new([0; 32]);
        dir.sign_in("bob", "a", 1, fresh(1)).unwrap();
        assert_eq!(
            dir.sign_in("bob", "b", 1, fresh(2)).unwrap_err(),
            RpcError::DevicesTooMany { max: 1 }
        );
    }

    #[test]
    fn names_outside_the_username_alphabet_are_refused() {
        let dir = Directory::new([0; 32]);
        assert_eq!(
            dir.sign_in("bob smith", "a", 1, fresh(1)).unwrap_err(),
            RpcError::UsernameInvalid {
                what: "username",
                got: "bob smith".into()
            }
        );
        assert!(matches!(
            dir.sign_in("bob", "", 1, fresh(1)),
            Err(RpcError::UsernameInvalid { what: "device", .. })
        ));
        assert!(dir.user_by_name("bob").is_none());
    }

    #[test]
    fn log_out_revokes_the_token_and_removes_the_device() {
        let dir = Directory::new([0; 32]);
        let phone = dir.sign_in("bob", "phone", 10, fresh(1)).unwrap();
        dir.log_out(&phone.device);
        assert!(dir.authenticate("token1").is_none());
        assert!(dir.devices_of(phone.user_id).is_empty());
    }

    #[test]
    fn access_hash_differs_per_viewer_and_is_stable() {
        let dir = Directory::new([1; 32]);
        assert_eq!(dir.access_hash(1, 3), dir.access_hash(1, 3));
        assert_ne!(dir.access_hash(1, 3), dir.access_hash(2, 3));
    }
}
