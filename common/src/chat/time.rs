//! Time as a parameter: the chat never reads a clock.
//!
//! Every input that depends on time (`handle_timeout`, the week-based re-keying rule of
//! SPEC §4, the "chat younger than 15 seconds" exception of SPEC §5) takes `now` from the
//! caller. The server speaks in `date:int` values, whole seconds since the Unix epoch, so
//! that is the unit here too. A test can therefore drive a chat through a week in
//! microseconds with a virtual clock.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A moment, in whole seconds since the Unix epoch (the unit of the server's `date`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// From a server `date:int`.
    pub const fn from_date(date: i32) -> Self {
        Self(date as i64)
    }

    /// `self + seconds`, saturating instead of overflowing.
    pub const fn plus_seconds(self, seconds: u64) -> Self {
        let seconds = if seconds > i64::MAX as u64 {
            i64::MAX
        } else {
            seconds as i64
        };
        Self(self.0.saturating_add(seconds))
    }

    /// Seconds from `earlier` to `self`; negative if the clock went backwards.
    pub const fn seconds_since(self, earlier: UnixTime) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_seconds_saturates_at_the_end_of_time() {
        assert_eq!(UnixTime(i64::MAX - 1).plus_seconds(10), UnixTime(i64::MAX));
        assert_eq!(UnixTime(5).plus_seconds(u64::MAX), UnixTime(i64::MAX));
    }

    #[test]
    fn server_date_is_read_as_seconds() {
        assert_eq!(UnixTime::from_date(1_700_000_000), UnixTime(1_700_000_000));
        assert_eq!(UnixTime(100).seconds_since(UnixTime(40)), 60);
    }
}
