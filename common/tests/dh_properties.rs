//! Properties of the exchange for random exponents and random bytes (SPEC §1.3–1.5).

use num_bigint::BigUint;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::dh::{
    check_public_value, compute_key, public_value, CheckedConfig, Exponent, TELEGRAM_PRIME,
};

proptest! {
    // Each case does two fixed-base and two full 2048-bit exponentiations (slow in debug).
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn both_sides_derive_the_same_key_and_accept_each_others_honest_values(
        seed_a in any::<u64>(),
        seed_b in any::<u64>(),
        server_random in proptest::collection::vec(any::<u8>(), 0..=256),
    ) {
        let config = CheckedConfig::telegram_default();
        let a = Exponent::generate(&mut ChaCha20Rng::seed_from_u64(seed_a), &server_random);
        let b = Exponent::generate(&mut ChaCha20Rng::seed_from_u64(seed_b), &server_random);
        let g_a = public_value(&config, &a);
        let g_b = public_value(&config, &b);
        prop_assert_eq!(g_a.len(), 256);
        prop_assert_eq!(g_b.len(), 256);
        let g_a = check_public_value(&config, &g_a).expect("an honest g_a passes");
        let g_b = check_public_value(&config, &g_b).expect("an honest g_b passes");
        prop_assert_eq!(compute_key(&config, &a, &g_b), compute_key(&config, &b, &g_a));
    }

    #[test]
    fn fixed_base_public_value_equals_plain_modpow(a in proptest::collection::vec(any::<u8>(), 256)) {
        let config = CheckedConfig::telegram_default();
        let exponent = Exponent::from_be_bytes(&a).expect("256 bytes");
        let p = BigUint::from_bytes_be(&TELEGRAM_PRIME);
        let expected = BigUint::from(3u32).modpow(&BigUint::from_bytes_be(&a), &p);
        prop_assert_eq!(BigUint::from_bytes_be(&public_value(&config, &exponent)), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes at all: no panic, and the verdict is exactly
    /// `len ≤ 256 ∧ 2^1984 < g_x < p − 2^1984` (the recommended range lies inside the
    /// mandatory one).
    #[test]
    fn check_public_value_accepts_exactly_the_recommended_range(
        g_x in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..=300),
            // Mostly 256-byte values near the top, where p sits.
            proptest::collection::vec(any::<u8>(), 256).prop_map(|mut bytes| {
                bytes[0] = 0xc7;
                bytes
            }),
        ],
    ) {
        let config = CheckedConfig::telegram_default();
        let p = BigUint::from_bytes_be(&TELEGRAM_PRIME);
        let bound = BigUint::from(1u32) << 1984u32;
        let value = BigUint::from_bytes_be(&g_x);
        let inside = g_x.len() <= 256 && value > bound && value < &p - &bound;
        prop_assert_eq!(check_public_value(&config, &g_x).is_ok(), inside);
    }
}
