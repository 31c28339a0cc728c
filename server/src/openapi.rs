//! # The OpenAPI document of the client API (`GET /openapi.json`)
//!
//! Built from the list of served methods ([`crate::methods::METHOD_LINES`], made by the same
//! macro that marks each generated function type as servable); each operation's
//! description is the method's TL line from the generated schema. A test calls every
//! route the document lists. Request bodies are the TL function's fields as JSON
//! (DESIGN.md's JSON form), answers the TL result, errors the `rpc_error` object — with
//! any code when a fault rule injects one (the `default` response, `docs/faults.md`).

use serde_json::{json, Map, Value};

use crate::methods::{self, updates_stream};

/// The `/api/` methods that need no bearer token.
pub const PUBLIC_METHODS: &[&str] = &["auth.signIn"];

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for method in methods::methods() {
        let secured = !PUBLIC_METHODS.contains(&method);
        let mut operation = json!({
            "operationId": method,
            "summary": method,
            "description": methods::tl_line(method).unwrap_or(""),
            "requestBody": {
                "required": false,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TlObject"}}}
            },
            "responses": {
                "200": {"description": "the TL result", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TlObject"}}}},
                "400": {"$ref": "#/components/responses/RpcError"},
                "401": {"$ref": "#/components/responses/RpcError"},
                "413": {"$ref": "#/components/responses/RpcError"},
                "default": {"$ref": "#/components/responses/InjectedError"}
            }
        });
        if secured {
            operation["security"] = json!([{"bearer": []}]);
        }
        paths.insert(format!("/api/{method}"), json!({ "post": operation }));
    }
    paths.insert(
        updates_stream::PATH.to_owned(),
        json!({"get": {
            "operationId": "updates.stream",
            "summary": "server-sent events: this device's updates as they happen",
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "text/event-stream; each event named after the update constructor", "content": {"text/event-stream": {}}},
                "401": {"$ref": "#/components/responses/RpcError"}
            }
        }}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "secretchat-server client API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Telegram secret-chat methods over HTTP/JSON: POST /api/<method> with the TL function's fields as a JSON object; the answer is the TL result. long = decimal string, bytes = base64."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "TlObject": {"type": "object", "properties": {"_": {"type": "string", "description": "constructor name"}}, "additionalProperties": true},
                "RpcError": {"type": "object", "required": ["_", "error_code", "error_message"], "properties": {
                    "_": {"type": "string", "enum": ["rpc_error"]},
                    "error_code": {"type": "integer"},
                    "error_message": {"type": "string"},
                    "detail": {"type": "string"}
                }}
            },
            "responses": {
                "RpcError": {"description": "Telegram-shaped error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RpcError"}}}},
                "InjectedError": {"description": "any error_code and error_message a fault rule of the admin surface injects (e.g. 420 FLOOD_WAIT_5, 500 INTERNAL; docs/faults.md)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RpcError"}}}}
            }
        }
    })
}
