//! # Users as MTProto clients see them
//!
//! A `user` object carries what its viewer may know (core.telegram.org/constructor/user): the
//! id, an `access_hash` valid for that viewer only ([`crate::directory`]), names, the
//! username, and — for the viewer's own user, marked `self` — the phone. Never `min`
//! (Pyrogram skips min users). HTTP-door users have no first name of their own; they show
//! their username as it.
//!
//! * `users.getUsers(ids)` — `inputUserSelf`, or `inputUser{user_id, access_hash}` where the
//!   access_hash is the viewer's or 0 (the secret-chat plugins resolve ids that way); others
//!   come back as `userEmpty{id}`, in order;
//! * `users.getFullUser(id)` → `users.userFull` whose `users` hold the user itself (Pyrogram's
//!   `get_me` indexes them by `full_user.id`);
//! * `account.updateUsername(username)` → the own `user`; `USERNAME_OCCUPIED`,
//!   `USERNAME_NOT_MODIFIED`, `USERNAME_INVALID`; an empty name removes it;
//! * `contacts.resolveUsername(username)` → `contacts.resolvedPeer`, finding users of either
//!   door; `USERNAME_NOT_OCCUPIED`.

use serde_json::{json, Map, Value};

use crate::device::DeviceRecord;
use crate::directory::User;
use crate::error::RpcError;
use crate::state::Server;

/// `user` as `viewer_id` sees it.
pub fn user_json(server: &Server, viewer_id: i64, user: &User) -> Value {
    let own = viewer_id == user.id;
    let first_name = if user.first_name.is_empty() {
        &user.username
    } else {
        &user.first_name
    };
    let mut object = json!({
        "_": "user",
        "id": user.id.to_string(),
        "access_hash": server.directory.access_hash(viewer_id, user.id).to_string(),
        "first_name": first_name,
    });
    if own {
        object["self"] = json!(true);
        if let Some(phone) = &user.phone {
            object["phone"] = json!(phone);
        }
    }
    if !user.last_name.is_empty() {
        object["last_name"] = json!(user.last_name);
    }
    if !user.username.is_empty() {
        object["username"] = json!(user.username);
    }
    object
}

/// The user an `InputUser` names for `device`, if it names one it may see.
fn input_user(server: &Server, device: &DeviceRecord, input: &Value) -> Option<User> {
    match input["_"].as_str()? {
        "inputUserSelf" => server.directory.user(device.user_id),
        "inputUser" => {
            let id: i64 = input["user_id"].as_str()?.parse().ok()?;
            let hash: i64 = input["access_hash"].as_str()?.parse().ok()?;
            let user = server.directory.user(id)?;
            (hash == 0 || hash == server.directory.access_hash(device.user_id, id)).then_some(user)
        }
        _ => None,
    }
}

fn own_user(server: &Server, device: &DeviceRecord) -> Result<User, RpcError> {
    server
        .directory
        .user(device.user_id)
        .ok_or(RpcError::AuthKeyUnregistered)
}

pub fn get_users(
    server: &Server,
    device: &DeviceRecord,
    fields: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let ids = fields["id"].as_array().cloned().unwrap_or_default();
    let users = ids
        .iter()
        .map(|input| match input_user(server, device, input) {
            Some(user) => user_json(server, device.user_id, &user),
            None => json!({"_": "userEmpty", "id": input["user_id"].as_str().unwrap_or("0")}),
        })
        .collect();
    Ok(Value::Array(users))
}

pub fn get_full_user(
    server: &Server,
    device: &DeviceRecord,
    fields: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let user = input_user(server, device, &fields["id"]).ok_or(RpcError::UserIdInvalid {
        user_id: fields["id"]["user_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or(0),
    })?;
    Ok(json!({
        "_": "users.userFull",
        "full_user": {
            "_": "userFull",
            "id": user.id.to_string(),
            "settings": {"_": "peerSettings"},
            "notify_settings": {"_": "peerNotifySettings"},
            "common_chats_count": 0,
        },
        "chats": [],
        "users": [user_json(server, device.user_id, &user)],
    }))
}

pub fn update_username(
    server: &Server,
    device: &DeviceRecord,
    fields: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let username = fields["username"].as_str().unwrap_or_default();
    let user = server.directory.set_username(device.user_id, username)?;
    tracing::info!(user_id = user.id, %username, "mtproto: username set");
    Ok(user_json(server, device.user_id, &user))
}

pub fn resolve_username(
    server: &Server,
    device: &DeviceRecord,
    fields: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let username = fields["username"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('@');
    let user =
        server
            .directory
            .user_by_name(username)
            .ok_or_else(|| RpcError::UsernameNotOccupied {
                username: username.to_owned(),
            })?;
    own_user(server, device)?;
    Ok(json!({
        "_": "contacts.resolvedPeer",
        "peer": {"_": "peerUser", "user_id": user.id.to_string()},
        "chats": [],
        "users": [user_json(server, device.user_id, &user)],
    }))
}
