//! The shared key: `key = pow(g_b, a) mod p`, left-padded to 256 bytes.
//!
//! SPEC §1.5. Each side raises the other's checked public value to its own secret exponent;
//! both arrive at `g^(a·b) mod p`. The result is written big-endian and left-padded with
//! zero bytes to exactly 256 bytes — the padding matters, since the key's SHA-1 gives the
//! `key_fingerprint` both sides compare (SPEC §1.6, [`ChatKey::fingerprint`]). Re-keying
//! (SPEC §4) derives `new_key` the same way, with the same `(p, g)`.

use num_bigint::BigUint;
use zeroize::Zeroizing;

use super::config::CheckedConfig;
use super::exponent::Exponent;
use super::public_value::CheckedPublicValue;
use crate::key::ChatKey;

/// `key = pow(g_b, a) mod p` (or `pow(g_a, b) mod p` on the other side), as a [`ChatKey`].
///
/// `g_b` must have been checked against this same `config`. Passing one checked against
/// another `p` is a caller bug; it yields a key whose fingerprint will not match the peer's.
pub fn compute_key(
    config: &CheckedConfig,
    exponent: &Exponent,
    g_b: &CheckedPublicValue,
) -> ChatKey {
    let a = BigUint::from_bytes_be(exponent.as_bytes());
    // key = pow(g_b, a) mod p
    let key = g_b.as_number().modpow(&a, config.p());
    // Written big-endian and left-padded to 256 bytes by `from_be_number`. `key < p < 2^2048`
    // has at most 256 bytes, the only length `from_be_number` refuses is more than 256.
    let key_be = Zeroizing::new(key.to_bytes_be());
    ChatKey::from_be_number(&key_be).expect("key < p has at most 256 bytes")
}
