//! Known answers for Diffie-Hellman (SPEC §1, §4) from `vectors/vectors.json`: the verdict on
//! every `dh_params` vector, every `dh_g_a_range` vector, and every value of the `dh_exchange`
//! and `rekey` vectors recomputed from their exponents.

use std::collections::BTreeMap;

use secretchat_common::dh::{
    check_config, check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent,
    TELEGRAM_PRIME,
};
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/vectors.json"
));

fn vectors_of_kind(kind: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(VECTORS).expect("vectors.json is JSON");
    let found: Vec<Value> = all["vectors"]
        .as_array()
        .expect("a `vectors` array")
        .iter()
        .filter(|vector| vector["kind"] == kind)
        .cloned()
        .collect();
    assert!(!found.is_empty(), "no vectors of kind {kind}");
    found
}

fn hex_field(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("a hex string")).expect("valid hex")
}

/// `"telegram_prime"` stands for Telegram's prime in the range vectors.
fn prime_field(value: &Value) -> Vec<u8> {
    if value == "telegram_prime" {
        TELEGRAM_PRIME.to_vec()
    } else {
        hex_field(value)
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

    let vectors = vectors_of_kind("dh_params");
    assert_eq!(
        vectors.len(),
        expected.len(),
        "a dh_params vector is not covered"
    );
    for vector in vectors {
        let name = vector["name"].as_str().expect("a name");
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("no verdict for {name}"));
        assert_eq!(
            vector["outputs"]["expected_valid"].as_bool(),
            Some(want.is_ok()),
            "{name}: the table disagrees with the vector"
        );
        let p = hex_field(&vector["inputs"]["p"]);
        let g = vector["inputs"]["g"].as_i64().expect("g") as i32;
        let got = check_config(&p, g).map(|config| {
            assert_eq!(config.p_bytes().as_slice(), p.as_slice(), "{name}");
            config.g()
        });
        assert_eq!(&got, want, "{name}");
    }
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

    let vectors = vectors_of_kind("dh_g_a_range");
    assert_eq!(
        vectors.len(),
        expected.len(),
        "a dh_g_a_range vector is not covered"
    );
    for vector in vectors {
        let name = vector["name"].as_str().expect("a name");
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("no verdict for {name}"));
        assert_eq!(
            vector["outputs"]["expected_valid"].as_bool(),
            Some(want.is_ok()),
            "{name}: the table disagrees with the vector"
        );
        let config = check_config(&prime_field(&vector["inputs"]["p"]), 3).expect("valid config");
        let g_a = hex_field(&vector["inputs"]["g_a"]);
        let got = check_public_value(&config, &g_a).map(|_| ());
        assert_eq!(&got, want, "{name}");
    }
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
    for vector in vectors_of_kind("dh_exchange") {
        let (inputs, outputs) = (&vector["inputs"], &vector["outputs"]);
        let config = check_config(
            &prime_field(&inputs["p"]),
            inputs["g"].as_i64().expect("g") as i32,
        )
        .expect("valid config");
        let exchange = run_exchange(&config, &hex_field(&inputs["a"]), &hex_field(&inputs["b"]));
        assert_eq!(exchange.g_a, hex_field(&outputs["g_a"]));
        assert_eq!(exchange.g_b, hex_field(&outputs["g_b"]));
        assert_eq!(exchange.key, hex_field(&outputs["key"]));
        assert_eq!(
            Some(exchange.key_fingerprint),
            outputs["key_fingerprint_i64"].as_i64()
        );
        assert_eq!(
            exchange.key_fingerprint.to_le_bytes().to_vec(),
            hex_field(&outputs["key_fingerprint_wire_bytes"])
        );
    }
}

#[test]
fn rekey_vector_reproduces_g_a_g_b_new_key_and_fingerprint_with_the_same_p_and_g() {
    for vector in vectors_of_kind("rekey") {
        let (inputs, outputs) = (&vector["inputs"], &vector["outputs"]);
        let config = check_config(
            &prime_field(&inputs["p"]),
            inputs["g"].as_i64().expect("g") as i32,
        )
        .expect("valid config");
        assert_eq!(config, CheckedConfig::telegram_default());
        let exchange = run_exchange(
            &config,
            &hex_field(&inputs["a_prime"]),
            &hex_field(&inputs["b_prime"]),
        );
        assert_eq!(exchange.g_a, hex_field(&outputs["g_a"]));
        assert_eq!(exchange.g_b, hex_field(&outputs["g_b"]));
        assert_eq!(exchange.key, hex_field(&outputs["new_key"]));
        assert_eq!(
            Some(exchange.key_fingerprint),
            outputs["new_key_fingerprint_i64"].as_i64()
        );
    }
}
