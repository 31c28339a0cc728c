//! Generates the end-to-end TL types from `tl/secret_api.tl` into `$OUT_DIR/secret_api.rs`,
//! and the server-side types from `tl/api_subset.tl` plus the mock server's own
//! `tl/mock_api.tl` into `$OUT_DIR/api.rs` (both included by `src/tl/mod.rs`). Any schema
//! error fails the build, naming the line.

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
        ..secretchat_tlgen::Options::default()
    };
    let code = secretchat_tlgen::generate_from_text(&text, &options)
        .unwrap_or_else(|err| panic!("schema error in {}, {err}", schema_path.display()));
    // Formatted when rustfmt is installed, so `$OUT_DIR/secret_api.rs` reads like any file.
    let code = secretchat_tlgen::format_with_rustfmt(&code).unwrap_or(code);

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out_path = out_dir.join("secret_api.rs");
    std::fs::write(&out_path, code)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", out_path.display()));

    generate_api(&manifest_dir, &out_dir);
}

/// `tl::api`: Telegram's server-side subset and the mock's inventions, read as one schema
/// (the second file starts a new `---types---` section; line numbers in errors count from
/// the start of `api_subset.tl`).
fn generate_api(manifest_dir: &std::path::Path, out_dir: &std::path::Path) {
    let mut text = String::new();
    for name in ["tl/api_subset.tl", "tl/mock_api.tl"] {
        let path = manifest_dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let part = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        if !text.is_empty() {
            text.push_str("\n---types---\n");
        }
        text.push_str(&part);
    }
    let options = secretchat_tlgen::Options {
        runtime: "crate::tl".to_owned(),
        source_name: "common/tl/api_subset.tl + common/tl/mock_api.tl".to_owned(),
        skip_undefined_types: false,
        ..secretchat_tlgen::Options::default()
    };
    let code = secretchat_tlgen::generate_from_text(&text, &options)
        .unwrap_or_else(|err| panic!("schema error in tl/api_subset.tl + tl/mock_api.tl, {err}"));
    let code = secretchat_tlgen::format_with_rustfmt(&code).unwrap_or(code);
    let out_path = out_dir.join("api.rs");
    std::fs::write(&out_path, code)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", out_path.display()));
}
