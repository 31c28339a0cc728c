//! The chat's use of Diffie-Hellman: secret exponents it can keep, public values it sends,
//! and keys from the values it receives (SPEC §1.3–1.5, §4).
//!
//! The arithmetic and every check live in [`crate::dh`]; this module adds what a chat that
//! can be stopped and resumed needs: an exponent that serializes (it waits in the state
//! between RequestKey and AcceptKey), and the `(p, g)` kept as plain values next to the
//! proof that they were checked.
//!
//! Every value received from the peer goes through the full range check before it is
//! used (SPEC §1.3: `1 < g_x < p − 1` and `2^(2048−64) ≤ g_x ≤ p − 2^(2048−64)`); a value
//! that fails aborts the chat.

use std::fmt;

use num_bigint::BigUint;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::keys::hex_array;
use super::violation::AbortReason;
use crate::key::ChatKey;

/// Length of `p`, of the exponents and of the keys, in bytes.
pub const DH_LEN: usize = 256;

/// The checked `(p, g)` of a chat, kept for re-keying (which reuses them, SPEC §4).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhParams {
    #[serde(with = "hex_array")]
    p: [u8; DH_LEN],
    g: i32,
}

impl fmt::Debug for DhParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DhParams(p = {}…, g = {})",
            hex::encode(&self.p[..4]),
            self.g
        )
    }
}

/// Telegram's 2048-bit safe prime (SPEC §1.1), served with `g = 3`.
const TELEGRAM_PRIME_HEX: &str = concat!(
    "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f",
    "48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c37",
    "20fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64",
    "2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4",
    "a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754",
    "fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4",
    "e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f",
    "0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
);

impl DhParams {
    /// The parameters the real server serves: Telegram's prime and `g = 3`.
    pub fn telegram() -> Self {
        let mut p = [0u8; DH_LEN];
        // A constant of exactly 512 hex digits.
        if let Ok(bytes) = hex::decode(TELEGRAM_PRIME_HEX) {
            p.copy_from_slice(&bytes);
        }
        Self { p, g: 3 }
    }

    pub fn p_bytes(&self) -> &[u8; DH_LEN] {
        &self.p
    }

    pub fn g(&self) -> i32 {
        self.g
    }

    fn p(&self) -> BigUint {
        BigUint::from_bytes_be(&self.p)
    }
}

/// A secret exponent `a` or `b`: 256 bytes, wiped on drop, redacted in `Debug`, and
/// serializable (as hex) so a chat waiting for AcceptKey can be stopped and resumed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct SecretExponent(#[serde(with = "hex_array")] [u8; DH_LEN]);

impl fmt::Debug for SecretExponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretExponent(<redacted>)")
    }
}

impl PartialEq for SecretExponent {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretExponent {}

impl SecretExponent {
    /// 256 random bytes XOR the server's `random` from getDhConfig (SPEC §1.1; empty when
    /// re-keying, which does not ask the server).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng), server_random: &[u8]) -> Self {
        let mut bytes = [0u8; DH_LEN];
        rng.fill_bytes(&mut bytes);
        // final_random := random XOR client_random
        for (byte, server_byte) in bytes.iter_mut().zip(server_random) {
            *byte ^= server_byte;
        }
        Self(bytes)
    }

    /// A given exponent (known-answer tests), big-endian, at most 256 bytes.
    pub fn from_be_bytes(bytes: &[u8]) -> Option<Self> {
        let start = DH_LEN.checked_sub(bytes.len())?;
        let mut padded = [0u8; DH_LEN];
        padded[start..].copy_from_slice(bytes);
        Some(Self(padded))
    }

    fn number(&self) -> BigUint {
        BigUint::from_bytes_be(&self.0)
    }
}

/// Our public value, `g_a = pow(g, a) mod p`, 256 bytes big-endian.
pub fn public_value(params: &DhParams, exponent: &SecretExponent) -> Vec<u8> {
    let g = BigUint::from(u32::try_from(params.g).unwrap_or(0));
    // g_a = pow(g, a) mod p
    left_padded(&g.modpow(&exponent.number(), &params.p()))
}

/// `key = pow(g_b, a) mod p` after the full range check of `g_b` (SPEC §1.3, §1.5).
/// `what` names the value in the error ("g_a", "g_b").
pub fn compute_key(
    params: &DhParams,
    exponent: &SecretExponent,
    peer_value: &[u8],
    what: &'static str,
) -> Result<ChatKey, AbortReason> {
    let p = params.p();
    let invalid = |reason: &str| AbortReason::InvalidPublicValue {
        value: what,
        reason: reason.to_owned(),
    };
    if peer_value.len() > DH_LEN {
        return Err(invalid("longer than 256 bytes"));
    }
    let g_x = BigUint::from_bytes_be(peer_value);
    let one = BigUint::from(1u8);
    // mandatory: 1 < g_x < p − 1
    if g_x <= one || g_x >= &p - &one {
        return Err(invalid("outside the mandatory range 1 < g_x < p − 1"));
    }
    // recommended: 2^(2048−64) ≤ g_x ≤ p − 2^(2048−64)
    let margin = &one << (2048 - 64);
    if g_x < margin || g_x > &p - &margin {
        return Err(invalid(
            "outside the recommended range 2^1984 ≤ g_x ≤ p − 2^1984",
        ));
    }
    // key = pow(g_b, a) mod p
    let key = Zeroizing::new(g_x.modpow(&exponent.number(), &p).to_bytes_be());
    ChatKey::from_be_number(&key).map_err(|_| invalid("the key does not fit 256 bytes"))
}

fn left_padded(number: &BigUint) -> Vec<u8> {
    let bytes = number.to_bytes_be();
    let mut out = vec![0u8; DH_LEN.saturating_sub(bytes.len())];
    out.extend_from_slice(&bytes);
    out
}
