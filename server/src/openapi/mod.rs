//! # The OpenAPI documents: the client API's and the admin surface's
//!
//! Two OpenAPI 3.0 documents, each served by the listener it describes:
//!
//! * [`client`] — `GET /openapi.json` on the client API: every `POST /api/<method>` with its
//!   request body, answer and errors built from the TL schema ([`schema`]), so the
//!   document is what the server parses and writes, not a copy of it;
//! * [`admin`] — `GET /admin/openapi.json` on the admin listener: the admin routes.
//!
//! Both describe errors the same way: Telegram's `rpc_error` object, one response per
//! HTTP status, with the `error_message` values that status can carry as an enum. The CI
//! run of schemathesis against both (`tests/openapi/`) keeps them true.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::error::ErrorKind;
use crate::state::AppState;

pub mod admin;
pub mod client;
pub mod schema;

/// The name of the bearer security scheme in both documents.
pub const BEARER: &str = "bearer";

/// The document's `info`.
fn info(title: &str, description: &str) -> Value {
    json!({
        "title": title,
        "version": env!("CARGO_PKG_VERSION"),
        "description": description,
        "license": {"name": "MIT OR Apache-2.0"},
    })
}

/// `rpc_error` with any message: the shape every error response narrows.
fn rpc_error_component() -> Value {
    json!({
        "type": "object",
        "description": "Telegram's `rpc_error#2144ca19 error_code:int error_message:string`, plus the mock's `detail`",
        "required": ["_", "error_code", "error_message", "detail"],
        "additionalProperties": false,
        "properties": {
            "_": {"type": "string", "enum": ["rpc_error"], "title": "rpc_error constructor"},
            "error_code": {"type": "integer", "description": "equal to the HTTP status"},
            "error_message": {"type": "string", "description": "Telegram's upper-case string"},
            "detail": {"type": "string", "description": "a sentence for the human reading the log"},
        },
    })
}

/// The `error_message` values of `kinds` (`FILE_PART_X_MISSING` as a pattern).
fn error_message_schema(kinds: &[ErrorKind]) -> Value {
    let fixed: Vec<&str> = kinds
        .iter()
        .filter(|kind| **kind != ErrorKind::FilePartMissing)
        .map(|kind| kind.error_message())
        .collect();
    let fixed = json!({"type": "string", "enum": fixed});
    if kinds.contains(&ErrorKind::FilePartMissing) {
        json!({"anyOf": [fixed, {"type": "string", "pattern": "^FILE_PART_[0-9]+_MISSING$"}]})
    } else {
        fixed
    }
}

/// One response per HTTP status the errors `kinds` are answered with.
fn error_responses(kinds: &[ErrorKind]) -> Map<String, Value> {
    let mut by_status: BTreeMap<u16, Vec<ErrorKind>> = BTreeMap::new();
    for kind in kinds {
        by_status.entry(kind.error_code()).or_default().push(*kind);
    }
    by_status
        .into_iter()
        .map(|(status, kinds)| {
            let messages: Vec<&str> = kinds.iter().map(|kind| kind.error_message()).collect();
            let schema = json!({
                "type": "object",
                "required": ["_", "error_code", "error_message", "detail"],
                "additionalProperties": false,
                "properties": {
                    "_": {"type": "string", "enum": ["rpc_error"], "title": "rpc_error constructor"},
                    "error_code": {"type": "integer", "enum": [status]},
                    "error_message": error_message_schema(&kinds),
                    "detail": {"type": "string"},
                },
            });
            let response = json!({
                "description": format!("rpc_error: {}", messages.join(", ")),
                "content": {"application/json": {"schema": schema}},
            });
            (status.to_string(), response)
        })
        .collect()
}

/// A document as the answer, or `500` with the reason if it cannot be built (a schema the
/// builder does not cover: a bug the unit tests catch first).
fn serve(document: Result<Value, String>) -> Response {
    match document {
        Ok(document) => Json(document).into_response(),
        Err(reason) => (StatusCode::INTERNAL_SERVER_ERROR, reason).into_response(),
    }
}

/// `GET /openapi.json` on the client listener.
pub async fn serve_client(State(state): State<AppState>) -> Response {
    serve(client::document(&state.limits))
}

/// `GET /admin/openapi.json` on the admin listener.
pub async fn serve_admin(State(state): State<AppState>) -> Response {
    serve(admin::document(&state.limits))
}
