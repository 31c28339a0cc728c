//! `contacts.resolveUsername {username}` → `user` — *the mock's invention*: finds a user so
//! a peer can build the `inputUser{user_id, access_hash}` for `messages.requestEncryption`.
//! The `access_hash` is the one valid for the caller. Errors: `USERNAME_NOT_OCCUPIED`.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Auth,
    summary: "Finds a user by username, with the access_hash valid for the caller (to build an inputUser).",
    errors: &[&[
        ErrorKind::UsernameNotOccupied,
    ]],
    example: r#"{"username":"alice"}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::ContactsResolveUsername>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    call: functions::ContactsResolveUsername,
) -> Result<enums::User, RpcError> {
    let user =
        server
            .directory
            .user_by_name(&call.username)
            .ok_or(RpcError::UsernameNotOccupied {
                username: call.username.chars().take(64).collect(),
            })?;
    Ok(enums::User::User(types::User {
        id: user.id,
        access_hash: server.directory.access_hash(device.user_id, user.id),
        username: user.username,
    }))
}
