//! Server salts: a per-key value every message must carry, changed every 30 minutes.
//!
//! "A (random) 64-bit number changed every 30 minutes ... at the request of the server. All
//! subsequent messages must contain the new salt (although, messages with the old salt are
//! still accepted for a further 1800 seconds). Required to protect against replay attacks
//! and certain tricks associated with adjusting the client clock to a moment in the distant
//! future." (core.telegram.org/mtproto/description#server-salt) "A server salt is attached to
//! the authorization key rather than being session-specific" (service_messages, future salts).
//!
//! Here the salt of each 30-minute window is *derived*, not stored:
//!
//! ```text
//! window(t) = ⌊unixtime(t) / 1800⌋
//! salt(w)   = SHA-256("mtproto server salt" ‖ secret ‖ auth_key_id ‖ w)[0..8], read little-endian
//! ```
//!
//! with a 32-byte secret the server keeps, so every salt past and future is known without
//! state, `get_future_salts` is a loop, and a run is reproducible from the secret. Salt `w`
//! is *the* salt during window `w` and still accepted during `w + 1`; `w + 1`'s is accepted
//! up to 30 s early (the msg_id lead a client's clock may have). The salt of the handshake
//! (`new_nonce[0..8] XOR server_nonce[0..8]`, which tdlib uses and Telethon and Pyrogram do
//! not: both start a session with salt 0) can be accepted too, for 1800 s.

use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::msg_id;
use crate::service::types::FutureSalt;

/// Seconds between salt changes ("changed every 30 minutes").
pub const PERIOD: i64 = 1800;

/// The salts of one auth key.
#[derive(Clone)]
pub struct ServerSalts {
    secret: [u8; 32],
    auth_key_id: i64,
    handshake: Option<(i64, SystemTime)>,
}

impl std::fmt::Debug for ServerSalts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSalts")
            .field("secret", &"<redacted>")
            .field("auth_key_id", &self.auth_key_id)
            .finish()
    }
}

impl ServerSalts {
    pub fn new(secret: [u8; 32], auth_key_id: i64) -> Self {
        Self {
            secret,
            auth_key_id,
            handshake: None,
        }
    }

    /// Also accepts the salt the handshake produced, for [`PERIOD`] seconds from `now`.
    pub fn accept_handshake_salt(&mut self, salt: i64, now: SystemTime) {
        let period = Duration::from_secs(PERIOD.unsigned_abs());
        self.handshake = Some((salt, now + period));
    }

    fn window(now: SystemTime) -> i64 {
        msg_id::unixtime(now).div_euclid(PERIOD)
    }

    /// `salt(w)` (formula in the module comment).
    pub fn salt_of_window(&self, window: i64) -> i64 {
        let digest = Sha256::new()
            .chain_update(b"mtproto server salt")
            .chain_update(self.secret)
            .chain_update(self.auth_key_id.to_le_bytes())
            .chain_update(window.to_le_bytes())
            .finalize();
        let mut salt = [0u8; 8];
        salt.copy_from_slice(&digest[..8]);
        i64::from_le_bytes(salt)
    }

    /// The salt to use now (what `bad_server_salt` and `new_session_created` announce, and
    /// what the server's own messages carry).
    pub fn current(&self, now: SystemTime) -> i64 {
        self.salt_of_window(Self::window(now))
    }

    /// Whether a client message may carry `salt` at `now`.
    pub fn accepts(&self, salt: i64, now: SystemTime) -> bool {
        let window = Self::window(now);
        let next_starts_in = (window + 1) * PERIOD - msg_id::unixtime(now);
        let lead = i64::try_from(msg_id::MAX_LEAD.as_secs()).unwrap_or(i64::MAX);
        salt == self.salt_of_window(window)
            || salt == self.salt_of_window(window - 1)
            || (next_starts_in <= lead && salt == self.salt_of_window(window + 1))
            || self
                .handshake
                .is_some_and(|(handshake, until)| salt == handshake && now < until)
    }

    /// Up to `num` salts from now on ("between 1 and 64"; `num` is clamped to that), each
    /// valid from the start of its window until the end of the next one.
    pub fn future(&self, now: SystemTime, num: i32) -> Vec<FutureSalt> {
        let first = Self::window(now);
        (0..i64::from(num.clamp(1, 64)))
            .map(|offset| {
                let window = first + offset;
                let since = window * PERIOD;
                FutureSalt {
                    valid_since: i32::try_from(since).unwrap_or(i32::MAX),
                    valid_until: i32::try_from(since + 2 * PERIOD).unwrap_or(i32::MAX),
                    salt: self.salt_of_window(window),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn salts() -> ServerSalts {
        ServerSalts::new([7; 32], 0x1234)
    }

    #[test]
    fn a_salt_is_current_for_30_minutes_and_accepted_for_30_more() {
        let salts = salts();
        let start = 1_700_000_000 / 1800 * 1800;
        let salt = salts.current(at(start));
        assert_eq!(salts.current(at(start + 1799)), salt);
        assert_ne!(salts.current(at(start + 1800)), salt);
        assert!(salts.accepts(salt, at(start + 3599)));
        assert!(!salts.accepts(salt, at(start + 3600)));
        assert!(!salts.accepts(0, at(start)));
    }

    #[test]
    fn the_next_salt_is_accepted_only_in_the_last_30_seconds_of_a_window() {
        let salts = salts();
        let start = 1_700_000_000 / 1800 * 1800;
        let next = salts.current(at(start + 1800));
        assert!(!salts.accepts(next, at(start + 1769)));
        assert!(salts.accepts(next, at(start + 1770)));
    }

    #[test]
    fn salts_depend_on_the_secret_and_the_key() {
        let now = at(1_700_000_000);
        let other_key = ServerSalts::new([7; 32], 0x1235);
        let other_secret = ServerSalts::new([8; 32], 0x1234);
        assert_ne!(salts().current(now), other_key.current(now));
        assert_ne!(salts().current(now), other_secret.current(now));
    }

    #[test]
    fn future_salts_follow_the_windows_and_are_clamped_to_1_to_64() {
        let salts = salts();
        let now = at(1_700_000_000);
        let future = salts.future(now, 3);
        assert_eq!(future.len(), 3);
        assert_eq!(future[0].salt, salts.current(now));
        assert_eq!(future[1].valid_since, future[0].valid_since + 1800);
        assert_eq!(future[0].valid_until, future[0].valid_since + 3600);
        assert!(salts.accepts(future[1].salt, at(future[1].valid_since as u64)));
        assert_eq!(salts.future(now, 0).len(), 1);
        assert_eq!(salts.future(now, 1000).len(), 64);
    }

    #[test]
    fn the_handshake_salt_is_accepted_for_1800_seconds() {
        let mut salts = salts();
        salts.accept_handshake_salt(42, at(1_700_000_000));
        assert!(salts.accepts(42, at(1_700_001_799)));
        assert!(!salts.accepts(42, at(1_700_001_800)));
    }
}
