//! # TL → JSON Schema: the shapes of the client API's bodies
//!
//! Every body the client API reads or writes is a TL object in its JSON form
//! (`secretchat_common::tl::json`). This module reads the TL lines the generated types carry
//! (each served function's `TL_LINE`, the `CONSTRUCTORS` table of `tl::api`) with the same
//! parser that generated those types (`secretchat_tlgen::schema`), and writes the schema of
//! each one, so the document cannot drift from what the server parses:
//!
//! | TL | request (what the server accepts) | response (what it writes) |
//! |---|---|---|
//! | `int` | integer in the int32 range | the same |
//! | `long` | decimal string in the int64 range, or a JSON integer | decimal string |
//! | `bytes` | canonical padded base64, or `{"$hex": "…"}` | canonical padded base64 |
//! | `string` | string | string |
//! | `Bool`, `flags.N?true` | boolean (`null` = false for a flag) | boolean (a flag: only `true`, omitted when false) |
//! | `flags.N?T` | optional, `null` = absent | optional |
//! | `flags:#` | optional and ignored (computed) | never written |
//! | `Vector<T>` | array | array |
//! | a boxed type | `oneOf` its constructors, discriminated by `"_"` | the same |
//!
//! Objects refuse unknown fields (`additionalProperties: false`) and require `"_"`, the
//! constructor's name, except at the top of a request, where the URL names the method.

use std::collections::BTreeMap;

use secretchat_common::tl::api::CONSTRUCTORS;
use secretchat_tlgen::schema::{self as tl, Declaration, ParamType, TypeRef};
use serde_json::{json, Map, Value};

/// Which way a body travels: the server accepts more spellings than it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// Collects the constructor schemas that bodies refer to (`#/components/schemas/<name>`).
#[derive(Debug, Default)]
pub struct Schemas {
    components: BTreeMap<String, Value>,
    /// Which direction each component was written for: a constructor reached both ways
    /// would need two components (none is, in this schema; [`Schemas::add`] refuses it).
    directions: BTreeMap<String, Direction>,
}

/// A declaration parsed from one TL line.
pub fn parse_line(line: &str) -> Result<Declaration, String> {
    let schema = tl::parse(line).map_err(|err| format!("{line}: {err}"))?;
    schema
        .constructors
        .into_iter()
        .next()
        .ok_or_else(|| format!("{line}: not a declaration"))
}

/// `-?` followed by a decimal at most `max` (digits only, no sign), with leading zeros
/// allowed as Rust's integer parsing allows them: the exact set of strings that parse.
fn decimal_at_most(max: &str) -> String {
    let digits: Vec<char> = max.chars().collect();
    let mut alternatives = vec![format!("[0-9]{{1,{}}}", digits.len() - 1)];
    for (at, digit) in digits.iter().enumerate() {
        let below = digit.to_digit(10).unwrap_or(0);
        if below == 0 {
            continue;
        }
        let prefix: String = digits[..at].iter().collect();
        let rest = digits.len() - at - 1;
        let range = if below == 1 {
            "0".to_owned()
        } else {
            format!("[0-{}]", below - 1)
        };
        alternatives.push(if rest == 0 {
            format!("{prefix}{range}")
        } else {
            format!("{prefix}{range}[0-9]{{{rest}}}")
        });
    }
    alternatives.push(max.to_owned());
    format!("0*(?:{})", alternatives.join("|"))
}

/// A `long` as a decimal string: every string Rust's `i64::from_str` accepts.
pub fn long_pattern() -> String {
    format!(
        "^(?:\\+?{}|-{})$",
        decimal_at_most(&i64::MAX.to_string()),
        decimal_at_most(&i64::MIN.unsigned_abs().to_string())
    )
}

/// Canonical padded base64 (the `base64` crate's STANDARD engine refuses missing padding
/// and non-zero trailing bits).
pub const BASE64_PATTERN: &str =
    "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$";

/// An `int`.
pub fn int() -> Value {
    json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX})
}

fn long(direction: Direction) -> Value {
    let text = json!({
        "type": "string",
        "pattern": long_pattern(),
        "description": "a TL long (64-bit signed) as a decimal string",
        "example": "-1183756555960720138",
    });
    match direction {
        Direction::Response => text,
        Direction::Request => json!({"anyOf": [
            text,
            {"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX},
        ]}),
    }
}

fn bytes(direction: Direction) -> Value {
    let base64 = json!({
        "type": "string",
        "format": "byte",
        "pattern": BASE64_PATTERN,
        "description": "TL bytes as standard base64 with padding",
    });
    match direction {
        Direction::Response => base64,
        Direction::Request => json!({"anyOf": [
            base64,
            {
                "type": "object",
                "description": "TL bytes as hex (the test vectors' form)",
                "required": ["$hex"],
                "additionalProperties": false,
                "properties": {"$hex": {"type": "string", "pattern": "^(?:[0-9A-Fa-f]{2})*$"}},
            },
        ]}),
    }
}

impl Schemas {
    /// The schema of a value of TL type `ty`, adding the constructors it names.
    pub fn type_schema(&mut self, ty: &TypeRef, direction: Direction) -> Result<Value, String> {
        Ok(match ty {
            TypeRef::Int => int(),
            TypeRef::Long => long(direction),
            TypeRef::Double => json!({"type": "number"}),
            TypeRef::String => json!({"type": "string"}),
            TypeRef::Bytes => bytes(direction),
            TypeRef::Bool | TypeRef::True => json!({"type": "boolean"}),
            TypeRef::Vector(item) => {
                json!({"type": "array", "items": self.type_schema(item, direction)?})
            }
            TypeRef::Boxed(name) => self.boxed(name, direction)?,
            TypeRef::Int128
            | TypeRef::Int256
            | TypeRef::Bare(_)
            | TypeRef::TypeVar(_)
            | TypeRef::Query(_) => return Err(format!("{ty:?} has no JSON schema here")),
        })
    }

    /// `oneOf` the constructors of a boxed type (one constructor: a plain reference).
    fn boxed(&mut self, type_name: &str, direction: Direction) -> Result<Value, String> {
        let constructors: Vec<_> = CONSTRUCTORS
            .iter()
            .filter(|info| info.type_name == type_name)
            .collect();
        let mut refs = Vec::new();
        let mut mapping = Map::new();
        for info in &constructors {
            self.add(info.name, info.tl_line, direction)?;
            let reference = format!("#/components/schemas/{}", info.name);
            mapping.insert(info.name.to_owned(), json!(reference));
            refs.push(json!({"$ref": reference}));
        }
        Ok(match refs.len() {
            0 => return Err(format!("no constructor builds {type_name}")),
            1 => refs.remove(0),
            _ => json!({
                "oneOf": refs,
                "discriminator": {"propertyName": "_", "mapping": mapping},
            }),
        })
    }

    /// Adds the component of one constructor (once).
    fn add(&mut self, name: &str, tl_line: &str, direction: Direction) -> Result<(), String> {
        match self.directions.get(name) {
            Some(existing) if *existing == direction => return Ok(()),
            Some(_) => {
                return Err(format!(
                    "{name} is both read and written: it would need two components"
                ))
            }
            None => {}
        }
        self.directions.insert(name.to_owned(), direction);
        let declaration = parse_line(tl_line)?;
        let schema = self.object(&declaration, direction, true)?;
        self.components.insert(name.to_owned(), schema);
        Ok(())
    }

    /// The object schema of a constructor or function: its fields, `"_"` (required when
    /// `name_required`), optional flag fields.
    pub fn object(
        &mut self,
        declaration: &Declaration,
        direction: Direction,
        name_required: bool,
    ) -> Result<Value, String> {
        let name = &declaration.canonical_name;
        let mut properties = Map::new();
        properties.insert(
            "_".into(),
            // The title names the enum for generators (openapi-python-client would name it
            // after the object and the empty-named property, colliding with the object).
            json!({
                "type": "string", "enum": [name], "title": format!("{name} constructor"),
                "description": "the constructor's name",
            }),
        );
        let mut required = Vec::new();
        if name_required {
            required.push(json!("_"));
        }
        for param in &declaration.params {
            let schema = match &param.ty {
                ParamType::Flags => match direction {
                    // Accepted with any value and ignored: the server computes it.
                    Direction::Request => json!({
                        "description": "ignored: the server computes the bit mask from the optional fields",
                    }),
                    Direction::Response => continue,
                },
                ParamType::Plain(ty) => {
                    required.push(json!(param.name));
                    self.type_schema(ty, direction)?
                }
                ParamType::Conditional { flags, bit, ty } => {
                    let mut schema = self.type_schema(ty, direction)?;
                    let flag = format!("optional (bit {bit} of {flags})");
                    match (direction, ty) {
                        // A set flag is written as `true`, a clear one left out.
                        (Direction::Response, TypeRef::True) => {
                            schema["enum"] = json!([true]);
                        }
                        (Direction::Request, _) => {
                            schema = nullable(schema);
                        }
                        (Direction::Response, _) => {}
                    }
                    schema["description"] = json!(match (direction, ty) {
                        (Direction::Request, _) => format!("{flag}; absent or null: not set"),
                        (Direction::Response, TypeRef::True) =>
                            format!("{flag}; present only when set"),
                        (Direction::Response, _) => format!("{flag}; absent when not set"),
                    });
                    schema
                }
            };
            properties.insert(param.name.clone(), schema);
        }
        let mut object = json!({
            "type": "object",
            "description": format!("`{}`", declaration.tl_line),
            "additionalProperties": false,
            "properties": properties,
        });
        if !required.is_empty() {
            object["required"] = Value::Array(required);
        }
        Ok(object)
    }

    /// The components collected so far.
    pub fn into_components(self) -> Map<String, Value> {
        self.components.into_iter().collect()
    }
}

/// `schema`, also allowing `null` (OpenAPI 3.0 spelling). A reference or a composition is
/// wrapped, since `nullable` beside `$ref` is ignored.
pub fn nullable(schema: Value) -> Value {
    if schema.get("type").is_some() {
        let mut schema = schema;
        schema["nullable"] = json!(true);
        schema
    } else {
        json!({"nullable": true, "allOf": [schema]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern)
            .expect("the pattern compiles")
            .is_match(text)
    }

    #[test]
    fn the_long_pattern_is_built_digit_by_digit() {
        assert_eq!(
            decimal_at_most("250"),
            "0*(?:[0-9]{1,2}|[0-1][0-9]{2}|2[0-4][0-9]{1}|250)"
        );
        for edge in [
            "9223372036854775807",
            "-9223372036854775808",
            "+0",
            "-0",
            "007",
        ] {
            assert!(matches(&long_pattern(), edge), "{edge}");
        }
        for outside in [
            "9223372036854775808",
            "-9223372036854775809",
            "",
            "-",
            "+-1",
            "1e3",
        ] {
            assert!(!matches(&long_pattern(), outside), "{outside}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_long_pattern_matches_exactly_what_a_long_parses_from(
            text in "[+-]?[0-9]{1,22}",
            value: i64,
        ) {
            proptest::prop_assert_eq!(
                matches(&long_pattern(), &text),
                text.parse::<i64>().is_ok(),
                "{}", text
            );
            proptest::prop_assert!(matches(&long_pattern(), &value.to_string()));
        }

        #[test]
        fn the_base64_pattern_matches_exactly_what_the_json_form_decodes(
            text in "[A-Za-z0-9+/=]{0,12}",
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        ) {
            use base64::Engine as _;
            let engine = base64::engine::general_purpose::STANDARD;
            proptest::prop_assert_eq!(
                matches(BASE64_PATTERN, &text),
                engine.decode(&text).is_ok(),
                "{}", text
            );
            proptest::prop_assert!(matches(BASE64_PATTERN, &engine.encode(&bytes)));
        }
    }

    #[test]
    fn every_api_constructor_has_a_schema_in_the_direction_it_travels() {
        let mut schemas = Schemas::default();
        for info in CONSTRUCTORS {
            let direction = if info.name.starts_with("input") {
                Direction::Request
            } else {
                Direction::Response
            };
            schemas
                .add(info.name, info.tl_line, direction)
                .unwrap_or_else(|err| panic!("{}: {err}", info.name));
        }
        let components = schemas.into_components();
        let chat = &components["encryptedChatDiscarded"];
        assert_eq!(chat["properties"]["history_deleted"]["enum"], json!([true]));
        assert!(chat["properties"].get("flags").is_none());
        assert_eq!(chat["required"], json!(["_", "id"]));
    }
}
