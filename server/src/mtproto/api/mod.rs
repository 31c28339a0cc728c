//! # API calls at a connection's layer
//!
//! What a client asks once its session is up: the query's bytes (without their
//! `invokeWithLayer` / `initConnection` / `invokeWithoutUpdates` / `invokeAfterMsg` wrappers,
//! which the session removed) are read at the layer the auth key declared ([`layers`]), run,
//! and answered in the same layer's form. A connection speaks to the mock as to one data
//! center:
//!
//! | calls | module |
//! |---|---|
//! | `help.getConfig`, `help.getNearestDc` | [`help`] |
//! | `auth.sendCode`, `auth.resendCode`, `auth.signIn`, `auth.signUp`, `auth.logOut` | [`sign_in`] |
//! | `users.getUsers`, `users.getFullUser`, `account.updateUsername`, `contacts.resolveUsername` | [`users`] |
//! | every method of the HTTP door: the secret-chat calls, files, `updates.getState`, `updates.getDifference` | [`bridge`] |
//!
//! Everything but `help.*` and the sign-in calls needs a signed-in key (`401
//! AUTH_KEY_UNREGISTERED` otherwise: Telethon's `get_me` relies on it). A method the door
//! does not serve is answered `400 INPUT_METHOD_INVALID` (never a dropped connection) and
//! logged as an `unsupported_method` event naming it, so a user sees what their client
//! asked for; a layer the door has no schema for gets `400 CONNECTION_LAYER_INVALID`.

pub mod bridge;
pub mod help;
pub mod layers;
pub mod sign_in;
pub mod users;

use std::sync::Arc;

use secretchat_mtproto::session::InitConnection;
use serde_json::Value;

use self::layers::{DecodeError, Layer};
use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::event_log::LogEvent;
use crate::state::Server;

/// One call the door hands over, with what the door knows of its caller.
pub struct ApiCall<'a> {
    pub server: &'a Server,
    /// The layer to decode the query and encode the answer at.
    pub layer: i32,
    /// What the auth key's last `initConnection` said (app, device model), if it said it.
    pub client: Option<&'a InitConnection>,
    /// The device this auth key is signed in as, if any.
    pub device: Option<Arc<DeviceRecord>>,
    /// The query: a boxed TL function, constructor id first, without its wrappers.
    pub query: &'a [u8],
}

/// What came of a call: the result to send in `rpc_result`, and what the door must change
/// about the auth key's sign-in.
#[derive(Debug)]
pub enum ApiAnswer {
    /// A boxed TL object at the caller's layer.
    Result(Vec<u8>),
    /// `rpc_error`.
    Error(RpcError),
    /// The auth key is signed in as `device` from now on; `result` is the authorization.
    SignedIn {
        device: Arc<DeviceRecord>,
        result: Vec<u8>,
    },
    /// The auth key's device is gone (`auth.logOut`); `result` is the answer.
    LoggedOut { result: Vec<u8> },
}

/// A handler's answer, as JSON, before it is typed at the caller's layer.
#[derive(Debug)]
pub enum Reply {
    Answer(Value),
    SignedIn(Arc<DeviceRecord>, Value),
    LoggedOut(Value),
}

/// Runs one call.
pub fn handle(call: ApiCall<'_>) -> ApiAnswer {
    let ApiCall {
        server,
        layer,
        client,
        device,
        query,
    } = call;
    let Some(layer) = Layer::of(layer) else {
        return ApiAnswer::Error(RpcError::ConnectionLayerInvalid {
            layer,
            served: layers::SERVED,
        });
    };
    let (method, fields) = match layers::decode(layer, query) {
        Ok(decoded) => decoded,
        Err(DecodeError::Malformed { name, reason }) => {
            return ApiAnswer::Error(RpcError::bad_request(format!("{name}: {reason}")))
        }
        Err(DecodeError::Unknown { id, name }) => {
            let method = match name {
                Some(name) => format!("{name} (#{id:08x})"),
                None => format!("#{id:08x}"),
            };
            return unsupported(server, device.as_deref(), layer, method);
        }
    };
    let signed_in = || device.clone().ok_or(RpcError::AuthKeyUnregistered);
    let reply = match method {
        "help.getConfig" => Ok(Reply::Answer(help::config(server))),
        "help.getNearestDc" => Ok(Reply::Answer(help::nearest_dc())),
        "auth.sendCode" | "auth.resendCode" => {
            sign_in::send_code(server, method, &fields).map(Reply::Answer)
        }
        "auth.signIn" | "auth.signUp" => {
            sign_in::sign_in(server, method, &fields, client, device.clone())
        }
        "auth.logOut" => signed_in().map(|device| sign_in::log_out(server, &device)),
        "users.getUsers" => {
            signed_in().and_then(|d| users::get_users(server, &d, &fields).map(Reply::Answer))
        }
        "users.getFullUser" => {
            signed_in().and_then(|d| users::get_full_user(server, &d, &fields).map(Reply::Answer))
        }
        "account.updateUsername" => {
            signed_in().and_then(|d| users::update_username(server, &d, &fields).map(Reply::Answer))
        }
        "contacts.resolveUsername" => signed_in()
            .and_then(|d| users::resolve_username(server, &d, &fields).map(Reply::Answer)),
        _ if bridge::is_bridged(method) => signed_in().and_then(|d| {
            bridge::call(server, &d, method, fields)
                .unwrap_or_else(|| Err(RpcError::bad_request(format!("{method} is not bridged"))))
                .map(Reply::Answer)
        }),
        _ => return unsupported(server, device.as_deref(), layer, method.to_owned()),
    };
    match reply {
        Err(error) => ApiAnswer::Error(error),
        Ok(reply) => typed(layer, method, reply),
    }
}

/// The reply typed at the caller's layer.
fn typed(layer: Layer, method: &str, reply: Reply) -> ApiAnswer {
    let encode = |value: &Value| {
        layers::encode(layer, method, value).map_err(|reason| {
            // A handler wrote an answer the layer's schema refuses: the mock's bug, told
            // to the client as an error rather than as bytes it cannot read.
            tracing::error!(%method, layer = layer.number(), %reason, "mtproto: answer does not fit the layer");
            RpcError::bad_request(format!("the answer to {method} does not fit layer {}: {reason}", layer.number()))
        })
    };
    let result = match reply {
        Reply::Answer(value) => encode(&value).map(ApiAnswer::Result),
        Reply::SignedIn(device, value) => {
            encode(&value).map(|result| ApiAnswer::SignedIn { device, result })
        }
        Reply::LoggedOut(value) => encode(&value).map(|result| ApiAnswer::LoggedOut { result }),
    };
    result.unwrap_or_else(ApiAnswer::Error)
}

/// `400 INPUT_METHOD_INVALID`, and an event naming the method.
fn unsupported(
    server: &Server,
    device: Option<&DeviceRecord>,
    layer: Layer,
    method: String,
) -> ApiAnswer {
    tracing::info!(%method, layer = layer.number(), "mtproto: unsupported method");
    server.events.record(
        server.now(),
        LogEvent::UnsupportedMethod {
            device: device.map(|d| d.id),
            method: method.clone(),
            layer: layer.number(),
        },
    );
    ApiAnswer::Error(RpcError::InputMethodInvalid { method })
}
