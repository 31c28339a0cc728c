//! Property tests of the crypto primitives.

use proptest::collection::vec;
use proptest::prelude::*;
use secretchat_common::crypto::file::{self, FileKey};
use secretchat_common::crypto::ige::{self, Ige256, NotBlockAligned};
use secretchat_common::crypto::visualization::{KeyVisualization, PIXELS};

/// Whole AES blocks, 0..=64 of them.
fn blocks() -> impl Strategy<Value = Vec<u8>> {
    (0usize..=64).prop_flat_map(|n| vec(any::<u8>(), n * 16))
}

proptest! {
    #[test]
    fn ige_decrypt_undoes_encrypt(key: [u8; 32], iv: [u8; 32], data in blocks()) {
        let mut buf = data.clone();
        ige::encrypt_in_place(&key, &iv, &mut buf).unwrap();
        if !data.is_empty() {
            prop_assert_ne!(&buf, &data);
        }
        ige::decrypt_in_place(&key, &iv, &mut buf).unwrap();
        prop_assert_eq!(buf, data);
    }

    #[test]
    fn ige_in_random_aligned_parts_equals_one_shot(
        key: [u8; 32],
        iv: [u8; 32],
        data in blocks(),
        cuts in vec(0usize..=64, 0..8),
    ) {
        let mut one_shot = data.clone();
        ige::encrypt_in_place(&key, &iv, &mut one_shot).unwrap();

        // Cut points at block boundaries, sorted; parts may be empty.
        let blocks = data.len() / 16;
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(blocks) * 16).collect();
        cuts.push(0);
        cuts.push(data.len());
        cuts.sort_unstable();

        let mut encryptor = Ige256::new(&key, &iv);
        let mut streamed = data.clone();
        for pair in cuts.windows(2) {
            encryptor.encrypt_in_place(&mut streamed[pair[0]..pair[1]]).unwrap();
        }
        prop_assert_eq!(&streamed, &one_shot);

        let mut decryptor = Ige256::new(&key, &iv);
        for pair in cuts.windows(2) {
            decryptor.decrypt_in_place(&mut streamed[pair[0]..pair[1]]).unwrap();
        }
        prop_assert_eq!(streamed, data);
        // Both directions end in the same chaining state.
        prop_assert_eq!(encryptor.iv(), decryptor.iv());
    }

    #[test]
    fn ige_refuses_any_unaligned_length(key: [u8; 32], iv: [u8; 32], len in 0usize..200) {
        prop_assume!(len % 16 != 0);
        let mut buf = vec![0u8; len];
        prop_assert_eq!(
            ige::encrypt_in_place(&key, &iv, &mut buf),
            Err(NotBlockAligned { len })
        );
    }

    #[test]
    fn file_decrypt_undoes_encrypt_for_any_size(
        key: [u8; 32],
        iv: [u8; 32],
        plaintext in vec(any::<u8>(), 0..600),
        seed: u64,
    ) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let file_key = FileKey::new(key, iv);
        let ciphertext = file::encrypt_file(&file_key, &plaintext, &mut rng);
        prop_assert_eq!(ciphertext.len(), file::padded_len(plaintext.len()));
        prop_assert_eq!(
            file::decrypt_file(&file_key, &ciphertext, plaintext.len()).unwrap(),
            plaintext
        );
    }

    #[test]
    fn visualization_pixels_reassemble_into_the_key_hash(bytes: [u8; 36]) {
        let pixels = KeyVisualization::from_bytes(bytes).pixels();
        prop_assert_eq!(pixels.len(), PIXELS);
        let rebuilt: Vec<u8> = pixels
            .chunks(4)
            .map(|four| {
                four.iter()
                    .enumerate()
                    .fold(0u8, |byte, (i, colour)| byte | (colour.index() << (2 * i)))
            })
            .collect();
        prop_assert_eq!(rebuilt, bytes.to_vec());
    }
}
