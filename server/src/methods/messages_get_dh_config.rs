//! `messages.getDhConfig(version, random_length)` → `messages.DhConfig` (SPEC §1.1, §9.1).
//!
//! Answers `messages.dhConfig{g, p, version, random}`, or `messages.dhConfigNotModified
//! {random}` when the client already has `version`. `random` has exactly `random_length`
//! bytes (0..=`--max-random-length`, else `RANDOM_LENGTH_INVALID`). The prime and g are
//! Telegram's unless configured (`--dh-prime`, `--dh-g`), and were checked at start.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::SecretChats,
    summary: "Gets the Diffie-Hellman parameters (p, g) and random bytes for a key exchange.",
    errors: &[&[ErrorKind::RandomLengthInvalid]],
    example: r#"{"version":0,"random_length":256}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::MessagesGetDhConfig>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    _: &DeviceRecord,
    call: functions::MessagesGetDhConfig,
) -> Result<enums::MessagesDhConfig, RpcError> {
    let max = server.limits.max_random_length;
    let len = usize::try_from(call.random_length)
        .ok()
        .filter(|len| *len <= max)
        .ok_or(RpcError::RandomLengthInvalid {
            got: call.random_length,
            max,
        })?;
    let random = server.random_bytes(len);
    if call.version == server.dh.version {
        return Ok(enums::MessagesDhConfig::MessagesDhConfigNotModified(
            types::MessagesDhConfigNotModified { random },
        ));
    }
    Ok(enums::MessagesDhConfig::MessagesDhConfig(
        types::MessagesDhConfig {
            g: server.dh.config.g(),
            p: server.dh.config.p_bytes().to_vec(),
            version: server.dh.version,
            random,
        },
    ))
}
