//! Reading a vector's inputs and comparing its outputs, with messages that say which field
//! differed and how.

use std::fmt;

use serde_json::Value;

/// Why a vector did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The file's kind is not one this checker knows.
    UnknownKind(String),
    /// An input or output field is missing or has the wrong shape.
    BadField { field: String, why: String },
    /// The implementation computed something else.
    Differs {
        field: String,
        expected: String,
        got: String,
    },
    /// The implementation refused an input the vector says is good, or accepted one the
    /// vector says is bad.
    Verdict { expected: String, got: String },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::UnknownKind(kind) => write!(f, "unknown vector kind {kind:?}"),
            Mismatch::BadField { field, why } => write!(f, "field {field}: {why}"),
            Mismatch::Differs {
                field,
                expected,
                got,
            } => write!(f, "{field} differs: expected {expected}, got {got}"),
            Mismatch::Verdict { expected, got } => {
                write!(f, "expected {expected}, got {got}")
            }
        }
    }
}

/// A vector's `inputs` and `outputs`, with typed getters.
pub struct Fields<'a> {
    inputs: &'a Value,
    outputs: &'a Value,
}

pub fn bad(field: &str, why: impl Into<String>) -> Mismatch {
    Mismatch::BadField {
        field: field.to_string(),
        why: why.into(),
    }
}

impl<'a> Fields<'a> {
    pub fn new(inputs: &'a Value, outputs: &'a Value) -> Self {
        Self { inputs, outputs }
    }

    fn get(&self, side: Side, name: &str) -> Result<&'a Value, Mismatch> {
        let (object, label) = match side {
            Side::In => (self.inputs, "inputs"),
            Side::Out => (self.outputs, "outputs"),
        };
        object
            .get(name)
            .ok_or_else(|| bad(&format!("{label}.{name}"), "missing"))
    }

    pub fn input(&self, name: &str) -> Result<&'a Value, Mismatch> {
        self.get(Side::In, name)
    }

    pub fn output(&self, name: &str) -> Result<&'a Value, Mismatch> {
        self.get(Side::Out, name)
    }

    pub fn has_output(&self, name: &str) -> bool {
        self.outputs.get(name).is_some()
    }

    pub fn input_hex(&self, name: &str) -> Result<Vec<u8>, Mismatch> {
        hex_value(self.input(name)?, &format!("inputs.{name}"))
    }

    pub fn output_hex(&self, name: &str) -> Result<Vec<u8>, Mismatch> {
        hex_value(self.output(name)?, &format!("outputs.{name}"))
    }

    pub fn input_i64(&self, name: &str) -> Result<i64, Mismatch> {
        int_value(self.input(name)?, &format!("inputs.{name}"))
    }

    pub fn output_i64(&self, name: &str) -> Result<i64, Mismatch> {
        int_value(self.output(name)?, &format!("outputs.{name}"))
    }

    pub fn input_bool(&self, name: &str) -> Result<bool, Mismatch> {
        self.input(name)?
            .as_bool()
            .ok_or_else(|| bad(&format!("inputs.{name}"), "expected true or false"))
    }

    pub fn output_bool(&self, name: &str) -> Result<bool, Mismatch> {
        self.output(name)?
            .as_bool()
            .ok_or_else(|| bad(&format!("outputs.{name}"), "expected true or false"))
    }

    /// Compares `got` with the hex output `name`.
    pub fn expect_hex(&self, name: &str, got: &[u8]) -> Result<(), Mismatch> {
        let expected = self.output_hex(name)?;
        same(name, &hex::encode(expected), &hex::encode(got))
    }

    /// Compares `got` with the hex output `name` when the vector has it.
    pub fn expect_hex_if_present(&self, name: &str, got: &[u8]) -> Result<(), Mismatch> {
        if self.has_output(name) {
            self.expect_hex(name, got)?;
        }
        Ok(())
    }

    /// Compares `got` with the integer output `name`.
    pub fn expect_i64(&self, name: &str, got: i64) -> Result<(), Mismatch> {
        let expected = self.output_i64(name)?;
        same(name, &expected.to_string(), &got.to_string())
    }
}

#[derive(Clone, Copy)]
enum Side {
    In,
    Out,
}

/// Hex text, or `{"$hex": ...}` as TL JSON in the vectors writes bytes.
pub fn hex_value(value: &Value, field: &str) -> Result<Vec<u8>, Mismatch> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(map) => map
            .get("$hex")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(field, "expected hex text or {\"$hex\": ...}"))?,
        _ => return Err(bad(field, "expected hex text")),
    };
    hex::decode(text).map_err(|e| bad(field, format!("not hex: {e}")))
}

/// A JSON integer, or a decimal string (as TL JSON writes `long`).
pub fn int_value(value: &Value, field: &str) -> Result<i64, Mismatch> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| bad(field, format!("{n} is not a 64-bit integer"))),
        Value::String(s) => s
            .parse()
            .map_err(|_| bad(field, format!("{s:?} is not a 64-bit integer"))),
        _ => Err(bad(field, "expected an integer")),
    }
}

/// `Ok` when the two renderings agree, else a [`Mismatch::Differs`] for `field`.
pub fn same(field: &str, expected: &str, got: &str) -> Result<(), Mismatch> {
    if expected == got {
        Ok(())
    } else {
        Err(Mismatch::Differs {
            field: field.to_string(),
            expected: expected.to_string(),
            got: got.to_string(),
        })
    }
}
