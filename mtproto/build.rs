//! Generates the MTProto schemas at build time, each into `$OUT_DIR/<name>.rs` (included by
//! `src/schema.rs`):
//!
//! * `service.rs` from `tl/mtproto.tl` — the service schema (auth-key creation, acks,
//!   salts, sessions, pings);
//! * `layer229.rs` from `tl/api_telethon_L229.tl` and `layer158.rs` from
//!   `tl/api_pyrogram_L158.tl` — the API subset at the layer each client sends. The two share
//!   names with different ids (`user#b1b8cc83` at 229, `user#8f97c628` at 158), so each is a
//!   module of its own. Types they use but do not define are opaque, the generic wrappers
//!   (`invokeWithLayer`, `initConnection`, ...) keep their inner query as raw bytes.
//!
//! Any schema error fails the build, naming the file and the line.

use std::path::Path;

use secretchat_tlgen::Options;

fn main() {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let (manifest_dir, out_dir) = (Path::new(&manifest_dir), Path::new(&out_dir));

    let service = Options {
        runtime: "secretchat_common::tl".to_owned(),
        function_enum: true,
        ..Options::default()
    };
    let api = Options {
        opaque_undefined_types: true,
        generic_functions: true,
        ..service.clone()
    };
    generate(manifest_dir, out_dir, "mtproto.tl", "service.rs", service);
    generate(
        manifest_dir,
        out_dir,
        "api_telethon_L229.tl",
        "layer229.rs",
        api.clone(),
    );
    generate(
        manifest_dir,
        out_dir,
        "api_pyrogram_L158.tl",
        "layer158.rs",
        api,
    );
}

fn generate(manifest_dir: &Path, out_dir: &Path, schema: &str, output: &str, options: Options) {
    let path = manifest_dir.join("tl").join(schema);
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    let options = Options {
        source_name: format!("mtproto/tl/{schema}"),
        ..options
    };
    let code = secretchat_tlgen::generate_from_text(&text, &options)
        .unwrap_or_else(|err| panic!("schema error in mtproto/tl/{schema}, {err}"));
    // Formatted when rustfmt is installed, so the generated file reads like any other.
    let code = secretchat_tlgen::format_with_rustfmt(&code).unwrap_or(code);
    let out_path = out_dir.join(output);
    std::fs::write(&out_path, code)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", out_path.display()));
}
