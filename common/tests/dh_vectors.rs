//! Known answers for Diffie-Hellman (SPEC §1, §4) from `vectors/vectors.json`: the verdict on
//! every `dh_params` vector, every `dh_g_a_range` vector, and every value of the `dh_exchange`
//! and `rekey` vectors recomputed from their exponents.

mod crypto_support;

use std::collections::BTreeMap;
use std::fmt::Debug;

use crypto_support::{vectors, Vector};
use secretchat_common::dh::{
    check_config, check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent,
    TELEGRAM_PRIME,
};

/// The vector's `p`; `"telegram_prime"` stands for Telegram's prime.
fn prime_of(vector: &Vector) -> Vec<u8> {
    if vector.inputs["p"] == "telegram_prime" {
        TELEGRAM_PRIME.to_vec()
    } else {
        vector.input_hex("p")
    }
}

/// The vector's `g`.
fn g_of(vector: &Vector) -> i32 {
    vector.inputs["g"].as_i64().expect("g") as i32
}

/// Every vector of `kind` has a row in `expected`, agrees with it on `expected_valid`, and
/// gets exactly that verdict from `verdict`.
fn assert_verdicts<T: PartialEq + Debug>(
    kind: &str,
    expected: BTreeMap<&str, Result<T, DhError>>,
    verdict: impl Fn(&Vector) -> Result<T, DhError>,
) {
    let vectors = vectors(kind);
    assert_eq!(
        vectors.len(),
        expected.len(),
        "a {kind} vector is not covered"
    );
    for vector in vectors {
        let name = vector.name.as_str();
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("no verdict for {name}"));
        assert_eq!(
            vector.outputs["expected_valid"].as_bool(),
            Some(want.is_ok()),
            "{name}: the table disagrees with the vector"
        );
        assert_eq!(&verdict(&vector), want, "{name}");
    }
}

#[test]
fn every_dh_params_vector_gets_its_expected_verdict() {
    let expected: BTreeMap<&str, Result<i32, DhError>> = BTreeMap::from([
        ("dh_telegram_prime_g3", Ok(3)),
        ("dh_rfc3526_modp14_g2", Ok(2)),
        (
            "dh_telegram_prime_g5",
            Err(DhError::GeneratorNotQuadraticResidue {
                g: 5,
                modulus: 5,
                p_mod: 3,
                allowed: &[1, 4],
            }),
        ),
        (
            "dh_telegram_prime_g2",
            Err(DhError::GeneratorNotQuadraticResidue {
                g: 2,
                modulus: 8,
                p_mod: 3,
                allowed: &[7],
            }),
        ),
        ("dh_nonsafe_prime_g3", Err(DhError::PrimeNotSafe)),
        (
            "dh_prime_2047_bits_g3",
            Err(DhError::PrimeWrongSize {
                bits: 2047,
                len: 256,
            }),
        ),
        (
            "dh_telegram_prime_g8",
            Err(DhError::GeneratorOutOfRange { g: 8 }),
        ),
    ]);

    assert_verdicts("dh_params", expected, |vector| {
        let p = vector.input_hex("p");
        check_config(&p, g_of(vector)).map(|config| {
            assert_eq!(config.p_bytes().as_slice(), p.as_slice(), "{}", vector.name);
            config.g()
        })
    });
}

#[test]
fn every_dh_g_a_range_vector_gets_its_expected_verdict() {
    let expected: BTreeMap<&str, Result<(), DhError>> = BTreeMap::from([
        ("g_a_typical", Ok(())),
        ("g_a_zero", Err(DhError::PublicValueNotAboveOne { bits: 0 })),
        (
            "g_a_two",
            Err(DhError::PublicValueNotAboveSafetyBound { bits: 2 }),
        ),
        // The bound itself is refused: the recommended range is strict.
        (
            "g_a_2^1984",
            Err(DhError::PublicValueNotAboveSafetyBound { bits: 1985 }),
        ),
        (
            "g_a_p-2^1984",
            Err(DhError::PublicValueNotBelowSafetyBound {
                gap_to_p_bits: 1985,
            }),
        ),
        (
            "g_a_p-1",
            Err(DhError::PublicValueNotBelowPMinusOne { bits: 2048 }),
        ),
    ]);

    assert_verdicts("dh_g_a_range", expected, |vector| {
        let config = check_config(&prime_of(vector), 3).expect("valid config");
        check_public_value(&config, &vector.input_hex("g_a")).map(|_| ())
    });
}

/// Both sides of one exchange: `g_a`, `g_b`, the key either side computes, its fingerprint.
struct Exchange {
    g_a: Vec<u8>,
    g_b: Vec<u8>,
    key: Vec<u8>,
    key_fingerprint: i64,
}

fn run_exchange(config: &CheckedConfig, a: &[u8], b: &[u8]) -> Exchange {
    let a = Exponent::from_be_bytes(a).expect("a fits 256 bytes");
    let b = Exponent::from_be_bytes(b).expect("b fits 256 bytes");
    let g_a = public_value(config, &a);
    let g_b = public_value(config, &b);
    let checked_g_a = check_public_value(config, &g_a).expect("honest g_a passes");
    let checked_g_b = check_public_value(config, &g_b).expect("honest g_b passes");
    let key_of_a = compute_key(config, &a, &checked_g_b);
    let key_of_b = compute_key(config, &b, &checked_g_a);
    assert_eq!(key_of_a, key_of_b, "both sides derive the same key");
    Exchange {
        g_a,
        g_b,
        key: key_of_a.as_bytes().to_vec(),
        key_fingerprint: key_of_a.fingerprint().as_i64(),
    }
}

#[test]
fn dh_exchange_vector_reproduces_g_a_g_b_key_and_fingerprint() {
    for vector in vectors("dh_exchange") {
        let config = check_config(&prime_of(&vector), g_of(&vector)).expect("valid config");
        let exchange = run_exchange(&config, &vector.input_hex("a"), &vector.input_hex("b"));
        assert_eq!(exchange.g_a, vector.output_hex("g_a"));
        assert_eq!(exchange.g_b, vector.output_hex("g_b"));
        assert_eq!(exchange.key, vector.output_hex("key"));
        assert_eq!(
            Some(exchange.key_fingerprint),
            vector.outputs["key_fingerprint_i64"].as_i64()
        );
        assert_eq!(
            exchange.key_fingerprint.to_le_bytes().to_vec(),
            vector.output_hex("key_fingerprint_wire_bytes")
        );
    }
}

#[test]
fn rekey_vector_reproduces_g_a_g_b_new_key_and_fingerprint_with_the_same_p_and_g() {
    for vector in vectors("rekey") {
        let config = check_config(&prime_of(&vector), g_of(&vector)).expect("valid config");
        assert_eq!(config, CheckedConfig::telegram_default());
        let exchange = run_exchange(
            &config,
            &vector.input_hex("a_prime"),
            &vector.input_hex("b_prime"),
        );
        assert_eq!(exchange.g_a, vector.output_hex("g_a"));
        assert_eq!(exchange.g_b, vector.output_hex("g_b"));
        assert_eq!(exchange.key, vector.output_hex("new_key"));
        assert_eq!(
            Some(exchange.key_fingerprint),
            vector.outputs["new_key_fingerprint_i64"].as_i64()
        );
    }
}
