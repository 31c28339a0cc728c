//! Vectors of kinds `dh_params`, `dh_g_a_range`, `dh_exchange` and `rekey`.

use secretchat_common::dh::{self, CheckedConfig, Exponent};
use secretchat_common::ChatKey;

use super::fields::{bad, Fields, Mismatch};

/// `p` as hex, or the name `telegram_prime` some vectors use.
fn prime(v: &Fields) -> Result<Vec<u8>, Mismatch> {
    match v.input("p")?.as_str() {
        Some("telegram_prime") => Ok(dh::TELEGRAM_PRIME.to_vec()),
        _ => v.input_hex("p"),
    }
}

fn generator(v: &Fields) -> Result<i32, Mismatch> {
    i32::try_from(v.input_i64("g")?).map_err(|_| bad("inputs.g", "not an int"))
}

/// Compares a verdict with the vector's `expected_valid`.
fn expect_verdict<E: std::fmt::Display>(v: &Fields, got: Result<(), E>) -> Result<(), Mismatch> {
    let expected = v.output_bool("expected_valid")?;
    match (expected, got) {
        (true, Ok(())) | (false, Err(_)) => Ok(()),
        (true, Err(error)) => Err(Mismatch::Verdict {
            expected: "valid".into(),
            got: format!("rejected: {error}"),
        }),
        (false, Ok(())) => Err(Mismatch::Verdict {
            expected: "rejected".into(),
            got: "accepted".into(),
        }),
    }
}

fn config(v: &Fields) -> Result<CheckedConfig, Mismatch> {
    dh::check_config(&prime(v)?, generator(v)?)
        .map_err(|e| bad("inputs.p/g", format!("parameters refused: {e}")))
}

pub fn params(v: &Fields) -> Result<(), Mismatch> {
    let verdict = dh::check_config(&prime(v)?, generator(v)?).map(|_| ());
    expect_verdict(v, verdict)
}

pub fn g_a_range(v: &Fields) -> Result<(), Mismatch> {
    let config = CheckedConfig::telegram_default();
    let config = match prime(v)?.as_slice() {
        p if p == config.p_bytes() => config,
        p => dh::check_config(p, dh::TELEGRAM_G)
            .map_err(|e| bad("inputs.p", format!("parameters refused: {e}")))?,
    };
    let verdict = dh::check_public_value(&config, &v.input_hex("g_a")?).map(|_| ());
    expect_verdict(v, verdict)
}

fn exponent(v: &Fields, name: &str) -> Result<Exponent, Mismatch> {
    Exponent::from_be_bytes(&v.input_hex(name)?)
        .map_err(|e| bad(&format!("inputs.{name}"), e.to_string()))
}

/// Runs both halves of an exchange: `(g_a, g_b, key)` from the two exponents, with each
/// side checking the other's public value as a real peer would.
fn run_exchange(
    config: &CheckedConfig,
    a: &Exponent,
    b: &Exponent,
) -> Result<(Vec<u8>, Vec<u8>, ChatKey), Mismatch> {
    let g_a = dh::public_value(config, a);
    let g_b = dh::public_value(config, b);
    let checked_g_a = dh::check_public_value(config, &g_a)
        .map_err(|e| bad("g_a", format!("refused by the responder: {e}")))?;
    let checked_g_b = dh::check_public_value(config, &g_b)
        .map_err(|e| bad("g_b", format!("refused by the initiator: {e}")))?;
    let key_a = dh::compute_key(config, a, &checked_g_b);
    let key_b = dh::compute_key(config, b, &checked_g_a);
    if key_a != key_b {
        return Err(Mismatch::Verdict {
            expected: "both sides derive the same key".into(),
            got: "different keys".into(),
        });
    }
    Ok((g_a, g_b, key_a))
}

pub fn exchange(v: &Fields) -> Result<(), Mismatch> {
    let config = config(v)?;
    let (g_a, g_b, key) = run_exchange(&config, &exponent(v, "a")?, &exponent(v, "b")?)?;
    v.expect_hex("g_a", &g_a)?;
    v.expect_hex("g_b", &g_b)?;
    v.expect_hex("key", key.as_bytes())?;
    v.expect_i64("key_fingerprint_i64", key.fingerprint().as_i64())?;
    v.expect_hex_if_present(
        "key_fingerprint_wire_bytes",
        &key.fingerprint().to_wire_bytes(),
    )
}

pub fn rekey(v: &Fields) -> Result<(), Mismatch> {
    let config = config(v)?;
    let (g_a, g_b, key) =
        run_exchange(&config, &exponent(v, "a_prime")?, &exponent(v, "b_prime")?)?;
    v.expect_hex("g_a", &g_a)?;
    v.expect_hex("g_b", &g_b)?;
    v.expect_hex("new_key", key.as_bytes())?;
    v.expect_i64("new_key_fingerprint_i64", key.fingerprint().as_i64())?;
    // The four service messages of the exchange, as TL.
    if let Some(messages) = v
        .output("service_messages")
        .ok()
        .and_then(|m| m.as_object())
    {
        for (step, message) in messages {
            let fields = Fields::new(message, message);
            super::tl::object_encodes_to(&fields, "object", "tl")
                .map_err(|e| bad(&format!("service_messages.{step}"), e.to_string()))?;
        }
    }
    Ok(())
}
