//! msg_id: a message's identity, which is also the time it was created.
//!
//! "A (time-dependent) 64-bit number used uniquely to identify a message within a session.
//! Client message identifiers are divisible by 4, server message identifiers modulo 4 yield
//! 1 if the message is a response to a client message, and 3 otherwise. Client message
//! identifiers must increase monotonically (within a single session), the same as server
//! message identifiers, and must approximately equal unixtime*2^32 ... A message is rejected
//! over 300 seconds after it is created or 30 seconds before it is created ... The
//! identifier of a message container must be strictly greater than those of its nested
//! messages." (core.telegram.org/mtproto/description#message-identifier-msg-id)
//!
//! ```text
//! msg_id = unixtime · 2^32 + fraction of the second · 2^32, low 2 bits: 0 client, 1 reply, 3 other
//! ```
//!
//! The rules a server applies to a client's msg_id, with the `bad_msg_notification` code of
//! each: 18 if it is not divisible by 4, 16 if it is more than 300 s behind the server's
//! clock, 17 if it is more than 30 s ahead (service_messages_about_messages).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far a client's msg_id may be behind the server's clock ("rejected over 300 seconds
/// after it is created").
pub const MAX_AGE: Duration = Duration::from_secs(300);
/// How far a client's msg_id may be ahead of the server's clock ("or 30 seconds before").
pub const MAX_LEAD: Duration = Duration::from_secs(30);

/// `now` as a msg_id: `unixtime · 2^32`, the fraction of the second in the low 32 bits.
/// Times before 1970 read as 0 (no real clock is there; nothing to panic over).
pub fn from_time(now: SystemTime) -> i64 {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX >> 32);
    let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds.min(i64::MAX >> 32) << 32) | i64::try_from(fraction).unwrap_or(0)
}

/// The unixtime (whole seconds) a msg_id claims.
pub fn seconds(msg_id: i64) -> i64 {
    msg_id >> 32
}

/// `now` in whole seconds since 1970 (the `int` times of the service schema).
pub fn unixtime(now: SystemTime) -> i64 {
    seconds(from_time(now))
}

/// A client msg_id that breaks one of the time rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgIdRule {
    /// 18: "incorrect two lower order msg_id bits (the server expects client message msg_id
    /// to be divisible by 4)".
    NotDivisibleBy4,
    /// 16: "msg_id too low (most likely, client time is wrong ...)".
    TooLow,
    /// 17: "msg_id too high (similar to the previous case, the client time has to be
    /// synchronized ...)".
    TooHigh,
}

/// Checks a client's msg_id against the server's clock: divisible by 4, at most `max_age`
/// behind `now` and at most `max_lead` ahead.
pub fn check_client(
    msg_id: i64,
    now: SystemTime,
    max_age: Duration,
    max_lead: Duration,
) -> Result<(), MsgIdRule> {
    if msg_id.rem_euclid(4) != 0 {
        return Err(MsgIdRule::NotDivisibleBy4);
    }
    let server = i128::from(from_time(now));
    let window = |d: Duration| i128::from(d.as_secs()) << 32;
    let msg_id = i128::from(msg_id);
    if msg_id < server - window(max_age) {
        Err(MsgIdRule::TooLow)
    } else if msg_id > server + window(max_lead) {
        Err(MsgIdRule::TooHigh)
    } else {
        Ok(())
    }
}

/// Who starts a server message, which decides the low bits of its msg_id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A response to a client message: msg_id ≡ 1 (mod 4).
    Reply,
    /// A message the server starts (updates, new_session_created): msg_id ≡ 3 (mod 4).
    Server,
}

/// The server's msg_ids in one session: time-based and strictly increasing, with the low
/// bits of their [`Origin`].
#[derive(Debug, Clone, Default)]
pub struct ServerMsgIds {
    last: i64,
}

impl ServerMsgIds {
    /// Ids that continue above `floor` (the last one issued to an earlier session under the
    /// same session_id, so a client that keeps its session_id never sees msg_ids go back).
    pub fn above(floor: i64) -> Self {
        Self { last: floor }
    }

    /// The last msg_id issued.
    pub fn last(&self) -> i64 {
        self.last
    }

    pub fn next(&mut self, now: SystemTime, origin: Origin) -> i64 {
        let residue = match origin {
            Origin::Reply => 1,
            Origin::Server => 3,
        };
        next_with_residue(from_time(now), self.last, residue)
            .inspect(|&id| self.last = id)
            .unwrap_or(self.last)
    }
}

/// A client's msg_ids in one session: time-based, divisible by 4, strictly increasing.
#[derive(Debug, Clone, Default)]
pub struct ClientMsgIds {
    last: i64,
}

impl ClientMsgIds {
    pub fn next(&mut self, now: SystemTime) -> i64 {
        next_with_residue(from_time(now), self.last, 0)
            .inspect(|&id| self.last = id)
            .unwrap_or(self.last)
    }
}

/// The smallest msg_id ≥ the time's and > `last` that is ≡ `residue` (mod 4); `None` only
/// at the very end of the i64 range.
fn next_with_residue(time: i64, last: i64, residue: i64) -> Option<i64> {
    let floor = time.max(last.checked_add(1)?);
    let candidate = floor - floor.rem_euclid(4) + residue;
    if candidate >= floor {
        Some(candidate)
    } else {
        candidate.checked_add(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(seconds, nanos)
    }

    #[test]
    fn a_msg_id_is_unixtime_times_2_to_the_32_plus_the_fraction() {
        assert_eq!(from_time(at(1_700_000_000, 0)), 1_700_000_000 << 32);
        assert_eq!(
            from_time(at(1_700_000_000, 500_000_000)),
            (1_700_000_000 << 32) + (1 << 31)
        );
        assert_eq!(
            seconds(from_time(at(1_700_000_000, 999_999_999))),
            1_700_000_000
        );
        assert_eq!(from_time(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }

    #[test]
    fn server_msg_ids_increase_strictly_with_the_low_bits_of_their_origin() {
        let mut ids = ServerMsgIds::default();
        let now = at(1_700_000_000, 0);
        let a = ids.next(now, Origin::Reply);
        let b = ids.next(now, Origin::Reply);
        let c = ids.next(now, Origin::Server);
        let d = ids.next(now - Duration::from_secs(10), Origin::Reply);
        assert!(a < b && b < c && c < d, "{a} {b} {c} {d}");
        assert_eq!([a, b, c, d].map(|id| id.rem_euclid(4)), [1, 1, 3, 1]);
        assert_eq!(seconds(a), 1_700_000_000);
    }

    #[test]
    fn client_msg_ids_are_divisible_by_4_and_increase_strictly() {
        let mut ids = ClientMsgIds::default();
        let now = at(1_700_000_000, 123);
        let a = ids.next(now);
        let b = ids.next(now);
        assert!(a < b);
        assert_eq!((a % 4, b % 4), (0, 0));
    }

    #[test]
    fn the_time_rules_give_18_then_16_or_17() {
        let now = at(1_700_000_000, 0);
        let id = from_time(now);
        let check = |msg_id| check_client(msg_id, now, MAX_AGE, MAX_LEAD);
        assert_eq!(check(id), Ok(()));
        assert_eq!(check(id + 1), Err(MsgIdRule::NotDivisibleBy4));
        assert_eq!(check(id - (300 << 32)), Ok(()));
        assert_eq!(check(id - (301 << 32)), Err(MsgIdRule::TooLow));
        assert_eq!(check(id + (30 << 32)), Ok(()));
        assert_eq!(check(id + (31 << 32)), Err(MsgIdRule::TooHigh));
        assert_eq!(check(i64::MIN), Err(MsgIdRule::TooLow));
        assert_eq!(check(i64::MAX - 3), Err(MsgIdRule::TooHigh));
    }

    #[test]
    fn msg_ids_at_the_end_of_the_range_do_not_overflow() {
        assert_eq!(next_with_residue(0, i64::MAX - 1, 1), None);
        // i64::MAX ≡ 3 (mod 4), so i64::MAX − 8 is itself ≡ 3.
        assert_eq!(next_with_residue(i64::MAX - 8, 0, 3), Some(i64::MAX - 8));
    }
}
