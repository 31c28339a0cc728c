//! # `auth.bindTempAuthKey`: a temporary key speaks for a permanent one
//!
//! Perfect forward secrecy for the connection itself (core.telegram.org/mtproto/auth_key,
//! "Perfect Forward Secrecy"): tdlib keeps its permanent key only to sign a binding, and
//! talks under temporary keys it replaces every day. The call arrives under the temporary
//! key with a binding message encrypted (MTProto 1.0) under the permanent key
//! ([`secretchat_mtproto::message::binding`]); once it checks out, the temporary key is the
//! permanent key's device until it expires: whatever the permanent key signed in as, the
//! temporary key is too.
//!
//! Checked, as the method's page lists: the permanent key exists and is permanent, the
//! message opens under it, its msg_id is the call's, and `bind_auth_key_inner` repeats the
//! call's `nonce`, `perm_auth_key_id` and `expires_at` and names this temporary key and the
//! session the call came in. Any mismatch is `400 ENCRYPTED_MESSAGE_INVALID`.

use secretchat_common::tl::{TlRead, TlWrite};
use secretchat_mtproto::api::layer229::Function;
use secretchat_mtproto::auth_key::AuthKeyId;
use secretchat_mtproto::handshake::AuthKeyKind;
use secretchat_mtproto::message::binding;

use super::auth_keys::{AuthKeyRecord, KeyState};
use crate::error::RpcError;
use crate::state::Server;

/// `auth.bindTempAuthKey#cdd42a05` (the same at every layer the door serves).
pub const BIND_TEMP_AUTH_KEY_ID: u32 = 0xcdd42a05;

/// Runs the call `msg_id` of `session_id`, sent under `temp`; answers `boolTrue`.
pub fn bind(
    server: &Server,
    temp: &AuthKeyRecord,
    state: &mut KeyState,
    session_id: i64,
    msg_id: i64,
    query: &[u8],
) -> Result<Vec<u8>, RpcError> {
    let Ok(Function::AuthBindTempAuthKey(call)) = Function::from_bytes(query) else {
        return Err(RpcError::bad_request(
            "auth.bindTempAuthKey does not decode",
        ));
    };
    if temp.kind == AuthKeyKind::Permanent {
        return Err(RpcError::TempAuthKeyEmpty);
    }
    if state.bound_to.is_some() {
        return Err(RpcError::TempAuthKeyAlreadyBound);
    }
    let invalid = |detail: String| RpcError::EncryptedMessageInvalid { detail };
    let perm_id = AuthKeyId::from_i64(call.perm_auth_key_id);
    let perm = server
        .mtproto
        .keys
        .get(perm_id)
        .filter(|perm| perm.kind == AuthKeyKind::Permanent)
        .ok_or_else(|| invalid(format!("no permanent auth key {perm_id}")))?;
    let opened = binding::open(&perm.key, &call.encrypted_message)
        .map_err(|error| invalid(error.to_string()))?;
    let inner = &opened.inner;
    let mismatches = [
        (opened.msg_id != msg_id, "msg_id is not the call's"),
        (inner.nonce != call.nonce, "nonce differs from the call's"),
        (
            inner.perm_auth_key_id != call.perm_auth_key_id,
            "perm_auth_key_id differs from the call's",
        ),
        (
            inner.expires_at != call.expires_at,
            "expires_at differs from the call's",
        ),
        (
            inner.temp_auth_key_id != temp.id().as_i64(),
            "temp_auth_key_id is not the key the call came under",
        ),
        (
            inner.temp_session_id != session_id,
            "temp_session_id is not the call's session",
        ),
    ];
    if let Some((_, what)) = mismatches.iter().find(|(wrong, _)| *wrong) {
        return Err(invalid(format!("bind_auth_key_inner: {what}")));
    }
    state.bound_to = Some(perm_id);
    tracing::info!(temp = %temp.id(), perm = %perm_id, "mtproto: temporary key bound");
    Ok(true.to_bytes())
}

/// The key whose sign-in a call under `record` uses: the permanent key a temporary one is
/// bound to, else the key itself.
pub fn authorization_key(
    server: &Server,
    state: &KeyState,
) -> Option<std::sync::Arc<AuthKeyRecord>> {
    state
        .bound_to
        .and_then(|perm| server.mtproto.keys.get(perm))
}
