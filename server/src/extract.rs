//! # From an HTTP request to a TL call
//!
//! Two extractors turn a request into what a method needs, and both fail with the same
//! Telegram-shaped [`RpcError`] body as the methods themselves:
//!
//! * [`Caller`] — the device behind `Authorization: Bearer <token>`
//!   (`401 AUTH_KEY_UNREGISTERED` when there is none);
//! * [`Call<F>`] — the JSON body parsed into the generated TL function type `F` by its
//!   strict `from_json` (unknown fields refused, `long` as decimal strings, `bytes` as
//!   base64). The method comes from the URL, so the body may leave out `"_"`; if present
//!   it must name the same method. Oversize bodies are `413 INPUT_REQUEST_TOO_LONG`,
//!   anything malformed `400 INPUT_REQUEST_INVALID` with a `detail` saying what and where.
//!
//! The admin surface's bodies are serde types instead; [`parse_strict`] holds them to the
//! same strictness.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use secretchat_common::tl::TlJson;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::state::AppState;

/// A generated TL function type that is served as `POST /api/<NAME>`.
pub trait Method: TlJson {
    /// The full method name, namespace included (`messages.sendEncrypted`).
    const NAME: &'static str;
}

/// The signed-in device making the call.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<DeviceRecord>);

impl std::ops::Deref for Caller {
    type Target = DeviceRecord;
    fn deref(&self) -> &DeviceRecord {
        &self.0
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = RpcError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, RpcError> {
        let token = bearer_token(parts).ok_or(RpcError::AuthKeyUnregistered)?;
        state
            .directory
            .authenticate(token)
            .map(Caller)
            .ok_or(RpcError::AuthKeyUnregistered)
    }
}

/// A parsed TL function call.
#[derive(Debug)]
pub struct Call<F>(pub F);

/// Reads the body as a JSON object (an empty body counts as `{}`).
pub async fn json_object(req: Request, state: &AppState) -> Result<Map<String, Value>, RpcError> {
    let limit = state.limits.max_body_bytes;
    let body = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            RpcError::InputRequestTooLong { limit }
        } else {
            RpcError::bad_request(format!("cannot read the body: {rejection}"))
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(RpcError::bad_request(format!(
            "the body must be a JSON object, got {}",
            json_kind(&other)
        ))),
        Err(err) => Err(RpcError::bad_request(format!("malformed JSON: {err}"))),
    }
}

/// Parses a JSON object as the function `F`, supplying `"_"` from the URL.
pub fn parse_call<F: Method>(mut object: Map<String, Value>) -> Result<F, RpcError> {
    object
        .entry("_")
        .or_insert_with(|| Value::String(F::NAME.to_owned()));
    F::from_json(&Value::Object(object))
        .map_err(|err| RpcError::bad_request(format!("{}: {err}", F::NAME)))
}

/// Parses a JSON body with serde (the admin surface's bodies), then refuses what serde lets
/// through without a word: a key the parsed value does not have (serde ignores unknown
/// keys beside the tag of a unit variant and in untagged structs, whatever
/// `deny_unknown_fields` says) and a value of another JSON kind than the parsed one (serde
/// takes a variant's index for its name, `"type": 0`, and a struct from an array of its
/// fields). `null` stands for an absent option.
pub fn parse_strict<T: DeserializeOwned + Serialize>(
    body: Map<String, Value>,
) -> Result<T, String> {
    let input = Value::Object(body);
    let parsed: T = serde_json::from_value(input.clone()).map_err(|err| err.to_string())?;
    let read = serde_json::to_value(&parsed).map_err(|err| err.to_string())?;
    all_read(&input, &read, "")?;
    Ok(parsed)
}

/// Whether every non-null value of `input` is in `read` at the same place.
fn all_read(input: &Value, read: &Value, path: &str) -> Result<(), String> {
    match (input, read) {
        (Value::Object(input), Value::Object(read)) => {
            for (key, value) in input.iter().filter(|(_, value)| !value.is_null()) {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let read = read.get(key).ok_or(format!("unknown field `{at}`"))?;
                all_read(value, read, &at)?;
            }
            Ok(())
        }
        (Value::Array(input), Value::Array(read)) => input
            .iter()
            .zip(read)
            .enumerate()
            .try_for_each(|(index, (input, read))| {
                all_read(input, read, &format!("{path}[{index}]"))
            }),
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => Ok(()),
        (_, read) => Err(format!("`{path}` must be {}", json_kind(read))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<F: Method> FromRequest<AppState> for Call<F> {
    type Rejection = RpcError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, RpcError> {
        let object = json_object(req, state).await?;
        parse_call(object).map(Call)
    }
}
