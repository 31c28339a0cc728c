//! The generator on the repo's real schemas: the end-to-end schema as the build uses it,
//! and the server-side subset that a later generation step will reuse it for.

use secretchat_tlgen::schema::{parse, SkipReason};
use secretchat_tlgen::{generate_from_text, Options};

const SECRET_API: &str = include_str!("../../common/tl/secret_api.tl");
const API_SUBSET: &str = include_str!("../../common/tl/api_subset.tl");

#[test]
fn secret_api_parses_with_layers_and_unique_canonical_names() {
    let schema = parse(SECRET_API).unwrap();
    assert_eq!(schema.constructors.len(), 84);
    assert!(schema.functions.is_empty());
    let builtins = schema
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::BuiltIn)
        .count();
    assert_eq!(builtins, 6, "int long double string bytes vector");
    let photo = schema
        .constructors
        .iter()
        .find(|c| c.id == 0x32798a8c)
        .unwrap();
    assert_eq!(photo.canonical_name, "decryptedMessageMediaPhoto23");
    assert_eq!(photo.official_name, "decryptedMessageMediaPhoto");
    assert_eq!(photo.layer, Some(8));
}

#[test]
fn secret_api_generates_without_skipping_anything() {
    let code = generate_from_text(SECRET_API, &Options::default()).unwrap();
    assert!(!code.contains("// Left out"));
    assert!(code.contains("pub struct DecryptedMessageLayer {"));
    assert!(code.contains("pub enum DecryptedMessage {"));
    assert!(code.contains("/// `decryptedMessage#91cc4674 flags:# no_webpage:flags.1?true"));
}

#[test]
fn api_subset_parses_namespaces_functions_and_skips_generic_lines() {
    let schema = parse(API_SUBSET).unwrap();
    let generic: Vec<usize> = schema
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::Generic)
        .map(|s| s.line)
        .collect();
    assert_eq!(generic.len(), 2, "invokeAfterMsg and invokeAfterMsgs");
    assert!(schema
        .constructors
        .iter()
        .any(|c| c.official_name == "messages.dhConfig" && c.id == 0x2c221edd));
    assert!(schema
        .functions
        .iter()
        .any(|f| f.official_name == "messages.getDhConfig" && f.id == 0x26cf8950));
}

#[test]
fn api_subset_fails_loudly_on_undefined_types_unless_told_to_skip_them() {
    let err = generate_from_text(API_SUBSET, &Options::default()).unwrap_err();
    assert!(err.message.contains("`User`"), "{err}");
    assert!(API_SUBSET
        .lines()
        .nth(err.line - 1)
        .unwrap()
        .starts_with("updates#74ae4240"));

    let options = Options {
        skip_undefined_types: true,
        ..Options::default()
    };
    let code = generate_from_text(API_SUBSET, &options).unwrap();
    assert!(code.contains("pub struct MessagesDhConfig {"));
    assert!(code.contains("pub mod functions {"));
    assert!(code.contains("pub struct MessagesSendEncrypted {"));
    assert!(code.contains("// Left out (line 88): updates: type `User` is not defined"));
}
