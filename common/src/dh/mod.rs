//! Diffie-Hellman for secret chats: from the server's `(p, g)` to the 256-byte chat key.
//!
//! SPEC §1 (the first key) and §4 (re-keying, which repeats the exchange with the same
//! `(p, g)`). Each step consumes the proof value made by the one before, so a step cannot be
//! skipped and an unchecked number cannot reach key derivation:
//!
//! ```text
//!  messages.getDhConfig ──► (p, g, random)
//!                               │ check_config            [config]       SPEC §1.2
//!                               ▼
//!                         CheckedConfig ──────────┐
//!   rng + random ──► Exponent::generate           │       [exponent]     SPEC §1.1, §1.3
//!                               │                 │
//!                               ├─► public_value ─┴─► g_a (256 bytes) ──► to the peer
//!                               │                                        SPEC §1.3
//!  peer's g_b ──► check_public_value ──► CheckedPublicValue              [public_value]
//!                               │                                        SPEC §1.3
//!                               ▼
//!                         compute_key ──► ChatKey ──► key_fingerprint    [shared_key]
//!                                                                        SPEC §1.5, §1.6
//! ```
//!
//! The modules, one concept each:
//!
//! * [`config`] — the checks on `(p, g)` and the [`CheckedConfig`] they produce;
//! * [`prime`] — the safe-prime test and the cache of its verdicts;
//! * [`exponent`] — the secret `a`/`b`, mixed with the server's `random`;
//! * [`public_value`] — `g_a = pow(g, a) mod p` and the two range checks on received values;
//! * `fixed_base` — the precomputed table that makes `pow(g, a)` fast;
//! * [`shared_key`] — `key = pow(g_b, a) mod p`.
//!
//! All errors are one [`DhError`]; each variant says what the spec wants the client to do.

pub mod config;
pub mod exponent;
mod fixed_base;
pub mod prime;
pub mod public_value;
pub mod shared_key;

pub use config::{check_config, check_config_with, CheckedConfig, TELEGRAM_G, TELEGRAM_PRIME};
pub use exponent::Exponent;
pub use prime::{PrimeCache, PrimeVerdict};
pub use public_value::{
    check_mandatory_range, check_public_value, check_public_value_mandatory_only,
    check_recommended_range, public_value, CheckedPublicValue, RangeRule,
};
pub use shared_key::compute_key;

/// Length of `p`, of our `g_a`/`g_b` and of the key, in bytes.
pub const P_LEN: usize = 256;

/// `p` is a 2048-bit number (SPEC §1.2).
pub const P_BITS: u64 = 2048;

/// The recommended range keeps public values `2^(2048 − 64)` away from 0 and `p`.
pub const SAFETY_MARGIN_BITS: u64 = 64;

/// Everything that can go wrong between `getDhConfig` and the chat key.
///
/// Config errors (`Prime*`, `Generator*`) mean the server offered parameters no client may
/// use: the **initiator does not send `requestEncryption`**, the **responder declines with
/// `messages.discardEncryption`**; nothing generated with them may be kept. Public-value
/// errors are the peer's (or the server's) fault; what to do depends on where the value
/// came from, as each variant says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhError {
    /// SPEC §1.2 check 1 failed: `p` is not a 2048-bit number in 256 bytes. Refuse the chat.
    #[error("p must be a 2048-bit number in 256 bytes (2^2047 ≤ p < 2^2048), got {bits} bits in {len} bytes")]
    PrimeWrongSize { bits: u64, len: usize },

    /// SPEC §1.2 check 2 failed: `p` is composite (a witness was found). Refuse the chat.
    #[error("p must be prime, but it is composite")]
    PrimeNotPrime,

    /// SPEC §1.2 check 2 failed: `(p − 1)/2` is composite, so `p` is not a safe prime and the
    /// group has small subgroups. Refuse the chat.
    #[error("(p − 1)/2 must be prime, but it is composite: p is not a safe prime")]
    PrimeNotSafe,

    /// SPEC §1.2 check 3 failed: `g` is not one of 2, …, 7. Refuse the chat.
    #[error("g must be in 2..=7, got {g}")]
    GeneratorOutOfRange { g: i32 },

    /// SPEC §1.2 check 3 failed: `g` is not a quadratic residue mod `p`, so it generates the
    /// whole group and `g^a` leaks the lowest bit of `a`. Refuse the chat.
    #[error("g = {g} must be a quadratic residue mod p, which needs p mod {modulus} in {allowed:?}, got p mod {modulus} = {p_mod}")]
    GeneratorNotQuadraticResidue {
        g: i32,
        modulus: u32,
        p_mod: u32,
        allowed: &'static [u32],
    },

    /// A public value longer than 256 bytes cannot be below `p`: treat as a failed
    /// mandatory check (below).
    #[error("g_a/g_b must be at most 256 bytes, got {len}")]
    PublicValueTooLong { len: usize },

    /// Mandatory range broken, `g_x ≤ 1` (SPEC §1.3). The received value must not be used:
    /// a responder declines the chat (`discardEncryption`; a server answers
    /// `DH_G_A_INVALID`), an initiator discards it (`discardEncryption`), a re-keying side
    /// sends `AbortKey` (or aborts the chat, SPEC §4).
    #[error("g_a/g_b must be > 1 (mandatory range 1 < g_x < p − 1), got a {bits}-bit value")]
    PublicValueNotAboveOne { bits: u64 },

    /// Mandatory range broken, `g_x ≥ p − 1` (SPEC §1.3). Same reaction as
    /// [`DhError::PublicValueNotAboveOne`].
    #[error(
        "g_a/g_b must be < p − 1 (mandatory range 1 < g_x < p − 1), got a {bits}-bit value ≥ p − 1"
    )]
    PublicValueNotBelowPMinusOne { bits: u64 },

    /// Recommended range broken, `g_x ≤ 2^(2048−64)` (SPEC §1.3; tdlib enforces it). Same
    /// reaction as the mandatory failures when enforced, which this crate does.
    #[error("g_a/g_b must be > 2^(2048−64) (recommended range), got a {bits}-bit value")]
    PublicValueNotAboveSafetyBound { bits: u64 },

    /// Recommended range broken, `g_x ≥ p − 2^(2048−64)` (SPEC §1.3). Same reaction as
    /// [`DhError::PublicValueNotAboveSafetyBound`].
    #[error("g_a/g_b must be < p − 2^(2048−64) (recommended range), got p − g_x of {gap_to_p_bits} bits")]
    PublicValueNotBelowSafetyBound { gap_to_p_bits: u64 },

    /// A given exponent (not a generated one) has more than 256 bytes: a caller bug.
    #[error("an exponent is at most 256 bytes, got {len}")]
    ExponentTooLong { len: usize },
}

impl DhError {
    /// For a public-value range error, which rule was broken; `None` for other errors.
    /// A value too long to be a number below `p` counts as breaking the mandatory rule.
    pub fn range_rule(&self) -> Option<RangeRule> {
        match self {
            DhError::PublicValueTooLong { .. }
            | DhError::PublicValueNotAboveOne { .. }
            | DhError::PublicValueNotBelowPMinusOne { .. } => Some(RangeRule::Mandatory),
            DhError::PublicValueNotAboveSafetyBound { .. }
            | DhError::PublicValueNotBelowSafetyBound { .. } => Some(RangeRule::Recommended),
            _ => None,
        }
    }
}
