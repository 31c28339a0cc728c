//! # The answer hook: the HTTP door's middleware around every `/api/` call
//!
//! The fault engine ([`crate::faults`]) acts on answers through two calls, and this is
//! where the HTTP door makes them. Before the method runs, an `error` rule may answer instead (`420 FLOOD_WAIT_5` for the
//! first three `messages.sendEncrypted` calls, say, to test a client's retries). After it
//! ran, a hostile mode may rewrite a successful answer: bad DH parameters in
//! `messages.getDhConfig`, the forged g_a in `messages.acceptEncryption`'s
//! `encryptedChat`, a swapped or truncated `upload.getFile`. With nothing installed the
//! middleware is one atomic load.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::RpcError;
use crate::state::AppState;

/// The middleware (installed by [`crate::app`]).
pub async fn on_call(State(server): State<AppState>, request: Request, next: Next) -> Response {
    if !server.faults.is_armed() {
        return next.run(request).await;
    }
    let method = request
        .uri()
        .path()
        .strip_prefix("/api/")
        .unwrap_or_default()
        .to_owned();
    let device = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| server.directory.authenticate(token.trim()));
    if let Some(error) = server
        .faults
        .before_call(&*server, device.as_deref(), &method)
    {
        return error.into_response();
    }
    if !server.faults.rewrites_answer(&method) {
        return next.run(request).await;
    }
    // Keep the request body (upload.getFile's location and range), then pass it on.
    let (parts, body) = request.into_parts();
    let limit = server.limits.max_body_bytes;
    let Ok(body) = to_bytes(body, limit).await else {
        return RpcError::InputRequestTooLong { limit }.into_response();
    };
    let request_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return RpcError::bad_request("the answer could not be read back for rewriting")
            .into_response();
    };
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    server.faults.rewrite_answer(
        &*server,
        device.as_deref(),
        &method,
        &request_json,
        &mut answer,
    );
    let mut response = crate::methods::json_response(&answer, bytes.len() + 64);
    *response.status_mut() = parts.status;
    response
}
