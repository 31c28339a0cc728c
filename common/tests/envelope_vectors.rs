//! Known-answer tests of the envelope: `vectors/vectors.json` (`mtproto1_encrypt`,
//! `mtproto2_encrypt`, `decrypt_negative`, `decrypt_positive`) and the research fixtures of
//! `published-vectors.md` §2.3.

mod crypto_support;

use crypto_support::{vector, vectors, Vector};
use secretchat_common::envelope::{self, OpenAnyError, OpenError, Side, Version};
use secretchat_common::ChatKey;

fn sender_of(v: &Vector) -> Side {
    if v.input_bool("sender_is_originator") {
        Side::Creator
    } else {
        Side::Participant
    }
}

/// Decrypt vectors name the *receiver*; the sender is the other side.
fn sender_for_receiver(v: &Vector) -> Side {
    if v.input_bool("receiver_is_originator") {
        Side::Participant
    } else {
        Side::Creator
    }
}

/// Checks the outputs a vector has (not every vector records every intermediate value).
fn assert_optional_output(v: &Vector, field: &str, got: &[u8]) {
    if v.outputs.get(field).is_some() {
        assert_eq!(
            hex::encode(got),
            hex::encode(v.output_hex(field)),
            "{}: {field}",
            v.name
        );
    }
}

fn assert_sealed_matches(v: &Vector, sealed: &envelope::Sealed) {
    assert_eq!(
        hex::encode(sealed.wire()),
        hex::encode(v.output_hex("wire")),
        "{}",
        v.name
    );
    assert_optional_output(v, "key_fingerprint", &sealed.wire()[..8]);
    assert_optional_output(v, "msg_key", sealed.msg_key().as_bytes());
    assert_optional_output(v, "aes_key", sealed.aes_key_iv().key());
    assert_optional_output(v, "aes_iv", sealed.aes_key_iv().iv());
    assert_optional_output(v, "ciphertext", &sealed.wire()[24..]);
    assert_optional_output(
        v,
        "plaintext_with_len_and_padding",
        sealed.padded_plaintext(),
    );
}

#[test]
fn mtproto1_vectors_seal_to_the_exact_wire_from_either_side() {
    for v in vectors("mtproto1_encrypt") {
        let tl = v.input_hex("plaintext_tl");
        let padding = v.input_hex("padding");
        for sender in [Side::Creator, Side::Participant] {
            let sealed =
                envelope::seal_with_padding(&v.key(), Version::V1, sender, &tl, &padding).unwrap();
            assert_sealed_matches(&v, &sealed);
            assert_optional_output(
                &v,
                "plaintext_with_len",
                &sealed.padded_plaintext()[..4 + tl.len()],
            );
        }
    }
}

#[test]
fn mtproto1_vectors_open_to_the_tl_bytes() {
    for v in vectors("mtproto1_encrypt") {
        let wire = v.output_hex("wire");
        let opened = envelope::open(&v.key(), Version::V1, Side::Creator, &wire).unwrap();
        assert_eq!(opened.tl(), v.input_hex("plaintext_tl"), "{}", v.name);
        assert_eq!(
            opened.padding_len(),
            v.input_hex("padding").len(),
            "{}",
            v.name
        );
        assert_eq!(
            opened.aes_key_iv().key().as_slice(),
            v.output_hex("aes_key")
        );

        let (any, version, side) = envelope::open_any(&v.key(), &wire).unwrap();
        assert_eq!((version, side), (Version::V1, None), "{}", v.name);
        assert_eq!(any.into_tl(), v.input_hex("plaintext_tl"), "{}", v.name);
    }
}

#[test]
fn mtproto2_vectors_seal_to_the_exact_wire() {
    for v in vectors("mtproto2_encrypt") {
        let sealed = envelope::seal_with_padding(
            &v.key(),
            Version::V2,
            sender_of(&v),
            &v.input_hex("plaintext_tl"),
            &v.input_hex("padding"),
        )
        .unwrap();
        assert_sealed_matches(&v, &sealed);
    }
}

#[test]
fn mtproto2_vectors_open_only_under_the_senders_side() {
    for v in vectors("mtproto2_encrypt") {
        let wire = v.output_hex("wire");
        let sender = sender_of(&v);
        let opened = envelope::open(&v.key(), Version::V2, sender, &wire).unwrap();
        assert_eq!(opened.tl(), v.input_hex("plaintext_tl"), "{}", v.name);
        assert_eq!(
            opened.padding_len(),
            v.input_hex("padding").len(),
            "{}",
            v.name
        );
        assert_eq!(opened.msg_key().as_bytes().as_slice(), &wire[8..24]);

        assert_eq!(
            envelope::open(&v.key(), Version::V2, sender.peer(), &wire).unwrap_err(),
            OpenError::MsgKeyMismatch,
            "{}",
            v.name
        );
        assert_eq!(
            envelope::open(&v.key(), Version::V1, sender, &wire).unwrap_err(),
            OpenError::MsgKeyMismatch,
            "{}",
            v.name
        );
        let (_, version, side) = envelope::open_any(&v.key(), &wire).unwrap();
        assert_eq!((version, side), (Version::V2, Some(sender)), "{}", v.name);
    }
}

fn open_negative(name: &str) -> (Vector, Result<envelope::Opened, OpenError>) {
    let v = vector("decrypt_negative", name);
    assert_eq!(v.outputs["expected_per_spec"], "reject", "{name}");
    let result = envelope::open(
        &v.key(),
        Version::V2,
        sender_for_receiver(&v),
        &v.input_hex("wire"),
    );
    (v, result)
}

#[test]
fn negative_v2_bad_msg_key_is_a_msg_key_mismatch() {
    let (_, result) = open_negative("v2_bad_msg_key");
    assert_eq!(result.unwrap_err(), OpenError::MsgKeyMismatch);
}

#[test]
fn negative_v2_reflected_own_message_fails_under_the_peers_side() {
    let (v, result) = open_negative("v2_reflected_own_message");
    assert_eq!(result.unwrap_err(), OpenError::MsgKeyMismatch);
    // It is the receiver's own message, so it does open under the receiver's own side:
    // only a caller that passes the wrong side (or `open_any`) would accept it.
    let wire = v.input_hex("wire");
    assert!(envelope::open(&v.key(), Version::V2, Side::Creator, &wire).is_ok());
    let (_, version, side) = envelope::open_any(&v.key(), &wire).unwrap();
    assert_eq!((version, side), (Version::V2, Some(Side::Creator)));
}

#[test]
fn negative_v2_padding_4_bytes_is_out_of_range() {
    let (_, result) = open_negative("v2_padding_4_bytes");
    assert_eq!(
        result.unwrap_err(),
        OpenError::V2PaddingOutOfRange { padding: 4 }
    );
}

#[test]
fn negative_v2_length_exceeds_payload_is_reported_with_both_numbers() {
    let (v, result) = open_negative("v2_length_exceeds_payload");
    let available = v.input_hex("wire").len() - 24 - 4;
    assert_eq!(available, 76);
    assert_eq!(
        result.unwrap_err(),
        OpenError::LengthExceedsPayload {
            length: 140,
            available
        }
    );
}

#[test]
fn negative_v2_in_seq_no_wrong_parity_opens_and_is_left_to_the_seq_no_check() {
    let (v, result) = open_negative("v2_in_seq_no_wrong_parity");
    let opened = result.unwrap();
    let tl = opened.tl();
    assert_eq!(tl, v.input_hex("plaintext_tl"));
    // decryptedMessageLayer: id(4) ‖ random_bytes (1 + 15) ‖ layer(4) ‖ in_seq_no(4) ‖ …
    let in_seq_no = u32::from_le_bytes(tl[24..28].try_into().unwrap());
    assert_eq!(in_seq_no % 2, 1, "the creator's in_seq_no must be even");
}

#[test]
fn negative_v1_padding_over_15_bytes_is_not_minimal() {
    let v = vector("decrypt_negative", "v1_padding_over_15_bytes");
    let wire = v.input_hex("wire");
    assert_eq!(
        envelope::open(&v.key(), Version::V1, sender_for_receiver(&v), &wire).unwrap_err(),
        OpenError::V1PaddingNotMinimal {
            padding: 28,
            expected: 12
        }
    );
}

#[test]
fn every_negative_vector_is_refused_by_open_any_unless_only_the_chat_can_tell() {
    for v in vectors("decrypt_negative") {
        let result = envelope::open_any(&v.key(), &v.input_hex("wire"));
        match v.name.as_str() {
            // Authentic messages: only the chat state machine can refuse them.
            "v2_reflected_own_message" | "v2_in_seq_no_wrong_parity" => {
                assert!(result.is_ok(), "{}", v.name)
            }
            _ => assert!(
                matches!(result, Err(OpenAnyError::NoVersionOpened { .. })),
                "{}: {result:?}",
                v.name
            ),
        }
    }
}

#[test]
fn positive_control_vector_opens_to_its_tl() {
    for v in vectors("decrypt_positive") {
        assert_eq!(v.outputs["expected_per_spec"], "accept");
        let opened = envelope::open(
            &v.key(),
            Version::V2,
            sender_for_receiver(&v),
            &v.input_hex("wire"),
        )
        .unwrap();
        assert_eq!(opened.tl(), v.input_hex("plaintext_tl"), "{}", v.name);
    }
}

// Research fixtures (published-vectors.md §2.2/§2.3): the "Test12" plaintext of a real
// client, sealed under the DH example key.

const FIXTURE_KEY: &str = "371f7973eb625638149b6825308607a6505ab453b9972084b29c2d03f0f742e4354b0867d302cca7cc036cd8290f3319ffb02e2c2d650305c76b1b6e70f3cc48f0becaeb767b5eead8251177fffd4395308f118c8b64ebbaec972236f3ffcd92fa4f7d17c730ca36c55f0fa318132b2df4ae6c9c403814842f35a88e99c8cb8c85b095c8ac46c68e1b00b7719c64380232cdd446549d23c62e172a35eb7a2338cf9b5ccf31117f1fcccc3c939b2527fe884ba0bcb6debb8e381bc4c3a7f84c798a152895529cfd819da58ca3ab6aba48c19d1b0d3ec5a5d1d057a538423b8ef8604b646bc314ea82854258f6986fce89b040fb4e907d631438ec26264d7b5f3b";
const FIXTURE_TL: &str = "8917e31b0ff1c770b657c36af705bdaca4be2c0b2e0000000100000062000000de91b0360000000038507c7cd5fa6f7c000000000654657374313200";

fn fixture_key() -> ChatKey {
    ChatKey::from_bytes(&hex::decode(FIXTURE_KEY).unwrap()).unwrap()
}

#[test]
fn research_fixture_v1_seals_test12_without_padding() {
    let tl = hex::decode(FIXTURE_TL).unwrap();
    let sealed =
        envelope::seal_with_padding(&fixture_key(), Version::V1, Side::Participant, &tl, &[])
            .unwrap();
    assert_eq!(
        sealed.msg_key().to_string(),
        "9b2e5366f384e69dedd5934ff7f81462"
    );
    assert_eq!(
        hex::encode(sealed.aes_key_iv().key()),
        "2e9a5a564f2595b30c222c5cb6899d69e95e3bbacfb31a790fe0e6b613018729"
    );
    assert_eq!(hex::encode(sealed.wire()), "5daf5d647eac289f9b2e5366f384e69dedd5934ff7f8146230f9db5367f4b16a6a8c31b987f5901312177cdf91eba6c3daf2d3ce8d2d83352c48e0d73bce910adc4179e5219bcff8bfafc3801c098c5ddb9f3eca9e7d9ebb");
}

#[test]
fn research_fixture_v2_seals_test12_in_both_directions() {
    let tl = hex::decode(FIXTURE_TL).unwrap();
    let padding: Vec<u8> = (0..16).collect();
    let cases = [
        (Side::Creator, "e6a65cfb7dc45c229971184c9d155c22", "5daf5d647eac289fe6a65cfb7dc45c229971184c9d155c22de19de8107904e16d67092c7be3499f8e0418f58809be49033fefeb09863c7e05edc2969b407095238d89ceb850d79f03177a1bff2595f45a3d34eb20a2be3ed6d2c7a8439e69d163145b4c9d7f6c29c"),
        (Side::Participant, "b80986453aae931d7e358bdf2e7a4f73", "5daf5d647eac289fb80986453aae931d7e358bdf2e7a4f735c15dad1e6ba06b521c6e729a65e81ae540179ac5e8ab7ad3eaf4b11a6cffa3fdcb2c29d2174f9e2197e8e2057d632dac66184894097b255870075c9e1c2176c3e500f47f8f548fe43cb0ffa09626051"),
    ];
    for (sender, msg_key, wire) in cases {
        let sealed =
            envelope::seal_with_padding(&fixture_key(), Version::V2, sender, &tl, &padding)
                .unwrap();
        assert_eq!(sealed.msg_key().to_string(), msg_key, "{sender:?}");
        assert_eq!(hex::encode(sealed.wire()), wire, "{sender:?}");
    }
}
