//! Checking the server's Diffie-Hellman parameters `(p, g)` from `messages.getDhConfig`.
//!
//! SPEC §1.1–1.2. The server is not trusted with the end-to-end key, yet it chooses the
//! group. Before generating any exponent a client makes sure that:
//!
//! 1. `p` is a 2048-bit number: `2^2047 ≤ p < 2^2048`;
//! 2. `p` and `(p − 1)/2` are both prime (see [`prime`](super::prime); verdicts are cached);
//! 3. `g ∈ {2, …, 7}` and `g` is a quadratic residue mod `p`, so that `g` generates the
//!    subgroup of prime order `(p − 1)/2`. For a safe prime, quadratic reciprocity turns
//!    that into a condition on `p` modulo a small number:
//!
//! ```text
//! g = 2: p mod 8 = 7          g = 5: p mod 5 ∈ {1, 4}
//! g = 3: p mod 3 = 2          g = 6: p mod 24 ∈ {19, 23}
//! g = 4: always (a square)    g = 7: p mod 7 ∈ {3, 5, 6}
//! ```
//!
//! The cheap checks (size, `g`) run first; the primality test only for a `p` that passed
//! them. The result is a [`CheckedConfig`], the only way into exponentiation and key
//! derivation: an unchecked `(p, g)` cannot reach them.
//!
//! **Encoding of `p`.** `p` must come as exactly 256 big-endian bytes with the top bit set,
//! which is what "2048 bits" means for a number in at most 256 bytes (Android checks the
//! same, `p.length == 256`). Extra leading zero bytes are refused: the real server never
//! sends them and a number is kept in one canonical form (the cache key).

use std::sync::{Arc, OnceLock};

use num_bigint::BigUint;
use num_traits::One;

use super::fixed_base::FixedBaseTable;
use super::prime::{PrimeCache, PrimeVerdict};
use super::{DhError, P_BITS, P_LEN, SAFETY_MARGIN_BITS};

/// Telegram's standard 2048-bit safe prime (SPEC §1.1), served with `g = 3`.
pub const TELEGRAM_PRIME: [u8; P_LEN] = [
    0xc7, 0x1c, 0xae, 0xb9, 0xc6, 0xb1, 0xc9, 0x04, 0x8e, 0x6c, 0x52, 0x2f, 0x70, 0xf1, 0x3f, 0x73,
    0x98, 0x0d, 0x40, 0x23, 0x8e, 0x3e, 0x21, 0xc1, 0x49, 0x34, 0xd0, 0x37, 0x56, 0x3d, 0x93, 0x0f,
    0x48, 0x19, 0x8a, 0x0a, 0xa7, 0xc1, 0x40, 0x58, 0x22, 0x94, 0x93, 0xd2, 0x25, 0x30, 0xf4, 0xdb,
    0xfa, 0x33, 0x6f, 0x6e, 0x0a, 0xc9, 0x25, 0x13, 0x95, 0x43, 0xae, 0xd4, 0x4c, 0xce, 0x7c, 0x37,
    0x20, 0xfd, 0x51, 0xf6, 0x94, 0x58, 0x70, 0x5a, 0xc6, 0x8c, 0xd4, 0xfe, 0x6b, 0x6b, 0x13, 0xab,
    0xdc, 0x97, 0x46, 0x51, 0x29, 0x69, 0x32, 0x84, 0x54, 0xf1, 0x8f, 0xaf, 0x8c, 0x59, 0x5f, 0x64,
    0x24, 0x77, 0xfe, 0x96, 0xbb, 0x2a, 0x94, 0x1d, 0x5b, 0xcd, 0x1d, 0x4a, 0xc8, 0xcc, 0x49, 0x88,
    0x07, 0x08, 0xfa, 0x9b, 0x37, 0x8e, 0x3c, 0x4f, 0x3a, 0x90, 0x60, 0xbe, 0xe6, 0x7c, 0xf9, 0xa4,
    0xa4, 0xa6, 0x95, 0x81, 0x10, 0x51, 0x90, 0x7e, 0x16, 0x27, 0x53, 0xb5, 0x6b, 0x0f, 0x6b, 0x41,
    0x0d, 0xba, 0x74, 0xd8, 0xa8, 0x4b, 0x2a, 0x14, 0xb3, 0x14, 0x4e, 0x0e, 0xf1, 0x28, 0x47, 0x54,
    0xfd, 0x17, 0xed, 0x95, 0x0d, 0x59, 0x65, 0xb4, 0xb9, 0xdd, 0x46, 0x58, 0x2d, 0xb1, 0x17, 0x8d,
    0x16, 0x9c, 0x6b, 0xc4, 0x65, 0xb0, 0xd6, 0xff, 0x9c, 0xa3, 0x92, 0x8f, 0xef, 0x5b, 0x9a, 0xe4,
    0xe4, 0x18, 0xfc, 0x15, 0xe8, 0x3e, 0xbe, 0xa0, 0xf8, 0x7f, 0xa9, 0xff, 0x5e, 0xed, 0x70, 0x05,
    0x0d, 0xed, 0x28, 0x49, 0xf4, 0x7b, 0xf9, 0x59, 0xd9, 0x56, 0x85, 0x0c, 0xe9, 0x29, 0x85, 0x1f,
    0x0d, 0x81, 0x15, 0xf6, 0x35, 0xb1, 0x05, 0xee, 0x2e, 0x4e, 0x15, 0xd0, 0x4b, 0x24, 0x54, 0xbf,
    0x6f, 0x4f, 0xad, 0xf0, 0x34, 0xb1, 0x04, 0x03, 0x11, 0x9c, 0xd8, 0xe3, 0xb9, 0x2f, 0xcc, 0x5b,
];

/// The `g` Telegram serves with [`TELEGRAM_PRIME`].
pub const TELEGRAM_G: i32 = 3;

/// Checks `(p, g)` with the process-wide prime cache ([`PrimeCache::global`]).
pub fn check_config(p: &[u8], g: i32) -> Result<CheckedConfig, DhError> {
    check_config_with(PrimeCache::global(), p, g)
}

/// Checks `(p, g)` remembering primality verdicts in `cache` (a fresh [`PrimeCache::new`]
/// forces the full test, as the cold-check bench does).
pub fn check_config_with(cache: &PrimeCache, p: &[u8], g: i32) -> Result<CheckedConfig, DhError> {
    // 1. 2^2047 ≤ p < 2^2048, as exactly 256 bytes.
    let p_bytes = p_as_2048_bits(p)?;
    // 3. g ∈ {2, …, 7} and a quadratic residue (cheap, so before the primality test).
    let g = check_generator(&p_bytes, g)?;
    // 2. p and (p − 1)/2 prime.
    let prime = cache.judge(&p_bytes).map_err(|verdict| match verdict {
        PrimeVerdict::NotPrime => DhError::PrimeNotPrime,
        PrimeVerdict::NotSafePrime | PrimeVerdict::SafePrime => DhError::PrimeNotSafe,
    })?;
    Ok(CheckedConfig { prime, g })
}

/// Check 1, on the bytes: 256 of them, the first with its top bit set.
fn p_as_2048_bits(p: &[u8]) -> Result<[u8; P_LEN], DhError> {
    let wrong_size = || DhError::PrimeWrongSize {
        bits: bit_length(p),
        len: p.len(),
    };
    let bytes: [u8; P_LEN] = p.try_into().map_err(|_| wrong_size())?;
    if bytes[0] & 0x80 == 0 {
        return Err(wrong_size());
    }
    Ok(bytes)
}

/// Bit length of a big-endian number, computed on the bytes (no allocation).
fn bit_length(be: &[u8]) -> u64 {
    match be.iter().position(|&byte| byte != 0) {
        None => 0,
        Some(first) => {
            let significant = (be.len() - first) as u64;
            let top = be.get(first).copied().unwrap_or(0);
            8 * (significant - 1) + u64::from(8 - top.leading_zeros())
        }
    }
}

/// Check 3: `g ∈ {2, …, 7}` and the quadratic-residue condition on `p` (module docs table).
fn check_generator(p: &[u8; P_LEN], g: i32) -> Result<u8, DhError> {
    let (modulus, allowed): (u32, &'static [u32]) = match g {
        2 => (8, &[7]),
        3 => (3, &[2]),
        4 => return Ok(4),
        5 => (5, &[1, 4]),
        6 => (24, &[19, 23]),
        7 => (7, &[3, 5, 6]),
        _ => return Err(DhError::GeneratorOutOfRange { g }),
    };
    let p_mod = p
        .iter()
        .fold(0u32, |rem, &byte| (rem * 256 + u32::from(byte)) % modulus);
    if !allowed.contains(&p_mod) {
        return Err(DhError::GeneratorNotQuadraticResidue {
            g,
            modulus,
            p_mod,
            allowed,
        });
    }
    // g ∈ 2..=7 here, so the cast is exact.
    Ok(g as u8)
}

/// Proof that `(p, g)` passed every check of SPEC §1.2.
///
/// Cheap to clone: the prime, its bounds and the fixed-base tables are shared by every
/// config made from the same cached `p`.
#[derive(Debug, Clone)]
pub struct CheckedConfig {
    prime: Arc<SafePrime>,
    g: u8,
}

impl CheckedConfig {
    /// Telegram's standard prime with `g = 3` (SPEC §1.1), known good without any test.
    pub fn telegram_default() -> Self {
        // The global cache is seeded with this prime, so this is a lookup that cannot fail;
        // the fallback only keeps the code free of panics.
        check_config(&TELEGRAM_PRIME, TELEGRAM_G).unwrap_or_else(|_| Self {
            prime: Arc::new(SafePrime::new(BigUint::from_bytes_be(&TELEGRAM_PRIME))),
            g: TELEGRAM_G as u8,
        })
    }

    /// `p` as 256 big-endian bytes.
    pub fn p_bytes(&self) -> &[u8; P_LEN] {
        &self.prime.bytes
    }

    pub fn g(&self) -> i32 {
        i32::from(self.g)
    }

    pub(super) fn p(&self) -> &BigUint {
        &self.prime.p
    }

    pub(super) fn p_minus_one(&self) -> &BigUint {
        &self.prime.p_minus_one
    }

    /// `2^(2048−64)`, the lower safety bound of SPEC §1.3.
    pub(super) fn safety_low(&self) -> &BigUint {
        &self.prime.safety_low
    }

    /// `p − 2^(2048−64)`, the upper safety bound of SPEC §1.3.
    pub(super) fn safety_high(&self) -> &BigUint {
        &self.prime.safety_high
    }

    /// The table for `g^a`, built on first use and then shared.
    pub(super) fn fixed_base(&self) -> &FixedBaseTable {
        let slot = &self.prime.tables[usize::from(self.g) - 2];
        slot.get_or_init(|| FixedBaseTable::new(&BigUint::from(self.g), &self.prime.p))
    }
}

impl PartialEq for CheckedConfig {
    fn eq(&self, other: &Self) -> bool {
        self.g == other.g && self.prime.bytes == other.prime.bytes
    }
}

impl Eq for CheckedConfig {}

/// A `p` known to be a 2048-bit safe prime, with what every use of it needs.
pub(super) struct SafePrime {
    p: BigUint,
    bytes: [u8; P_LEN],
    p_minus_one: BigUint,
    safety_low: BigUint,
    safety_high: BigUint,
    /// Fixed-base tables for `g = 2..=7`, each built when first needed.
    tables: [OnceLock<FixedBaseTable>; 6],
}

impl SafePrime {
    /// `p` must already have passed the safe-prime test (or be [`TELEGRAM_PRIME`]).
    pub(super) fn new(p: BigUint) -> Self {
        let mut bytes = [0u8; P_LEN];
        let be = p.to_bytes_be();
        let start = P_LEN.saturating_sub(be.len());
        bytes[start..].copy_from_slice(&be[be.len().saturating_sub(P_LEN)..]);
        let safety_low = BigUint::one() << (P_BITS - SAFETY_MARGIN_BITS);
        Self {
            p_minus_one: &p - 1u32,
            safety_high: &p - &safety_low,
            safety_low,
            bytes,
            p,
            tables: Default::default(),
        }
    }
}

impl std::fmt::Debug for SafePrime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SafePrime({}…)", hex::encode(&self.bytes[..8]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_ignores_leading_zero_bytes() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0, 1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&TELEGRAM_PRIME), 2048);
    }

    #[test]
    fn telegram_prime_accepts_g_3_4_7_and_refuses_2_5_6() {
        for g in [3, 4, 7] {
            assert_eq!(check_generator(&TELEGRAM_PRIME, g), Ok(g as u8));
        }
        for (g, modulus, p_mod) in [(2, 8, 3), (5, 5, 3), (6, 24, 11)] {
            assert!(matches!(
                check_generator(&TELEGRAM_PRIME, g),
                Err(DhError::GeneratorNotQuadraticResidue { modulus: m, p_mod: r, .. })
                    if m == modulus && r == p_mod
            ));
        }
    }
}
