//! `auth.signIn {username, device}` → `auth.authorization{user, token}` — *the mock's
//! invention* (see [`crate::directory`]): signs a device in and returns the bearer token
//! that stands for its authorization key. Needs no token. Errors: `USERNAME_INVALID`,
//! `DEVICES_TOO_MANY` (invented).

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};

use super::{answer, Call, MethodDoc, Tag};
use crate::error::{ErrorKind, RpcError};
use crate::event_log::LogEvent;
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Auth,
    summary: "Signs a device of a user in (the user is created on first use) and returns its bearer token.",
    errors: &[&[
        ErrorKind::DevicesTooMany,
        ErrorKind::UsernameInvalid,
    ]],
    example: r#"{"username":"alice","device":"phone"}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    Call(call): Call<functions::AuthSignIn>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, call)?))
}

pub fn apply(
    server: &Server,
    call: functions::AuthSignIn,
) -> Result<enums::AuthAuthorization, RpcError> {
    let signed_in = server.directory.sign_in(
        &call.username,
        &call.device,
        server.limits.max_devices_per_user,
        server.fresh(),
    )?;
    tracing::info!(username = %call.username, device = %call.device, device_id = signed_in.device.id.0, "signed in");
    server.events.record(
        server.now(),
        LogEvent::SignedIn {
            user_id: signed_in.user_id,
            device: signed_in.device.id,
            username: call.username.clone(),
            device_name: call.device.clone(),
        },
    );
    let user = types::User {
        id: signed_in.user_id,
        access_hash: server
            .directory
            .access_hash(signed_in.user_id, signed_in.user_id),
        username: call.username,
    };
    Ok(enums::AuthAuthorization::AuthAuthorization(
        types::AuthAuthorization {
            user: enums::User::User(user),
            token: signed_in.token,
        },
    ))
}
