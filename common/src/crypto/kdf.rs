//! Key derivation: from the 256-byte chat key and a message's `msg_key` to the AES-256 key
//! and IGE IV that encrypt that one message.
//!
//! Every message gets its own AES key and IV because `msg_key` depends on the plaintext.
//! Both protocol versions hash `msg_key` together with slices of the chat key; they differ
//! in the hash (SHA-1 for MTProto 1.0, SHA-256 for 2.0) and in how the digests are cut and
//! glued (SPEC §2.2, §2.3).
//!
//! `x` picks which slices of the chat key are used. In MTProto 2.0 it separates the two
//! directions: x = 0 for messages the chat creator sends, x = 8 for the other party's, so
//! the two directions never share a key. MTProto 1.0 secret chats always use x = 0.
//!
//! Each version's `derive_observed` reports every hash (its named inputs and digest) and
//! every slice glued into `aes_key` and `aes_iv` to an [`Observe`]r; [`Derivation`] writes
//! them down for a learner to read (the peer's web view shows them with the real bytes).
//! The plain `derive` functions are the same code observed by `()`.

use std::fmt;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::key::ChatKey;

use super::ige::{IV_LEN, KEY_LEN};
use super::msg_key::MsgKey;

/// The `x` of the key derivation: an offset into the chat key, 0 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum X {
    /// x = 0: MTProto 2.0 messages sent by the chat creator; every MTProto 1.0 secret message.
    Zero,
    /// x = 8: MTProto 2.0 messages sent by the participant (the one who accepted).
    Eight,
}

impl X {
    /// The offset in bytes.
    pub const fn offset(self) -> usize {
        match self {
            X::Zero => 0,
            X::Eight => 8,
        }
    }
}

/// The per-message AES-256 key and IGE IV derived from `msg_key`.
///
/// Wiped on drop; `Debug` is redacted. The bytes are reachable through [`AesKeyIv::key`]
/// and [`AesKeyIv::iv`] because this lab shows them to learners (the CLI's `encode`).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AesKeyIv {
    key: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

impl AesKeyIv {
    pub const fn new(key: [u8; KEY_LEN], iv: [u8; IV_LEN]) -> Self {
        Self { key, iv }
    }

    /// The AES-256 key, `aes_key`.
    pub const fn key(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    /// The 32-byte IGE IV, `aes_iv`.
    pub const fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }
}

impl fmt::Debug for AesKeyIv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKeyIv(<redacted>)")
    }
}

/// Copies `parts` one after another into a fixed-size array (the lengths are constants
/// chosen to add up to exactly `N`).
fn concat<const N: usize>(parts: &[(&'static str, &[u8])]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    for (_, part) in parts {
        out[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    debug_assert_eq!(at, N);
    out
}

/// What a derivation shows as it goes, for teaching (the web view draws it): each hash
/// with its named inputs and digest, then how `aes_key` and `aes_iv` are glued from slices
/// of the digests. The names are the formulas' own (`key[x .. x+32]`, `sha1_a[0..8]`).
///
/// The derivation itself is the one in [`v1`] and [`v2`]: they report to an observer, and
/// the plain `derive` functions pass `()`, which notes nothing and costs nothing.
pub trait Observe {
    /// A hash was computed over `inputs` (in order), giving `digest`.
    fn hash(&mut self, name: &'static str, inputs: &[(&'static str, &[u8])], digest: &[u8]);
    /// An output (`aes_key`, `aes_iv`) was glued from `parts` (in order).
    fn glue(&mut self, name: &'static str, parts: &[(&'static str, &[u8])]);
}

impl Observe for () {
    fn hash(&mut self, _: &'static str, _: &[(&'static str, &[u8])], _: &[u8]) {}
    fn glue(&mut self, _: &'static str, _: &[(&'static str, &[u8])]) {}
}

/// One step of a derivation as [`Derivation`] keeps it: a name and named byte strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: &'static str,
    /// The inputs of a hash, or the parts of a glued output.
    pub parts: Vec<(&'static str, Vec<u8>)>,
    /// The digest of a hash; the glued bytes of an output.
    pub result: Vec<u8>,
}

/// A derivation written down step by step ([`Observe`]): the hashes, then the outputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derivation {
    pub hashes: Vec<Step>,
    pub outputs: Vec<Step>,
}

fn owned(parts: &[(&'static str, &[u8])]) -> Vec<(&'static str, Vec<u8>)> {
    parts
        .iter()
        .map(|(name, bytes)| (*name, bytes.to_vec()))
        .collect()
}

impl Observe for Derivation {
    fn hash(&mut self, name: &'static str, inputs: &[(&'static str, &[u8])], digest: &[u8]) {
        self.hashes.push(Step {
            name,
            parts: owned(inputs),
            result: digest.to_vec(),
        });
    }

    fn glue(&mut self, name: &'static str, parts: &[(&'static str, &[u8])]) {
        self.outputs.push(Step {
            name,
            parts: owned(parts),
            result: parts
                .iter()
                .flat_map(|(_, bytes)| bytes.iter().copied())
                .collect(),
        });
    }
}

/// `H(inputs[0] ‖ inputs[1] ‖ …)`, reported to `observe` under `name`.
fn hash<H: Digest>(
    observe: &mut impl Observe,
    name: &'static str,
    inputs: &[(&'static str, &[u8])],
) -> sha2::digest::Output<H> {
    let mut hasher = H::new();
    for (_, input) in inputs {
        hasher.update(input);
    }
    let digest = hasher.finalize();
    observe.hash(name, inputs, &digest);
    digest
}

/// `aes_key` and `aes_iv` glued from `key_parts` and `iv_parts`, reported to `observe`.
fn glue(
    observe: &mut impl Observe,
    key_parts: &[(&'static str, &[u8])],
    iv_parts: &[(&'static str, &[u8])],
) -> AesKeyIv {
    observe.glue("aes_key", key_parts);
    observe.glue("aes_iv", iv_parts);
    AesKeyIv::new(concat::<KEY_LEN>(key_parts), concat::<IV_LEN>(iv_parts))
}

/// MTProto 1.0 key derivation (SHA-1).
pub mod v1 {
    use super::*;

    /// The secret-chat KDF: MTProto 1.0 secret chats always use x = 0, in both directions.
    pub fn derive(key: &ChatKey, msg_key: &MsgKey) -> AesKeyIv {
        derive_with_x(key, msg_key, X::Zero)
    }

    /// The general MTProto 1.0 formula. x = 8 only ever occurs in cloud chats
    /// (server → client); it is here so the published vectors can check the formula.
    pub fn derive_with_x(key: &ChatKey, msg_key: &MsgKey, x: X) -> AesKeyIv {
        derive_observed(key, msg_key, x, &mut ())
    }

    /// [`derive_with_x`], reporting every hash and slice to `observe`.
    pub fn derive_observed(
        key: &ChatKey,
        msg_key: &MsgKey,
        x: X,
        observe: &mut impl Observe,
    ) -> AesKeyIv {
        let key = key.as_bytes();
        let msg_key = msg_key.as_bytes();
        let x = x.offset();

        // sha1_a = SHA1(msg_key ‖ key[x .. x+32])
        let sha1_a = hash::<Sha1>(
            observe,
            "sha1_a",
            &[("msg_key", msg_key), ("key[x .. x+32]", &key[x..x + 32])],
        );
        // sha1_b = SHA1(key[32+x .. 48+x] ‖ msg_key ‖ key[48+x .. 64+x])
        let sha1_b = hash::<Sha1>(
            observe,
            "sha1_b",
            &[
                ("key[32+x .. 48+x]", &key[32 + x..48 + x]),
                ("msg_key", msg_key),
                ("key[48+x .. 64+x]", &key[48 + x..64 + x]),
            ],
        );
        // sha1_c = SHA1(key[64+x .. 96+x] ‖ msg_key)
        let sha1_c = hash::<Sha1>(
            observe,
            "sha1_c",
            &[
                ("key[64+x .. 96+x]", &key[64 + x..96 + x]),
                ("msg_key", msg_key),
            ],
        );
        // sha1_d = SHA1(msg_key ‖ key[96+x .. 128+x])
        let sha1_d = hash::<Sha1>(
            observe,
            "sha1_d",
            &[
                ("msg_key", msg_key),
                ("key[96+x .. 128+x]", &key[96 + x..128 + x]),
            ],
        );

        // aes_key = sha1_a[0..8] ‖ sha1_b[8..20] ‖ sha1_c[4..16]
        // aes_iv  = sha1_a[8..20] ‖ sha1_b[0..8] ‖ sha1_c[16..20] ‖ sha1_d[0..8]
        glue(
            observe,
            &[
                ("sha1_a[0..8]", &sha1_a[0..8]),
                ("sha1_b[8..20]", &sha1_b[8..20]),
                ("sha1_c[4..16]", &sha1_c[4..16]),
            ],
            &[
                ("sha1_a[8..20]", &sha1_a[8..20]),
                ("sha1_b[0..8]", &sha1_b[0..8]),
                ("sha1_c[16..20]", &sha1_c[16..20]),
                ("sha1_d[0..8]", &sha1_d[0..8]),
            ],
        )
    }
}

/// MTProto 2.0 key derivation (SHA-256).
pub mod v2 {
    use super::*;

    /// `x` = 0 when the chat creator sent the message, 8 when the participant did.
    pub fn derive(key: &ChatKey, msg_key: &MsgKey, x: X) -> AesKeyIv {
        derive_observed(key, msg_key, x, &mut ())
    }

    /// [`derive`], reporting every hash and slice to `observe`.
    pub fn derive_observed(
        key: &ChatKey,
        msg_key: &MsgKey,
        x: X,
        observe: &mut impl Observe,
    ) -> AesKeyIv {
        let key = key.as_bytes();
        let msg_key = msg_key.as_bytes();
        let x = x.offset();

        // sha256_a = SHA256(msg_key ‖ key[x .. x+36])
        let sha256_a = hash::<Sha256>(
            observe,
            "sha256_a",
            &[("msg_key", msg_key), ("key[x .. x+36]", &key[x..x + 36])],
        );
        // sha256_b = SHA256(key[40+x .. 76+x] ‖ msg_key)
        let sha256_b = hash::<Sha256>(
            observe,
            "sha256_b",
            &[
                ("key[40+x .. 76+x]", &key[40 + x..76 + x]),
                ("msg_key", msg_key),
            ],
        );

        // aes_key = sha256_a[0..8] ‖ sha256_b[8..24] ‖ sha256_a[24..32]
        // aes_iv  = sha256_b[0..8] ‖ sha256_a[8..24] ‖ sha256_b[24..32]
        glue(
            observe,
            &[
                ("sha256_a[0..8]", &sha256_a[0..8]),
                ("sha256_b[8..24]", &sha256_b[8..24]),
                ("sha256_a[24..32]", &sha256_a[24..32]),
            ],
            &[
                ("sha256_b[0..8]", &sha256_b[0..8]),
                ("sha256_a[8..24]", &sha256_a[8..24]),
                ("sha256_b[24..32]", &sha256_b[24..32]),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    //! The published MTProto KDF vectors (mtcute `mtproto.test.ts`, SPEC vectors §1.3).
    use super::*;

    fn mtcute_auth_key() -> ChatKey {
        let chunk = hex::decode("98cb29c6ffa89e79da695a54f572e6cb101e81c688b63a4bf73c3622dec230e0")
            .unwrap();
        ChatKey::from_bytes(&chunk.repeat(8)).unwrap()
    }

    fn mtcute_msg_key() -> MsgKey {
        MsgKey::from_bytes(
            hex::decode("25d701f2a29205526757825a99eb2d32")
                .unwrap()
                .try_into()
                .unwrap(),
        )
    }

    fn assert_key_iv(got: &AesKeyIv, key: &str, iv: &str) {
        assert_eq!(hex::encode(got.key()), key);
        assert_eq!(hex::encode(got.iv()), iv);
    }

    #[test]
    fn v2_matches_mtcute_for_the_creator_direction() {
        assert_key_iv(
            &v2::derive(&mtcute_auth_key(), &mtcute_msg_key(), X::Zero),
            "af3f8e1ffa75f4c981eec33a3e5bbaa2ea48f9bb93e91597627eb1f67960a0c9",
            "9874d77f95155b35221bff94b7df4594c6996e2a62e44fcb7d93c8c4e41b79ee",
        );
    }

    #[test]
    fn v2_matches_mtcute_for_the_participant_direction() {
        assert_key_iv(
            &v2::derive(&mtcute_auth_key(), &mtcute_msg_key(), X::Eight),
            "d4b378e1e0525f10ff9d4c42807ccce5b30a033a8088c0b922b5259421751648",
            "4d7194f42f0135d2fd83050b403265b4c40ee3e9e9fba56f0f4d8ea6bcb121f5",
        );
    }

    #[test]
    fn v1_matches_mtcute_with_x_zero() {
        assert_key_iv(
            &v1::derive(&mtcute_auth_key(), &mtcute_msg_key()),
            "1fc7b40b1d9ffbdaf4d652525a748864259698f89214abf27c0d36cb9d4cd5db",
            "7251fbda39ec5e6e089f15ded5963b03d6d8d0f7078898431fc7b40b1d9ffbda",
        );
    }

    #[test]
    fn v1_matches_mtcute_with_x_eight() {
        assert_key_iv(
            &v1::derive_with_x(&mtcute_auth_key(), &mtcute_msg_key(), X::Eight),
            "af0e4e01318654be40ab42b125909d43b44bdeef571ff1a5dfb81474ae26d467",
            "15c9ba6021d2c5cf04f0842540ae216a970b4eac8f46ef01af0e4e01318654be",
        );
    }

    #[test]
    fn a_written_down_derivation_gives_the_same_key_and_iv_and_shows_its_slices() {
        let mut shown = Derivation::default();
        let key_iv =
            v2::derive_observed(&mtcute_auth_key(), &mtcute_msg_key(), X::Eight, &mut shown);
        assert_eq!(
            key_iv,
            v2::derive(&mtcute_auth_key(), &mtcute_msg_key(), X::Eight)
        );
        let names: Vec<_> = shown.hashes.iter().map(|step| step.name).collect();
        assert_eq!(names, ["sha256_a", "sha256_b"]);
        // x = 8: the second input of sha256_a is key[8 .. 44].
        let key = mtcute_auth_key();
        assert_eq!(shown.hashes[0].parts[1].1, key.as_bytes()[8..44].to_vec());
        assert_eq!(shown.outputs[0].name, "aes_key");
        assert_eq!(shown.outputs[0].result, key_iv.key().to_vec());
        assert_eq!(shown.outputs[1].result, key_iv.iv().to_vec());

        let mut shown = Derivation::default();
        let key_iv = v1::derive_observed(&key, &mtcute_msg_key(), X::Zero, &mut shown);
        assert_eq!(key_iv, v1::derive(&key, &mtcute_msg_key()));
        assert_eq!(shown.hashes.len(), 4);
        assert_eq!(shown.outputs[1].parts.len(), 4);
    }

    #[test]
    fn debug_output_hides_key_and_iv() {
        let shown = format!("{:?}", AesKeyIv::new([0xab; 32], [0xcd; 32]));
        assert_eq!(shown, "AesKeyIv(<redacted>)");
    }
}
