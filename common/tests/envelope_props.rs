//! Property and tampering tests of the envelope.
//!
//! The tampering tests build wires by hand from the public primitives (`msg_key`, `kdf`,
//! `ige`) so that the `msg_key` is *valid* and each length rule is the one thing broken;
//! each asserts the exact `OpenError`.

use proptest::collection::vec;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::crypto::{ige, kdf, msg_key};
use secretchat_common::envelope::{
    self, OpenAnyError, OpenError, SealError, Side, Version, MIN_WIRE_LEN,
};
use secretchat_common::ChatKey;

/// A key whose every byte differs from its neighbours, so the x = 0 and x = 8 slices differ.
fn key(seed: u8) -> ChatKey {
    let bytes: [u8; 256] = std::array::from_fn(|i| (i as u8).wrapping_mul(31) ^ seed);
    ChatKey::from_bytes(&bytes).unwrap()
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(7)
}

/// TL-shaped bytes: a non-zero multiple of 4, up to 2 KiB.
fn tl_bytes() -> impl Strategy<Value = Vec<u8>> {
    (1usize..=512).prop_flat_map(|words| vec(any::<u8>(), words * 4))
}

fn version_and_side() -> impl Strategy<Value = (Version, Side)> {
    prop_oneof![
        Just((Version::V1, Side::Creator)),
        Just((Version::V1, Side::Participant)),
        Just((Version::V2, Side::Creator)),
        Just((Version::V2, Side::Participant)),
    ]
}

proptest! {
    #[test]
    fn open_returns_what_seal_sealed(
        (version, sender) in version_and_side(),
        tl in tl_bytes(),
        seed: u64,
    ) {
        let key = key(3);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let wire = envelope::seal(&key, version, sender, &tl, &mut rng).unwrap();
        prop_assert_eq!(wire.len() % 16, 24 % 16);
        let opened = envelope::open(&key, version, sender, &wire).unwrap();
        prop_assert_eq!(opened.tl(), tl.as_slice());
        match version {
            Version::V1 => prop_assert!(opened.padding_len() <= 15),
            Version::V2 => prop_assert!((12..=1024).contains(&opened.padding_len())),
        }
        let (any, any_version, _) = envelope::open_any(&key, &wire).unwrap();
        prop_assert_eq!(any_version, version);
        prop_assert_eq!(any.into_tl(), tl);
    }

    #[test]
    fn any_single_bit_flip_makes_open_fail(
        (version, sender) in version_and_side(),
        tl in tl_bytes(),
        bit in any::<proptest::sample::Index>(),
    ) {
        let key = key(5);
        let mut wire = envelope::seal(&key, version, sender, &tl, &mut rng()).unwrap();
        let bit = bit.index(wire.len() * 8);
        wire[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(envelope::open(&key, version, sender, &wire).is_err());
    }

    #[test]
    fn open_never_panics_on_arbitrary_bytes_after_a_valid_fingerprint(
        tail in vec(any::<u8>(), 0..300),
    ) {
        let key = key(9);
        let mut wire = key.fingerprint().to_wire_bytes().to_vec();
        wire.extend_from_slice(&tail);
        prop_assert!(envelope::open_any(&key, &wire).is_err());
    }
}

// --- crafting wires with a valid msg_key ------------------------------------------------

/// An MTProto 2.0 wire for an arbitrary decrypted buffer, with the right `msg_key`.
fn craft_v2(key: &ChatKey, sender: Side, padded: &[u8]) -> Vec<u8> {
    let msg_key = msg_key::v2::compute(key, sender.x(), padded);
    let aes = kdf::v2::derive(key, &msg_key, sender.x());
    assemble(key, msg_key.as_bytes(), &aes, padded)
}

/// An MTProto 1.0 wire whose `msg_key` covers the first `hashed` bytes of the buffer.
fn craft_v1(key: &ChatKey, padded: &[u8], hashed: usize) -> Vec<u8> {
    let msg_key = msg_key::v1::compute(&padded[..hashed]);
    let aes = kdf::v1::derive(key, &msg_key);
    assemble(key, msg_key.as_bytes(), &aes, padded)
}

fn assemble(key: &ChatKey, msg_key: &[u8; 16], aes: &kdf::AesKeyIv, padded: &[u8]) -> Vec<u8> {
    let mut ciphertext = padded.to_vec();
    ige::encrypt_in_place(aes.key(), aes.iv(), &mut ciphertext).unwrap();
    let mut wire = key.fingerprint().to_wire_bytes().to_vec();
    wire.extend_from_slice(msg_key);
    wire.extend_from_slice(&ciphertext);
    wire
}

/// `le_u32(length) ‖ body`, where `length` need not match the body.
fn buffer(length: u32, body_len: usize) -> Vec<u8> {
    let mut padded = length.to_le_bytes().to_vec();
    padded.extend((0..body_len).map(|i| i as u8));
    padded
}

fn open_v2(wire: &[u8]) -> Result<envelope::Opened, OpenError> {
    envelope::open(&key(1), Version::V2, Side::Participant, wire)
}

fn open_v1(wire: &[u8]) -> Result<envelope::Opened, OpenError> {
    envelope::open(&key(1), Version::V1, Side::Creator, wire)
}

#[test]
fn open_rejects_a_wire_shorter_than_header_and_one_block() {
    let wire = vec![0u8; MIN_WIRE_LEN - 1];
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::TooShort { got: 39, min: 40 }
    );
    assert_eq!(
        envelope::open_any(&key(1), &wire).unwrap_err(),
        OpenAnyError::Envelope(OpenError::TooShort { got: 39, min: 40 })
    );
}

#[test]
fn open_rejects_another_keys_fingerprint_and_names_both() {
    let wire =
        envelope::seal(&key(2), Version::V2, Side::Participant, &[1; 8], &mut rng()).unwrap();
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::UnknownFingerprint {
            got: key(2).fingerprint(),
            expected: key(1).fingerprint()
        }
    );
}

#[test]
fn open_rejects_a_ciphertext_that_is_not_whole_blocks() {
    let mut wire =
        envelope::seal(&key(1), Version::V2, Side::Participant, &[1; 8], &mut rng()).unwrap();
    wire.push(0);
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::CiphertextNotBlockAligned { len: 65 }
    );
}

#[test]
fn open_rejects_an_altered_msg_key() {
    let mut wire =
        envelope::seal(&key(1), Version::V1, Side::Creator, &[1; 8], &mut rng()).unwrap();
    wire[8] ^= 0x80;
    assert_eq!(open_v1(&wire).unwrap_err(), OpenError::MsgKeyMismatch);
}

#[test]
fn open_rejects_v2_length_not_multiple_of_4() {
    let wire = craft_v2(&key(1), Side::Participant, &buffer(5, 28));
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::LengthNotMultipleOf4 { length: 5 }
    );
}

#[test]
fn open_rejects_v1_length_not_multiple_of_4_even_with_a_whole_buffer_msg_key() {
    // With an unusable L the receiver hashes the whole buffer, like tdlib.
    let padded = buffer(6, 12);
    let wire = craft_v1(&key(1), &padded, padded.len());
    assert_eq!(
        open_v1(&wire).unwrap_err(),
        OpenError::LengthNotMultipleOf4 { length: 6 }
    );
}

#[test]
fn open_rejects_v2_length_beyond_the_decrypted_bytes() {
    let wire = craft_v2(&key(1), Side::Participant, &buffer(1000, 44));
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::LengthExceedsPayload {
            length: 1000,
            available: 44
        }
    );
}

#[test]
fn open_rejects_v1_length_beyond_the_decrypted_bytes() {
    let padded = buffer(u32::MAX - 3, 28);
    let wire = craft_v1(&key(1), &padded, padded.len());
    assert_eq!(
        open_v1(&wire).unwrap_err(),
        OpenError::LengthExceedsPayload {
            length: u32::MAX - 3,
            available: 28
        }
    );
}

#[test]
fn open_rejects_an_empty_v2_message() {
    let wire = craft_v2(&key(1), Side::Participant, &buffer(0, 28));
    assert_eq!(open_v2(&wire).unwrap_err(), OpenError::EmptyMessage);
}

#[test]
fn open_rejects_an_empty_v1_message() {
    let wire = craft_v1(&key(1), &buffer(0, 12), 4);
    assert_eq!(open_v1(&wire).unwrap_err(), OpenError::EmptyMessage);
}

#[test]
fn open_rejects_v1_padding_of_a_whole_extra_block() {
    // L = 8: 12 bytes of plaintext, minimal padding 4; here 4 + 16.
    let wire = craft_v1(&key(1), &buffer(8, 8 + 20), 12);
    assert_eq!(
        open_v1(&wire).unwrap_err(),
        OpenError::V1PaddingNotMinimal {
            padding: 20,
            expected: 4
        }
    );
}

#[test]
fn open_rejects_v2_padding_under_12_bytes() {
    // L = 20: 24 bytes of plaintext, then 8 bytes of padding.
    let wire = craft_v2(&key(1), Side::Participant, &buffer(20, 28));
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::V2PaddingOutOfRange { padding: 8 }
    );
}

#[test]
fn open_rejects_v2_padding_over_1024_bytes() {
    // L = 4: 8 bytes of plaintext, then 1032 bytes of padding.
    let wire = craft_v2(&key(1), Side::Participant, &buffer(4, 4 + 1032));
    assert_eq!(
        open_v2(&wire).unwrap_err(),
        OpenError::V2PaddingOutOfRange { padding: 1032 }
    );
}

#[test]
fn open_accepts_v2_padding_at_both_bounds() {
    for padding in [12, 1024] {
        let tl_len = 16 - (4 + padding) % 16 + 16;
        let wire = craft_v2(
            &key(1),
            Side::Participant,
            &buffer(tl_len as u32, tl_len + padding),
        );
        let opened = open_v2(&wire).unwrap();
        assert_eq!(opened.padding_len(), padding);
        assert_eq!(opened.tl().len(), tl_len);
    }
}

#[test]
fn open_any_reports_why_each_version_failed() {
    let wire = craft_v2(&key(1), Side::Participant, &buffer(20, 28));
    let error = envelope::open_any(&key(1), &wire).unwrap_err();
    let OpenAnyError::NoVersionOpened {
        v1,
        v2_creator,
        v2_participant,
    } = error
    else {
        panic!("expected every version to be tried: {error:?}");
    };
    assert_eq!(v1, OpenError::MsgKeyMismatch);
    assert_eq!(v2_creator, OpenError::MsgKeyMismatch);
    assert_eq!(
        v2_participant,
        OpenError::V2PaddingOutOfRange { padding: 8 }
    );
}

#[test]
fn seal_rejects_tl_that_is_not_a_multiple_of_4() {
    assert_eq!(
        envelope::seal(&key(1), Version::V2, Side::Creator, &[1; 7], &mut rng()),
        Err(SealError::TlNotMultipleOf4 { len: 7 })
    );
}

#[test]
fn seal_rejects_empty_tl() {
    assert_eq!(
        envelope::seal(&key(1), Version::V1, Side::Creator, &[], &mut rng()),
        Err(SealError::EmptyTl)
    );
}

#[test]
fn seal_with_padding_enforces_the_v1_minimal_padding() {
    let result =
        envelope::seal_with_padding(&key(1), Version::V1, Side::Creator, &[1; 8], &[0; 20]);
    assert_eq!(
        result.unwrap_err(),
        SealError::V1PaddingNotMinimal {
            got: 20,
            expected: 4
        }
    );
}

#[test]
fn seal_with_padding_enforces_the_v2_padding_range_and_alignment() {
    let seal = |padding: &[u8]| {
        envelope::seal_with_padding(&key(1), Version::V2, Side::Creator, &[1; 8], padding)
            .map(|sealed| sealed.wire().len())
    };
    assert_eq!(
        seal(&[0; 4]),
        Err(SealError::V2PaddingOutOfRange { got: 4 })
    );
    assert_eq!(
        seal(&[0; 1036]),
        Err(SealError::V2PaddingOutOfRange { got: 1036 })
    );
    assert_eq!(
        seal(&[0; 13]),
        Err(SealError::PaddedNotBlockAligned { padded_len: 25 })
    );
    assert_eq!(seal(&[0; 20]), Ok(24 + 32));
}
