//! # The server clock
//!
//! Every `date` the server hands out (`encryptedChat*.date`, `encryptedMessage.date`,
//! `updates.state.date`, `messages.sentEncryptedMessage.date`) is a Unix time in seconds
//! read from this clock, and so is the 7-day expiry of queued updates (SPEC §7).
//!
//! The clock is real time plus an offset that only the admin surface can move, and only
//! forward (`POST /admin/clock/advance`): that is what makes "Bob is offline for 8 days"
//! and week-based re-keying testable in seconds. Moving time backwards is refused, so dates
//! a device has seen never run backwards.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Real time plus an admin-controlled, forward-only offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// A clock showing real time (offset 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Now, as a TL `date` (Unix seconds in an `int`).
    ///
    /// TL dates are 32-bit; the value saturates rather than wrapping if the offset is
    /// pushed past 2038.
    pub fn now(&self) -> i32 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let shifted = real.saturating_add(self.offset_seconds.load(Ordering::Relaxed));
        i32::try_from(shifted.clamp(0, i64::from(i32::MAX))).unwrap_or(i32::MAX)
    }

    /// How far the clock has been moved ahead of real time.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `seconds` and returns the new offset.
    pub fn advance(&self, seconds: u32) -> i64 {
        self.offset_seconds
            .fetch_add(i64::from(seconds), Ordering::Relaxed)
            .saturating_add(i64::from(seconds))
    }

    /// Back to real time (used by `POST /admin/reset`).
    pub fn reset(&self) {
        self.offset_seconds.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_at_least_the_amount() {
        let clock = Clock::new();
        let before = clock.now();
        clock.advance(8 * 24 * 3600);
        assert!(clock.now() >= before + 8 * 24 * 3600);
        assert_eq!(clock.offset_seconds(), 8 * 24 * 3600);
    }

    #[test]
    fn reset_returns_to_real_time() {
        let clock = Clock::new();
        clock.advance(100);
        clock.reset();
        assert_eq!(clock.offset_seconds(), 0);
    }
}
