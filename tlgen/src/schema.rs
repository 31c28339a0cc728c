//! A TL schema, read line by line into declarations.
//!
//! TL ("Type Language") describes every object Telegram puts on the wire. One line declares
//! one *constructor*: its name, its 32-bit id, its fields and the *type* it builds:
//!
//! ```text
//! decryptedMessageActionNotifyLayer#f3048883 layer:int = DecryptedMessageAction;
//! └──────── name ─────────────────┘└─ id ─┘ └field┘   └──── result type ────┘
//! ```
//!
//! Several constructors may build the same type (a *boxed* type, written with a capital
//! letter); on the wire a boxed value starts with the id of the constructor that was used.
//! Fields read `name:type`; `flags:#` is a 32-bit mask, and `name:flags.N?T` is present only
//! when bit N of `flags` is set (`flags.N?true` is the bit alone, no bytes at all).
//!
//! Besides plain TL, the secret-chat schema carries two conventions in comments
//! (SPEC §5, schema header):
//!
//! * `// ===N===` opens the section of constructors introduced at layer N;
//! * a trailing `// tdlib: NAME (note)` gives the unique name tdlib uses where the official
//!   name repeats across layers (`decryptedMessage` exists at layers 8, 17, 45 and 73).
//!
//! This parser keeps both. It recognizes the built-in declarations (`int ? = Int;`,
//! `vector {t:Type} # [ t ] = Vector t;`, ...) and generic ones (`{X:Type}`) and records them
//! as skipped rather than failing. Every error names the line it was found on.
//!
//! Generic *functions* are the wrappers Telegram's API puts around a query
//! (`invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;`): `{X:Type}` declares a type
//! variable, `query:!X` is "any function returning X" (a whole serialized query, constructor
//! id first) and the wrapper returns whatever the query returns. Besides being listed as
//! skipped, each one is also parsed into [`Schema::generic_functions`], so a generator can
//! emit them when asked (the inner query stays raw bytes; see `generate`).

use std::fmt;

/// The whole schema: constructors, functions, and the lines set aside.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Constructors (the part before `---functions---`), in file order.
    pub constructors: Vec<Declaration>,
    /// Functions (the part after `---functions---`), in file order.
    pub functions: Vec<Declaration>,
    /// Declarations that were recognized but not turned into a [`Declaration`] of
    /// `constructors` or `functions`.
    pub skipped: Vec<Skipped>,
    /// The generic functions among `skipped` (`{X:Type} ... query:!X = X`), parsed. A
    /// generator leaves them out unless asked for them.
    pub generic_functions: Vec<Declaration>,
}

/// One constructor or function line.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// 1-based line number in the schema text.
    pub line: usize,
    /// The declaration as written, without its trailing comment (`name#id ... = Type;`).
    pub tl_line: String,
    /// The official name, namespace included (`decryptedMessage`, `messages.dhConfig`).
    pub official_name: String,
    /// The unique name: the `// tdlib:` name when the line has one, else the official name.
    pub canonical_name: String,
    /// The constructor id: the declared `#id`, or the CRC32 of the line when none is given.
    pub id: u32,
    /// Whether the id was written in the schema (as opposed to computed).
    pub id_declared: bool,
    /// The layer section (`// ===N===`) the line appears in, if any.
    pub layer: Option<u32>,
    /// The type variables of a generic declaration (`X` for `{X:Type}`); empty otherwise.
    pub type_params: Vec<String>,
    pub params: Vec<Param>,
    /// The type this constructor builds (or this function returns), e.g. `DecryptedMessage`.
    pub result_type: TypeRef,
}

/// One `name:type` field.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// `flags:#` — a bit mask computed from the conditional fields that refer to it.
    Flags,
    /// `name:flags.N?T` — present only when bit `bit` of the field `flags` is set.
    Conditional {
        flags: String,
        bit: u32,
        ty: TypeRef,
    },
    /// An ordinary field.
    Plain(TypeRef),
}

/// A type as written in a field or after `=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    Int,
    Long,
    Double,
    String,
    Bytes,
    Int128,
    Int256,
    /// `Bool` (boolTrue / boolFalse).
    Bool,
    /// `true` — only meaningful as `flags.N?true`.
    True,
    /// `Vector<T>`: the boxed vector id, a count, then the items.
    Vector(Box<TypeRef>),
    /// A capitalized, possibly namespaced, type name (`DecryptedMessageMedia`, `messages.DhConfig`).
    Boxed(String),
    /// A lowercase name that is not a built-in: a bare constructor (not supported by the
    /// generator, but parsed so the error can say so).
    Bare(String),
    /// A type variable of a generic declaration, as a result type (`= X`).
    TypeVar(String),
    /// `!X`: any function whose result type is the type variable `X` (a serialized query).
    Query(String),
}

/// A line the parser recognized and set aside on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub text: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// `int ? = Int;`, `bytes = Bytes;`, `vector {t:Type} # [ t ] = Vector t;`...
    BuiltIn,
    /// A generic declaration such as `invokeAfterMsg#cb9f372d {X:Type} ... = X;`.
    Generic,
}

/// A schema error, with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SchemaError {}

fn error<T>(line: usize, message: impl Into<String>) -> Result<T, SchemaError> {
    Err(SchemaError {
        line,
        message: message.into(),
    })
}

/// Type names that TL itself defines; declarations of them are skipped.
const BUILT_IN_NAMES: &[&str] = &[
    "int", "long", "double", "string", "bytes", "int128", "int256", "vector",
];

/// Parses a whole schema text.
pub fn parse(text: &str) -> Result<Schema, SchemaError> {
    let mut schema = Schema {
        constructors: Vec::new(),
        functions: Vec::new(),
        skipped: Vec::new(),
        generic_functions: Vec::new(),
    };
    let mut in_functions = false;
    let mut layer = None;

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let (code, comment) = match raw.find("//") {
            Some(at) => (raw[..at].trim(), Some(raw[at + 2..].trim())),
            None => (raw.trim(), None),
        };
        if code.is_empty() {
            if let Some(section) = comment.and_then(|c| parse_section_marker(c, line).transpose()) {
                layer = Some(section?);
            }
            continue;
        }
        match code {
            "---functions---" => {
                in_functions = true;
                continue;
            }
            "---types---" => {
                in_functions = false;
                continue;
            }
            _ => {}
        }
        let Some(body) = code.strip_suffix(';') else {
            return error(
                line,
                format!("a declaration must end with ';' on its line: `{code}`"),
            );
        };
        let body = body.trim();
        let tdlib_name = comment.and_then(tdlib_name);
        if let Some(reason) = skip_reason(body) {
            if reason == SkipReason::Generic && in_functions {
                let declaration = parse_declaration(body, code, line, layer, tdlib_name)?;
                schema.generic_functions.push(declaration);
            }
            schema.skipped.push(Skipped {
                line,
                text: code.to_owned(),
                reason,
            });
            continue;
        }
        let declaration = parse_declaration(body, code, line, layer, tdlib_name)?;
        if in_functions {
            schema.functions.push(declaration);
        } else {
            schema.constructors.push(declaration);
        }
    }
    Ok(schema)
}

/// `===N===` (optionally followed by a note) opens the section of layer N.
fn parse_section_marker(comment: &str, line: usize) -> Result<Option<u32>, SchemaError> {
    let Some(rest) = comment.strip_prefix("===") else {
        return Ok(None);
    };
    let Some(end) = rest.find("===") else {
        return Ok(None);
    };
    let number = &rest[..end];
    match number.parse() {
        Ok(layer) => Ok(Some(layer)),
        // A banner of '=' characters is not a section marker.
        Err(_) if number.chars().all(|c| c == '=') => Ok(None),
        Err(_) => error(
            line,
            format!("section marker `==={number}===` is not a layer number"),
        ),
    }
}

/// The name in a trailing `tdlib: NAME (note)` comment, without the note.
fn tdlib_name(comment: &str) -> Option<&str> {
    let rest = comment.strip_prefix("tdlib:")?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    (!name.is_empty()).then_some(name)
}

fn skip_reason(body: &str) -> Option<SkipReason> {
    let head = body.split_whitespace().next().unwrap_or("");
    let name = head.split('#').next().unwrap_or("");
    if BUILT_IN_NAMES.contains(&name) || body.contains(" ? ") {
        Some(SkipReason::BuiltIn)
    } else if body.contains('{') {
        Some(SkipReason::Generic)
    } else {
        None
    }
}

fn parse_declaration(
    body: &str,
    code: &str,
    line: usize,
    layer: Option<u32>,
    tdlib_name: Option<&str>,
) -> Result<Declaration, SchemaError> {
    let Some((left, right)) = body.split_once('=') else {
        return error(line, format!("no '=' before the result type: `{code}`"));
    };
    let mut words = left.split_whitespace();
    let Some(head) = words.next() else {
        return error(line, "a declaration needs a name");
    };
    let (official_name, declared_id) = match head.split_once('#') {
        Some((name, hex)) => match u32::from_str_radix(hex, 16) {
            Ok(id) if !hex.is_empty() && hex.len() <= 8 => (name, Some(id)),
            _ => return error(line, format!("`#{hex}` is not a 32-bit hexadecimal id")),
        },
        None => (head, None),
    };
    check_name(official_name, line)?;

    let mut type_params = Vec::new();
    let mut params = Vec::new();
    for word in words {
        if let Some(inner) = word.strip_prefix('{') {
            type_params.push(parse_type_param(inner, word, line)?);
        } else {
            params.push(parse_param(word, &type_params, line)?);
        }
    }
    check_flag_references(&params, line)?;

    let result_text = right.trim();
    if result_text.is_empty() || result_text.contains(char::is_whitespace) {
        return error(line, format!("`{result_text}` is not a single result type"));
    }
    let result_type = if type_params.iter().any(|t| t == result_text) {
        TypeRef::TypeVar(result_text.to_owned())
    } else {
        parse_type(result_text, line)?
    };

    let computed = crate::id::constructor_id(body);
    let id = match declared_id {
        Some(declared) if crate::id::matches(declared, body) => declared,
        Some(declared) => {
            return error(
                line,
                format!(
                    "declared id #{declared:08x} does not match the CRC32 of the line (#{computed:08x})"
                ),
            )
        }
        None => computed,
    };

    Ok(Declaration {
        line,
        tl_line: code.to_owned(),
        official_name: official_name.to_owned(),
        canonical_name: tdlib_name.unwrap_or(official_name).to_owned(),
        id,
        id_declared: declared_id.is_some(),
        layer,
        type_params,
        params,
        result_type,
    })
}

fn check_name(name: &str, line: usize) -> Result<(), SchemaError> {
    let valid = !name.is_empty()
        && name.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if valid {
        Ok(())
    } else {
        error(line, format!("`{name}` is not a valid TL name"))
    }
}

/// `X:Type}` (the text after `{`): a type variable.
fn parse_type_param(inner: &str, word: &str, line: usize) -> Result<String, SchemaError> {
    match inner.strip_suffix('}').and_then(|p| p.split_once(':')) {
        Some((name, "Type")) => {
            check_name(name, line)?;
            Ok(name.to_owned())
        }
        _ => error(
            line,
            format!("`{word}` is not a type variable `{{X:Type}}`"),
        ),
    }
}

fn parse_param(word: &str, type_params: &[String], line: usize) -> Result<Param, SchemaError> {
    let Some((name, ty)) = word.split_once(':') else {
        return error(line, format!("field `{word}` is not `name:type`"));
    };
    check_name(name, line)?;
    let ty = if let Some(var) = ty.strip_prefix('!') {
        if !type_params.iter().any(|t| t == var) {
            return error(
                line,
                format!("field `{name}` is `!{var}`, but `{var}` is not a type variable `{{{var}:Type}}` declared before it"),
            );
        }
        ParamType::Plain(TypeRef::Query(var.to_owned()))
    } else if ty == "#" {
        ParamType::Flags
    } else if let Some((condition, inner)) = ty.split_once('?') {
        let Some((flags, bit)) = condition.split_once('.') else {
            return error(line, format!("condition `{condition}` is not `flags.N`"));
        };
        let bit = match bit.parse::<u32>() {
            Ok(bit) if bit < 32 => bit,
            _ => return error(line, format!("flag bit `{bit}` is not a number below 32")),
        };
        ParamType::Conditional {
            flags: flags.to_owned(),
            bit,
            ty: parse_type(inner, line)?,
        }
    } else {
        ParamType::Plain(parse_type(ty, line)?)
    };
    Ok(Param {
        name: name.to_owned(),
        ty,
    })
}

fn parse_type(text: &str, line: usize) -> Result<TypeRef, SchemaError> {
    if let Some(inner) = text
        .strip_prefix("Vector<")
        .and_then(|rest| rest.strip_suffix('>'))
    {
        return Ok(TypeRef::Vector(Box::new(parse_type(inner, line)?)));
    }
    let ty = match text {
        "int" => TypeRef::Int,
        "long" => TypeRef::Long,
        "double" => TypeRef::Double,
        "string" => TypeRef::String,
        "bytes" => TypeRef::Bytes,
        "int128" => TypeRef::Int128,
        "int256" => TypeRef::Int256,
        "Bool" => TypeRef::Bool,
        "true" => TypeRef::True,
        _ => {
            check_name(text, line)?;
            let last = text.rsplit('.').next().unwrap_or(text);
            if last.starts_with(|c: char| c.is_ascii_uppercase()) {
                TypeRef::Boxed(text.to_owned())
            } else {
                TypeRef::Bare(text.to_owned())
            }
        }
    };
    Ok(ty)
}

/// Every `flags.N?T` must name a `#` field declared before it.
fn check_flag_references(params: &[Param], line: usize) -> Result<(), SchemaError> {
    for (index, param) in params.iter().enumerate() {
        if let ParamType::Conditional { flags, .. } = &param.ty {
            let declared_before = params[..index]
                .iter()
                .any(|p| &p.name == flags && p.ty == ParamType::Flags);
            if !declared_before {
                return error(
                    line,
                    format!(
                        "field `{}` depends on `{flags}`, which is not a `{flags}:#` field before it",
                        param.name
                    ),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_flags_constructor_with_its_layer_and_tdlib_name() {
        let text = "// ===46===\n\
            documentAttributeAudio#9852f9c6 flags:# voice:flags.10?true duration:int \
            title:flags.0?string performer:flags.1?string waveform:flags.2?bytes \
            = DocumentAttribute;   // tdlib: documentAttributeAudio (current)\n";
        let schema = parse(text).unwrap();
        let audio = &schema.constructors[0];
        assert_eq!(audio.id, 0x9852f9c6);
        assert_eq!(audio.layer, Some(46));
        assert_eq!(audio.line, 2);
        assert_eq!(audio.official_name, "documentAttributeAudio");
        assert_eq!(audio.canonical_name, "documentAttributeAudio");
        assert_eq!(
            audio.params[1].ty,
            ParamType::Conditional {
                flags: "flags".into(),
                bit: 10,
                ty: TypeRef::True
            }
        );
        assert_eq!(
            audio.result_type,
            TypeRef::Boxed("DocumentAttribute".into())
        );
    }

    #[test]
    fn tdlib_note_in_parentheses_is_not_part_of_the_name() {
        let text = "decryptedMessage#204d3878 random_id:long ttl:int message:string \
            media:DecryptedMessageMedia = DecryptedMessage;   // tdlib: decryptedMessage23 (official layer 17)";
        let schema = parse(text).unwrap();
        assert_eq!(schema.constructors[0].canonical_name, "decryptedMessage23");
    }

    #[test]
    fn built_in_and_generic_lines_are_skipped_not_rejected() {
        let text = "int ? = Int;\nbytes = Bytes;\nvector {t:Type} # [ t ] = Vector t;\n\
            invokeAfterMsg#cb9f372d {X:Type} msg_id:long query:!X = X;\n";
        let schema = parse(text).unwrap();
        assert!(schema.constructors.is_empty());
        let reasons: Vec<_> = schema.skipped.iter().map(|s| (s.line, s.reason)).collect();
        assert_eq!(
            reasons,
            [
                (1, SkipReason::BuiltIn),
                (2, SkipReason::BuiltIn),
                (3, SkipReason::BuiltIn),
                (4, SkipReason::Generic)
            ]
        );
    }

    #[test]
    fn generic_functions_are_also_parsed_with_their_type_variable() {
        let text = "---functions---\n\
            initConnection#c1cd5ea9 {X:Type} flags:# api_id:int device_model:string \
            system_version:string app_version:string system_lang_code:string lang_pack:string \
            lang_code:string proxy:flags.0?InputClientProxy params:flags.1?JSONValue query:!X = X;\n";
        let schema = parse(text).unwrap();
        assert!(schema.functions.is_empty());
        assert_eq!(schema.skipped[0].reason, SkipReason::Generic);
        let init = &schema.generic_functions[0];
        assert_eq!(init.id, 0xc1cd5ea9);
        assert_eq!(init.type_params, ["X"]);
        assert_eq!(init.result_type, TypeRef::TypeVar("X".into()));
        assert_eq!(
            init.params.last().map(|p| &p.ty),
            Some(&ParamType::Plain(TypeRef::Query("X".into())))
        );
    }

    #[test]
    fn a_query_of_an_undeclared_type_variable_is_an_error() {
        let err = parse("---functions---\nwrap {X:Type} query:!Y = X;").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("`Y`"), "{err}");
    }

    #[test]
    fn missing_id_is_computed_from_the_line() {
        let schema = parse("boolFalse = Bool;").unwrap();
        assert_eq!(schema.constructors[0].id, 0xbc799737);
        assert!(!schema.constructors[0].id_declared);
    }

    #[test]
    fn functions_section_and_namespaces_are_parsed() {
        let text = "messages.dhConfig#2c221edd g:int p:bytes version:int random:bytes = messages.DhConfig;\n\
            ---functions---\n\
            messages.getDhConfig#26cf8950 version:int random_length:int = messages.DhConfig;\n\
            messages.receivedQueue#55a5bb66 max_qts:int = Vector<long>;\n";
        let schema = parse(text).unwrap();
        assert_eq!(schema.constructors.len(), 1);
        assert_eq!(schema.functions.len(), 2);
        assert_eq!(schema.functions[0].official_name, "messages.getDhConfig");
        assert_eq!(
            schema.functions[1].result_type,
            TypeRef::Vector(Box::new(TypeRef::Long))
        );
    }

    #[test]
    fn wrong_declared_id_is_an_error_naming_the_line() {
        let text = "// comment\nfoo#12345678 x:int = Foo;\n";
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("#12345678"), "{err}");
    }

    #[test]
    fn condition_on_an_undeclared_flags_field_is_an_error() {
        let err = parse("foo x:flags.0?int = Foo;").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("`flags`"), "{err}");
    }

    #[test]
    fn missing_semicolon_is_an_error() {
        let err = parse("\n\nfoo x:int = Foo").unwrap_err();
        assert_eq!(err.line, 3);
    }
}
