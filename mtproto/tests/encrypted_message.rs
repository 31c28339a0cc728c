//! MTProto 2.0 encrypted messages: round trips in both directions, every single-bit flip
//! refused, and each length rule with its own error on packets that carry a valid msg_key.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::crypto::{ige, kdf, msg_key};
use secretchat_mtproto::auth_key::AuthKey;
use secretchat_mtproto::message::encrypted::{
    open, seal, seal_with_padding, Direction, OpenError, SealError, MIN_PACKET_LEN,
};
use secretchat_mtproto::session::PlainMessage as Message;

fn key(seed: u8) -> AuthKey {
    let bytes: Vec<u8> = (0..256u32)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect();
    AuthKey::from_bytes(&bytes).unwrap()
}

fn message(body_words: usize) -> Message {
    Message {
        salt: 0x0102_0304_0506_0708,
        session_id: -42,
        msg_id: 0x6000_0000_0000_0004,
        seq_no: 7,
        body: (0..body_words * 4).map(|i| i as u8).collect(),
    }
}

/// A packet whose msg_key is right for `plaintext` as given, however malformed the plaintext:
/// what a sender that knows the key but breaks the length rules would send.
fn authentic_packet(key: &AuthKey, direction: Direction, plaintext: &[u8]) -> Vec<u8> {
    let x = direction.x();
    let msg_key = msg_key::v2::compute(key.as_chat_key(), x, plaintext);
    let aes = kdf::v2::derive(key.as_chat_key(), &msg_key, x);
    let mut packet = key.id().as_i64().to_le_bytes().to_vec();
    packet.extend_from_slice(msg_key.as_bytes());
    let start = packet.len();
    packet.extend_from_slice(plaintext);
    ige::encrypt_in_place(aes.key(), aes.iv(), &mut packet[start..]).unwrap();
    packet
}

/// salt..seq_no of [`message`], then the given length field, body and padding.
fn plaintext(length: i32, body_len: usize, padding: usize) -> Vec<u8> {
    let m = message(0);
    let mut plaintext = Vec::new();
    plaintext.extend(m.salt.to_le_bytes());
    plaintext.extend(m.session_id.to_le_bytes());
    plaintext.extend(m.msg_id.to_le_bytes());
    plaintext.extend(m.seq_no.to_le_bytes());
    plaintext.extend(length.to_le_bytes());
    plaintext.extend(vec![0x11; body_len + padding]);
    plaintext
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sealed_messages_open_to_the_same_five_values_in_both_directions(
        salt in any::<i64>(),
        session_id in any::<i64>(),
        msg_id in any::<i64>(),
        seq_no in any::<i32>(),
        body in prop::collection::vec(any::<[u8; 4]>(), 1..400),
        seed in any::<u64>(),
    ) {
        let key = key(seed as u8);
        let message = Message { salt, session_id, msg_id, seq_no, body: body.concat() };
        for direction in [Direction::ClientToServer, Direction::ServerToClient] {
            let packet = seal(&key, direction, &message, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
            prop_assert_eq!(&packet[..8], &key.id().as_i64().to_le_bytes()[..]);
            let opened = open(&key, direction, &packet).unwrap();
            prop_assert_eq!(&opened.message, &message);
        }
    }

    #[test]
    fn flipping_any_single_bit_makes_open_fail(
        body in prop::collection::vec(any::<[u8; 4]>(), 1..40),
        bit in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let key = key(3);
        let message = Message { body: body.concat(), ..message(0) };
        let packet = seal(&key, Direction::ClientToServer, &message, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        let bit = bit.index(packet.len() * 8);
        let mut tampered = packet.clone();
        tampered[bit / 8] ^= 1 << (bit % 8);
        let error = open(&key, Direction::ClientToServer, &tampered).unwrap_err();
        if bit < 64 {
            prop_assert!(matches!(error, OpenError::AuthKeyIdMismatch { .. }), "{:?}", error);
        } else {
            prop_assert_eq!(error, OpenError::MsgKeyMismatch);
        }
    }
}

#[test]
fn a_message_opened_in_the_wrong_direction_fails_its_msg_key() {
    let key = key(1);
    let packet = seal(
        &key,
        Direction::ServerToClient,
        &message(3),
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap();
    assert_eq!(
        open(&key, Direction::ClientToServer, &packet),
        Err(OpenError::MsgKeyMismatch)
    );
    assert_eq!(
        open(&self::key(2), Direction::ServerToClient, &packet),
        Err(OpenError::AuthKeyIdMismatch {
            got: key.id(),
            expected: self::key(2).id()
        })
    );
}

#[test]
fn padding_follows_tdlibs_size_buckets() {
    let key = key(1);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    // 24 header bytes, then the plaintext rounded up to 64, 128, ... (tdlib Transport.cpp).
    for (words, packet_len) in [(1, 24 + 64), (5, 24 + 64), (6, 24 + 128), (300, 24 + 1280)] {
        let packet = seal(&key, Direction::ServerToClient, &message(words), &mut rng).unwrap();
        assert_eq!(packet.len(), packet_len, "{words} words");
    }
}

#[test]
fn the_quick_ack_token_is_msg_key_large_with_the_top_bit() {
    let key = key(4);
    let padding = [0x22; 12];
    let m = message(1);
    let packet = seal_with_padding(&key, Direction::ClientToServer, &m, &padding).unwrap();
    let opened = open(&key, Direction::ClientToServer, &packet).unwrap();
    let mut plaintext = plaintext(4, 0, 0);
    plaintext.extend(&m.body);
    plaintext.extend(padding);
    let large =
        msg_key::v2::compute_large(key.as_chat_key(), Direction::ClientToServer.x(), &plaintext);
    let expected = u32::from_le_bytes([large[0], large[1], large[2], large[3]]) | 1 << 31;
    assert_eq!(opened.quick_ack.as_u32(), expected);
}

#[test]
fn short_and_unaligned_packets_are_refused_before_decryption() {
    let key = key(1);
    let packet = seal_with_padding(&key, Direction::ClientToServer, &message(1), &[0; 12]).unwrap();
    assert_eq!(packet.len(), MIN_PACKET_LEN);
    assert!(open(&key, Direction::ClientToServer, &packet).is_ok());
    assert_eq!(
        open(
            &key,
            Direction::ClientToServer,
            &packet[..MIN_PACKET_LEN - 1]
        ),
        Err(OpenError::TooShort {
            len: MIN_PACKET_LEN - 1,
            min: MIN_PACKET_LEN
        })
    );
    let mut long = packet.clone();
    long.push(0);
    assert_eq!(
        open(&key, Direction::ClientToServer, &long),
        Err(OpenError::CiphertextNotBlockAligned { len: 49 })
    );
}

#[test]
fn each_length_rule_is_checked_after_an_authentic_msg_key() {
    let key = key(5);
    let d = Direction::ClientToServer;
    let cases = [
        (
            plaintext(6, 8, 24),
            OpenError::LengthNotMultipleOf4 { length: 6 },
        ),
        (
            plaintext(64, 8, 24),
            OpenError::LengthExceedsPayload {
                length: 64,
                available: 32,
            },
        ),
        (
            plaintext(-4, 8, 24),
            OpenError::LengthExceedsPayload {
                length: -4,
                available: 32,
            },
        ),
        (
            plaintext(8, 8, 8),
            OpenError::PaddingOutOfRange { padding: 8 },
        ),
        (
            plaintext(4, 4, 1036),
            OpenError::PaddingOutOfRange { padding: 1036 },
        ),
    ];
    for (plaintext, expected) in cases {
        assert_eq!(plaintext.len() % 16, 0, "{expected:?}");
        let packet = authentic_packet(&key, d, &plaintext);
        assert_eq!(open(&key, d, &packet), Err(expected));
    }
    let fine = authentic_packet(&key, d, &plaintext(8, 8, 24));
    assert_eq!(open(&key, d, &fine).unwrap().message.body, vec![0x11; 8]);
}

#[test]
fn seal_refuses_what_the_protocol_cannot_carry() {
    let key = key(1);
    let d = Direction::ServerToClient;
    let mut odd = message(1);
    odd.body.push(0);
    assert_eq!(
        seal_with_padding(&key, d, &odd, &[0; 15]),
        Err(SealError::BodyNotWords { len: 5 })
    );
    assert_eq!(
        seal_with_padding(&key, d, &message(1), &[0; 4]),
        Err(SealError::PaddingOutOfRange { len: 4 })
    );
    assert_eq!(
        seal_with_padding(&key, d, &message(1), &[0; 13]),
        Err(SealError::NotBlockAligned { len: 49 })
    );
}
