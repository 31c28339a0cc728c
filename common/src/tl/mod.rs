//! # TL: the secret-chat payload as Rust types, bytes and JSON
//!
//! What a secret chat encrypts is a TL object (SPEC §2.1): for layer ≥ 17 peers a
//! `decryptedMessageLayer{random_bytes, layer, in_seq_no, out_seq_no, message}`, for
//! layer-8 peers a bare `decryptedMessage8`/`decryptedMessageService8`. Which constructors
//! a peer may send depends on the negotiated layer (SPEC §5), so the schema keeps every
//! version of every constructor, each under its own canonical name.
//!
//! ```text
//! tl/secret_api.tl ──(secretchat-tlgen, build.rs)──▶ e2e::{types, enums, Object, CONSTRUCTORS}
//!                                                        │ uses
//!        decode (TlRead, Reader) ◀── bytes ──────────────┤
//!        encode (TlWrite)        ──▶ bytes ──────────────┤
//!        json   (TlJson)         ◀─▶ {"_": name, ...} ───┘
//!        names  (ConstructorInfo, aliases such as decryptedMessage46)
//!        annotate: decode, noting the byte span of every id and field
//! ```
//!
//! * [`e2e`] — the generated types: `e2e::types::DecryptedMessageLayer` (one struct per
//!   constructor), `e2e::enums::DecryptedMessage` (one enum per boxed type),
//!   [`e2e::Object`] (any constructor), and [`e2e::CONSTRUCTORS`] with each constructor's
//!   id, names, layer and TL line.
//! * [`decode`] / [`encode`] — the strict binary codec and its choices.
//! * [`json`] — the JSON form used by the HTTP API and the CLI.
//! * [`names`] — how a name (`decryptedMessageMediaDocument143`) maps to a constructor.
//! * [`annotate`] — the same strict decoder, noting where each constructor id and field
//!   lies in the bytes (for the annotated views: `decode`, the web view).
//! * [`query`] — `!X`, the inner query of a generic wrapper such as `invokeWithLayer`, kept
//!   as raw bytes (used by the MTProto schemas of `secretchat-mtproto`).

pub mod annotate;
pub mod decode;
pub mod encode;
pub mod json;
pub mod names;
pub mod query;

pub use crate::serde_via_json;
pub use annotate::{annotate, Annotated, Mark, Marked};
pub use decode::{DecodeError, Reader, TlRead, MAX_DEPTH};
pub use encode::TlWrite;
pub use json::{JsonError, JsonErrorKind, TlJson};
pub use names::{in_force_at, resolve_name, ConstructorInfo};
pub use query::RawQuery;

/// The end-to-end schema (`tl/secret_api.tl`, layers 8..144), generated at build time by
/// `secretchat-tlgen`. Print the generated source with
/// `cargo run -p secretchat-tlgen -- common/tl/secret_api.tl`.
pub mod e2e {
    include!(concat!(env!("OUT_DIR"), "/secret_api.rs"));
}

/// The server-side schema: Telegram's secret-chat methods, updates and objects
/// (`tl/api_subset.tl`) plus the mock server's own sign-in calls (`tl/mock_api.tl`, each
/// marked there as an invention). The mock server parses its HTTP/JSON bodies into these
/// types and answers with them. Print the source with
/// `cargo run -p secretchat-tlgen -- common/tl/api_subset.tl` (the subset alone).
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/api.rs"));
}

/// Decodes `data` as any end-to-end object and, when that succeeds, checks that encoding
/// is stable: the canonical bytes decode again and re-encode to the same bytes.
///
/// This is the body of the `tl_decode` fuzz target; `tests/tl_fuzz_corpus.rs` replays the
/// corpus through it.
///
/// # Panics
///
/// Only if the codec itself is broken (re-encoding is not stable) — which is exactly what
/// the fuzzer looks for. Malformed input is an `Err`, never a panic.
pub fn decode_and_check_roundtrip(data: &[u8]) -> Result<e2e::Object, DecodeError> {
    let object = e2e::Object::from_bytes(data)?;
    let canonical = object.to_bytes();
    match e2e::Object::from_bytes(&canonical) {
        Ok(again) => assert_eq!(
            again.to_bytes(),
            canonical,
            "re-encoding a decoded object is not stable"
        ),
        Err(err) => panic!("canonical bytes of a decoded object do not decode: {err}"),
    }
    Ok(object)
}
