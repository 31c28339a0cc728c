//! The encrypted envelope: how TL bytes become the `data` of `messages.sendEncrypted`, and
//! back. [`seal`] on the way out, [`open`] on the way in.
//!
//! SPEC §2.1–§2.3. Both protocol versions share one layout:
//!
//! ```text
//! plaintext = le_u32(L) ‖ TL                  L = len(TL), a multiple of 4
//! padded    = plaintext ‖ padding             random bytes, len(padded) % 16 == 0
//! wire      = key_fingerprint (8) ‖ msg_key (16) ‖ AES-256-IGE(aes_key, aes_iv, padded)
//!
//!             ┌────────────┐  msg_key   ┌─────┐  aes_key, aes_iv   ┌─────┐
//!  padded ───▶│ msg_key::* │──────────▶│ kdf │───────────────────▶│ IGE │──▶ ciphertext
//!             └────────────┘            └─────┘                    └─────┘
//! ```
//!
//! and differ in four places:
//!
//! | | MTProto 1.0 ([`Version::V1`]) | MTProto 2.0 ([`Version::V2`]) |
//! |---|---|---|
//! | padding | exactly the minimal 0..=15 bytes | 12..=1024 bytes |
//! | `msg_key` | `SHA1(plaintext)[4..20]`, padding not covered | `SHA256(key[88+x..120+x] ‖ padded)[8..24]` |
//! | KDF | [`kdf::v1`], x = 0 both ways | [`kdf::v2`], x = 0 if the creator sent it, 8 if not |
//!
//! The receiver checks everything the sender could have got wrong, in the order of
//! [`open`]'s steps; each failure is one [`OpenError`] variant whose doc says how a chat
//! must react to it. The `msg_key` is always compared (in constant time) before any length
//! rule is reported, so a malformed length does not return earlier than a forged one.

use rand::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;

use crate::crypto::ige::{self, BLOCK_LEN};
use crate::crypto::kdf::{self, AesKeyIv};
use crate::crypto::msg_key::{self, MsgKey, MSG_KEY_LEN};
use crate::key::{ChatKey, KeyFingerprint};

/// Bytes before the ciphertext: `key_fingerprint` (8) ‖ `msg_key` (16).
pub const HEADER_LEN: usize = 8 + MSG_KEY_LEN;
/// The shortest acceptable wire: the header and one AES block.
pub const MIN_WIRE_LEN: usize = HEADER_LEN + BLOCK_LEN;
/// Bytes of the `le_u32(L)` length prefix.
pub const LENGTH_PREFIX_LEN: usize = 4;
/// The least MTProto 2.0 padding.
pub const V2_MIN_PADDING: usize = 12;
/// The most MTProto 2.0 padding.
pub const V2_MAX_PADDING: usize = 1024;

/// The encryption scheme of one message (SPEC §2.5 says when to use which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Version {
    /// MTProto 1.0: SHA-1 `msg_key` and KDF, minimal padding. Deprecated, below layer 73.
    V1,
    /// MTProto 2.0: SHA-256, 12..=1024 bytes of padding, direction-dependent keys.
    V2,
}

/// Who **sent** a message (the chat's [`Side`]s). It matters only for MTProto 2.0, where it
/// selects `x`. A receiver passes the *other* side: the creator opens with
/// `Side::Participant`, the participant with `Side::Creator`.
pub use crate::side::Side;

/// Why TL bytes could not be sealed. Always a caller bug: the TL layer or the CLI handed
/// over something the protocol cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// TL serialization always produces a multiple of 4 bytes.
    #[error("TL bytes must be a multiple of 4 long, got {len}")]
    TlNotMultipleOf4 { len: usize },
    /// The receiver rejects `L = 0` (MTProto 2.0 requires it; an empty TL object does not exist).
    #[error("there is no empty TL object to seal")]
    EmptyTl,
    /// `L` is a TL `int`.
    #[error("TL bytes must fit a 32-bit length, got {len}")]
    TlTooLong { len: usize },
    /// MTProto 1.0 takes exactly the minimal padding to a multiple of 16.
    #[error("MTProto 1.0 padding must be exactly {expected} bytes here, got {got}")]
    V1PaddingNotMinimal { got: usize, expected: usize },
    /// MTProto 2.0 padding is 12..=1024 bytes.
    #[error("MTProto 2.0 padding must be 12..=1024 bytes, got {got}")]
    V2PaddingOutOfRange { got: usize },
    /// MTProto 2.0 padding must bring the plaintext to whole AES blocks.
    #[error("padded plaintext must be a multiple of 16 bytes, got {padded_len}")]
    PaddedNotBlockAligned { padded_len: usize },
}

/// Why a received wire blob was refused, and what the chat must do about it (SPEC §2.2,
/// §2.3, §2.6).
///
/// Two reactions exist. A message whose `key_fingerprint` names no key we hold is
/// **ignored**. A message under a known key that fails any later check means the peer (or
/// someone in between) broke the protocol: tdlib treats it as **fatal** and closes the
/// chat. The one exception is trying several versions for one message (below layer 73 the
/// receiver tries v1 and v2; see [`open_any`]): a failure under the first is a reason to
/// try the next, and only the last failure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Shorter than header + one block; there may not even be a fingerprint. Ignore.
    #[error("an encrypted message is at least {min} bytes, got {got}")]
    TooShort { got: usize, min: usize },
    /// Not this key's fingerprint. Ignore it, or look the fingerprint up among the other
    /// keys of the chat (the pending or previous PFS key, §4) and open with that one.
    #[error("key_fingerprint {got} does not name this key ({expected})")]
    UnknownFingerprint {
        got: KeyFingerprint,
        expected: KeyFingerprint,
    },
    /// The ciphertext is not whole AES blocks. Fatal for the chat (a known key, a bad length).
    #[error("ciphertext must be a multiple of 16 bytes, got {len}")]
    CiphertextNotBlockAligned { len: usize },
    /// The recomputed `msg_key` differs: wrong version or side, tampering, or a peer bug.
    /// Fatal for the chat, after every version worth trying has failed.
    #[error("msg_key does not match the decrypted message")]
    MsgKeyMismatch,
    /// The decrypted length `L` is not a multiple of 4. Fatal for the chat.
    #[error("decrypted length {length} is not a multiple of 4")]
    LengthNotMultipleOf4 { length: u32 },
    /// The decrypted length `L` is more than the decrypted bytes hold. Fatal for the chat.
    #[error("decrypted length {length} exceeds the {available} bytes after the length prefix")]
    LengthExceedsPayload { length: u32, available: usize },
    /// `L = 0`: nothing inside. Fatal for the chat.
    #[error("decrypted length is 0")]
    EmptyMessage,
    /// MTProto 1.0 allows only the minimal 0..=15 padding bytes (tdlib's exact length rule
    /// `len(wire) == 24 + ((4 + L + 15) & !15)`). Fatal for the chat.
    #[error("MTProto 1.0 padding must be {expected} bytes, got {padding}")]
    V1PaddingNotMinimal { padding: usize, expected: usize },
    /// MTProto 2.0 padding outside 12..=1024 bytes. Fatal for the chat.
    #[error("MTProto 2.0 padding must be 12..=1024 bytes, got {padding}")]
    V2PaddingOutOfRange { padding: usize },
}

/// Every attempt of [`open_any`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenAnyError {
    /// The blob failed before any version-specific step (too short, unknown fingerprint,
    /// unaligned ciphertext): every attempt would fail the same way.
    #[error(transparent)]
    Envelope(OpenError),
    /// Each version and side was tried; here is why each one failed.
    #[error(
        "no version opened it (v1: {v1}; v2 from creator: {v2_creator}; \
         v2 from participant: {v2_participant})"
    )]
    NoVersionOpened {
        v1: OpenError,
        v2_creator: OpenError,
        v2_participant: OpenError,
    },
}

/// A sealed message, with the intermediate values shown for teaching.
#[derive(Debug, Clone)]
pub struct Sealed {
    wire: Vec<u8>,
    msg_key: MsgKey,
    aes_key_iv: AesKeyIv,
    padded: Vec<u8>,
}

impl Sealed {
    /// `key_fingerprint ‖ msg_key ‖ ciphertext`: the `data` to send.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    pub fn into_wire(self) -> Vec<u8> {
        self.wire
    }

    pub fn msg_key(&self) -> &MsgKey {
        &self.msg_key
    }

    /// The per-message AES key and IV (secret; shown only for teaching).
    pub fn aes_key_iv(&self) -> &AesKeyIv {
        &self.aes_key_iv
    }

    /// `le_u32(L) ‖ TL ‖ padding`, before encryption.
    pub fn padded_plaintext(&self) -> &[u8] {
        &self.padded
    }
}

/// An opened message: the TL bytes, with the intermediate values shown for teaching.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The whole decrypted buffer, `le_u32(L) ‖ TL ‖ padding`.
    padded: Vec<u8>,
    tl_len: usize,
    msg_key: MsgKey,
    aes_key_iv: AesKeyIv,
}

impl Opened {
    /// The TL bytes (`L` of them), ready for the TL decoder.
    pub fn tl(&self) -> &[u8] {
        &self.padded[LENGTH_PREFIX_LEN..LENGTH_PREFIX_LEN + self.tl_len]
    }

    pub fn into_tl(mut self) -> Vec<u8> {
        self.padded.truncate(LENGTH_PREFIX_LEN + self.tl_len);
        self.padded.drain(..LENGTH_PREFIX_LEN);
        self.padded
    }

    pub fn msg_key(&self) -> &MsgKey {
        &self.msg_key
    }

    /// The per-message AES key and IV (secret; shown only for teaching).
    pub fn aes_key_iv(&self) -> &AesKeyIv {
        &self.aes_key_iv
    }

    /// How many padding bytes followed the TL bytes.
    pub fn padding_len(&self) -> usize {
        self.padded.len() - LENGTH_PREFIX_LEN - self.tl_len
    }

    /// The whole decrypted buffer, `le_u32(L) ‖ TL ‖ padding`.
    pub fn padded_plaintext(&self) -> &[u8] {
        &self.padded
    }
}

/// Seals TL bytes with fresh random padding.
///
/// Padding amounts: MTProto 1.0 takes the minimal 0..=15 bytes. MTProto 2.0 follows
/// tdlib, which hides the message length in buckets: `4 + L + 12` is rounded up to a
/// multiple of 16 and then to the first of 64, 128, 192, 256, 384, 512, 768, 1024, 1280
/// bytes, or above 1280 to `1280 + k·448`; that always leaves 12..=1024 padding bytes.
///
/// `sender` is who sends (it selects MTProto 2.0's `x`); MTProto 1.0 ignores it.
pub fn seal(
    key: &ChatKey,
    version: Version,
    sender: Side,
    tl: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, SealError> {
    check_tl(tl)?;
    let plaintext_len = LENGTH_PREFIX_LEN + tl.len();
    let padding_len = match version {
        Version::V1 => v1_padding_len(plaintext_len),
        Version::V2 => v2_padding_len(plaintext_len),
    };
    let mut padding = vec![0u8; padding_len];
    rng.fill_bytes(&mut padding);
    Ok(seal_with_padding(key, version, sender, tl, &padding)?.into_wire())
}

/// Seals TL bytes with the given padding, for reproducible output (vectors, the CLI's
/// `encode --padding`). The padding must obey the version's rule.
pub fn seal_with_padding(
    key: &ChatKey,
    version: Version,
    sender: Side,
    tl: &[u8],
    padding: &[u8],
) -> Result<Sealed, SealError> {
    let length = check_tl(tl)?;
    let plaintext_len = LENGTH_PREFIX_LEN + tl.len();
    let padded_len = plaintext_len + padding.len();
    match version {
        Version::V1 => {
            let expected = v1_padding_len(plaintext_len);
            if padding.len() != expected {
                return Err(SealError::V1PaddingNotMinimal {
                    got: padding.len(),
                    expected,
                });
            }
        }
        Version::V2 => {
            if !(V2_MIN_PADDING..=V2_MAX_PADDING).contains(&padding.len()) {
                return Err(SealError::V2PaddingOutOfRange { got: padding.len() });
            }
            if !padded_len.is_multiple_of(BLOCK_LEN) {
                return Err(SealError::PaddedNotBlockAligned { padded_len });
            }
        }
    }

    // plaintext = le_u32(L) ‖ TL;  padded = plaintext ‖ padding
    let mut padded = Vec::with_capacity(padded_len);
    padded.extend_from_slice(&length.to_le_bytes());
    padded.extend_from_slice(tl);
    padded.extend_from_slice(padding);

    let (msg_key, aes_key_iv) = match version {
        Version::V1 => {
            let msg_key = msg_key::v1::compute(&padded[..plaintext_len]);
            (msg_key, kdf::v1::derive(key, &msg_key))
        }
        Version::V2 => {
            let msg_key = msg_key::v2::compute(key, sender.x(), &padded);
            (msg_key, kdf::v2::derive(key, &msg_key, sender.x()))
        }
    };

    // wire = key_fingerprint ‖ msg_key ‖ AES-256-IGE(aes_key, aes_iv, padded)
    let mut wire = Vec::with_capacity(HEADER_LEN + padded_len);
    wire.extend_from_slice(&key.fingerprint().to_wire_bytes());
    wire.extend_from_slice(msg_key.as_bytes());
    wire.extend_from_slice(&padded);
    ige::encrypt_in_place(aes_key_iv.key(), aes_key_iv.iv(), &mut wire[HEADER_LEN..])
        .map_err(|_| SealError::PaddedNotBlockAligned { padded_len })?;

    Ok(Sealed {
        wire,
        msg_key,
        aes_key_iv,
        padded,
    })
}

/// Opens a wire blob sealed with `key` under `version` by `sender`, with every check of
/// SPEC §2.2 (v1) or §2.3 (v2).
///
/// Steps, each with its error:
/// 1. at least 24 + 16 bytes ([`OpenError::TooShort`]);
/// 2. `key_fingerprint` names `key` ([`OpenError::UnknownFingerprint`]);
/// 3. the ciphertext is whole blocks ([`OpenError::CiphertextNotBlockAligned`]);
/// 4. derive `aes_key`/`aes_iv` from `msg_key`, decrypt, read `L`;
/// 5. recompute `msg_key` and compare in constant time ([`OpenError::MsgKeyMismatch`]).
///    v2 hashes the whole decrypted buffer. v1 hashes `4 + L` bytes, or — like tdlib —
///    the whole buffer when `L` is unusable, so a bad length costs the same hash and compare;
/// 6. `L % 4 == 0`, `L` fits, `L > 0`, and the padding rule of the version.
pub fn open(
    key: &ChatKey,
    version: Version,
    sender: Side,
    wire: &[u8],
) -> Result<Opened, OpenError> {
    let envelope = Envelope::check(key, wire)?;
    envelope.open(key, version, sender)
}

/// Opens a wire blob without knowing how it was sealed: tries MTProto 1.0, then 2.0 as
/// sent by the creator (x = 0), then 2.0 as sent by the participant (x = 8), and says which
/// one worked. `Option<Side>` is `None` for MTProto 1.0, where the sender cannot be told.
///
/// For tools (the `decode` CLI). A chat knows its peer's side and should call [`open`].
pub fn open_any(
    key: &ChatKey,
    wire: &[u8],
) -> Result<(Opened, Version, Option<Side>), OpenAnyError> {
    let envelope = Envelope::check(key, wire).map_err(OpenAnyError::Envelope)?;
    let v1 = match envelope.open(key, Version::V1, Side::Creator) {
        Ok(opened) => return Ok((opened, Version::V1, None)),
        Err(error) => error,
    };
    let v2_creator = match envelope.open(key, Version::V2, Side::Creator) {
        Ok(opened) => return Ok((opened, Version::V2, Some(Side::Creator))),
        Err(error) => error,
    };
    let v2_participant = match envelope.open(key, Version::V2, Side::Participant) {
        Ok(opened) => return Ok((opened, Version::V2, Some(Side::Participant))),
        Err(error) => error,
    };
    Err(OpenAnyError::NoVersionOpened {
        v1,
        v2_creator,
        v2_participant,
    })
}

/// The `key_fingerprint` at the start of a wire blob, to pick the key to open it with.
/// `None` if the blob is shorter than the fingerprint.
pub fn key_fingerprint(wire: &[u8]) -> Option<KeyFingerprint> {
    let bytes: [u8; 8] = wire.get(..8)?.try_into().ok()?;
    Some(KeyFingerprint::from_wire_bytes(bytes))
}

/// A wire blob that passed the version-independent checks (steps 1–3 of [`open`]): the
/// proof value the decrypting step requires.
struct Envelope<'a> {
    msg_key: MsgKey,
    ciphertext: &'a [u8],
}

impl<'a> Envelope<'a> {
    fn check(key: &ChatKey, wire: &'a [u8]) -> Result<Self, OpenError> {
        if wire.len() < MIN_WIRE_LEN {
            return Err(OpenError::TooShort {
                got: wire.len(),
                min: MIN_WIRE_LEN,
            });
        }
        let (header, ciphertext) = wire.split_at(HEADER_LEN);
        let (fingerprint, msg_key) = header.split_at(8);

        let got = key_fingerprint(fingerprint).ok_or(OpenError::TooShort {
            got: wire.len(),
            min: MIN_WIRE_LEN,
        })?;
        let expected = key.fingerprint();
        if got != expected {
            return Err(OpenError::UnknownFingerprint { got, expected });
        }
        if ciphertext.len() % BLOCK_LEN != 0 {
            return Err(OpenError::CiphertextNotBlockAligned {
                len: ciphertext.len(),
            });
        }
        let mut msg_key_bytes = [0u8; MSG_KEY_LEN];
        msg_key_bytes.copy_from_slice(msg_key);
        Ok(Self {
            msg_key: MsgKey::from_bytes(msg_key_bytes),
            ciphertext,
        })
    }

    fn open(&self, key: &ChatKey, version: Version, sender: Side) -> Result<Opened, OpenError> {
        let x = sender.x();
        let aes_key_iv = match version {
            Version::V1 => kdf::v1::derive(key, &self.msg_key),
            Version::V2 => kdf::v2::derive(key, &self.msg_key, x),
        };
        let mut padded = self.ciphertext.to_vec();
        ige::decrypt_in_place(aes_key_iv.key(), aes_key_iv.iv(), &mut padded)
            .map_err(|e| OpenError::CiphertextNotBlockAligned { len: e.len })?;

        // `padded` is at least one block (checked above), so the prefix is there.
        let mut prefix = [0u8; LENGTH_PREFIX_LEN];
        prefix.copy_from_slice(&padded[..LENGTH_PREFIX_LEN]);
        let length = u32::from_le_bytes(prefix);
        let available = padded.len() - LENGTH_PREFIX_LEN;
        // `Some(L)` when L is a usable TL length inside the buffer.
        let tl_len = usize::try_from(length)
            .ok()
            .filter(|&l| l % 4 == 0 && l <= available);

        let computed = match version {
            // msg_key = SHA1(le_u32(L) ‖ TL)[4..20]; the whole buffer when L is unusable.
            Version::V1 => {
                let hashed = tl_len.map_or(padded.len(), |l| LENGTH_PREFIX_LEN + l);
                msg_key::v1::compute(&padded[..hashed])
            }
            // msg_key = SHA256(key[88+x .. 120+x] ‖ padded)[8..24]
            Version::V2 => msg_key::v2::compute(key, x, &padded),
        };
        if !bool::from(computed.ct_eq(&self.msg_key)) {
            return Err(OpenError::MsgKeyMismatch);
        }

        if length % 4 != 0 {
            return Err(OpenError::LengthNotMultipleOf4 { length });
        }
        let tl_len = tl_len.ok_or(OpenError::LengthExceedsPayload { length, available })?;
        if tl_len == 0 {
            return Err(OpenError::EmptyMessage);
        }
        let padding = available - tl_len;
        match version {
            Version::V1 => {
                // len(wire) == 24 + ((4 + L + 15) & !15)
                let expected = v1_padding_len(LENGTH_PREFIX_LEN + tl_len);
                if padding != expected {
                    return Err(OpenError::V1PaddingNotMinimal { padding, expected });
                }
            }
            Version::V2 => {
                if !(V2_MIN_PADDING..=V2_MAX_PADDING).contains(&padding) {
                    return Err(OpenError::V2PaddingOutOfRange { padding });
                }
            }
        }

        Ok(Opened {
            padded,
            tl_len,
            msg_key: self.msg_key,
            aes_key_iv,
        })
    }
}

/// `L` as the TL `int` of the length prefix, after the checks every sealed TL must pass.
fn check_tl(tl: &[u8]) -> Result<u32, SealError> {
    if !tl.len().is_multiple_of(4) {
        return Err(SealError::TlNotMultipleOf4 { len: tl.len() });
    }
    if tl.is_empty() {
        return Err(SealError::EmptyTl);
    }
    i32::try_from(tl.len())
        .map(|length| length.unsigned_abs())
        .map_err(|_| SealError::TlTooLong { len: tl.len() })
}

/// MTProto 1.0: the minimal padding to a multiple of 16, 0..=15 bytes.
fn v1_padding_len(plaintext_len: usize) -> usize {
    plaintext_len.next_multiple_of(BLOCK_LEN) - plaintext_len
}

/// MTProto 2.0: tdlib's length buckets (see [`seal`]): how many padding bytes follow
/// `plaintext_len` bytes. Always 12..=1024, and the total is whole AES blocks. The cloud
/// messages of `secretchat-mtproto` pad the same way (tdlib `do_calc_crypto_size2_basic`).
pub fn v2_padding_len(plaintext_len: usize) -> usize {
    const BUCKETS: [usize; 9] = [64, 128, 192, 256, 384, 512, 768, 1024, 1280];
    const STEP_ABOVE: usize = 448;
    let min = (plaintext_len + V2_MIN_PADDING).next_multiple_of(BLOCK_LEN);
    let total = match BUCKETS.iter().find(|&&bucket| bucket >= min) {
        Some(&bucket) => bucket,
        None => 1280 + (min - 1280).next_multiple_of(STEP_ABOVE),
    };
    total - plaintext_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_padding_buckets_always_give_12_to_1024_bytes_and_whole_blocks() {
        for plaintext_len in (8..20_000).step_by(4) {
            let padding = v2_padding_len(plaintext_len);
            assert!(
                (V2_MIN_PADDING..=V2_MAX_PADDING).contains(&padding),
                "{plaintext_len}: {padding}"
            );
            assert_eq!((plaintext_len + padding) % BLOCK_LEN, 0);
        }
    }

    #[test]
    fn v2_padding_rounds_to_the_tdlib_buckets() {
        assert_eq!(8 + v2_padding_len(8), 64);
        assert_eq!(68 + v2_padding_len(68), 128);
        assert_eq!(800 + v2_padding_len(800), 1024);
        assert_eq!(1300 + v2_padding_len(1300), 1280 + 448);
    }

    #[test]
    fn v1_padding_is_the_minimum_to_a_whole_block() {
        assert_eq!([16, 20, 28, 32].map(v1_padding_len), [0, 12, 4, 0]);
    }

    #[test]
    fn key_fingerprint_reads_the_first_eight_bytes() {
        assert_eq!(key_fingerprint(&[1; 7]), None);
        assert_eq!(
            key_fingerprint(&[1, 0, 0, 0, 0, 0, 0, 0, 9]),
            Some(KeyFingerprint::from_i64(1))
        );
    }
}
