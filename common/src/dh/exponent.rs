//! The secret exponent `a` (or `b`) of one Diffie-Hellman exchange.
//!
//! SPEC §1.3: a 2048-bit random number, kept as 256 big-endian bytes. SPEC §1.1: the
//! server's `random` from `messages.getDhConfig` is mixed in, but never used alone (the
//! server must not choose our secret):
//!
//! ```text
//! final_random := random XOR client_random      (client_random of the same length)
//! ```
//!
//! We draw 256 local bytes and XOR the server's bytes over the first of them: all 256 if
//! the server sent 256 (it always does), only that prefix if it sent fewer, and only the
//! first 256 if it sent more. Either way the result is at least as random as the local bytes.
//!
//! The bytes are wiped on drop and never printed. (The `num-bigint` temporaries made while
//! exponentiating cannot be wiped: `num-bigint` has no hook for it.)

use std::fmt;

use rand::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{DhError, P_LEN};

/// A secret DH exponent: 256 big-endian bytes, wiped on drop, redacted in `Debug`.
///
/// Deliberately not `Clone`: one exchange, one copy of the secret.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Exponent(Box<[u8; P_LEN]>);

impl Exponent {
    /// A fresh exponent: 256 bytes from `rng`, XOR the server's `random` (module docs).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R, server_random: &[u8]) -> Self {
        let mut bytes = Box::new([0u8; P_LEN]);
        rng.fill_bytes(bytes.as_mut_slice());
        // final_random := random XOR client_random
        for (byte, server_byte) in bytes.iter_mut().zip(server_random) {
            *byte ^= server_byte;
        }
        Self(bytes)
    }

    /// A given exponent (test vectors, replays): a big-endian number of at most 256 bytes,
    /// left-padded with zeros.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, DhError> {
        let start = P_LEN
            .checked_sub(bytes.len())
            .ok_or(DhError::ExponentTooLong { len: bytes.len() })?;
        let mut padded = Box::new([0u8; P_LEN]);
        padded[start..].copy_from_slice(bytes);
        Ok(Self(padded))
    }

    pub(super) fn as_bytes(&self) -> &[u8; P_LEN] {
        &self.0
    }
}

impl fmt::Debug for Exponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exponent(<redacted>)")
    }
}
