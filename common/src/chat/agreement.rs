//! The chat's use of Diffie-Hellman: secret exponents it can keep, public values it sends,
//! and keys from the values it receives (SPEC §1.3–1.5, §4).
//!
//! The arithmetic and every check live in [`crate::dh`]; this module adds what a chat that
//! can be stopped and resumed needs: an exponent that serializes (it waits in the state
//! between RequestKey and AcceptKey), and the checked `(p, g)` saved as plain values and
//! checked again when loaded (the prime's verdict is cached, so that is cheap).
//!
//! Every value received from the peer goes through [`dh::check_public_value`] (SPEC §1.3:
//! `1 < g_x < p − 1` and the recommended `2^(2048−64)` margins) before it is used; a value
//! that fails aborts the chat.

use std::fmt;

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::keys::hex_array;
use super::profile::PublicValueRange;
use super::violation::AbortReason;
use crate::dh::{self, CheckedConfig, Exponent, P_LEN};
use crate::key::ChatKey;

/// The checked `(p, g)` of a chat, kept for re-keying (which reuses them, SPEC §4).
#[derive(Clone, PartialEq, Eq)]
pub struct DhParams(CheckedConfig);

impl fmt::Debug for DhParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DhParams(p = {}…, g = {})",
            hex::encode(&self.0.p_bytes()[..4]),
            self.0.g()
        )
    }
}

impl DhParams {
    /// Parameters that passed [`dh::check_config`].
    pub fn from_checked(config: CheckedConfig) -> Self {
        Self(config)
    }

    /// The parameters the real server serves: Telegram's prime and `g = 3`.
    pub fn telegram() -> Self {
        Self(CheckedConfig::telegram_default())
    }

    pub fn checked(&self) -> &CheckedConfig {
        &self.0
    }
}

#[derive(Serialize, Deserialize)]
struct SavedParams {
    #[serde(with = "hex_array")]
    p: [u8; P_LEN],
    g: i32,
}

impl Serialize for DhParams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SavedParams {
            p: *self.0.p_bytes(),
            g: self.0.g(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DhParams {
    /// Loaded parameters are checked again: a saved state is input too.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let saved = SavedParams::deserialize(deserializer)?;
        dh::check_config(&saved.p, saved.g)
            .map(DhParams)
            .map_err(serde::de::Error::custom)
    }
}

/// A secret exponent `a` or `b`: 256 bytes, wiped on drop, redacted in `Debug`, and
/// serializable (as hex) so a chat waiting for AcceptKey can be stopped and resumed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct SecretExponent(#[serde(with = "hex_array")] [u8; P_LEN]);

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
        let mut bytes = [0u8; P_LEN];
        rng.fill_bytes(&mut bytes);
        // final_random := random XOR client_random
        for (byte, server_byte) in bytes.iter_mut().zip(server_random) {
            *byte ^= server_byte;
        }
        Self(bytes)
    }

    /// A given exponent (known-answer tests), big-endian, at most 256 bytes.
    pub fn from_be_bytes(bytes: &[u8]) -> Option<Self> {
        let start = P_LEN.checked_sub(bytes.len())?;
        let mut padded = [0u8; P_LEN];
        padded[start..].copy_from_slice(bytes);
        Some(Self(padded))
    }

    /// The [`dh`] form. `from_be_bytes` only refuses more than 256 bytes, so this never
    /// fails for our fixed 256; the error is passed on rather than unwrapped.
    fn to_exponent(&self) -> Result<Exponent, dh::DhError> {
        Exponent::from_be_bytes(&self.0)
    }
}

/// Our public value, `g_a = pow(g, a) mod p`, 256 bytes big-endian.
pub fn public_value(params: &DhParams, exponent: &SecretExponent) -> Vec<u8> {
    exponent
        .to_exponent()
        .map(|a| dh::public_value(&params.0, &a))
        .unwrap_or_default()
}

/// `key = pow(g_b, a) mod p` after the range checks of `g_b` the profile applies (SPEC
/// §1.3, §1.5; row D2 of the profiles: both ranges, or the mandatory one only as Telegram
/// Android). `value` names the received number in the error ("g_a", "g_b").
pub fn compute_key(
    params: &DhParams,
    exponent: &SecretExponent,
    peer_value: &[u8],
    value: &'static str,
    range: PublicValueRange,
) -> Result<ChatKey, AbortReason> {
    let checked = match range {
        PublicValueRange::Both => dh::check_public_value(&params.0, peer_value),
        PublicValueRange::MandatoryOnly => {
            dh::check_public_value_mandatory_only(&params.0, peer_value)
        }
    }
    .map_err(|error| AbortReason::InvalidPublicValue { value, error })?;
    let exponent = exponent
        .to_exponent()
        .map_err(|error| AbortReason::InvalidPublicValue { value, error })?;
    Ok(dh::compute_key(&params.0, &exponent, &checked))
}
