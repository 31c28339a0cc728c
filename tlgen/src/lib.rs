//! # secretchat-tlgen: TL schema → Rust
//!
//! Telegram describes every object it sends in TL, a small schema language (one line per
//! constructor: `name#id field:type ... = Type;`). This crate reads such a schema and writes
//! the Rust types for it, so the codec for the secret-chat layer is derived from the schema
//! text instead of being typed by hand (SPEC §2.1, §5).
//!
//! * [`schema`] — the parser: lines → [`schema::Declaration`]s, with layer sections and
//!   tdlib names kept, and errors that name the line.
//! * [`id`] — constructor ids as the CRC32 of the normalized line; the parser checks every
//!   declared id with it.
//! * [`generate`] — declarations → Rust source that calls the runtime in
//!   `secretchat_common::tl` (codec traits, JSON helpers).
//!
//! `secretchat-common`'s build script runs [`generate_from_text`] on `tl/secret_api.tl` and
//! the server-side subset; `secretchat-mtproto`'s on the MTProto service schema and the two
//! API layers (with the [`Options`] for partial API schemas: opaque undefined types, generic
//! wrappers, a `Function` enum). The `tlgen` binary prints the same output for a reader. Both pass it through `rustfmt` when
//! one is installed ([`format_with_rustfmt`]), so the generated file reads like any other.

pub mod generate;
pub mod id;
pub mod schema;

pub use generate::Options;
pub use schema::SchemaError;

/// Parses `text` and generates the Rust source for it.
pub fn generate_from_text(text: &str, options: &Options) -> Result<String, SchemaError> {
    let schema = schema::parse(text)?;
    generate::generate(&schema, options)
}

/// Formats generated code with `rustfmt` (the `RUSTFMT` environment variable, else
/// `rustfmt` on the `PATH`). Returns `None` if rustfmt is missing or fails; the unformatted
/// code is valid Rust either way, so callers fall back to it.
pub fn format_with_rustfmt(code: &str) -> Option<String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(rustfmt)
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Write from a thread so a full stdout pipe cannot deadlock us.
    let mut stdin = child.stdin.take()?;
    let input = code.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().ok()?;
    let written = writer.join().ok()?.is_ok();
    (written && output.status.success())
        .then(|| String::from_utf8(output.stdout).ok())
        .flatten()
}
