//! `future_salts`: the server salts the client may use next.
//!
//! "The client may at any time request from the server several (between 1 and 64) future
//! server salts together with their validity periods ... (a server salt is attached to the
//! authorization key rather than being session-specific) ... The server returns a maximum of
//! num future server salts (may return fewer). The response serves as the acknowledgment of
//! the query and does not require an acknowledgment itself."
//! (core.telegram.org/mtproto/service_messages#request-for-several-future-salts)
//!
//! ```text
//! get_future_salts#b921bd04 num:int = FutureSalts;
//! future_salt#0949d9dc valid_since:int valid_until:int salt:long = FutureSalt;
//! future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts;
//!
//! 95 08 50 ae | req_msg_id (8) | now (4) | count | valid_since valid_until salt | ...
//! ```
//!
//! `salts` is a *bare* vector (no `0x1cb5c415`) of *bare* `future_salt`s (no id), so the
//! generator cannot express it; the items are the generated [`FutureSalt`]. Sent bare, not
//! inside `rpc_result`.

use secretchat_common::tl::TlWrite;

use super::{decoding, reader_past_id, EnvelopeError};
use crate::service::types::FutureSalt;

/// `future_salts#ae500895`.
pub const FUTURE_SALTS_ID: u32 = 0xae500895;
/// `get_future_salts` asks for "between 1 and 64" salts.
pub const MAX_FUTURE_SALTS: usize = 64;
/// A bare `future_salt`: two ints and a long.
const FUTURE_SALT_SIZE: usize = 16;

/// `future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt>`.
#[derive(Debug, Clone, PartialEq)]
pub struct FutureSalts {
    pub req_msg_id: i64,
    /// The server's time when it answered (unixtime).
    pub now: i32,
    pub salts: Vec<FutureSalt>,
}

impl FutureSalts {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(20 + FUTURE_SALT_SIZE * self.salts.len());
        FUTURE_SALTS_ID.write_to(&mut buf);
        self.req_msg_id.write_to(&mut buf);
        self.now.write_to(&mut buf);
        // At most MAX_FUTURE_SALTS when built by this crate.
        u32::try_from(self.salts.len())
            .unwrap_or(u32::MAX)
            .write_to(&mut buf);
        for salt in &self.salts {
            salt.write_bare(&mut buf);
        }
        buf
    }

    /// Decodes a boxed `future_salts` spanning all of `bytes` (at most 64 salts).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let decode = decoding("future_salts");
        let mut reader = reader_past_id(bytes, FUTURE_SALTS_ID, "future_salts")?;
        let req_msg_id = reader.read_i64().map_err(decode)?;
        let now = reader.read_i32().map_err(decode)?;
        let count = reader.read_vector_count(FUTURE_SALT_SIZE).map_err(decode)?;
        if count > MAX_FUTURE_SALTS {
            return Err(EnvelopeError::TooManyItems {
                what: "future_salts",
                count,
                max: MAX_FUTURE_SALTS,
            });
        }
        let salts = (0..count)
            .map(|_| FutureSalt::read_bare(&mut reader))
            .collect::<Result<Vec<_>, _>>()
            .map_err(decode)?;
        reader.finish().map_err(decode)?;
        Ok(Self {
            req_msg_id,
            now,
            salts,
        })
    }
}
