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
//! `secretchat-common`'s build script runs [`generate_from_text`] on `tl/secret_api.tl`; the
//! `tlgen` binary prints the same output for a reader.

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
