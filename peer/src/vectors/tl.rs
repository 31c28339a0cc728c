//! Vectors of kinds `tl` (a TL object ⇄ its exact bytes) and `tl_parse_only` (a plaintext
//! captured from an official client, length prefix included).

use secretchat_common::tl::e2e::Object;
use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use serde_json::Value;

use super::fields::{bad, same, Fields, Mismatch};

fn object_from_json(value: &Value, field: &str) -> Result<Object, Mismatch> {
    Object::from_json(value).map_err(|e| bad(field, format!("not a TL object: {e}")))
}

fn decode(bytes: &[u8], field: &str) -> Result<Object, Mismatch> {
    Object::from_bytes(bytes).map_err(|e| bad(field, format!("does not decode: {e}")))
}

/// Decoding must give back the same object, and encoding it the same bytes.
fn expect_same_object(field: &str, expected: &Object, got: &Object) -> Result<(), Mismatch> {
    if expected == got {
        Ok(())
    } else {
        Err(Mismatch::Differs {
            field: field.to_string(),
            expected: expected.to_json().to_string(),
            got: got.to_json().to_string(),
        })
    }
}

/// The JSON object in input `object_field` encodes to the hex in output `tl_field`, and
/// those bytes decode back to the same object. Returns the object and its bytes.
pub fn object_encodes_to(
    v: &Fields,
    object_field: &str,
    tl_field: &str,
) -> Result<(Object, Vec<u8>), Mismatch> {
    let object = object_from_json(v.input(object_field)?, object_field)?;
    let bytes = object.to_bytes();
    v.expect_hex(tl_field, &bytes)?;
    let decoded = decode(&bytes, tl_field)?;
    expect_same_object(&format!("decoded {tl_field}"), &object, &decoded)?;
    Ok((object, bytes))
}

pub fn object(v: &Fields) -> Result<(), Mismatch> {
    let (_, bytes) = object_encodes_to(v, "object", "tl")?;
    if v.has_output("length") {
        v.expect_i64("length", bytes.len() as i64)?;
    }
    if v.has_output("constructor_id_le") {
        v.expect_hex("constructor_id_le", bytes.get(..4).unwrap_or_default())?;
    }
    if v.has_output("inner_message_tl") {
        let inner = object_from_json(
            v.input("object")?
                .get("message")
                .ok_or_else(|| bad("inputs.object.message", "missing"))?,
            "inputs.object.message",
        )?;
        v.expect_hex("inner_message_tl", &inner.to_bytes())?;
    }
    Ok(())
}

pub fn parse_only(v: &Fields) -> Result<(), Mismatch> {
    let plaintext = v.input_hex("plaintext_with_len")?;
    let (prefix, rest) = plaintext.split_first_chunk::<4>().ok_or_else(|| {
        bad(
            "inputs.plaintext_with_len",
            "shorter than its length prefix",
        )
    })?;
    let length = u32::from_le_bytes(*prefix) as usize;
    if v.has_output("length_prefix") {
        v.expect_i64("length_prefix", length as i64)?;
    }
    let tl = rest.get(..length).ok_or_else(|| {
        bad(
            "inputs.plaintext_with_len",
            format!(
                "length prefix {length} exceeds the {} bytes after it",
                rest.len()
            ),
        )
    })?;
    let decoded = decode(tl, "inputs.plaintext_with_len")?;
    same(
        "re-encoded plaintext",
        &hex::encode(tl),
        &hex::encode(decoded.to_bytes()),
    )?;
    // Compare with what other libraries parsed, where they re-serialized identically.
    if let Some(parses) = v.output("parse").ok().and_then(Value::as_object) {
        for (library, parse) in parses {
            let identical = parse.get("reserialize_identical") == Some(&Value::Bool(true));
            if let (true, Some(object)) = (identical, parse.get("object")) {
                let expected = object_from_json(object, &format!("outputs.parse.{library}"))?;
                expect_same_object(&format!("object parsed by {library}"), &expected, &decoded)?;
            }
        }
    }
    Ok(())
}
