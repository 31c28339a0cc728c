//! # Sign-in by phone: Telegram's flow with the test servers' codes
//!
//! Telegram signs a device in with a code sent to the phone (core.telegram.org/api/auth):
//! `auth.sendCode(phone)` → `auth.sentCode{type, phone_code_hash}`, then
//! `auth.signIn(phone, phone_code_hash, phone_code)` → `auth.authorization{user}`, or
//! `auth.authorizationSignUpRequired` and `auth.signUp(…, first_name, last_name)` for a new
//! number. The mock sends no codes; it follows the convention of Telegram's test servers:
//!
//! * **phone `99966XYYYY` gets the code `X` five times** (`9996621234` → `22222`);
//! * *the mock's rule* for any other number of 7 to 15 digits: the code is `12345`.
//!
//! Phones are read as digits (a leading `+`, spaces and dashes dropped; Pyrogram sends none).
//! The `phone_code_hash` is derived from the server's secret and the phone, so it needs no
//! storage and is the same for every `auth.sendCode` of a number.
//!
//! **`auth.signIn` creates the account** of a new number, named "User" and the number's last
//! four digits: Telethon cannot sign up (it raises on `authorizationSignUpRequired`), and a
//! mock has no reason to make it. `auth.signUp` still works for a new number, with the
//! names given. Every sign-in is a new device of the user — the auth key's — beside its
//! other devices of either door, within `--max-devices-per-user`; its name is the app's
//! `device_model` from `initConnection` (letters, digits and `_`), with a short suffix that
//! keeps it apart from the user's other devices. `auth.logOut` ends the device exactly as the
//! HTTP door's does: its queue goes, its chats are discarded.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::users::user_json;
use super::Reply;
use crate::device::DeviceRecord;
use crate::directory::User;
use crate::error::RpcError;
use crate::event_log::LogEvent;
use crate::state::Server;
use secretchat_mtproto::session::InitConnection;

/// The code every number outside the test range gets (the mock's rule).
pub const DEFAULT_CODE: &str = "12345";

/// A phone number as digits, or `PHONE_NUMBER_INVALID`.
pub fn normalize_phone(raw: &str) -> Result<String, RpcError> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')'))
        .collect();
    if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(RpcError::PhoneNumberInvalid {
            phone: raw.chars().take(32).collect(),
        })
    }
}

/// The code the mock accepts for `phone` (digits).
pub fn code_for(phone: &str) -> String {
    match phone.strip_prefix("99966") {
        Some(rest) if rest.len() == 5 => rest[..1].repeat(5),
        _ => DEFAULT_CODE.to_owned(),
    }
}

/// `phone_code_hash = hex(SHA-256("phone_code_hash" ‖ secret ‖ phone))[..20]`.
fn phone_code_hash(server: &Server, phone: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"phone_code_hash")
        .chain_update(server.directory.secret())
        .chain_update(phone.as_bytes())
        .finalize();
    hex::encode(&digest[..10])
}

fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> &'a str {
    fields.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The phone of a call, checked against its `phone_code_hash`.
fn phone_with_hash(server: &Server, fields: &Map<String, Value>) -> Result<String, RpcError> {
    let phone = normalize_phone(text(fields, "phone_number"))?;
    let hash = text(fields, "phone_code_hash");
    if hash.is_empty() {
        return Err(RpcError::PhoneCodeHashEmpty);
    }
    if hash != phone_code_hash(server, &phone) {
        return Err(RpcError::PhoneCodeExpired { phone });
    }
    Ok(phone)
}

/// `auth.sendCode` and `auth.resendCode`.
pub fn send_code(
    server: &Server,
    method: &str,
    fields: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let phone = if method == "auth.resendCode" {
        phone_with_hash(server, fields)?
    } else {
        normalize_phone(text(fields, "phone_number"))?
    };
    Ok(json!({
        "_": "auth.sentCode",
        "type": {"_": "auth.sentCodeTypeApp", "length": 5},
        "phone_code_hash": phone_code_hash(server, &phone),
    }))
}

/// `auth.signIn` (creating the account of a new number) and `auth.signUp`.
pub fn sign_in(
    server: &Server,
    method: &str,
    fields: &Map<String, Value>,
    client: Option<&InitConnection>,
    current: Option<Arc<DeviceRecord>>,
) -> Result<Reply, RpcError> {
    let phone = phone_with_hash(server, fields)?;
    let names = if method == "auth.signUp" {
        if server.directory.user_by_phone(&phone).is_some() {
            return Err(RpcError::PhoneNumberOccupied { phone });
        }
        let first = text(fields, "first_name").trim();
        if first.is_empty() || first.chars().count() > 64 {
            return Err(RpcError::FirstnameInvalid);
        }
        (
            first.to_owned(),
            text(fields, "last_name").trim().to_owned(),
        )
    } else {
        let code = fields.get("phone_code").and_then(Value::as_str);
        match code {
            None | Some("") => return Err(RpcError::PhoneCodeEmpty),
            Some(code) if code != code_for(&phone) => {
                return Err(RpcError::PhoneCodeInvalid { phone })
            }
            Some(_) => ("User".to_owned(), phone[phone.len() - 4..].to_owned()),
        }
    };
    let fresh = server.fresh();
    let user = match server.directory.user_by_phone(&phone) {
        Some(user) => user,
        None => server
            .directory
            .user_for_phone(&phone, (&names.0, &names.1), fresh.user_id),
    };
    let device = match current.filter(|device| device.user_id == user.id) {
        // Signing in again on a key that is this user's device already.
        Some(device) => device,
        None => new_device(server, &user, client, fresh.device_id)?,
    };
    server.events.record(
        server.now(),
        LogEvent::SignedIn {
            user_id: user.id,
            device: device.id,
            username: user.username.clone(),
            device_name: device.name.clone(),
        },
    );
    tracing::info!(user_id = user.id, %phone, device = %device.name, "mtproto: signed in");
    let result = json!({
        "_": "auth.authorization",
        "user": user_json(server, user.id, &user),
    });
    Ok(Reply::SignedIn(device, result))
}

fn new_device(
    server: &Server,
    user: &User,
    client: Option<&InitConnection>,
    device_id: i64,
) -> Result<Arc<DeviceRecord>, RpcError> {
    let model: String = client
        .map(|init| init.device_model.as_str())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(24)
        .collect();
    let model = if model.is_empty() { "mtproto" } else { &model };
    let name = format!("{model}_{:04x}", device_id & 0xffff);
    server.directory.add_device(
        user.id,
        &name,
        server.limits.max_devices_per_user,
        device_id,
    )
}

/// `auth.logOut`: the device is ended as the HTTP door's `auth.logOut` ends one.
pub fn log_out(server: &Server, device: &DeviceRecord) -> Reply {
    server.log_out(device);
    tracing::info!(device = device.id.0, "mtproto: logged out");
    Reply::LoggedOut(json!({"_": "auth.loggedOut"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_phones_get_their_dc_digit_five_times_and_others_the_default() {
        assert_eq!(code_for("9996621234"), "22222");
        assert_eq!(code_for("9996631234"), "33333");
        assert_eq!(code_for("15551234567"), DEFAULT_CODE);
        assert_eq!(
            code_for("99966212345"),
            DEFAULT_CODE,
            "eleven digits is not the test range"
        );
    }

    #[test]
    fn phones_are_read_as_digits_and_anything_else_is_refused() {
        assert_eq!(normalize_phone("+999 662-1234").unwrap(), "9996621234");
        for bad in ["", "12345", "+1 555 abc 4567", "1234567890123456"] {
            assert!(normalize_phone(bad).is_err(), "{bad:?}");
        }
    }
}
