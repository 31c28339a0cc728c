//! Speed of the DH steps (SPEC §1): plain `modpow` against the fixed-base `g^a`, the
//! `(p, g)` check cold and cached, and one side's whole handshake.
//!
//! `cargo bench -p secretchat-common --bench dh -- --warm-up-time 1 --measurement-time 5`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use num_bigint::BigUint;
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::dh::{
    check_config, check_config_with, check_public_value, compute_key, public_value, CheckedConfig,
    Exponent, PrimeCache, TELEGRAM_G, TELEGRAM_PRIME,
};

fn random_256(rng: &mut ChaCha20Rng) -> [u8; 256] {
    let mut bytes = [0u8; 256];
    rng.fill_bytes(&mut bytes);
    bytes
}

fn exponentiation(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let config = CheckedConfig::telegram_default();
    let p = BigUint::from_bytes_be(&TELEGRAM_PRIME);
    let g = BigUint::from(3u32);
    let a_bytes = random_256(&mut rng);
    let a = BigUint::from_bytes_be(&a_bytes);
    let exponent = Exponent::from_be_bytes(&a_bytes).expect("256 bytes");
    // Build the table outside the measurement (it is built once per (p, g) per process).
    public_value(&config, &exponent);

    let mut group = c.benchmark_group("g^a mod p, 2048 bits");
    group.bench_function("plain BigUint::modpow", |bench| {
        bench.iter(|| black_box(&g).modpow(black_box(&a), &p))
    });
    group.bench_function("fixed-base table (public_value)", |bench| {
        bench.iter(|| public_value(&config, black_box(&exponent)))
    });
    group.finish();
}

fn config_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check_config, Telegram prime");
    group.sample_size(10);
    group.bench_function("uncached (fresh PrimeCache)", |bench| {
        bench.iter_batched(
            PrimeCache::new,
            |cache| check_config_with(&cache, black_box(&TELEGRAM_PRIME), TELEGRAM_G),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    c.bench_function("check_config, Telegram prime/cached", |bench| {
        bench.iter(|| check_config(black_box(&TELEGRAM_PRIME), TELEGRAM_G))
    });
}

fn handshake(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let config = CheckedConfig::telegram_default();
    let server_random = random_256(&mut rng);
    let peer = Exponent::generate(&mut rng, &server_random);
    let g_b = public_value(&config, &peer);

    c.bench_function("one side's handshake work", |bench| {
        bench.iter(|| {
            let config = check_config(&TELEGRAM_PRIME, TELEGRAM_G).expect("cached, valid");
            let a = Exponent::generate(&mut rng, &server_random);
            let g_a = public_value(&config, &a);
            let g_b = check_public_value(&config, black_box(&g_b)).expect("honest g_b");
            (g_a, compute_key(&config, &a, &g_b))
        })
    });
}

criterion_group!(benches, exponentiation, config_check, handshake);
criterion_main!(benches);
