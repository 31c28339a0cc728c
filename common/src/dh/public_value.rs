//! Public values `g_a` and `g_b`: computing ours, checking the peer's.
//!
//! SPEC §1.3: `g_a = pow(g, a) mod p`, `g_b = pow(g, b) mod p`, sent as unsigned big-endian
//! TL `bytes`. **We always send 256 bytes** (left-padded with zeros, like the key), but the
//! length is not fixed by the protocol — tdlib and Android send the minimal encoding, 255
//! bytes or fewer about once in 256 — so **we accept any length up to 256**. More than 256
//! bytes is refused outright, before any number is built from them.
//!
//! Both clients check `g`, `g_a` and `g_b` against two ranges (SPEC §1.3; the same checks
//! apply to the re-keying values of SPEC §4):
//!
//! ```text
//! mandatory:    1 < g_x < p − 1
//! recommended:  2^(2048−64) < g_x < p − 2^(2048−64)
//! ```
//!
//! The mandatory range rules out the values of order 1 and 2. The recommended one leaves
//! out values so close to 0 or `p` that they suggest a broken or hostile peer; tdlib enforces
//! it for both its own value and the peer's, and so do we. **Its bounds are strict**: the
//! docs say "between", and the `dh_g_a_range` vectors refuse `g_a = 2^1984` and
//! `g_a = p − 2^1984` themselves. (tdlib's bit-count test happens to let those two exact
//! values through; an honest `g_a` hits either with probability about `2^−2048`.)
//!
//! [`check_public_value`] applies both and returns a [`CheckedPublicValue`], the only
//! value [`compute_key`](super::compute_key) takes. [`check_mandatory_range`] and
//! [`check_recommended_range`] apply one each, and every range error knows which rule it
//! broke ([`DhError::range_rule`]), so a caller can tell "forbidden" from "suspicious".

use num_bigint::BigUint;
use num_traits::One;

use super::config::CheckedConfig;
use super::exponent::Exponent;
use super::{DhError, P_LEN};

/// Which of the two range rules of SPEC §1.3 a public value broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRule {
    /// `1 < g_x < p − 1`: every client must enforce it.
    Mandatory,
    /// `2^(2048−64) < g_x < p − 2^(2048−64)`: recommended by the docs, enforced by tdlib.
    Recommended,
}

/// Proof that a peer's (or our own) `g_a`/`g_b` passed both range checks against one
/// [`CheckedConfig`].
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedPublicValue {
    value: BigUint,
}

impl CheckedPublicValue {
    /// The value as 256 big-endian bytes, left-padded (our sending form).
    pub fn to_bytes(&self) -> Vec<u8> {
        left_padded(&self.value)
    }

    pub(super) fn as_number(&self) -> &BigUint {
        &self.value
    }
}

impl std::fmt::Debug for CheckedPublicValue {
    /// Public values are not secret; the first bytes are enough to tell them apart.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.to_bytes();
        write!(f, "CheckedPublicValue({}…)", hex::encode(&bytes[..8]))
    }
}

/// Our public value `g^a mod p`, as 256 big-endian bytes (left-padded).
pub fn public_value(config: &CheckedConfig, exponent: &Exponent) -> Vec<u8> {
    // g_a = pow(g, a) mod p
    let g_a = config.fixed_base().pow(exponent.as_bytes(), config.p());
    left_padded(&g_a)
}

/// Checks a received (or our own) `g_x` against both ranges of SPEC §1.3.
///
/// The mandatory range is checked first, so a value that breaks both reports the
/// mandatory rule.
pub fn check_public_value(
    config: &CheckedConfig,
    g_x: &[u8],
) -> Result<CheckedPublicValue, DhError> {
    let value = parse(g_x)?;
    mandatory_range(config, &value)?;
    recommended_range(config, &value)?;
    Ok(CheckedPublicValue { value })
}

/// Checks a received `g_x` against the mandatory range only, `1 < g_x < p − 1`, and hands
/// it over for [`compute_key`](super::compute_key): what Telegram Android accepts
/// (`Utilities.isGoodGaAndGb`). Values in `(1, 2^(2048−64)]` pass; the spec and tdlib
/// refuse them ([`check_public_value`]).
pub fn check_public_value_mandatory_only(
    config: &CheckedConfig,
    g_x: &[u8],
) -> Result<CheckedPublicValue, DhError> {
    let value = parse(g_x)?;
    mandatory_range(config, &value)?;
    Ok(CheckedPublicValue { value })
}

/// Only the mandatory range, `1 < g_x < p − 1`.
pub fn check_mandatory_range(config: &CheckedConfig, g_x: &[u8]) -> Result<(), DhError> {
    mandatory_range(config, &parse(g_x)?)
}

/// Only the recommended range, `2^(2048−64) < g_x < p − 2^(2048−64)`.
pub fn check_recommended_range(config: &CheckedConfig, g_x: &[u8]) -> Result<(), DhError> {
    recommended_range(config, &parse(g_x)?)
}

/// At most 256 bytes, then the number.
fn parse(g_x: &[u8]) -> Result<BigUint, DhError> {
    if g_x.len() > P_LEN {
        return Err(DhError::PublicValueTooLong { len: g_x.len() });
    }
    Ok(BigUint::from_bytes_be(g_x))
}

// mandatory: 1 < g_x < p − 1
fn mandatory_range(config: &CheckedConfig, g_x: &BigUint) -> Result<(), DhError> {
    if *g_x <= BigUint::one() {
        return Err(DhError::PublicValueNotAboveOne { bits: g_x.bits() });
    }
    if g_x >= config.p_minus_one() {
        return Err(DhError::PublicValueNotBelowPMinusOne { bits: g_x.bits() });
    }
    Ok(())
}

// recommended: 2^(2048−64) < g_x < p − 2^(2048−64)
fn recommended_range(config: &CheckedConfig, g_x: &BigUint) -> Result<(), DhError> {
    if g_x <= config.safety_low() {
        return Err(DhError::PublicValueNotAboveSafetyBound { bits: g_x.bits() });
    }
    if g_x >= config.safety_high() {
        let gap = if g_x < config.p() {
            config.p() - g_x
        } else {
            BigUint::ZERO
        };
        return Err(DhError::PublicValueNotBelowSafetyBound {
            gap_to_p_bits: gap.bits(),
        });
    }
    Ok(())
}

/// A number below `p` as 256 big-endian bytes, zeros in front. (Only numbers below
/// `p < 2^2048` are passed in; a longer one would keep its low 256 bytes, not panic.)
fn left_padded(n: &BigUint) -> Vec<u8> {
    let be = n.to_bytes_be();
    let len = be.len().min(P_LEN);
    let mut bytes = vec![0u8; P_LEN - len];
    bytes.extend_from_slice(&be[be.len() - len..]);
    bytes
}
