//! The JSON form of TL objects, as the HTTP API and the CLI show them (DESIGN.md).
//!
//! ```json
//! {"_": "decryptedMessageService", "random_id": "-1183756555960720138",
//!  "action": {"_": "decryptedMessageActionNotifyLayer", "layer": 46}}
//! ```
//!
//! * every object carries its canonical constructor name in `"_"`; on input the aliases of
//!   [`super::names`] are accepted too;
//! * `int` is a JSON number (out-of-range numbers are refused);
//! * `long` is written as a decimal **string** (64-bit values do not survive JavaScript
//!   numbers); a string or a JSON integer is accepted;
//! * `bytes` is written as standard base64; base64 or `{"$hex": "..."}` (the vectors' form)
//!   is accepted; `int128`/`int256` likewise, with exactly 16/32 bytes;
//! * `double` is a number (a non-finite double, which JSON cannot express, is written as
//!   `null` and cannot be read back);
//! * `true` flags and `Bool` are JSON booleans;
//! * optional fields are omitted when absent; on input absent and `null` both mean absent;
//! * `flags` is never needed: it is computed, and ignored if sent. Any other unknown field
//!   is refused, naming the field and the constructor.
//!
//! Errors carry the path to the offending value, e.g. `message.media.key`.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::decode::MAX_BYTES_LEN;
use super::names::{resolve_name, ConstructorInfo};

/// A TL value with a JSON form.
///
/// Writing goes straight into any serde `Serializer` ([`TlJson::write_json`]), so an HTTP
/// answer is rendered into its buffer without building a `Value` tree first; `to_json` is
/// the same output as a `Value`, for code that wants to look at or edit it.
pub trait TlJson: Sized {
    /// Writes this value's JSON form into `serializer`.
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;

    fn from_json(value: &Value) -> Result<Self, JsonError>;

    /// The JSON form as a `serde_json::Value`.
    fn to_json(&self) -> Value {
        // Writing a TL value into a `Value` cannot fail: every key is a string and every
        // number is finite or written as null.
        self.write_json(serde_json::value::Serializer)
            .unwrap_or(Value::Null)
    }
}

/// Serializes any TL value in its JSON form (`serde_json::to_writer(&mut out, &AsJson(&x))`).
pub struct AsJson<'a, T>(pub &'a T);

impl<T: TlJson> serde::Serialize for AsJson<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.write_json(serializer)
    }
}

/// A JSON value that does not describe a valid TL value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", if path.is_empty() { String::new() } else { format!("at `{path}`: ") })]
pub struct JsonError {
    /// Where the problem is, e.g. `message.media.key` or `entities[2].offset`; empty at the top.
    pub path: String,
    pub kind: JsonErrorKind,
}

/// What is wrong with a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    #[error("expected {expected}, got {got}")]
    WrongJsonType {
        expected: &'static str,
        got: &'static str,
    },
    #[error("{value} is out of range for {expected}")]
    OutOfRange {
        value: String,
        expected: &'static str,
    },
    #[error("{value:?} is not a decimal 64-bit integer")]
    InvalidLong { value: String },
    #[error("invalid base64: {reason}")]
    InvalidBase64 { reason: String },
    #[error("invalid $hex: {reason}")]
    InvalidHex { reason: String },
    #[error("{len} bytes is more than TL can carry ({max})")]
    TooLong { len: usize, max: usize },
    #[error("{len} bytes where exactly {expected} are needed")]
    WrongLength { len: usize, expected: usize },
    #[error("object has no \"_\" naming its constructor")]
    MissingName,
    #[error("missing field `{field}` of `{constructor}`")]
    MissingField {
        field: &'static str,
        constructor: &'static str,
    },
    #[error("unknown field `{field}` in `{constructor}`")]
    UnknownField {
        field: String,
        constructor: &'static str,
    },
    #[error("unknown constructor `{name}` (expected {expected})")]
    UnknownConstructor {
        name: String,
        expected: &'static str,
    },
    #[error("`{name}` is not a constructor of {expected}")]
    WrongConstructor {
        name: String,
        expected: &'static str,
    },
}

impl JsonError {
    pub fn new(kind: JsonErrorKind) -> Self {
        Self {
            path: String::new(),
            kind,
        }
    }

    /// A known constructor where another type (or constructor) was expected.
    pub fn wrong_constructor(name: &str, expected: &'static str) -> Self {
        Self::new(JsonErrorKind::WrongConstructor {
            name: name.to_owned(),
            expected,
        })
    }

    /// The same error, seen from the object that holds `field`.
    pub fn in_field(mut self, field: &str) -> Self {
        self.path = match self.path.as_str() {
            "" => field.to_owned(),
            path if path.starts_with('[') => format!("{field}{path}"),
            path => format!("{field}.{path}"),
        };
        self
    }

    /// The same error, seen from the array that holds it at `index`.
    pub fn at_index(mut self, index: usize) -> Self {
        self.path = match self.path.as_str() {
            "" => format!("[{index}]"),
            path if path.starts_with('[') => format!("[{index}]{path}"),
            path => format!("[{index}].{path}"),
        };
        self
    }
}

fn wrong_type(expected: &'static str, value: &Value) -> JsonError {
    JsonError::new(JsonErrorKind::WrongJsonType {
        expected,
        got: json_type(value),
    })
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object_and_name(value: &Value) -> Result<(&Map<String, Value>, &str), JsonError> {
    let Value::Object(object) = value else {
        return Err(wrong_type("an object", value));
    };
    match object.get("_") {
        Some(Value::String(name)) => Ok((object, name)),
        Some(other) => Err(wrong_type("a constructor name", other).in_field("_")),
        None => Err(JsonError::new(JsonErrorKind::MissingName)),
    }
}

/// The fields of `value`, which must be an object naming the constructor `info`.
pub fn object_of_constructor<'v>(
    value: &'v Value,
    table: &[ConstructorInfo],
    info: &ConstructorInfo,
) -> Result<&'v Map<String, Value>, JsonError> {
    let (object, name) = object_and_name(value)?;
    if name == info.name || name == info.official_name && resolve_name(table, name).is_none() {
        return Ok(object);
    }
    match resolve_name(table, name) {
        Some(found) if found.id == info.id => Ok(object),
        Some(found) => Err(JsonError::wrong_constructor(found.name, info.name)),
        None => Err(JsonError::new(JsonErrorKind::UnknownConstructor {
            name: name.to_owned(),
            expected: info.name,
        })),
    }
}

/// The fields of `value` and the constructor it names, which must build `type_name`
/// (any constructor of `table` when `type_name` is `None`).
pub fn object_of_type<'v>(
    value: &'v Value,
    table: &'static [ConstructorInfo],
    type_name: Option<&'static str>,
) -> Result<(&'v Map<String, Value>, &'static ConstructorInfo), JsonError> {
    let (object, name) = object_and_name(value)?;
    let expected = type_name.unwrap_or("any constructor");
    match resolve_name(table, name) {
        Some(info) if type_name.is_none_or(|t| t == info.type_name) => Ok((object, info)),
        Some(info) => Err(JsonError::wrong_constructor(info.name, expected)),
        None => Err(JsonError::new(JsonErrorKind::UnknownConstructor {
            name: name.to_owned(),
            expected,
        })),
    }
}

/// Refuses keys that are neither fields, `"_"`, nor a `flags` field of the constructor.
pub fn check_fields(
    object: &Map<String, Value>,
    constructor: &'static str,
    fields: &[&str],
    flags: &[&str],
) -> Result<(), JsonError> {
    match object.keys().find(|key| {
        *key != "_" && !fields.contains(&key.as_str()) && !flags.contains(&key.as_str())
    }) {
        Some(field) => Err(JsonError::new(JsonErrorKind::UnknownField {
            field: field.clone(),
            constructor,
        })),
        None => Ok(()),
    }
}

/// A field that must be present.
pub fn field<T: TlJson>(
    object: &Map<String, Value>,
    constructor: &'static str,
    name: &'static str,
) -> Result<T, JsonError> {
    match object.get(name) {
        Some(value) => T::from_json(value).map_err(|e| e.in_field(name)),
        None => Err(JsonError::new(JsonErrorKind::MissingField {
            field: name,
            constructor,
        })),
    }
}

/// A `flags.N?T` field: absent or `null` means `None`.
pub fn optional_field<T: TlJson>(
    object: &Map<String, Value>,
    _constructor: &'static str,
    name: &'static str,
) -> Result<Option<T>, JsonError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::from_json(value).map(Some).map_err(|e| e.in_field(name)),
    }
}

/// A `flags.N?true` field: absent or `null` means `false`.
pub fn flag_field(
    object: &Map<String, Value>,
    _constructor: &'static str,
    name: &'static str,
) -> Result<bool, JsonError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(set)) => Ok(*set),
        Some(other) => Err(wrong_type("a boolean", other).in_field(name)),
    }
}

fn integer(value: &Value, expected: &'static str) -> Result<i64, JsonError> {
    let Value::Number(number) = value else {
        return Err(wrong_type(expected, value));
    };
    if let Some(n) = number.as_i64() {
        Ok(n)
    } else if number.is_u64() {
        Err(JsonError::new(JsonErrorKind::OutOfRange {
            value: number.to_string(),
            expected,
        }))
    } else {
        Err(wrong_type(expected, value))
    }
}

/// `int`: a JSON number within the 32-bit range.
impl TlJson for i32 {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(*self)
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let n = integer(value, "an int (32-bit integer)")?;
        i32::try_from(n).map_err(|_| {
            JsonError::new(JsonErrorKind::OutOfRange {
                value: n.to_string(),
                expected: "an int (32-bit integer)",
            })
        })
    }
}

/// `long`: a decimal string out; a string or a JSON integer in.
impl TlJson for i64 {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        match value {
            Value::String(text) => text.parse().map_err(|_| {
                JsonError::new(JsonErrorKind::InvalidLong {
                    value: text.clone(),
                })
            }),
            _ => integer(value, "a long (decimal string or integer)"),
        }
    }
}

/// `double`: a JSON number.
impl TlJson for f64 {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_finite() {
            serializer.serialize_f64(*self)
        } else {
            serializer.serialize_none()
        }
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        match value {
            Value::Number(number) => number
                .as_f64()
                .ok_or_else(|| wrong_type("a double (number)", value)),
            _ => Err(wrong_type("a double (number)", value)),
        }
    }
}

/// `Bool`: a JSON boolean.
impl TlJson for bool {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*self)
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        match value {
            Value::Bool(b) => Ok(*b),
            _ => Err(wrong_type("a boolean", value)),
        }
    }
}

fn check_len(len: usize) -> Result<(), JsonError> {
    if len > MAX_BYTES_LEN {
        Err(JsonError::new(JsonErrorKind::TooLong {
            len,
            max: MAX_BYTES_LEN,
        }))
    } else {
        Ok(())
    }
}

/// `string`: a JSON string.
impl TlJson for String {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        match value {
            Value::String(text) => check_len(text.len()).map(|()| text.clone()),
            _ => Err(wrong_type("a string", value)),
        }
    }
}

/// `bytes`: standard base64 out; base64 or `{"$hex": "..."}` in.
impl TlJson for Vec<u8> {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Base64 straight into the output, without an intermediate String.
        serializer.collect_str(&base64::display::Base64Display::new(
            self,
            &base64::engine::general_purpose::STANDARD,
        ))
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        const EXPECTED: &str = "bytes (base64 string or {\"$hex\": ...})";
        let bytes = match value {
            Value::String(text) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| {
                    JsonError::new(JsonErrorKind::InvalidBase64 {
                        reason: e.to_string(),
                    })
                })?,
            Value::Object(object) if object.len() == 1 => match object.get("$hex") {
                Some(Value::String(text)) => hex::decode(text).map_err(|e| {
                    JsonError::new(JsonErrorKind::InvalidHex {
                        reason: e.to_string(),
                    })
                    .in_field("$hex")
                })?,
                Some(other) => return Err(wrong_type("a hex string", other).in_field("$hex")),
                None => return Err(wrong_type(EXPECTED, value)),
            },
            _ => return Err(wrong_type(EXPECTED, value)),
        };
        check_len(bytes.len()).map(|()| bytes)
    }
}

/// `int128`/`int256`: written and read as `bytes` are, with exactly `N` bytes.
impl<const N: usize> TlJson for [u8; N] {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&base64::display::Base64Display::new(
            self,
            &base64::engine::general_purpose::STANDARD,
        ))
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let bytes = Vec::<u8>::from_json(value)?;
        let len = bytes.len();
        bytes
            .try_into()
            .map_err(|_| JsonError::new(JsonErrorKind::WrongLength { len, expected: N }))
    }
}

/// A recursive field: the value's own JSON form.
impl<T: TlJson> TlJson for Box<T> {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        T::write_json(self, serializer)
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        T::from_json(value).map(Box::new)
    }
}

/// `Vector<T>`: a JSON array.
impl<T: TlJson> TlJson for Vec<T> {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(AsJson))
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let Value::Array(items) = value else {
            return Err(wrong_type("an array", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| T::from_json(item).map_err(|e| e.at_index(index)))
            .collect()
    }
}

/// Implements serde's `Serialize`/`Deserialize` for a generated type by going through
/// [`TlJson`], so serde users get the same form and the same precise errors. Exported for
/// code generated into other crates (`secretchat-mtproto`'s schemas); not an API of its own.
#[doc(hidden)]
#[macro_export]
macro_rules! serde_via_json {
    ($name:ident) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::tl::TlJson::write_json(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                <Self as $crate::tl::TlJson>::from_json(&value).map_err(serde::de::Error::custom)
            }
        }
    };
}
