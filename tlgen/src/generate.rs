//! Rust source from a parsed schema.
//!
//! The output follows the layout grammers uses for its TL types:
//!
//! ```text
//! CONSTRUCTORS            every constructor: id, names, layer, TL line
//! types::X                one struct per constructor (CamelCase of its canonical name)
//! enums::T                one enum per boxed type, one variant per constructor
//! functions::F            one struct per function (if the schema has any)
//! Object                  one enum over every constructor: "decode whatever this is"
//! FUNCTIONS, Function     the functions' table and one enum over them (when asked)
//! ```
//!
//! Every struct and enum gets the binary codec (`TlWrite`, `TlRead`) and the JSON form
//! (`TlJson`, plus serde impls that go through it) of the hand-written runtime whose path is
//! [`Options::runtime`]. `Bool` and `true` are not generated: they are Rust `bool`s, and the
//! runtime knows their two ids. The code is emitted already formatted, with each type's TL
//! line in its doc comment, so it can be read as it is (`tlgen schema.tl` prints it).
//!
//! Three options serve Telegram's main API, of which a mock only carries a subset
//! (see [`Options`]): undefined types become *opaque* enums with no constructors; the generic
//! wrappers (`invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X`) are generated with
//! their inner query as raw bytes (`RawQuery`: the rest of the input, since `!X` is always
//! the last field); and `Function` decodes any function of the schema by its id.
//!
//! Flag bits shared by several fields (`personal_channel_id:flags2.6?long
//! personal_channel_message:flags2.6?int`) are written only together: the bit is set when
//! every data field it guards is present (a bit that guards only `true` flags is set when
//! any of them is), so whatever a caller builds encodes to bytes that decode again.

use std::collections::{BTreeMap, BTreeSet};

use crate::schema::{Declaration, ParamType, Schema, SchemaError, TypeRef};

/// `boolFalse`/`boolTrue` ids the runtime hard-codes; a schema must agree with them.
const BOOL_FALSE_ID: u32 = 0xbc799737;
const BOOL_TRUE_ID: u32 = 0x997275b5;

/// How to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the hand-written runtime the generated code calls, e.g. `crate::tl`.
    pub runtime: String,
    /// Name of the schema file, for the header comment.
    pub source_name: String,
    /// Leave out constructors and functions whose fields use a type the schema never
    /// defines (instead of failing). Off by default: a typo in a type name should fail
    /// the build. Turn it on for partial schemas such as `api_subset.tl`.
    pub skip_undefined_types: bool,
    /// Turn every type the schema uses but never defines into an *opaque* enum with no
    /// constructors, instead of failing or leaving lines out: a field of such a type can
    /// only be absent (behind an unset flag) or an empty vector, and decoding a value of it
    /// fails with `UnknownConstructor` naming the type. For the API subsets, whose headers
    /// list these types. Takes precedence over `skip_undefined_types`.
    pub opaque_undefined_types: bool,
    /// Generate the generic functions (`{X:Type} ... query:!X = X`), with the inner query
    /// as `RawQuery` of the runtime (its serialized bytes: the rest of the input).
    pub generic_functions: bool,
    /// Generate `Function`, one enum over every function, to decode any query by its id.
    pub function_enum: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runtime: "crate::tl".to_owned(),
            source_name: "schema.tl".to_owned(),
            skip_undefined_types: false,
            opaque_undefined_types: false,
            generic_functions: false,
            function_enum: false,
        }
    }
}

/// Generates the Rust module body for `schema`.
pub fn generate(schema: &Schema, options: &Options) -> Result<String, SchemaError> {
    let model = Model::new(schema, options)?;
    let mut out = String::new();
    model.write_header(&mut out);
    model.write_table(&mut out);
    model.write_types(&mut out);
    model.write_enums(&mut out);
    if !model.functions.is_empty() {
        model.write_functions(&mut out);
    }
    model.write_object(&mut out);
    if model.options.function_enum && !model.functions.is_empty() {
        model.write_function_enum(&mut out);
    }
    Ok(out)
}

/// The schema, checked and arranged for output.
struct Model<'a> {
    options: &'a Options,
    /// Constructors that become structs, in schema order.
    constructors: Vec<&'a Declaration>,
    /// `Bool`/`True` constructors: listed in the table only.
    native: Vec<&'a Declaration>,
    functions: Vec<&'a Declaration>,
    /// Boxed type name → its constructors, in schema order.
    types: BTreeMap<&'a str, Vec<&'a Declaration>>,
    /// Lines left out by `skip_undefined_types`, with the reason.
    left_out: Vec<(usize, String)>,
    /// Types used but not defined, generated as opaque enums (`opaque_undefined_types`).
    opaque: BTreeSet<&'a str>,
    /// Boxed types from which a chain of direct fields (not inside a vector) leads back to
    /// the type itself, with the types on the way: a field of such a type in a constructor
    /// of a type it reaches must be a `Box`, or the Rust type would have infinite size.
    reaches: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> Model<'a> {
    fn new(schema: &'a Schema, options: &'a Options) -> Result<Self, SchemaError> {
        let mut native = Vec::new();
        let mut constructors = Vec::new();
        for declaration in &schema.constructors {
            match &declaration.result_type {
                TypeRef::Bool => {
                    check_bool_id(declaration)?;
                    native.push(declaration);
                }
                TypeRef::Boxed(name) if name == "True" => native.push(declaration),
                TypeRef::Boxed(_) => constructors.push(declaration),
                other => {
                    return Err(SchemaError {
                        line: declaration.line,
                        message: format!(
                            "a constructor must build a boxed type, not `{}`",
                            type_text(other)
                        ),
                    })
                }
            }
        }
        let mut functions: Vec<&Declaration> = schema.functions.iter().collect();
        if options.generic_functions {
            functions.extend(&schema.generic_functions);
            functions.sort_by_key(|d| d.line);
        }

        check_unique(&constructors, "constructor")?;
        check_unique(&functions, "function")?;
        check_unique_ids(constructors.iter().chain(&native).copied())?;

        let (left_out, opaque) = if options.opaque_undefined_types {
            let defined: BTreeSet<&str> = constructors.iter().map(|c| result_name(c)).collect();
            let opaque = constructors
                .iter()
                .chain(&functions)
                .flat_map(|declaration| undefined_types(declaration, &defined))
                .collect();
            (Vec::new(), opaque)
        } else {
            let left_out = leave_out_undefined(
                &mut constructors,
                &mut functions,
                options.skip_undefined_types,
            )?;
            (left_out, BTreeSet::new())
        };

        for declaration in constructors.iter().chain(&functions) {
            check_supported(declaration)?;
        }

        let mut types: BTreeMap<&str, Vec<&Declaration>> = BTreeMap::new();
        for &constructor in &constructors {
            types
                .entry(result_name(constructor))
                .or_default()
                .push(constructor);
        }
        check_unique_type_names(types.keys().chain(&opaque).copied(), &constructors)?;
        let type_names: BTreeSet<String> = types.keys().map(|t| rust_name(t)).collect();
        if let Some(clash) = type_names.iter().find(|name| name.as_str() == "Object") {
            return Err(SchemaError {
                line: types[clash.as_str()][0].line,
                message: "a type named `Object` would clash with the generated `Object` enum"
                    .to_owned(),
            });
        }

        let reaches = reachability(&types);
        Ok(Self {
            options,
            constructors,
            native,
            functions,
            types,
            left_out,
            opaque,
            reaches,
        })
    }

    /// The Rust type of a field of `d`: a `Box` where the type can contain `d`'s own type.
    fn field_type(&self, d: &Declaration, ty: &TypeRef) -> String {
        let plain = rust_type(ty, self.rt());
        match ty {
            TypeRef::Boxed(name)
                if self
                    .reaches
                    .get(name.as_str())
                    .is_some_and(|reached| reached.contains(result_name(d))) =>
            {
                format!("Box<{plain}>")
            }
            _ => plain,
        }
    }

    fn rt(&self) -> &str {
        &self.options.runtime
    }

    fn write_header(&self, out: &mut String) {
        out.push_str(&format!(
            "// @generated by secretchat-tlgen from `{}`. Do not edit: change the schema.\n",
            self.options.source_name
        ));
        out.push_str(
            "//\n// Layout: `CONSTRUCTORS` (the table), `types` (one struct per constructor),\n",
        );
        out.push_str("// `enums` (one enum per boxed type), ");
        if !self.functions.is_empty() {
            out.push_str("`functions` (one struct per function), ");
        }
        out.push_str("`Object` (any constructor)");
        if self.options.function_enum && !self.functions.is_empty() {
            out.push_str(", `Function` (any function)");
        }
        out.push_str(".\n");
        for (line, reason) in &self.left_out {
            out.push_str(&format!("// Left out (line {line}): {reason}\n"));
        }
        if !self.opaque.is_empty() {
            let names: Vec<&str> = self.opaque.iter().copied().collect();
            out.push_str(&format!(
                "// Opaque (used, never defined; no value can be built): {}.\n",
                names.join(", ")
            ));
        }
        out.push('\n');
    }

    fn write_table(&self, out: &mut String) {
        let rt = self.rt();
        out.push_str(&format!(
            "/// Every constructor of the schema, in schema order (including the `Bool`/`true`\n\
             /// constructors, which are plain Rust `bool`s and have no struct).\n\
             pub const CONSTRUCTORS: &[{rt}::ConstructorInfo] = &[\n"
        ));
        let mut all: Vec<&Declaration> = self.native.clone();
        all.extend(&self.constructors);
        all.sort_by_key(|d| d.line);
        for declaration in all {
            if self.native.iter().any(|n| n.line == declaration.line) {
                out.push_str(&format!("    {},\n", info_literal(rt, declaration, "    ")));
            } else {
                out.push_str(&format!(
                    "    types::{}::INFO,\n",
                    rust_name(&declaration.canonical_name)
                ));
            }
        }
        out.push_str("];\n\n");
        out.push_str(&format!(
            "/// Finds a constructor by name: its canonical name, its official name (the newest\n\
             /// version), or its official name followed by a layer N (the version in force at N).\n\
             pub fn resolve_name(name: &str) -> Option<&'static {rt}::ConstructorInfo> {{\n    \
                 {rt}::resolve_name(CONSTRUCTORS, name)\n\
             }}\n\n\
             /// Finds a constructor by id.\n\
             pub fn constructor_info(id: u32) -> Option<&'static {rt}::ConstructorInfo> {{\n    \
                 CONSTRUCTORS.iter().find(|info| info.id == id)\n\
             }}\n\n\
             /// The constructors in force at `layer`: introduced at or before it and not yet\n\
             /// replaced by a newer version of the same official name.\n\
             pub fn in_force_at(layer: u32) -> impl Iterator<Item = &'static {rt}::ConstructorInfo> {{\n    \
                 {rt}::in_force_at(CONSTRUCTORS, layer)\n\
             }}\n\n"
        ));
        if !self.functions.is_empty() {
            out.push_str(&format!(
                "/// Every function of the schema, in schema order.\n\
                 pub const FUNCTIONS: &[{rt}::ConstructorInfo] = &[\n"
            ));
            for function in &self.functions {
                out.push_str(&format!(
                    "    functions::{}::INFO,\n",
                    rust_name(&function.canonical_name)
                ));
            }
            out.push_str("];\n\n");
        }
    }

    fn write_types(&self, out: &mut String) {
        out.push_str("/// One struct per constructor.\npub mod types {\n");
        self.write_module_uses(out);
        for constructor in &self.constructors {
            self.write_struct(out, constructor, Kind::Constructor);
        }
        out.push_str("}\n\n");
    }

    fn write_functions(&self, out: &mut String) {
        out.push_str("/// One struct per function (the request; its result type is in the doc).\npub mod functions {\n");
        self.write_module_uses(out);
        for function in &self.functions {
            self.write_struct(out, function, Kind::Function);
        }
        out.push_str("}\n\n");
    }

    fn write_module_uses(&self, out: &mut String) {
        out.push_str(&format!(
            "    #[allow(unused_imports)]\n    use {rt}::{{TlJson as _, TlRead as _, TlWrite as _}};\n\n",
            rt = self.rt()
        ));
    }

    fn write_struct(&self, out: &mut String, d: &Declaration, kind: Kind) {
        let rt = self.rt();
        let name = rust_name(&d.canonical_name);
        let layer = match d.layer {
            Some(layer) => format!("Introduced at layer {layer}"),
            None => "No layer section".to_owned(),
        };
        let builds = match kind {
            Kind::Constructor => format!(
                "a constructor of [`super::enums::{}`]",
                rust_name(result_name(d))
            ),
            Kind::Function if d.type_params.is_empty() => {
                format!("a function returning `{}`", type_text(&d.result_type))
            }
            Kind::Function => "a generic wrapper: it returns what its `query` returns \
                (kept as raw bytes, the rest of the input)"
                .to_owned(),
        };
        out.push_str(&format!(
            "    /// `{}`\n    ///\n    /// {layer}; official name `{}`; {builds}.\n",
            d.tl_line, d.official_name
        ));
        let shared = shared_bits(d);
        if !shared.is_empty() {
            out.push_str(&format!(
                "    ///\n    /// Fields sharing a flag bit are written only together ({}): the bit is set \
                 when every data field it guards is present.\n",
                shared.join("; ")
            ));
        }
        out.push_str("    #[derive(Debug, Clone, PartialEq)]\n");
        let fields: Vec<Field> = d
            .params
            .iter()
            .filter_map(|p| Field::new(p, |ty| self.field_type(d, ty)))
            .collect();
        if fields.is_empty() {
            out.push_str(&format!("    pub struct {name} {{}}\n\n"));
        } else {
            out.push_str(&format!("    pub struct {name} {{\n"));
            for field in &fields {
                out.push_str(&format!(
                    "        pub {}: {},\n",
                    field.ident, field.rust_type
                ));
            }
            out.push_str("    }\n\n");
        }

        // Identity constants and the bare codec.
        out.push_str(&format!("    impl {name} {{\n"));
        out.push_str(&format!(
            "        pub const CONSTRUCTOR_ID: u32 = {:#010x};\n",
            d.id
        ));
        out.push_str(&format!(
            "        pub const NAME: &'static str = {:?};\n",
            d.canonical_name
        ));
        out.push_str(&format!(
            "        pub const OFFICIAL_NAME: &'static str = {:?};\n",
            d.official_name
        ));
        out.push_str(&format!(
            "        pub const LAYER: Option<u32> = {};\n",
            layer_literal(d.layer)
        ));
        out.push_str(&format!(
            "        pub const TL_LINE: &'static str = {:?};\n",
            d.tl_line
        ));
        out.push_str(&format!(
            "        pub const INFO: {rt}::ConstructorInfo = {rt}::ConstructorInfo {{\n\
             \x20           id: Self::CONSTRUCTOR_ID,\n\
             \x20           name: Self::NAME,\n\
             \x20           official_name: Self::OFFICIAL_NAME,\n\
             \x20           type_name: {:?},\n\
             \x20           layer: Self::LAYER,\n\
             \x20           tl_line: Self::TL_LINE,\n\
             \x20       }};\n",
            type_text(&d.result_type)
        ));
        let field_names: Vec<String> = fields.iter().map(|f| format!("{:?}", f.tl_name)).collect();
        let flag_names: Vec<String> = d
            .params
            .iter()
            .filter(|p| p.ty == ParamType::Flags)
            .map(|p| format!("{:?}", p.name))
            .collect();
        out.push_str(&format!(
            "        /// The JSON keys of the fields.\n        const FIELDS: &'static [&'static str] = &[{}];\n",
            field_names.join(", ")
        ));
        out.push_str(&format!(
            "        /// `flags` keys: computed on write, ignored on read.\n        const FLAGS: &'static [&'static str] = &[{}];\n\n",
            flag_names.join(", ")
        ));

        // write_bare
        let buf = if d.params.is_empty() { "_buf" } else { "buf" };
        out.push_str(&format!(
            "        /// Writes the fields, without the constructor id (the bare form).\n\
             \x20       pub fn write_bare(&self, {buf}: &mut Vec<u8>) {{\n"
        ));
        for param in &d.params {
            match &param.ty {
                ParamType::Flags => {
                    let bits: Vec<(&str, u32, bool)> = d
                        .params
                        .iter()
                        .filter_map(|p| match &p.ty {
                            ParamType::Conditional { flags, bit, ty } if *flags == param.name => {
                                Some((p.name.as_str(), *bit, *ty == TypeRef::True))
                            }
                            _ => None,
                        })
                        .collect();
                    let var = ident(&param.name);
                    if bits.is_empty() {
                        out.push_str(&format!("            0u32.write_to({buf});\n"));
                        continue;
                    }
                    out.push_str(&format!("            let mut {var} = 0u32;\n"));
                    let mut done = BTreeSet::new();
                    for &(_, bit, _) in &bits {
                        if !done.insert(bit) {
                            continue;
                        }
                        let guarded: Vec<(&str, bool)> = bits
                            .iter()
                            .filter(|(_, b, _)| *b == bit)
                            .map(|&(field, _, is_true)| (field, is_true))
                            .collect();
                        let data: Vec<String> = guarded
                            .iter()
                            .filter(|(_, is_true)| !is_true)
                            .map(|(field, _)| format!("self.{}.is_some()", ident(field)))
                            .collect();
                        let test = if data.is_empty() {
                            guarded
                                .iter()
                                .map(|(field, _)| format!("self.{}", ident(field)))
                                .collect::<Vec<_>>()
                                .join(" || ")
                        } else {
                            data.join(" && ")
                        };
                        out.push_str(&format!(
                            "            if {test} {{\n                {var} |= 1 << {bit};\n            }}\n"
                        ));
                    }
                    out.push_str(&format!("            {var}.write_to({buf});\n"));
                }
                ParamType::Conditional {
                    ty: TypeRef::True, ..
                } => {}
                ParamType::Conditional { flags, bit, .. } if shares_bit_with_data(d, param) => {
                    out.push_str(&format!(
                        "            if {} & (1 << {bit}) != 0 {{\n                if let Some(value) = &self.{} {{\n                    value.write_to({buf});\n                }}\n            }}\n",
                        ident(flags),
                        ident(&param.name)
                    ));
                }
                ParamType::Conditional { .. } => {
                    out.push_str(&format!(
                        "            if let Some(value) = &self.{} {{\n                value.write_to({buf});\n            }}\n",
                        ident(&param.name)
                    ));
                }
                ParamType::Plain(_) => {
                    out.push_str(&format!(
                        "            self.{}.write_to({buf});\n",
                        ident(&param.name)
                    ));
                }
            }
        }
        out.push_str("        }\n\n");

        // read_bare
        let reader = if d.params.is_empty() {
            "_reader"
        } else {
            "reader"
        };
        out.push_str(&format!(
            "        /// Reads the fields that follow the constructor id (the bare form).\n\
             \x20       pub fn read_bare({reader}: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{\n"
        ));
        for param in &d.params {
            let var = ident(&param.name);
            match &param.ty {
                ParamType::Flags => {
                    let used = d.params.iter().any(|p| {
                        matches!(&p.ty, ParamType::Conditional { flags, .. } if *flags == param.name)
                    });
                    let read = format!(
                        "reader.field({:?}, |reader| reader.read_u32())?",
                        param.name
                    );
                    if used {
                        out.push_str(&format!("            let {var} = {read};\n"));
                    } else {
                        out.push_str(&format!("            {read};\n"));
                    }
                }
                ParamType::Conditional {
                    flags,
                    bit,
                    ty: TypeRef::True,
                } => {
                    out.push_str(&format!(
                        "            let {var} = {} & (1 << {bit}) != 0;\n",
                        ident(flags)
                    ));
                }
                ParamType::Conditional { flags, bit, ty } => {
                    out.push_str(&format!(
                        "            let {var} = if {} & (1 << {bit}) != 0 {{\n\
                         \x20               Some(reader.field({:?}, <{}>::read_from)?)\n\
                         \x20           }} else {{\n\
                         \x20               None\n\
                         \x20           }};\n",
                        ident(flags),
                        param.name,
                        self.field_type(d, ty)
                    ));
                }
                ParamType::Plain(ty) => {
                    out.push_str(&format!(
                        "            let {var} = reader.field({:?}, <{}>::read_from)?;\n",
                        param.name,
                        self.field_type(d, ty)
                    ));
                }
            }
        }
        let idents: Vec<String> = fields.iter().map(|f| f.ident.clone()).collect();
        if idents.is_empty() {
            out.push_str("            Ok(Self {})\n        }\n\n");
        } else {
            out.push_str(&format!(
                "            Ok(Self {{ {} }})\n        }}\n\n",
                idents.join(", ")
            ));
        }

        // JSON fields
        let object = if fields.is_empty() {
            "_object"
        } else {
            "object"
        };
        out.push_str(&format!(
            "        /// Reads the fields of a JSON object whose `\"_\"` was already checked.\n\
             \x20       pub(crate) fn from_json_fields(\n\
             \x20           object: &serde_json::Map<String, serde_json::Value>,\n\
             \x20       ) -> Result<Self, {rt}::JsonError> {{\n\
             \x20           {rt}::json::check_fields(object, Self::NAME, Self::FIELDS, Self::FLAGS)?;\n"
        ));
        let _ = object;
        if fields.is_empty() {
            out.push_str("            Ok(Self {})\n        }\n");
        } else {
            out.push_str("            Ok(Self {\n");
            for field in &fields {
                let getter = match field.shape {
                    Shape::Required => "field",
                    Shape::Optional => "optional_field",
                    Shape::Flag => "flag_field",
                };
                out.push_str(&format!(
                    "                {}: {rt}::json::{getter}(object, Self::NAME, {:?})?,\n",
                    field.ident, field.tl_name
                ));
            }
            out.push_str("            })\n        }\n");
        }
        out.push_str("    }\n\n");

        // Boxed codec.
        out.push_str(&format!(
            "    impl {rt}::TlWrite for {name} {{\n\
             \x20       fn write_to(&self, buf: &mut Vec<u8>) {{\n\
             \x20           Self::CONSTRUCTOR_ID.write_to(buf);\n\
             \x20           self.write_bare(buf);\n\
             \x20       }}\n\
             \x20   }}\n\n\
             \x20   impl {rt}::TlRead for {name} {{\n\
             \x20       const MIN_WIRE_SIZE: usize = {};\n\n\
             \x20       fn read_from(reader: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{\n\
             \x20           reader.expect_constructor(Self::CONSTRUCTOR_ID, Self::NAME)?;\n\
             \x20           Self::read_bare(reader)\n\
             \x20       }}\n\
             \x20   }}\n\n",
            min_wire_size(d)
        ));

        // JSON: written straight into the serializer, field by field (no `Value` tree).
        out.push_str(&format!(
            "    impl {rt}::TlJson for {name} {{\n\
             \x20       fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n\
             \x20           use serde::ser::SerializeMap as _;\n\
             \x20           let mut map = serializer.serialize_map(None)?;\n\
             \x20           map.serialize_entry(\"_\", Self::NAME)?;\n"
        ));
        for field in &fields {
            match field.shape {
                Shape::Required => out.push_str(&format!(
                    "            map.serialize_entry({:?}, &{rt}::json::AsJson(&self.{}))?;\n",
                    field.tl_name, field.ident
                )),
                Shape::Optional => out.push_str(&format!(
                    "            if let Some(value) = &self.{} {{\n                map.serialize_entry({:?}, &{rt}::json::AsJson(value))?;\n            }}\n",
                    field.ident, field.tl_name
                )),
                Shape::Flag => out.push_str(&format!(
                    "            if self.{} {{\n                map.serialize_entry({:?}, &true)?;\n            }}\n",
                    field.ident, field.tl_name
                )),
            }
        }
        out.push_str(&format!(
            "            map.end()\n\
             \x20       }}\n\n\
             \x20       fn from_json(value: &serde_json::Value) -> Result<Self, {rt}::JsonError> {{\n\
             \x20           let object = {rt}::json::object_of_constructor(value, super::CONSTRUCTORS, &Self::INFO)?;\n\
             \x20           Self::from_json_fields(object)\n\
             \x20       }}\n\
             \x20   }}\n\n\
             \x20   {rt}::serde_via_json!({name});\n\n"
        ));
    }

    fn write_enums(&self, out: &mut String) {
        let rt = self.rt();
        out.push_str(
            "/// One enum per boxed type; each variant holds the struct of one constructor.\n\
             #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]\n\
             pub mod enums {\n",
        );
        self.write_module_uses(out);
        for (type_name, constructors) in &self.types {
            let name = rust_name(type_name);
            out.push_str(&format!("    /// The TL type `{type_name}`:\n    ///\n"));
            for c in constructors {
                out.push_str(&format!(
                    "    /// * [`super::types::{}`] — `{}#{:08x}`{}\n",
                    rust_name(&c.canonical_name),
                    c.official_name,
                    c.id,
                    match c.layer {
                        Some(layer) => format!(", layer {layer}"),
                        None => String::new(),
                    }
                ));
            }
            let variants: Vec<String> = constructors
                .iter()
                .map(|c| rust_name(&c.canonical_name))
                .collect();
            self.write_sum_type(
                out,
                &name,
                type_name,
                &variants,
                "super::types",
                "super::CONSTRUCTORS",
            );
        }
        for type_name in &self.opaque {
            self.write_opaque(out, type_name);
        }
        out.push_str("}\n\n");
        let _ = rt;
    }

    /// A type the schema uses but does not define: an enum with no variants.
    fn write_opaque(&self, out: &mut String, type_name: &str) {
        let rt = self.rt();
        let name = rust_name(type_name);
        out.push_str(&format!(
            "    /// The TL type `{type_name}`, which this schema uses but does not define: no value\n\
             \x20   /// of it can be built, so a field of this type is always absent (or an empty\n\
             \x20   /// vector), and decoding one fails with the constructor id it met.\n\
             \x20   #[derive(Debug, Clone, PartialEq)]\n\
             \x20   pub enum {name} {{}}\n\n\
             \x20   impl {name} {{\n\
             \x20       /// The TL type name, as used in error messages.\n\
             \x20       pub const TYPE_NAME: &'static str = {type_name:?};\n\
             \x20   }}\n\n\
             \x20   impl {rt}::TlWrite for {name} {{\n\
             \x20       fn write_to(&self, _buf: &mut Vec<u8>) {{\n\
             \x20           match *self {{}}\n\
             \x20       }}\n\
             \x20   }}\n\n\
             \x20   impl {rt}::TlRead for {name} {{\n\
             \x20       const MIN_WIRE_SIZE: usize = 4;\n\n\
             \x20       fn read_from(reader: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{\n\
             \x20           let (id, at) = reader.read_constructor_id()?;\n\
             \x20           Err({rt}::DecodeError::UnknownConstructor {{\n\
             \x20               id,\n\
             \x20               expected: Self::TYPE_NAME,\n\
             \x20               at,\n\
             \x20           }})\n\
             \x20       }}\n\
             \x20   }}\n\n\
             \x20   impl {rt}::TlJson for {name} {{\n\
             \x20       fn write_json<S: serde::Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {{\n\
             \x20           match *self {{}}\n\
             \x20       }}\n\n\
             \x20       fn from_json(value: &serde_json::Value) -> Result<Self, {rt}::JsonError> {{\n\
             \x20           let (_, info) = {rt}::json::object_of_type(value, super::CONSTRUCTORS, Some(Self::TYPE_NAME))?;\n\
             \x20           Err({rt}::JsonError::wrong_constructor(info.name, Self::TYPE_NAME))\n\
             \x20       }}\n\
             \x20   }}\n\n\
             \x20   {rt}::serde_via_json!({name});\n\n"
        ));
    }

    /// `Function`: any function of the schema, decoded by its id.
    fn write_function_enum(&self, out: &mut String) {
        out.push('\n');
        self.write_any(
            out,
            "Any function of the schema, for \"decode whatever query this is\" (by constructor id).",
            ("function", "Function"),
            &self.functions,
            ("super::functions", "super::FUNCTIONS"),
        );
    }

    fn write_object(&self, out: &mut String) {
        self.write_any(
            out,
            "Any constructor of the schema, for \"decode whatever this is\" (by constructor id)\n\
             /// and for JSON whose type is not known in advance.",
            ("object", "Object"),
            &self.constructors,
            ("super::types", "super::CONSTRUCTORS"),
        );
    }

    /// An enum over every declaration of a kind, in a module of its own, re-exported.
    fn write_any(
        &self,
        out: &mut String,
        doc: &str,
        (module, name): (&str, &str),
        declarations: &[&Declaration],
        (types, table): (&str, &str),
    ) {
        out.push_str(&format!(
            "/// {doc}\n#[allow(clippy::large_enum_variant, clippy::enum_variant_names)]\nmod {module} {{\n"
        ));
        self.write_module_uses(out);
        let variants: Vec<String> = declarations
            .iter()
            .map(|d| rust_name(&d.canonical_name))
            .collect();
        self.write_sum_type(out, name, name, &variants, types, table);
        out.push_str(&format!("}}\n\npub use {module}::{name};\n"));
    }

    /// An enum over some constructors, with its codec and JSON form.
    fn write_sum_type(
        &self,
        out: &mut String,
        name: &str,
        type_name: &str,
        variants: &[String],
        types: &str,
        table: &str,
    ) {
        let rt = self.rt();
        out.push_str("    #[derive(Debug, Clone, PartialEq)]\n");
        out.push_str(&format!("    pub enum {name} {{\n"));
        for variant in variants {
            out.push_str(&format!("        {variant}({types}::{variant}),\n"));
        }
        out.push_str("    }\n\n");

        out.push_str(&format!("    impl {name} {{\n"));
        out.push_str(&format!(
            "        /// The TL type name, as used in error messages.\n        pub const TYPE_NAME: &'static str = {type_name:?};\n\n"
        ));
        out.push_str("        /// The id of the constructor this value was built with.\n        pub fn constructor_id(&self) -> u32 {\n            match self {\n");
        for variant in variants {
            out.push_str(&format!(
                "                Self::{variant}(_) => {types}::{variant}::CONSTRUCTOR_ID,\n"
            ));
        }
        out.push_str("            }\n        }\n\n");
        out.push_str("        /// The canonical name of the constructor this value was built with.\n        pub fn name(&self) -> &'static str {\n            match self {\n");
        for variant in variants {
            out.push_str(&format!(
                "                Self::{variant}(_) => {types}::{variant}::NAME,\n"
            ));
        }
        out.push_str("            }\n        }\n    }\n\n");

        for variant in variants {
            out.push_str(&format!(
                "    impl From<{types}::{variant}> for {name} {{\n\
                 \x20       fn from(value: {types}::{variant}) -> Self {{\n\
                 \x20           Self::{variant}(value)\n\
                 \x20       }}\n\
                 \x20   }}\n\n"
            ));
        }

        out.push_str(&format!(
            "    impl {rt}::TlWrite for {name} {{\n        fn write_to(&self, buf: &mut Vec<u8>) {{\n            match self {{\n"
        ));
        for variant in variants {
            out.push_str(&format!(
                "                Self::{variant}(value) => value.write_to(buf),\n"
            ));
        }
        out.push_str("            }\n        }\n    }\n\n");

        out.push_str(&format!(
            "    impl {rt}::TlRead for {name} {{\n\
             \x20       const MIN_WIRE_SIZE: usize = 4;\n\n\
             \x20       fn read_from(reader: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{\n\
             \x20           reader.nested(|reader| {{\n\
             \x20               let (id, at) = reader.read_constructor_id()?;\n\
             \x20               match id {{\n"
        ));
        for variant in variants {
            out.push_str(&format!(
                "                    {types}::{variant}::CONSTRUCTOR_ID => {{\n\
                 \x20                       {types}::{variant}::read_bare(reader).map(Self::{variant})\n\
                 \x20                   }}\n"
            ));
        }
        out.push_str(&format!(
            "                    _ => Err({rt}::DecodeError::UnknownConstructor {{\n\
             \x20                       id,\n\
             \x20                       expected: Self::TYPE_NAME,\n\
             \x20                       at,\n\
             \x20                   }}),\n\
             \x20               }}\n\
             \x20           }})\n\
             \x20       }}\n\
             \x20   }}\n\n"
        ));

        out.push_str(&format!(
            "    impl {rt}::TlJson for {name} {{\n        fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n            match self {{\n"
        ));
        for variant in variants {
            out.push_str(&format!(
                "                Self::{variant}(value) => value.write_json(serializer),\n"
            ));
        }
        let any = if name == "Object" || name == "Function" {
            "None"
        } else {
            "Some(Self::TYPE_NAME)"
        };
        out.push_str(&format!(
            "            }}\n        }}\n\n\
             \x20       fn from_json(value: &serde_json::Value) -> Result<Self, {rt}::JsonError> {{\n\
             \x20           let (object, info) = {rt}::json::object_of_type(value, {table}, {any})?;\n\
             \x20           match info.id {{\n"
        ));
        for variant in variants {
            out.push_str(&format!(
                "                {types}::{variant}::CONSTRUCTOR_ID => {{\n\
                 \x20                   {types}::{variant}::from_json_fields(object).map(Self::{variant})\n\
                 \x20               }}\n"
            ));
        }
        out.push_str(&format!(
            "                _ => Err({rt}::JsonError::wrong_constructor(info.name, Self::TYPE_NAME)),\n\
             \x20           }}\n\
             \x20       }}\n\
             \x20   }}\n\n\
             \x20   {rt}::serde_via_json!({name});\n\n"
        ));
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Constructor,
    Function,
}

/// How a field appears in Rust and JSON.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Always present.
    Required,
    /// `flags.N?T`: `Option<T>`, omitted from JSON when absent.
    Optional,
    /// `flags.N?true`: a `bool`, in JSON only when true.
    Flag,
}

/// A field as stored in the struct (`flags:#` fields are not stored).
struct Field {
    tl_name: String,
    ident: String,
    rust_type: String,
    shape: Shape,
}

impl Field {
    fn new(param: &crate::schema::Param, rust_type: impl Fn(&TypeRef) -> String) -> Option<Self> {
        let (rust_type, shape) = match &param.ty {
            ParamType::Flags => return None,
            ParamType::Conditional {
                ty: TypeRef::True, ..
            } => ("bool".to_owned(), Shape::Flag),
            ParamType::Conditional { ty, .. } => {
                (format!("Option<{}>", rust_type(ty)), Shape::Optional)
            }
            ParamType::Plain(ty) => (rust_type(ty), Shape::Required),
        };
        Some(Self {
            tl_name: param.name.clone(),
            ident: ident(&param.name),
            rust_type,
            shape,
        })
    }
}

/// The Rust type of a TL type, as seen from inside `types`, `enums` or `functions` (`rt`
/// is the runtime's path).
fn rust_type(ty: &TypeRef, rt: &str) -> String {
    match ty {
        TypeRef::Int => "i32".to_owned(),
        TypeRef::Long => "i64".to_owned(),
        TypeRef::Double => "f64".to_owned(),
        TypeRef::String => "String".to_owned(),
        TypeRef::Bytes => "Vec<u8>".to_owned(),
        TypeRef::Int128 => "[u8; 16]".to_owned(),
        TypeRef::Int256 => "[u8; 32]".to_owned(),
        TypeRef::Bool | TypeRef::True => "bool".to_owned(),
        TypeRef::Vector(item) => format!("Vec<{}>", rust_type(item, rt)),
        TypeRef::Boxed(name) => format!("super::enums::{}", rust_name(name)),
        TypeRef::Bare(name) | TypeRef::TypeVar(name) => rust_name(name),
        TypeRef::Query(_) => format!("{rt}::RawQuery"),
    }
}

/// The TL spelling of a type.
fn type_text(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Int => "int".to_owned(),
        TypeRef::Long => "long".to_owned(),
        TypeRef::Double => "double".to_owned(),
        TypeRef::String => "string".to_owned(),
        TypeRef::Bytes => "bytes".to_owned(),
        TypeRef::Int128 => "int128".to_owned(),
        TypeRef::Int256 => "int256".to_owned(),
        TypeRef::Bool => "Bool".to_owned(),
        TypeRef::True => "true".to_owned(),
        TypeRef::Vector(item) => format!("Vector<{}>", type_text(item)),
        TypeRef::Boxed(name) | TypeRef::Bare(name) | TypeRef::TypeVar(name) => name.clone(),
        TypeRef::Query(var) => format!("!{var}"),
    }
}

/// Smallest number of bytes the boxed form can take: the id plus every unconditional field.
fn min_wire_size(d: &Declaration) -> usize {
    fn of(ty: &TypeRef) -> usize {
        match ty {
            TypeRef::Long | TypeRef::Double => 8,
            TypeRef::Int128 => 16,
            TypeRef::Int256 => 32,
            // Vector id + count.
            TypeRef::Vector(_) => 8,
            // Int, a constructor id, or a 1-byte length padded to 4.
            _ => 4,
        }
    }
    4 + d
        .params
        .iter()
        .map(|p| match &p.ty {
            ParamType::Flags => 4,
            ParamType::Conditional { .. } => 0,
            ParamType::Plain(ty) => of(ty),
        })
        .sum::<usize>()
}

/// CamelCase of a (possibly namespaced) TL name: `messages.dhConfig` → `MessagesDhConfig`.
pub fn rust_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c == '.' || c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A field name as a Rust identifier (`type` → `r#type`; `self`, which cannot be a raw
/// identifier, → `self_`).
fn ident(name: &str) -> String {
    const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];
    if NOT_RAW.contains(&name) {
        return format!("{name}_");
    }
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
        "extern", "false", "final", "fn", "for", "if", "impl", "in", "let", "loop", "macro",
        "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "static",
        "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
        "where", "while", "yield", "gen",
    ];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

fn layer_literal(layer: Option<u32>) -> String {
    match layer {
        Some(layer) => format!("Some({layer})"),
        None => "None".to_owned(),
    }
}

fn info_literal(rt: &str, d: &Declaration, indent: &str) -> String {
    format!(
        "{rt}::ConstructorInfo {{\n\
         {indent}    id: {:#010x},\n\
         {indent}    name: {:?},\n\
         {indent}    official_name: {:?},\n\
         {indent}    type_name: {:?},\n\
         {indent}    layer: {},\n\
         {indent}    tl_line: {:?},\n\
         {indent}}}",
        d.id,
        d.canonical_name,
        d.official_name,
        type_text(&d.result_type),
        layer_literal(d.layer),
        d.tl_line
    )
}

fn result_name(d: &Declaration) -> &str {
    match &d.result_type {
        TypeRef::Boxed(name) => name,
        _ => "",
    }
}

fn check_bool_id(d: &Declaration) -> Result<(), SchemaError> {
    let expected = match d.official_name.as_str() {
        "boolFalse" => BOOL_FALSE_ID,
        "boolTrue" => BOOL_TRUE_ID,
        other => {
            return Err(SchemaError {
                line: d.line,
                message: format!("`{other}` builds Bool, but only boolFalse and boolTrue may"),
            })
        }
    };
    if d.id == expected {
        Ok(())
    } else {
        Err(SchemaError {
            line: d.line,
            message: format!(
                "`{}` must have id #{expected:08x}, got #{:08x}",
                d.official_name, d.id
            ),
        })
    }
}

/// Canonical names (and the Rust names made from them) must be unique.
fn check_unique(declarations: &[&Declaration], what: &str) -> Result<(), SchemaError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for d in declarations {
        let key = rust_name(&d.canonical_name);
        if let Some(first) = seen.insert(key, d.line) {
            return Err(SchemaError {
                line: d.line,
                message: format!(
                    "{what} name `{}` is already used on line {first}; give the line a unique `// tdlib: NAME` comment",
                    d.canonical_name
                ),
            });
        }
    }
    Ok(())
}

fn check_unique_ids<'a>(
    declarations: impl Iterator<Item = &'a Declaration>,
) -> Result<(), SchemaError> {
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for d in declarations {
        if let Some(first) = seen.insert(d.id, d.line) {
            return Err(SchemaError {
                line: d.line,
                message: format!("id #{:08x} is already used on line {first}", d.id),
            });
        }
    }
    Ok(())
}

/// Drops what refers to undefined types (when `skip` allows it, else fails) until nothing
/// changes: leaving out a constructor may leave a type with no constructors at all. Returns
/// the lines left out, with the reason.
fn leave_out_undefined<'a>(
    constructors: &mut Vec<&'a Declaration>,
    functions: &mut Vec<&'a Declaration>,
    skip: bool,
) -> Result<Vec<(usize, String)>, SchemaError> {
    let mut left_out = Vec::new();
    loop {
        let defined: BTreeSet<&str> = constructors.iter().map(|c| result_name(c)).collect();
        let before = constructors.len() + functions.len();
        for list in [&mut *constructors, &mut *functions] {
            let mut kept = Vec::new();
            for declaration in list.drain(..) {
                match undefined_type(declaration, &defined) {
                    None => kept.push(declaration),
                    Some(missing) if skip => left_out.push((
                        declaration.line,
                        format!("{}: type `{missing}` is not defined", declaration.official_name),
                    )),
                    Some(missing) => {
                        return Err(SchemaError {
                            line: declaration.line,
                            message: format!(
                                "`{}` uses the type `{missing}`, which no constructor in the schema builds",
                                declaration.official_name
                            ),
                        })
                    }
                }
            }
            *list = kept;
        }
        if constructors.len() + functions.len() == before {
            break;
        }
    }
    Ok(left_out)
}

/// The first boxed type a declaration uses that no constructor builds.
fn undefined_type<'s>(d: &'s Declaration, defined: &BTreeSet<&str>) -> Option<&'s str> {
    undefined_types(d, defined).next()
}

/// Every boxed type a declaration uses that no constructor builds, in field order.
fn undefined_types<'s, 'd>(
    d: &'s Declaration,
    defined: &'d BTreeSet<&str>,
) -> impl Iterator<Item = &'s str> + use<'s, 'd> {
    fn find<'s>(ty: &'s TypeRef, defined: &BTreeSet<&str>) -> Option<&'s str> {
        match ty {
            TypeRef::Boxed(name) if name == "True" => None,
            TypeRef::Boxed(name) => (!defined.contains(name.as_str())).then_some(name.as_str()),
            TypeRef::Vector(item) => find(item, defined),
            _ => None,
        }
    }
    d.params.iter().filter_map(move |p| match &p.ty {
        ParamType::Flags => None,
        ParamType::Conditional { ty, .. } | ParamType::Plain(ty) => find(ty, defined),
    })
}

/// For each boxed type, every type reachable from it through direct fields (a field whose
/// type is the boxed type itself, possibly optional, but not inside a vector: a `Vec`
/// already breaks the size recursion).
fn reachability<'a>(
    types: &BTreeMap<&'a str, Vec<&'a Declaration>>,
) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let direct = |name: &str| -> BTreeSet<&'a str> {
        types
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|c| &c.params)
            .filter_map(|p| match &p.ty {
                ParamType::Conditional {
                    ty: TypeRef::Boxed(t),
                    ..
                }
                | ParamType::Plain(TypeRef::Boxed(t)) => {
                    types.get_key_value(t.as_str()).map(|(k, _)| *k)
                }
                _ => None,
            })
            .collect()
    };
    let mut reaches = BTreeMap::new();
    for &start in types.keys() {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = direct(start).into_iter().collect();
        while let Some(next) = stack.pop() {
            if seen.insert(next) {
                stack.extend(direct(next));
            }
        }
        reaches.insert(start, seen);
    }
    reaches
}

/// Defined and opaque type names must stay distinct once in CamelCase.
fn check_unique_type_names<'a>(
    names: impl Iterator<Item = &'a str>,
    constructors: &[&Declaration],
) -> Result<(), SchemaError> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for name in names {
        if let Some(first) = seen.insert(rust_name(name), name) {
            let line = constructors
                .iter()
                .find(|c| result_name(c) == name || result_name(c) == first)
                .map_or(0, |c| c.line);
            return Err(SchemaError {
                line,
                message: format!(
                    "types `{first}` and `{name}` would both be `{}` in Rust",
                    rust_name(name)
                ),
            });
        }
    }
    Ok(())
}

/// Flag bits guarding more than one field, described as `flags.N: a, b`.
fn shared_bits(d: &Declaration) -> Vec<String> {
    let mut groups: BTreeMap<(&str, u32), Vec<&str>> = BTreeMap::new();
    for p in &d.params {
        if let ParamType::Conditional { flags, bit, .. } = &p.ty {
            groups.entry((flags, *bit)).or_default().push(&p.name);
        }
    }
    groups
        .into_iter()
        .filter(|(_, fields)| fields.len() > 1)
        .map(|((flags, bit), fields)| format!("{flags}.{bit}: {}", fields.join(", ")))
        .collect()
}

/// Whether `param` is a data field (not `true`) whose bit also guards another data field:
/// such a field is written only when the bit is set, which needs all of them present.
fn shares_bit_with_data(d: &Declaration, param: &crate::schema::Param) -> bool {
    let ParamType::Conditional { flags, bit, ty } = &param.ty else {
        return false;
    };
    *ty != TypeRef::True
        && d.params.iter().any(|other| {
            other.name != param.name
                && matches!(&other.ty, ParamType::Conditional { flags: f, bit: b, ty: t }
                    if f == flags && b == bit && *t != TypeRef::True)
        })
}

/// Field types the generator does not handle, and field names that would clash with the
/// generated code's own locals.
fn check_supported(d: &Declaration) -> Result<(), SchemaError> {
    fn unsupported(ty: &TypeRef) -> Option<String> {
        match ty {
            TypeRef::Bare(name) => Some(format!("the bare type `{name}`")),
            TypeRef::TypeVar(name) => Some(format!("the type variable `{name}` as a value")),
            TypeRef::Query(var) => Some(format!("`!{var}` inside another type")),
            TypeRef::Vector(item) => unsupported(item),
            _ => None,
        }
    }
    if let TypeRef::Query(var) = &d.result_type {
        return Err(SchemaError {
            line: d.line,
            message: format!("a declaration cannot return `!{var}`"),
        });
    }
    let last = d.params.len().saturating_sub(1);
    for (index, p) in d.params.iter().enumerate() {
        if p.name == "reader" || p.name == "buf" {
            return Err(SchemaError {
                line: d.line,
                message: format!(
                    "a field may not be named `{}` (the generated code uses it)",
                    p.name
                ),
            });
        }
        // `!X` is read as "the rest of the input", so it must come last.
        if let ParamType::Plain(TypeRef::Query(var)) = &p.ty {
            if index != last {
                return Err(SchemaError {
                    line: d.line,
                    message: format!(
                        "field `{}` is `!{var}`, which the generator supports only as the last field",
                        p.name
                    ),
                });
            }
            continue;
        }
        let problem = match &p.ty {
            ParamType::Flags => None,
            ParamType::Plain(TypeRef::True) => Some("`true` outside `flags.N?true`".to_owned()),
            ParamType::Conditional { ty, .. } | ParamType::Plain(ty) => unsupported(ty),
        };
        if let Some(problem) = problem {
            return Err(SchemaError {
                line: d.line,
                message: format!(
                    "field `{}` uses {problem}, which the generator does not support",
                    p.name
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse;

    #[test]
    fn camel_case_keeps_layer_suffix_and_joins_namespaces() {
        assert_eq!(
            rust_name("decryptedMessageMediaPhoto23"),
            "DecryptedMessageMediaPhoto23"
        );
        assert_eq!(rust_name("messages.dhConfig"), "MessagesDhConfig");
    }

    #[test]
    fn undefined_type_fails_by_default_with_its_line() {
        let schema = parse("\nfoo x:Bar = Foo;").unwrap();
        let err = generate(&schema, &Options::default()).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("`Bar`"), "{err}");
    }

    #[test]
    fn undefined_type_can_be_skipped_and_the_skip_cascades() {
        let schema = parse("foo x:Bar = Foo;\nbaz f:Foo = Baz;\nok = Ok;").unwrap();
        let options = Options {
            skip_undefined_types: true,
            ..Options::default()
        };
        let code = generate(&schema, &options).unwrap();
        assert!(code.contains("pub struct Ok {}"));
        assert!(!code.contains("pub struct Foo"));
        assert!(!code.contains("pub struct Baz"));
        assert!(code.contains("// Left out (line 2): baz: type `Foo` is not defined"));
    }

    fn mtproto_options() -> Options {
        Options {
            opaque_undefined_types: true,
            generic_functions: true,
            function_enum: true,
            ..Options::default()
        }
    }

    #[test]
    fn undefined_types_can_be_opaque_enums_instead_of_errors() {
        let schema =
            parse("user flags:# id:long photo:flags.0?Photo chats:Vector<Chat> = User;").unwrap();
        let code = generate(&schema, &mtproto_options()).unwrap();
        assert!(code.contains("pub enum Photo {}"), "{code}");
        assert!(code.contains("pub enum Chat {}"));
        assert!(code.contains("pub photo: Option<super::enums::Photo>,"));
        assert!(
            code.contains("// Opaque (used, never defined; no value can be built): Chat, Photo.")
        );
    }

    #[test]
    fn generic_functions_are_generated_on_request_with_a_raw_query() {
        let text = "config = Config;\n---functions---\n\
            invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;\n\
            help.getConfig#c4f9186b = Config;\n";
        let schema = parse(text).unwrap();
        let plain = generate(&schema, &Options::default()).unwrap();
        assert!(!plain.contains("InvokeWithLayer"));
        let code = generate(&schema, &mtproto_options()).unwrap();
        assert!(code.contains("pub query: crate::tl::RawQuery,"), "{code}");
        assert!(code.contains("a generic wrapper: it returns what its `query` returns"));
        assert!(code.contains("pub enum Function {"));
        assert!(code.contains("pub const FUNCTIONS: &[crate::tl::ConstructorInfo] = &["));
    }

    #[test]
    fn a_query_that_is_not_the_last_field_is_an_error() {
        let text = "---functions---\nwrap {X:Type} query:!X layer:int = X;\n";
        let err = generate(&parse(text).unwrap(), &mtproto_options()).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("only as the last field"), "{err}");
    }

    #[test]
    fn a_field_named_self_gets_a_trailing_underscore() {
        let schema = parse("user flags:# self:flags.10?true id:long = User;").unwrap();
        let code = generate(&schema, &Options::default()).unwrap();
        assert!(code.contains("pub self_: bool,"), "{code}");
        assert!(code.contains("\"self\""));
    }

    #[test]
    fn a_type_that_can_contain_itself_is_boxed_where_it_recurses() {
        let text = "inputPeerSelf = InputPeer;\n\
            inputPeerFromMessage peer:InputPeer msg_id:int = InputPeer;\n\
            holder peer:InputPeer = Holder;\n";
        let code = generate(&parse(text).unwrap(), &Options::default()).unwrap();
        assert!(
            code.contains("pub peer: Box<super::enums::InputPeer>,"),
            "{code}"
        );
        // `holder` is not reachable from InputPeer: no box there.
        assert!(code.contains("pub peer: super::enums::InputPeer,"));
    }

    #[test]
    fn a_bit_guarding_two_data_fields_is_set_only_when_both_are_present() {
        let text = "full flags:# a:flags.6?long b:flags.6?int t:flags.1?true c:flags.1?int = Full;";
        let code = generate(&parse(text).unwrap(), &Options::default()).unwrap();
        assert!(
            code.contains("if self.a.is_some() && self.b.is_some() {"),
            "{code}"
        );
        assert!(code.contains("if self.c.is_some() {"));
        assert!(code.contains("if flags & (1 << 6) != 0 {"));
        assert!(code.contains("written only together (flags.1: t, c; flags.6: a, b)"));
    }

    #[test]
    fn repeated_canonical_name_is_an_error() {
        let schema = parse("foo = Foo;\nfoo x:int = Foo;").unwrap_or_else(|e| panic!("{e}"));
        let err = generate(&schema, &Options::default()).unwrap_err();
        assert_eq!(err.line, 2);
    }
}
