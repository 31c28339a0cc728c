//! # The client API's document (`GET /openapi.json`)
//!
//! One operation per served method ([`crate::methods::METHOD_LINES`]): the request body is
//! the TL function's fields ([`super::schema`]), the answer `oneOf` the result type's
//! constructors, and the errors are the ones every method can give plus the ones the
//! method's file declares next to its `apply` ([`crate::methods::MethodDoc`]). The
//! mock's inventions on top of TL — the bearer token from `auth.signIn`, the `timeout` of
//! `updates.getDifference`, the event stream — are described as the server implements
//! them, with the limits of the running server.

use serde_json::{json, Map, Value};

use super::schema::{nullable, parse_line, Direction, Schemas};
use super::{error_responses, info, rpc_error_component, BEARER};
use crate::config::Limits;
use crate::error::ErrorKind;
use crate::files::MAX_PART_BYTES;
use crate::methods::{self, updates_stream, MethodDoc, Tag};
use crate::mtproto::server_key::PUBLIC_KEY_PATH;

/// The `/api/` methods that need no bearer token.
pub const PUBLIC_METHODS: &[&str] = &["auth.signIn"];

/// A user or device name, as the directory checks it.
const NAME_PATTERN: &str = "^[A-Za-z0-9_]{1,32}$";

fn tag_name(tag: Tag) -> &'static str {
    match tag {
        Tag::Auth => "auth",
        Tag::SecretChats => "secret chats",
        Tag::Updates => "updates",
        Tag::Files => "files",
    }
}

/// The errors a method can answer: every method's, then its own.
pub fn method_errors(method: &str, doc: &MethodDoc) -> Vec<ErrorKind> {
    let mut kinds = vec![
        ErrorKind::InputRequestInvalid,
        ErrorKind::InputRequestTooLong,
    ];
    if !PUBLIC_METHODS.contains(&method) {
        kinds.push(ErrorKind::AuthKeyUnregistered);
    }
    for kind in doc.error_kinds() {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// Whether `method` declares that it may answer `error_message` (a served method's
/// declared or common errors; `FILE_PART_X_MISSING` matches any part number).
pub fn may_answer(method: &str, error_message: &str) -> bool {
    methods::method_doc(method).is_some_and(|doc| {
        method_errors(method, doc)
            .into_iter()
            .any(|kind| match kind {
                ErrorKind::FilePartMissing => error_message
                    .strip_prefix("FILE_PART_")
                    .and_then(|rest| rest.strip_suffix("_MISSING"))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
                _ => kind.error_message() == error_message,
            })
    })
}

/// What the server enforces beyond the TL types, written into the request schema.
fn refine(method: &str, body: &mut Value, limits: &Limits) {
    let properties = &mut body["properties"];
    match method {
        "auth.signIn" => {
            for field in ["username", "device"] {
                properties[field] = json!({
                    "type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": 32,
                    "description": "1 to 32 characters from A-Z, a-z, 0-9 and _ (else USERNAME_INVALID)",
                });
            }
        }
        "messages.getDhConfig" => {
            properties["random_length"]["minimum"] = json!(0);
            properties["random_length"]["maximum"] = json!(limits.max_random_length);
            properties["random_length"]["description"] = json!(format!(
                "bytes of `random` wanted, 0..={} on this server (else RANDOM_LENGTH_INVALID)",
                limits.max_random_length
            ));
        }
        "messages.sendEncrypted"
        | "messages.sendEncryptedService"
        | "messages.sendEncryptedFile" => {
            limit_bytes(
                &mut properties["data"],
                MIN_DATA_BYTES,
                limits.max_message_bytes,
                "key_fingerprint(8) + msg_key(16) + whole 16-byte blocks (else DATA_INVALID; \
                 over the limit DATA_TOO_LONG)",
            );
        }
        "upload.saveFilePart" | "upload.saveBigFilePart" => {
            limit_bytes(
                &mut properties["bytes"],
                1,
                MAX_PART_BYTES,
                "one part (else FILE_PART_EMPTY / FILE_PART_TOO_BIG); every part but the last \
                 has one size, a multiple of 1024 dividing 524288 (else FILE_PART_SIZE_INVALID)",
            );
            let parts = limits.max_file_parts;
            properties["file_part"]["minimum"] = json!(0);
            properties["file_part"]["maximum"] = json!(parts - 1);
            properties["file_part"]["description"] = json!(format!(
                "the part's number, 0..{parts} on this server, and below file_total_parts for a \
                 big file (else FILE_PART_INVALID)"
            ));
            if method == "upload.saveBigFilePart" {
                properties["file_total_parts"] = json!({
                    "anyOf": [
                        {"type": "integer", "format": "int32", "minimum": 1, "maximum": parts},
                        {"type": "integer", "format": "int32", "enum": [-1]},
                    ],
                    "description": format!(
                        "how many parts the file has, 1..={parts} on this server, or -1 while \
                         it is not known yet (else FILE_PARTS_INVALID)"
                    ),
                });
            }
        }
        "updates.getDifference" => {
            properties["timeout"] = nullable(json!({
                "type": "integer", "format": "int64", "minimum": 0, "maximum": u64::MAX,
                "description": format!(
                    "the mock's addition: seconds to wait for something when the difference is empty \
                     (shortened to {} on this server); absent, null or 0: answer at once",
                    limits.max_poll_timeout
                ),
            }));
        }
        _ => {}
    }
}

/// The smallest `data` a send accepts: key_fingerprint, msg_key and one AES block.
const MIN_DATA_BYTES: usize = 8 + 16 + 16;

/// Bounds a `bytes` field (both of its request spellings) to `min..=max` bytes.
fn limit_bytes(field: &mut Value, min: usize, max: usize, rule: &str) {
    let base64_len = |bytes: usize| bytes.div_ceil(3) * 4;
    if let Some(spellings) = field["anyOf"].as_array_mut() {
        for spelling in spellings {
            if spelling["type"] == "string" {
                spelling["minLength"] = json!(base64_len(min));
                spelling["maxLength"] = json!(base64_len(max));
            } else {
                spelling["properties"]["$hex"]["minLength"] = json!(2 * min);
                spelling["properties"]["$hex"]["maxLength"] = json!(2 * max);
            }
        }
    }
    field["description"] = json!(format!("{min}..={max} bytes on this server: {rule}"));
}

fn operation(
    method: &str,
    line: &str,
    doc: &MethodDoc,
    schemas: &mut Schemas,
    limits: &Limits,
) -> Result<Value, String> {
    let declaration = parse_line(line)?;
    let mut body = schemas.object(&declaration, Direction::Request, false)?;
    refine(method, &mut body, limits);
    let example: Value = serde_json::from_str(doc.example)
        .map_err(|err| format!("{method}: the example is not JSON: {err}"))?;
    let needs_body = body.get("required").is_some();
    let result = schemas.type_schema(&declaration.result_type, Direction::Response)?;
    let result_type = line
        .rsplit_once('=')
        .map_or("", |(_, ty)| ty.trim().trim_end_matches(';'));
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": format!("the TL result: {result_type}"),
            "content": {"application/json": {"schema": result}},
        }),
    );
    responses.extend(error_responses(&method_errors(method, doc)));
    let mut operation = json!({
        "operationId": method,
        "tags": [tag_name(doc.tag)],
        "summary": doc.summary,
        "description": format!("TL: `{line}`"),
        "requestBody": {
            "required": needs_body,
            "content": {"application/json": {"schema": body, "example": example}},
        },
        "responses": responses,
    });
    if !PUBLIC_METHODS.contains(&method) {
        operation["security"] = json!([{BEARER: []}]);
    }
    Ok(operation)
}

fn event_stream() -> Value {
    json!({"get": {
        "operationId": "updates.stream",
        "tags": [tag_name(Tag::Updates)],
        "summary": "Streams this device's updates as server-sent events, as they happen (the mock's addition).",
        "description": "One event per update, named after its constructor (updateNewEncryptedMessage, \
            updateEncryption, updateEncryptedMessagesRead, updateEncryptedChatTyping), data = the \
            update's JSON. Acknowledges nothing. A reader that falls more than 256 events behind gets \
            an updatesTooLong event and should call updates.getDifference. The stream ends when the \
            device logs out; until then it never ends (keep-alive comments every 15 s).",
        "security": [{BEARER: []}],
        "responses": {
            "200": {
                "description": "text/event-stream of the device's updates",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "401": error_responses(&[ErrorKind::AuthKeyUnregistered])["401"],
        },
    }})
}

fn public_key() -> Value {
    json!({"get": {
        "operationId": "mtproto.publicKey",
        "tags": [tag_name(Tag::Auth)],
        "summary": "The MTProto door's RSA public key and fingerprint, for installing in an MTProto client (no token).",
        "description": "`pem` is PKCS#1 (`BEGIN RSA PUBLIC KEY`, what Telethon's `rsa.add_key` takes); \
            `fingerprint` is the signed 64-bit value clients key their tables by, as decimal text; \
            `mtproto_addr` is where the door listens (null while it does not). docs/mtproto.md shows \
            how to install it in Telethon and Pyrogram.",
        "responses": {"200": {
            "description": "the public key",
            "content": {"application/json": {"schema": super::admin::public_key_schema()}},
        }},
    }})
}

/// The client API's document, for a server with these limits.
pub fn document(limits: &Limits) -> Result<Value, String> {
    let mut schemas = Schemas::default();
    let mut paths = Map::new();
    for ((method, line), (_, doc)) in methods::METHOD_LINES.iter().zip(methods::METHOD_DOCS) {
        let operation = operation(method, line, doc, &mut schemas, limits)?;
        paths.insert(format!("/api/{method}"), json!({"post": operation}));
    }
    paths.insert(updates_stream::PATH.to_owned(), event_stream());
    paths.insert(PUBLIC_KEY_PATH.to_owned(), public_key());
    let mut components = schemas.into_components();
    components.insert("rpc_error".into(), rpc_error_component());
    Ok(json!({
        "openapi": "3.0.3",
        "info": info(
            "secretchat-server client API",
            "The Telegram secret-chat methods over HTTP/JSON: `POST /api/<method>` with the TL \
             function's fields as a JSON object (`\"_\"` may be left out: the URL names the method); \
             the answer is the TL result as JSON. `long` is a decimal string, `bytes` base64, `Bool` \
             a JSON boolean. Sign in with `auth.signIn` (no token needed) and send its `token` as \
             `Authorization: Bearer <token>`. Errors are Telegram's `rpc_error` with the HTTP status \
             equal to `error_code`; a failed call changes nothing. Refusals that depend on state \
             (an unknown chat or file id) are `400` with the message listed for each method, as on \
             Telegram. This document describes the server without fault rules: while a test \
             operator's rule is installed on the admin surface (`docs/faults.md`), any call may \
             answer the code and message the rule chose.",
        ),
        "tags": [
            {"name": "auth", "description": "Sign-in, log-out and finding users: the mock's inventions in place of Telegram's phone-code flow."},
            {"name": "secret chats", "description": "The key exchange and the chat's encrypted messages (SPEC §1.4, §8, §9)."},
            {"name": "updates", "description": "Each device's update queue: counters, difference, acknowledgement, the event stream."},
            {"name": "files", "description": "Uploads in parts, encrypted files, downloads (SPEC §6)."},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {BEARER: {"type": "http", "scheme": "bearer", "description": "the token auth.signIn answers"}},
            "schemas": components,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_declares_its_errors_and_answers_with_its_result_type() {
        let document = document(&Limits::default()).expect("the document builds");
        let operation = &document["paths"]["/api/messages.getDhConfig"]["post"];
        let messages = &operation["responses"]["400"]["content"]["application/json"]["schema"]
            ["properties"]["error_message"]["enum"];
        assert_eq!(
            messages,
            &json!(["INPUT_REQUEST_INVALID", "RANDOM_LENGTH_INVALID"])
        );
        let answer = &operation["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(answer["discriminator"]["propertyName"], "_");
        assert_eq!(answer["oneOf"].as_array().map(Vec::len), Some(2));
        assert!(document["paths"]["/api/auth.signIn"]["post"]
            .get("security")
            .is_none());
    }

    #[test]
    fn a_part_number_makes_file_part_x_missing_concrete() {
        assert!(may_answer(
            "messages.sendEncryptedFile",
            "FILE_PART_3_MISSING"
        ));
        assert!(!may_answer(
            "messages.sendEncryptedFile",
            "FILE_PART__MISSING"
        ));
        assert!(!may_answer("messages.sendEncrypted", "FILE_PART_3_MISSING"));
        assert!(may_answer(
            "messages.sendEncrypted",
            "AUTH_KEY_UNREGISTERED"
        ));
        assert!(!may_answer("auth.signIn", "AUTH_KEY_UNREGISTERED"));
    }
}
