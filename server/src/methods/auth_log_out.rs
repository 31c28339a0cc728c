//! `auth.logOut` → `Bool` — *the mock's invention* (the shape of Telegram's legacy
//! `auth.logOut#5717da40`): the device's token stops working, its queue is deleted, and the
//! secret chats it was a side of are discarded for the other side (its key is gone).

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::functions;

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::state::{AppState, Server};

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Auth,
    summary: "Logs this device out: its token stops working, its queue and uploads are deleted, its secret chats discarded.",
    errors: &[],
    example: r#"{}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::AuthLogOut>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    _: functions::AuthLogOut,
) -> Result<bool, RpcError> {
    server.log_out(device);
    tracing::info!(device_id = device.id.0, "logged out");
    Ok(true)
}
