//! Known-answer tests of the crypto primitives: `vectors/vectors.json` and the published
//! vectors of `published-vectors.md` (tdlib's AES-IGE generator, the research fixtures).

mod crypto_support;

use crypto_support::{vector, vectors, Vector};
use rand::rngs::mock::StepRng;
use secretchat_common::crypto::file::{self, FileDecryptor, FileEncryptor, FileKey};
use secretchat_common::crypto::ige::{self, Ige256};
use secretchat_common::crypto::kdf::{self, AesKeyIv, X};
use secretchat_common::crypto::msg_key::{self, MsgKey};
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::ChatKey;
use sha2::{Digest, Sha256};

fn x_of(v: &crypto_support::Vector) -> X {
    match v.input_u64("x") {
        0 => X::Zero,
        8 => X::Eight,
        other => panic!("{}: x = {other}", v.name),
    }
}

#[test]
fn aes_ige_vectors_encrypt_and_decrypt_exactly() {
    for v in vectors("aes_ige") {
        let key = v.input_array::<32>("key");
        let iv = v.input_array::<32>("iv");
        let plaintext = v.input_hex("plaintext");
        let ciphertext = v.output_hex("ciphertext");

        let mut buf = plaintext.clone();
        ige::encrypt_in_place(&key, &iv, &mut buf).unwrap();
        assert_eq!(buf, ciphertext, "{}", v.name);
        assert_eq!(
            Sha256::digest(&buf).as_slice(),
            v.output_hex("ciphertext_sha256"),
            "{}",
            v.name
        );
        ige::decrypt_in_place(&key, &iv, &mut buf).unwrap();
        assert_eq!(buf, plaintext, "{}", v.name);
    }
}

#[test]
fn aes_ige_vectors_give_the_same_result_in_16_byte_parts() {
    for v in vectors("aes_ige") {
        let mut ige = Ige256::new(&v.input_array("key"), &v.input_array("iv"));
        let mut buf = v.input_hex("plaintext");
        for part in buf.chunks_mut(16) {
            ige.encrypt_in_place(part).unwrap();
        }
        assert_eq!(buf, v.output_hex("ciphertext"), "{}", v.name);
    }
}

/// tdlib `tdutils/test/crypto.cpp`, `TEST(Crypto, AesIgeState)`: a deterministic generator
/// fills plaintext, key and IV; the CRC-32 of the ciphertext is published.
struct TdlibGenerator(u32);

impl TdlibGenerator {
    fn next_byte(&mut self) -> u8 {
        self.0 = self.0.wrapping_mul(123457567).wrapping_add(987651241);
        ((self.0 >> 23) & 255) as u8
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.next_byte())
    }
}

fn tdlib_case(length: usize) -> (Vec<u8>, [u8; 32], [u8; 32]) {
    let mut generator = TdlibGenerator(length as u32);
    let plaintext = (0..length).map(|_| generator.next_byte()).collect();
    let key = generator.bytes();
    let iv = generator.bytes();
    (plaintext, key, iv)
}

#[test]
fn tdlib_published_aes_ige_crc32s_match_one_shot_and_in_parts() {
    let published = [
        (0, 0u32),
        (16, 2045698207),
        (32, 2423540300),
        (256, 525522475),
        (1024, 1545267325),
        (65536, 724143417),
    ];
    for (length, crc) in published {
        let (plaintext, key, iv) = tdlib_case(length);

        let mut one_shot = plaintext.clone();
        ige::encrypt_in_place(&key, &iv, &mut one_shot).unwrap();
        assert_eq!(crc32fast::hash(&one_shot), crc, "length {length}");

        let mut in_parts = plaintext.clone();
        let mut ige = Ige256::new(&key, &iv);
        for part in in_parts.chunks_mut(48) {
            ige.encrypt_in_place(part).unwrap();
        }
        assert_eq!(in_parts, one_shot, "length {length}");

        ige::decrypt_in_place(&key, &iv, &mut one_shot).unwrap();
        assert_eq!(one_shot, plaintext, "length {length}");
    }
}

#[test]
fn tdlib_expanded_16_byte_case_leaves_last_ciphertext_and_plaintext_as_iv() {
    let (mut buf, key, iv) = tdlib_case(16);
    assert_eq!(hex::encode(&buf), "6153cb81c0c03e6ffa5422dc1f595247");
    assert_eq!(
        hex::encode(key),
        "d48738a34a08cf4f4675a41f19d7cf52a7a7fc9962cf66174ea7d85bfdf8ad67"
    );
    let mut ige = Ige256::new(&key, &iv);
    ige.encrypt_in_place(&mut buf).unwrap();
    assert_eq!(hex::encode(&buf), "11f422b6abcd37a927c1a8ebdbccdd5f");
    assert_eq!(
        hex::encode(ige.iv()),
        "11f422b6abcd37a927c1a8ebdbccdd5f6153cb81c0c03e6ffa5422dc1f595247"
    );
}

#[test]
fn tdlib_expanded_32_byte_case_matches() {
    let (mut buf, _, _) = tdlib_case(32);
    let key: [u8; 32] =
        hex::decode("3ef36a602c7c290e9f61268b6ea7ff16fec2e55b47989477d17d5df8b1381eda")
            .unwrap()
            .try_into()
            .unwrap();
    let iv: [u8; 32] =
        hex::decode("8efd468ba172d4e8aeaa573d0e2ced49a7ed4639f052a1a8ef30cba53dcb25ad")
            .unwrap()
            .try_into()
            .unwrap();
    ige::encrypt_in_place(&key, &iv, &mut buf).unwrap();
    assert_eq!(
        hex::encode(&buf),
        "c7dc97b92ae0375496947e56678e2bf4b1b5f178a91dfa2ddeb69d9d5db2361c"
    );
}

/// The vector's `aes_key` and `aes_iv` are exactly what was derived.
fn assert_key_and_iv(v: &Vector, derived: &AesKeyIv) {
    assert_eq!(
        derived.key().as_slice(),
        v.output_hex("aes_key"),
        "{}",
        v.name
    );
    assert_eq!(
        derived.iv().as_slice(),
        v.output_hex("aes_iv"),
        "{}",
        v.name
    );
}

#[test]
fn kdf_v1_vectors_derive_the_exact_key_and_iv() {
    for v in vectors("kdf_v1") {
        let msg_key = MsgKey::from_bytes(v.input_array("msg_key"));
        let derived = kdf::v1::derive_with_x(&v.key(), &msg_key, x_of(&v));
        assert_key_and_iv(&v, &derived);
        if x_of(&v) == X::Zero {
            assert_eq!(kdf::v1::derive(&v.key(), &msg_key), derived, "{}", v.name);
        }
    }
}

#[test]
fn kdf_v2_vectors_derive_the_exact_key_and_iv() {
    for v in vectors("kdf_v2") {
        let msg_key = MsgKey::from_bytes(v.input_array("msg_key"));
        let derived = kdf::v2::derive(&v.key(), &msg_key, x_of(&v));
        assert_key_and_iv(&v, &derived);
    }
}

#[test]
fn msg_key_v2_vectors_hash_the_padded_plaintext_with_the_key_slice() {
    for v in vectors("msg_key_v2") {
        let padded = v.input_hex("plaintext_with_len_and_padding");
        let large = msg_key::v2::compute_large(&v.key(), x_of(&v), &padded);
        assert_eq!(
            large.as_slice(),
            v.output_hex("msg_key_large"),
            "{}",
            v.name
        );
        let msg_key = msg_key::v2::compute(&v.key(), x_of(&v), &padded);
        assert_eq!(
            msg_key.as_bytes().as_slice(),
            v.output_hex("msg_key"),
            "{}",
            v.name
        );
    }
}

#[test]
fn key_fingerprint_vectors_are_the_last_eight_sha1_bytes_little_endian() {
    for v in vectors("key_fingerprint") {
        let fingerprint = v.key().fingerprint();
        assert_eq!(
            fingerprint.to_wire_bytes().as_slice(),
            v.output_hex("fingerprint_wire_bytes"),
            "{}",
            v.name
        );
        assert_eq!(
            fingerprint.as_i64(),
            v.output_i64("fingerprint_i64"),
            "{}",
            v.name
        );
    }
}

#[test]
fn research_fixture_fingerprint_of_the_mtcute_key_is_little_endian() {
    let chunk =
        hex::decode("98cb29c6ffa89e79da695a54f572e6cb101e81c688b63a4bf73c3622dec230e0").unwrap();
    let key = ChatKey::from_bytes(&chunk.repeat(8)).unwrap();
    assert_eq!(key.fingerprint().to_string(), "40fa5bb7cb56a895");
    assert_eq!(key.fingerprint().as_i64(), -7662779333016290752);
}

#[test]
fn key_visualization_vectors_are_sha1_16_then_sha256_20() {
    for v in vectors("key_visualization") {
        let visualization = KeyVisualization::of_key(&v.key());
        assert_eq!(
            visualization.as_bytes().as_slice(),
            v.output_hex("visualization_36"),
            "{}",
            v.name
        );
        assert_eq!(
            visualization.as_bytes()[..16],
            v.output_hex("sha1_first16"),
            "{}",
            v.name
        );
    }
}

#[test]
fn key_visualization_takes_sha1_of_the_initial_key_and_sha256_of_the_layer_46_key() {
    let initial = vector("key_visualization", "key_visualization_A");
    let later = vector("key_visualization", "key_visualization_zero");
    let mixed = KeyVisualization::new(&initial.key(), &later.key());
    assert_eq!(mixed.as_bytes()[..16], initial.output_hex("sha1_first16"));
    assert_eq!(mixed.as_bytes()[16..], later.output_hex("sha256_first20"));
}

#[test]
fn file_fingerprint_vectors_fold_md5_into_a_little_endian_int() {
    for v in vectors("file_fingerprint") {
        let file_key = FileKey::new(v.input_array("key"), v.input_array("iv"));
        let fingerprint = file_key.fingerprint();
        assert_eq!(
            fingerprint.to_wire_bytes().as_slice(),
            v.output_hex("fingerprint_wire_bytes"),
            "{}",
            v.name
        );
        assert_eq!(
            i64::from(fingerprint.as_i32()),
            v.output_i64("fingerprint_i32"),
            "{}",
            v.name
        );
    }
}

#[test]
fn file_encryption_vectors_are_one_ige_stream_over_the_parts_with_the_last_padded() {
    for v in vectors("file_encryption") {
        let file_key = FileKey::new(v.input_array("key"), v.input_array("iv"));
        let plaintext = v.input_hex("plaintext");
        let chunk_size = v.input_u64("chunk_size") as usize;
        let expected = v.output_hex("ciphertext");
        assert_eq!(expected.len() as i64, v.output_i64("ciphertext_len"));
        assert_eq!(
            i64::from(file_key.fingerprint().as_i32()),
            v.output_i64("file_key_fingerprint_i32"),
            "{}",
            v.name
        );

        // tg_secret pads the last part with zeros; `StepRng::new(0, 0)` yields only zeros.
        let mut zeros = StepRng::new(0, 0);
        let mut encryptor = FileEncryptor::new(&file_key);
        let mut parts: Vec<Vec<u8>> = plaintext.chunks(chunk_size).map(<[u8]>::to_vec).collect();
        let mut last = parts.pop().unwrap();
        let mut ciphertext = Vec::new();
        for part in &mut parts {
            encryptor.encrypt_part(part).unwrap();
            ciphertext.extend_from_slice(part);
        }
        encryptor.encrypt_last_part(&mut last, &mut zeros);
        ciphertext.extend_from_slice(&last);
        assert_eq!(ciphertext, expected, "{}", v.name);

        assert_eq!(
            file::encrypt_file(&file_key, &plaintext, &mut zeros),
            expected,
            "{}",
            v.name
        );
        assert_eq!(
            file::decrypt_file(&file_key, &expected, plaintext.len()).unwrap(),
            plaintext,
            "{}",
            v.name
        );

        let mut decryptor = FileDecryptor::new(&file_key);
        let mut downloaded = expected.clone();
        for part in downloaded.chunks_mut(64) {
            decryptor.decrypt_part(part).unwrap();
        }
        assert_eq!(downloaded[..plaintext.len()], plaintext, "{}", v.name);
    }
}
