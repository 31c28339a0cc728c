//! Tampered DH parameters and public values (SPEC §1.2, §1.3): each is refused with the
//! exact error that names the broken rule.

use num_bigint::BigUint;
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::dh::{
    check_config, check_config_with, check_mandatory_range, check_public_value,
    check_recommended_range, public_value, CheckedConfig, DhError, Exponent, PrimeCache, RangeRule,
    TELEGRAM_PRIME,
};

fn telegram_p() -> BigUint {
    BigUint::from_bytes_be(&TELEGRAM_PRIME)
}

/// A number as 256 big-endian bytes.
fn padded(n: &BigUint) -> Vec<u8> {
    let be = n.to_bytes_be();
    let mut bytes = vec![0u8; 256 - be.len()];
    bytes.extend_from_slice(&be);
    bytes
}

// ---- (p, g) ----

#[test]
fn config_rejects_p_with_top_bit_cleared() {
    let mut p = TELEGRAM_PRIME;
    p[0] &= 0x7f;
    assert_eq!(
        check_config(&p, 3).unwrap_err(),
        DhError::PrimeWrongSize {
            bits: 2047,
            len: 256
        }
    );
}

#[test]
fn config_rejects_p_with_an_extra_leading_zero_byte() {
    let mut p = vec![0u8];
    p.extend_from_slice(&TELEGRAM_PRIME);
    assert_eq!(
        check_config(&p, 3).unwrap_err(),
        DhError::PrimeWrongSize {
            bits: 2048,
            len: 257
        }
    );
}

#[test]
fn config_rejects_p_of_255_bytes_and_empty_p() {
    assert_eq!(
        check_config(&TELEGRAM_PRIME[1..], 3).unwrap_err(),
        DhError::PrimeWrongSize {
            bits: 2037,
            len: 255
        }
    );
    assert_eq!(
        check_config(&[], 3).unwrap_err(),
        DhError::PrimeWrongSize { bits: 0, len: 0 }
    );
}

#[test]
fn config_rejects_safe_prime_plus_two_as_composite() {
    // g = 4 is a square for every p, so the quadratic-residue check lets it through to the
    // primality test.
    let p = padded(&(telegram_p() + 2u32));
    assert_eq!(
        check_config_with(&PrimeCache::new(), &p, 4).unwrap_err(),
        DhError::PrimeNotPrime
    );
}

#[test]
fn config_rejects_safe_prime_plus_two_for_g_3_on_the_residue_rule_first() {
    // p + 2 ≡ 1 (mod 3): the cheap check answers before any primality test.
    let p = padded(&(telegram_p() + 2u32));
    assert_eq!(
        check_config_with(&PrimeCache::new(), &p, 3).unwrap_err(),
        DhError::GeneratorNotQuadraticResidue {
            g: 3,
            modulus: 3,
            p_mod: 1,
            allowed: &[2]
        }
    );
}

#[test]
fn config_rejects_g_outside_2_to_7() {
    for g in [1, 8, 0, -3, i32::MIN, i32::MAX] {
        assert_eq!(
            check_config(&TELEGRAM_PRIME, g).unwrap_err(),
            DhError::GeneratorOutOfRange { g },
            "g = {g}"
        );
    }
}

#[test]
fn config_accepts_telegram_prime_with_g_4_and_7_too() {
    for g in [3, 4, 7] {
        let config = check_config(&TELEGRAM_PRIME, g).expect("a quadratic residue");
        assert_eq!(config.g(), g);
        assert_eq!(config.p_bytes(), &TELEGRAM_PRIME);
    }
}

// ---- g_a / g_b ----

fn refused(g_a: &[u8]) -> DhError {
    check_public_value(&CheckedConfig::telegram_default(), g_a).unwrap_err()
}

#[test]
fn public_value_zero_and_one_break_the_mandatory_lower_bound() {
    assert_eq!(
        refused(&[0u8; 256]),
        DhError::PublicValueNotAboveOne { bits: 0 }
    );
    assert_eq!(refused(&[]), DhError::PublicValueNotAboveOne { bits: 0 });
    assert_eq!(refused(&[1]), DhError::PublicValueNotAboveOne { bits: 1 });
}

#[test]
fn public_value_p_minus_one_p_and_p_plus_one_break_the_mandatory_upper_bound() {
    let p = telegram_p();
    for g_a in [&p - 1u32, p.clone(), &p + 1u32] {
        assert_eq!(
            refused(&padded(&g_a)),
            DhError::PublicValueNotBelowPMinusOne { bits: 2048 }
        );
    }
}

#[test]
fn public_value_just_below_2_pow_1984_breaks_the_recommended_lower_bound() {
    let g_a = (BigUint::from(1u32) << 1984u32) - 1u32;
    assert_eq!(
        refused(&padded(&g_a)),
        DhError::PublicValueNotAboveSafetyBound { bits: 1984 }
    );
}

#[test]
fn public_value_just_inside_the_recommended_bounds_is_accepted() {
    let low = (BigUint::from(1u32) << 1984u32) + 1u32;
    let high = telegram_p() - (BigUint::from(1u32) << 1984u32) - 1u32;
    let config = CheckedConfig::telegram_default();
    for g_a in [low, high] {
        let checked = check_public_value(&config, &padded(&g_a)).expect("inside both ranges");
        assert_eq!(checked.to_bytes(), padded(&g_a));
    }
}

#[test]
fn public_value_longer_than_256_bytes_is_refused_even_with_leading_zeros() {
    assert_eq!(
        refused(&[0x42; 257]),
        DhError::PublicValueTooLong { len: 257 }
    );
    let mut zero_prefixed = vec![0u8];
    zero_prefixed.extend_from_slice(&padded(&(BigUint::from(3u32) << 2000u32)));
    assert_eq!(
        refused(&zero_prefixed),
        DhError::PublicValueTooLong { len: 257 }
    );
}

#[test]
fn public_value_shorter_than_256_bytes_is_accepted_as_the_same_number() {
    let g_a = (BigUint::from(0x1234_5678u32) << 1990u32) + 99u32;
    let minimal = g_a.to_bytes_be();
    assert!(minimal.len() < 256);
    let config = CheckedConfig::telegram_default();
    let short = check_public_value(&config, &minimal).expect("in range");
    let long = check_public_value(&config, &padded(&g_a)).expect("in range");
    assert_eq!(short, long);
    assert_eq!(short.to_bytes(), padded(&g_a));
}

#[test]
fn range_errors_say_which_rule_they_broke() {
    let p = telegram_p();
    assert_eq!(refused(&[1]).range_rule(), Some(RangeRule::Mandatory));
    assert_eq!(
        refused(&padded(&(&p - 1u32))).range_rule(),
        Some(RangeRule::Mandatory)
    );
    assert_eq!(refused(&[0; 300]).range_rule(), Some(RangeRule::Mandatory));
    assert_eq!(refused(&[2]).range_rule(), Some(RangeRule::Recommended));
    assert_eq!(
        refused(&padded(&(&p - 2u32))).range_rule(),
        Some(RangeRule::Recommended)
    );
    assert_eq!(DhError::PrimeNotSafe.range_rule(), None);
}

#[test]
fn the_two_range_checks_can_be_run_apart() {
    let config = CheckedConfig::telegram_default();
    // g_a = 2 is allowed by the mandatory range and refused by the recommended one.
    assert_eq!(check_mandatory_range(&config, &[2]), Ok(()));
    assert_eq!(
        check_recommended_range(&config, &[2]),
        Err(DhError::PublicValueNotAboveSafetyBound { bits: 2 })
    );
    // p + 1 breaks both; each check reports its own bound.
    let above_p = padded(&(telegram_p() + 1u32));
    assert_eq!(
        check_mandatory_range(&config, &above_p),
        Err(DhError::PublicValueNotBelowPMinusOne { bits: 2048 })
    );
    assert_eq!(
        check_recommended_range(&config, &above_p),
        Err(DhError::PublicValueNotBelowSafetyBound { gap_to_p_bits: 0 })
    );
}

// ---- exponents and our own public value ----

#[test]
fn public_value_is_always_sent_as_256_bytes() {
    // a = 1 gives g_a = 3: one significant byte, sent left-padded.
    let a = Exponent::from_be_bytes(&[1]).expect("one byte");
    let g_a = public_value(&CheckedConfig::telegram_default(), &a);
    assert_eq!(g_a.len(), 256);
    assert_eq!(g_a[..255], [0u8; 255]);
    assert_eq!(g_a[255], 3);
    // ... and our own check refuses such a weak value like anyone else's.
    assert_eq!(
        refused(&g_a),
        DhError::PublicValueNotAboveSafetyBound { bits: 2 }
    );
}

#[test]
fn exponent_of_more_than_256_bytes_is_refused() {
    assert_eq!(
        Exponent::from_be_bytes(&[1; 257]).unwrap_err(),
        DhError::ExponentTooLong { len: 257 }
    );
}

#[test]
fn exponent_debug_output_is_redacted() {
    let a = Exponent::from_be_bytes(&[0x5a; 256]).expect("256 bytes");
    assert_eq!(format!("{a:?}"), "Exponent(<redacted>)");
    let generated = Exponent::generate(&mut ChaCha20Rng::seed_from_u64(7), &[0x5a; 256]);
    assert_eq!(format!("{generated:?}"), "Exponent(<redacted>)");
}

/// The exponent `generate` should make: 256 bytes from a ChaCha stream seeded with `seed`,
/// XOR `server_random` over at most its first 256 bytes.
fn expected_exponent(seed: u64, server_random: &[u8]) -> Exponent {
    let mut local = [0u8; 256];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut local);
    for (byte, server_byte) in local.iter_mut().zip(server_random) {
        *byte ^= server_byte;
    }
    Exponent::from_be_bytes(&local).expect("256 bytes")
}

#[test]
fn generated_exponent_is_local_randomness_xor_server_random() {
    let config = CheckedConfig::telegram_default();
    let server_random: Vec<u8> = (0..300u32).map(|i| (i * 37 + 11) as u8).collect();
    // 256 bytes (what the server sends), a short prefix, nothing, and too many.
    for len in [256, 10, 0, 300] {
        let generated =
            Exponent::generate(&mut ChaCha20Rng::seed_from_u64(42), &server_random[..len]);
        assert_eq!(
            public_value(&config, &generated),
            public_value(&config, &expected_exponent(42, &server_random[..len])),
            "server random of {len} bytes"
        );
    }
}

#[test]
fn server_random_alone_does_not_decide_the_exponent() {
    let config = CheckedConfig::telegram_default();
    let server_random = [0xa5u8; 256];
    let first = Exponent::generate(&mut ChaCha20Rng::seed_from_u64(1), &server_random);
    let second = Exponent::generate(&mut ChaCha20Rng::seed_from_u64(2), &server_random);
    assert_ne!(
        public_value(&config, &first),
        public_value(&config, &second)
    );
}
