//! `updates.getState` → `updates.state{pts, qts, date, seq, unread_count}` (SPEC §7): the
//! device's counters as they stand (`seq` and `unread_count` are always 0 in the mock).
//! Expired updates are dropped first.

use axum::extract::State;
use axum::response::Response;
use secretchat_common::tl::api::{enums, functions, types};

use super::{answer, Call, Caller, MethodDoc, Tag};
use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::state::{AppState, Server};
use crate::update_queue::QueueState;

/// This method in the OpenAPI document.
pub const DOC: MethodDoc = MethodDoc {
    tag: Tag::Updates,
    summary: "Gets this device's update counters (pts, qts, date).",
    errors: &[],
    example: r#"{}"#,
};

pub async fn handle(
    State(server): State<AppState>,
    caller: Caller,
    Call(call): Call<functions::UpdatesGetState>,
) -> Result<Response, RpcError> {
    Ok(answer(&apply(&server, &caller, call)?))
}

pub fn apply(
    server: &Server,
    device: &DeviceRecord,
    _: functions::UpdatesGetState,
) -> Result<enums::UpdatesState, RpcError> {
    let now = server.now();
    device.mailbox.expire(now);
    let state = device.mailbox.queue().state();
    Ok(state_view(state, now))
}

/// `updates.state` for a queue state.
pub fn state_view(state: QueueState, date: i32) -> enums::UpdatesState {
    enums::UpdatesState::UpdatesState(types::UpdatesState {
        pts: state.pts,
        qts: state.qts,
        date,
        seq: 0,
        unread_count: 0,
    })
}
