//! The safe-prime verdict is computed once per prime and remembered, good or bad
//! (SPEC §1.2: "cache the verdict per prime").

use num_bigint::BigUint;
use secretchat_common::dh::{
    check_config, check_config_with, CheckedConfig, DhError, PrimeCache, PrimeVerdict,
    TELEGRAM_PRIME,
};

fn telegram_prime_plus_two() -> [u8; 256] {
    let be = (BigUint::from_bytes_be(&TELEGRAM_PRIME) + 2u32).to_bytes_be();
    be.try_into().expect("still 256 bytes")
}

#[test]
fn process_wide_cache_knows_telegrams_prime_from_the_start() {
    assert_eq!(
        PrimeCache::global().verdict(&TELEGRAM_PRIME),
        Some(PrimeVerdict::SafePrime)
    );
    assert_eq!(
        check_config(&TELEGRAM_PRIME, 3),
        Ok(CheckedConfig::telegram_default())
    );
}

#[test]
fn cold_check_of_telegrams_prime_passes_the_full_test_and_is_then_cached() {
    let cache = PrimeCache::new();
    assert!(cache.is_empty());
    assert_eq!(cache.verdict(&TELEGRAM_PRIME), None);

    let first = check_config_with(&cache, &TELEGRAM_PRIME, 3).expect("a safe prime");
    assert_eq!(
        cache.verdict(&TELEGRAM_PRIME),
        Some(PrimeVerdict::SafePrime)
    );
    assert_eq!(cache.len(), 1);

    let second = check_config_with(&cache, &TELEGRAM_PRIME, 3).expect("still a safe prime");
    assert_eq!(first, second);
    assert_eq!(cache.len(), 1);
}

#[test]
fn bad_prime_verdict_is_cached_too() {
    let cache = PrimeCache::new();
    let p = telegram_prime_plus_two();
    assert_eq!(
        check_config_with(&cache, &p, 4),
        Err(DhError::PrimeNotPrime)
    );
    assert_eq!(cache.verdict(&p), Some(PrimeVerdict::NotPrime));
    // The second answer comes from the cache, and is the same.
    assert_eq!(
        check_config_with(&cache, &p, 4),
        Err(DhError::PrimeNotPrime)
    );
    assert_eq!(cache.len(), 1);
}

#[test]
fn cached_prime_still_gets_its_g_checked_every_time() {
    let cache = PrimeCache::with_telegram_prime();
    assert_eq!(
        check_config_with(&cache, &TELEGRAM_PRIME, 5),
        Err(DhError::GeneratorNotQuadraticResidue {
            g: 5,
            modulus: 5,
            p_mod: 3,
            allowed: &[1, 4]
        })
    );
    assert_eq!(
        check_config_with(&cache, &TELEGRAM_PRIME, 7).map(|c| c.g()),
        Ok(7)
    );
}

#[test]
fn cheap_refusals_do_not_run_or_cache_the_primality_test() {
    let cache = PrimeCache::new();
    let p = telegram_prime_plus_two();
    assert_eq!(
        check_config_with(&cache, &p, 8),
        Err(DhError::GeneratorOutOfRange { g: 8 })
    );
    assert_eq!(
        check_config_with(&cache, &p[1..], 4),
        Err(DhError::PrimeWrongSize {
            bits: 2037,
            len: 255
        })
    );
    assert!(cache.is_empty());
}
