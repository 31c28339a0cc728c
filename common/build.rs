//! Generates the end-to-end TL types from `tl/secret_api.tl` into `$OUT_DIR/secret_api.rs`
//! (included by `src/tl/mod.rs`). Any schema error fails the build, naming the line.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let schema_path = manifest_dir.join("tl/secret_api.tl");
    println!("cargo:rerun-if-changed={}", schema_path.display());

    let text = std::fs::read_to_string(&schema_path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", schema_path.display()));
    let options = secretchat_tlgen::Options {
        runtime: "crate::tl".to_owned(),
        source_name: "common/tl/secret_api.tl".to_owned(),
        skip_undefined_types: false,
    };
    let code = secretchat_tlgen::generate_from_text(&text, &options)
        .unwrap_or_else(|err| panic!("schema error in {}, {err}", schema_path.display()));
    // Formatted when rustfmt is installed, so `$OUT_DIR/secret_api.rs` reads like any file.
    let code = secretchat_tlgen::format_with_rustfmt(&code).unwrap_or(code);

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out_path = out_dir.join("secret_api.rs");
    std::fs::write(&out_path, code)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", out_path.display()));
}
