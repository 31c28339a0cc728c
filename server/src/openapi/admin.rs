//! # The admin surface's document (`GET /admin/openapi.json` on the admin listener)
//!
//! The admin surface is the mock's own invention (`crate::admin`, `crate::faults`), with
//! JSON bodies read by serde rather than TL. This document states what those readers and
//! the checks after them accept: unknown fields refused where the type says
//! `deny_unknown_fields`, `null` accepted wherever a field is an `Option`, the ranges each
//! `check` enforces, and the combinations a rule or a hostile mode must respect — as
//! `oneOf` branches where JSON Schema can say it. One rule it cannot state, a range's
//! `from <= to`, is said in words (and the schemathesis hook of `tests/openapi/` keeps to
//! it). Every route needs the admin token; a missing or wrong one is
//! `401 ADMIN_TOKEN_INVALID`.

use serde_json::{json, Map, Value};

use super::schema::{int, long_pattern, nullable};
use super::{error_responses, info, rpc_error_component, BEARER};
use crate::config::Limits;
use crate::delivery::UpdateKind;
use crate::error::ErrorKind;
use crate::faults::action::{MAX_BITS, MAX_BLOCKS};
use crate::methods::METHOD_LINES;

fn unsigned(max: u64) -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": max})
}

fn between(min: u64, max: u64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn object(required: &[&str], properties: Value) -> Value {
    let mut object =
        json!({"type": "object", "additionalProperties": false, "properties": properties});
    if !required.is_empty() {
        object["required"] = json!(required);
    }
    object
}

/// A variant of an enum tagged by `tag` (serde's internally tagged enums).
fn tagged(tag: &str, name: &str, required: &[&str], mut properties: Value) -> Value {
    properties[tag] = json!({"type": "string", "enum": [name]});
    let mut all = vec![tag];
    all.extend_from_slice(required);
    let mut variant = object(&all, properties);
    variant["title"] = json!(name);
    variant
}

/// A variant of an internally tagged enum held by a variant of another (`{"type":
/// "corrupt", "how": "truncate", ...}`): both tags in one object.
fn nested(
    outer_tag: &str,
    outer: &str,
    inner_tag: &str,
    inner: &str,
    required: &[&str],
    mut properties: Value,
) -> Value {
    properties[outer_tag] = json!({"type": "string", "enum": [outer]});
    let mut all = vec![outer_tag];
    all.extend_from_slice(required);
    let mut variant = tagged(inner_tag, inner, &all, properties);
    variant["title"] = json!(format!("{outer} {inner}"));
    variant
}

/// `{"from", "to"}` (inclusive) or one number.
fn range(min: u64, what: &str) -> Value {
    json!({
        "description": format!("{what}: one number, or an inclusive range {{from, to}} with from <= to"),
        "oneOf": [
            between(min, u64::MAX),
            object(&["from", "to"], json!({"from": between(min, u64::MAX), "to": between(min, u64::MAX)})),
        ],
    })
}

fn update_kinds() -> Vec<&'static str> {
    [
        UpdateKind::NewEncryptedMessage,
        UpdateKind::NewEncryptedServiceMessage,
        UpdateKind::EncryptionRequested,
        UpdateKind::EncryptionWaiting,
        UpdateKind::EncryptionAccepted,
        UpdateKind::EncryptionDiscarded,
        UpdateKind::EncryptionEmpty,
        UpdateKind::Read,
        UpdateKind::Typing,
    ]
    .into_iter()
    .map(UpdateKind::name)
    .collect()
}

/// A device by names or by id (decimal).
fn device_matcher() -> Value {
    json!({"oneOf": [
        object(&["user", "device"], json!({"user": {"type": "string"}, "device": {"type": "string"}})),
        object(&["id"], json!({"id": {"type": "string"}})),
    ]})
}

/// The actions on deliveries (every action but `error`).
fn delivery_action() -> Value {
    let u32_max = u64::from(u32::MAX);
    let corrupt = |how: &str, required: &[&str], properties: Value| {
        nested("type", "corrupt", "how", how, required, properties)
    };
    json!({"oneOf": [
        tagged("type", "drop", &[], json!({})),
        tagged("type", "lose_push", &[], json!({})),
        tagged("type", "duplicate", &[], json!({"copies": between(1, 100)})),
        tagged("type", "reorder", &["window"], json!({"window": between(2, 1000)})),
        {
            "allOf": [tagged("type", "hold", &[], json!({
                "after_deliveries": nullable(between(1, u32_max)),
                "until_server_time": nullable(int()),
            }))],
            "not": {
                "description": "after_deliveries or until_server_time, not both",
                "required": ["after_deliveries", "until_server_time"],
                "properties": {"after_deliveries": {"type": "integer"}, "until_server_time": {"type": "integer"}},
            },
        },
        tagged("type", "delay", &["seconds"], json!({
            "seconds": unsigned(u32_max),
            "clock": {"type": "string", "enum": ["server", "wall"]},
        })),
        tagged("type", "skip_qts", &["count"], json!({"count": between(1, 1_000_000)})),
        corrupt("flip_bits", &[], json!({"bits": nullable(json!({
            "type": "array", "minItems": 1, "maxItems": MAX_BITS, "items": unsigned(u64::MAX),
        }))})),
        corrupt("truncate", &[], json!({"bytes": between(1, u64::MAX)})),
        corrupt("extend", &[], json!({"blocks": between(1, MAX_BLOCKS)})),
        corrupt("replace_last_block", &[], json!({})),
        tagged("type", "replay", &[], json!({"after_deliveries": between(1, u32_max)})),
        tagged("type", "reflect", &[], json!({})),
    ]})
}

/// `POST /admin/faults`: a rule on answers (`match.method` with the `error` action) or on
/// deliveries (any other action, matched by device, chat, update kind, qts).
fn rule_spec() -> Value {
    let methods: Vec<&str> = METHOD_LINES.iter().map(|(name, _)| *name).collect();
    let common = |matcher: Value, action: Value| {
        json!({
            "match": matcher,
            "action": action,
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
            "seed": nullable(unsigned(u64::MAX)),
            "times": nullable(unsigned(u64::MAX)),
        })
    };
    let mut answers = object(
        &["match", "action"],
        common(
            object(
                &["method"],
                json!({
                    "device": nullable(device_matcher()),
                    "chat_id": nullable(int()),
                    "method": {"type": "string", "enum": methods},
                    "nth": nullable(range(1, "which matching call, 1-based")),
                    "update": {"nullable": true, "enum": [null]},
                    "qts": {"nullable": true, "enum": [null]},
                }),
            ),
            object(
                &["type", "error_code", "error_message"],
                json!({
                    "type": {"type": "string", "enum": ["error"]},
                    "error_code": between(400, 599),
                    "error_message": {"type": "string", "pattern": "^[A-Z0-9_]{1,64}$"},
                }),
            ),
        ),
    );
    answers["title"] = json!("a rule on answers");
    let mut deliveries = object(
        &["action"],
        common(
            object(
                &[],
                json!({
                    "device": nullable(device_matcher()),
                    "chat_id": nullable(int()),
                    "method": {"nullable": true, "enum": [null]},
                    "update": nullable(json!({"oneOf": [
                        {"type": "string", "enum": update_kinds()},
                        {"type": "array", "items": {"type": "string", "enum": update_kinds()}},
                    ]})),
                    "nth": nullable(range(1, "which matching delivery, 1-based")),
                    "qts": nullable(range(0, "the qts the message is about to get")),
                }),
            ),
            delivery_action(),
        ),
    );
    deliveries["title"] = json!("a rule on deliveries");
    json!({
        "description": "A fault rule (docs/faults.md). `error` answers a method (`match.method`); \
            every other action acts on deliveries. A range's `from` must not exceed its `to`.",
        "oneOf": [answers, deliveries],
    })
}

/// `POST /admin/hostile`: `bad_dh` for a device, every other mode for a chat (by id, or
/// the next chat of a user).
fn hostile_spec() -> Value {
    let absent = json!({"nullable": true, "enum": [null]});
    let degenerate =
        json!({"type": "string", "enum": ["zero", "one", "p_minus_1", "below_2_1984"]});
    let chat_modes = json!({"oneOf": [
        tagged("type", "degenerate_g_a", &["value"], json!({"value": degenerate})),
        tagged("type", "degenerate_g_b", &["value"], json!({"value": degenerate})),
        tagged("type", "mitm", &[], json!({})),
        tagged("type", "altered_fingerprint", &[], json!({})),
        tagged("type", "swap_file", &["with_file_id"], json!({
            "with_file_id": {"type": "string", "pattern": long_pattern()},
        })),
        tagged("type", "truncate_file", &[], json!({"bytes": between(1, u64::MAX)})),
        nested("type", "padding_malleability", "variant", "append_blocks", &[], json!({"blocks": between(1, 1024)})),
        nested("type", "padding_malleability", "variant", "rewrite_last_block", &[], json!({})),
    ]});
    let bad_dh = tagged(
        "type",
        "bad_dh",
        &["params"],
        json!({"params": {"type": "string", "enum": ["non_safe_prime", "composite", "wrong_size", "g_not_residue", "g_one"]}}),
    );
    let target = |name: &str, target: Value, mode: Value| {
        let mut properties = json!({
            "chat_id": absent, "next_chat_of": absent, "device": absent,
            "mode": mode, "seed": nullable(unsigned(u64::MAX)),
        });
        properties[name] = target;
        let mut variant = object(&[name, "mode"], properties);
        variant["title"] = json!(format!("by {name}"));
        variant
    };
    json!({
        "description": "A hostile mode (docs/faults.md) and exactly one target: bad_dh names a device, \
            every other mode a chat (chat_id) or the next chat a user starts (next_chat_of).",
        "oneOf": [
            target("device", device_matcher(), bad_dh),
            target("chat_id", int(), chat_modes.clone()),
            target("next_chat_of", json!({"type": "string"}), chat_modes),
        ],
    })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// One admin operation: by default no body, no parameters, and only the token's error.
struct Operation {
    operation: Value,
    errors: Vec<ErrorKind>,
}

impl Operation {
    fn new(id: &str, summary: &str, ok: Value) -> Self {
        Self {
            operation: json!({
                "operationId": id,
                "tags": ["admin"],
                "summary": summary,
                "security": [{BEARER: []}],
                "responses": {"200": ok},
            }),
            errors: vec![ErrorKind::AdminTokenInvalid],
        }
    }

    /// A JSON body (and so its errors: malformed, too long).
    fn body(mut self, schema: Value, example: Value) -> Self {
        self.operation["requestBody"] = json!({"required": true, "content": {
            "application/json": {"schema": schema, "example": example},
        }});
        self.errors.extend([
            ErrorKind::InputRequestInvalid,
            ErrorKind::InputRequestTooLong,
        ]);
        self
    }

    /// Path or query parameters (a malformed one is `INPUT_REQUEST_INVALID`).
    fn parameters(mut self, parameters: Vec<Value>) -> Self {
        self.operation["parameters"] = json!(parameters);
        self.errors.push(ErrorKind::InputRequestInvalid);
        self
    }

    /// It names something that may not exist.
    fn may_miss(mut self) -> Self {
        self.errors.push(ErrorKind::AdminObjectMissing);
        self
    }

    fn into_json(mut self) -> Value {
        if let Some(responses) = self.operation["responses"].as_object_mut() {
            responses.extend(error_responses(&self.errors));
        }
        self.operation
    }
}

fn id_parameter(what: &str) -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": format!("the {what}'s id"),
           "schema": unsigned(u64::MAX)})
}

fn query(name: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema, "description": description})
}

fn installed(what: &str, spec: &str) -> Value {
    answer(
        &format!("the {what} installed, with its id and the seed it draws from"),
        json!({
            "type": "object", "additionalProperties": false, "required": ["id", "seed", spec],
            "properties": {"id": unsigned(u64::MAX), "seed": unsigned(u64::MAX), spec: {"type": "object"}},
        }),
    )
}

fn count(name: &str) -> Value {
    answer(
        &format!("how many were {name}"),
        object(&[name], json!({name: unsigned(u64::MAX)})),
    )
}

fn state_schema() -> Value {
    let id = json!({"type": "string", "pattern": long_pattern()});
    let device = object(
        &[
            "id",
            "name",
            "door",
            "qts",
            "pts",
            "queued_messages",
            "queued_other_updates",
        ],
        json!({"id": id, "name": {"type": "string"},
               "door": {"type": "string", "enum": ["http", "mtproto"]}, "qts": int(), "pts": int(),
               "queued_messages": unsigned(u64::MAX), "queued_other_updates": unsigned(u64::MAX)}),
    );
    let user = object(
        &["id", "username", "phone", "devices"],
        json!({"id": id, "username": {"type": "string"},
               "phone": nullable(json!({"type": "string", "pattern": "^[0-9]{7,15}$"})),
               "devices": {"type": "array", "items": device}}),
    );
    let chat = object(
        &[
            "id",
            "state",
            "date",
            "admin_id",
            "admin_device",
            "participant_id",
            "participant_device",
            "spam_reports",
        ],
        json!({
            "id": int(), "state": {"type": "string", "enum": ["waiting", "accepted", "discarded"]},
            "date": int(), "admin_id": id, "admin_device": id, "participant_id": id,
            "participant_device": nullable(id.clone()), "spam_reports": unsigned(u64::MAX),
        }),
    );
    object(
        &["users", "chats", "files", "clock", "process", "mtproto"],
        json!({
            "users": {"type": "array", "items": user},
            "chats": {"type": "array", "items": chat},
            "files": object(&["stored", "stored_bytes", "uploads_in_progress"], json!({
                "stored": unsigned(u64::MAX), "stored_bytes": unsigned(u64::MAX),
                "uploads_in_progress": unsigned(u64::MAX),
            })),
            "clock": object(&["now", "offset_seconds"], json!({
                "now": int(), "offset_seconds": {"type": "integer", "format": "int64"},
            })),
            "process": object(&["rss_bytes"], json!({"rss_bytes": nullable(unsigned(u64::MAX))})),
            "mtproto": mtproto_schema(),
        }),
    )
}

/// The MTProto door in `/admin/state`: its address and every auth key.
fn mtproto_schema() -> Value {
    let text = json!({"type": "string"});
    let client = object(
        &[
            "api_id",
            "app_version",
            "device_model",
            "system_version",
            "lang_code",
        ],
        json!({"api_id": int(), "app_version": text, "device_model": text,
               "system_version": text, "lang_code": text}),
    );
    let connection = object(
        &["id", "transport", "peer"],
        json!({"id": unsigned(u64::MAX), "transport": text, "peer": text}),
    );
    let auth_key = object(
        &[
            "auth_key_id",
            "kind",
            "device_id",
            "layer",
            "client",
            "sessions",
            "connections",
            "bound_to",
        ],
        json!({
            "auth_key_id": text, "kind": {"type": "string", "enum": ["permanent", "temporary"]},
            "device_id": nullable(json!({"type": "string", "pattern": long_pattern()})),
            "layer": nullable(int()), "client": nullable(client),
            "sessions": {"type": "array", "items": text},
            "connections": {"type": "array", "items": connection},
            "bound_to": nullable(text.clone()),
        }),
    );
    object(
        &["listening", "auth_keys"],
        json!({"listening": nullable(text), "auth_keys": {"type": "array", "items": auth_key}}),
    )
}

/// `GET /mtproto/public-key` and `/admin/mtproto/public-key`.
pub fn public_key_schema() -> Value {
    let text = json!({"type": "string"});
    object(
        &["pem", "fingerprint", "fingerprint_hex", "mtproto_addr"],
        json!({"pem": text, "fingerprint": {"type": "string", "pattern": long_pattern()},
               "fingerprint_hex": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
               "mtproto_addr": nullable(text.clone())}),
    )
}

/// The admin surface's document.
pub fn document(_limits: &Limits) -> Result<Value, String> {
    let operations = [
        ("/admin/state", "get", Operation::new(
            "admin.state",
            "Shows users, devices and their queues, chats, stored files, the clock and the process's memory.",
            answer("the server's state", state_schema()),
        )),
        ("/admin/clock/advance", "post", Operation::new(
            "admin.advanceClock",
            "Moves the server clock forward (never back); expired updates are dropped at once.",
            answer("the new clock", object(&["now", "offset_seconds", "expired_updates"], json!({
                "now": int(), "offset_seconds": {"type": "integer", "format": "int64"},
                "expired_updates": unsigned(u64::MAX),
            }))),
        ).body(
            object(&["seconds"], json!({"seconds": unsigned(u64::from(u32::MAX))})),
            json!({"seconds": 86400}),
        )),
        ("/admin/reset", "post", Operation::new(
            "admin.reset",
            "Forgets every user, device, chat, file, fault rule, hostile mode and event; real time again.",
            answer("done", object(&["reset"], json!({"reset": {"type": "boolean", "enum": [true]}}))),
        )),
        ("/admin/mtproto/public-key", "get", Operation::new(
            "admin.mtprotoPublicKey",
            "The MTProto door's RSA public key (PKCS#1 PEM) and fingerprint, for installing in a client.",
            answer("the public key", public_key_schema()),
        )),
        ("/admin/faults", "post", Operation::new(
            "admin.installFault",
            "Installs a fault rule: drop, duplicate, reorder, hold, delay, corrupt... deliveries, or fail calls.",
            installed("rule", "rule"),
        ).body(
            reference("FaultRule"),
            json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "drop"}, "probability": 0.2, "seed": 1}),
        )),
        ("/admin/faults", "get", Operation::new(
            "admin.listFaults",
            "Lists the installed fault rules with how often each matched and acted, and what they hold.",
            answer("the rules", object(&["rules", "held"], json!({
                "rules": {"type": "array", "items": {"type": "object"}}, "held": unsigned(u64::MAX),
            }))),
        )),
        ("/admin/faults", "delete", Operation::new(
            "admin.deleteFaults",
            "Deletes every fault rule, releasing what they hold first.",
            count("deleted"),
        )),
        ("/admin/faults/{id}", "delete", Operation::new(
            "admin.deleteFault",
            "Deletes one fault rule, releasing what it holds first.",
            count("deleted"),
        ).parameters(vec![id_parameter("rule")]).may_miss()),
        ("/admin/faults/{id}/release", "post", Operation::new(
            "admin.releaseFault",
            "Releases the deliveries a rule holds (its reorder window in arrival order).",
            count("released"),
        ).parameters(vec![id_parameter("rule")]).may_miss()),
        ("/admin/hostile", "post", Operation::new(
            "admin.installHostile",
            "Installs a hostile mode: bad DH parameters, degenerate g_a/g_b, a man in the middle, forged files...",
            installed("hostile mode", "hostile"),
        ).body(
            reference("HostileMode"),
            json!({"next_chat_of": "alice", "mode": {"type": "mitm"}}),
        )),
        ("/admin/hostile", "get", Operation::new(
            "admin.listHostile",
            "Lists the installed hostile modes, the chat each is bound to and how often it acted.",
            answer("the modes", object(&["modes"], json!({"modes": {"type": "array", "items": {"type": "object"}}}))),
        )),
        ("/admin/hostile", "delete", Operation::new(
            "admin.deleteHostiles",
            "Deletes every hostile mode.",
            count("deleted"),
        )),
        ("/admin/hostile/{id}", "delete", Operation::new(
            "admin.deleteHostile",
            "Deletes one hostile mode.",
            count("deleted"),
        ).parameters(vec![id_parameter("hostile mode")]).may_miss()),
        ("/admin/hostile/mitm", "get", Operation::new(
            "admin.mitmKeys",
            "Shows an intercepted chat's two keys side by side (the man in the middle's view).",
            answer("the chat's keys", json!({"type": "object"})),
        ).parameters(vec![query("chat_id", true, int(), "the intercepted chat")]).may_miss()),
        ("/admin/events", "get", Operation::new(
            "admin.events",
            "Reads the event log after event `since`: sign-ins, deliveries, acknowledgements, expiry, faults.",
            answer("a page of the log", object(&["events", "last_id", "missed"], json!({
                "events": {"type": "array", "items": {"type": "object"}},
                "last_id": unsigned(u64::MAX),
                "missed": unsigned(u64::MAX),
            }))),
        ).parameters(vec![
            query("since", false, unsigned(u64::MAX), "the last event id already read (default 0)"),
            query("limit", false, unsigned(u64::MAX), "at most this many events (and at most 1000)"),
        ])),
    ];
    let mut paths = Map::new();
    for (path, verb, operation) in operations {
        let item = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        item[verb] = operation.into_json();
    }
    Ok(json!({
        "openapi": "3.0.3",
        "info": info(
            "secretchat-server admin surface",
            "The mock's own admin surface (not Telegram's), on its own listener and token \
             (`--admin-port`, `--admin-token`): the server's state, its clock, and the \
             misbehaving server — fault rules, hostile modes, the event log (docs/faults.md). \
             Device tokens never work here.",
        ),
        "tags": [{"name": "admin", "description": "State, clock, reset, fault rules, hostile modes, events."}],
        "paths": paths,
        "components": {
            "securitySchemes": {BEARER: {"type": "http", "scheme": "bearer", "description": "the admin token (--admin-token)"}},
            "schemas": {
                "FaultRule": rule_spec(),
                "HostileMode": hostile_spec(),
                "rpc_error": rpc_error_component(),
            },
        },
    }))
}
