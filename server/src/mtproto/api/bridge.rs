//! # The bridge: the HTTP door's methods, called through the MTProto door
//!
//! Every secret-chat method — `messages.getDhConfig` … `upload.getFile`, `updates.getState`,
//! `updates.getDifference` — has exactly one implementation, the transport-free `apply` in
//! `crate::methods`. The bridge hands it the call's fields in the JSON form both doors share
//! ([`crate::methods::apply_json`]) and returns the answer the same way, for
//! [`super::layers::encode`] to type at the caller's layer. Every one of these constructors
//! is the same at layers 158 and 229 (except `updates.getDifference`'s request, whose two
//! forms read into the same fields), and the bridge test checks that each answer encodes
//! at both.
//!
//! Around the call, what the HTTP door's answer hook does (`crate::methods::answer_hook`):
//! an `error` fault rule may answer instead, and a hostile mode may rewrite a successful
//! answer (bad DH parameters, the man in the middle's g_a, a forged file) — so fault rules
//! and hostile modes reach MTProto clients exactly as they reach HTTP ones.

use serde_json::{Map, Value};

use secretchat_common::tl::api::functions;

use crate::device::DeviceRecord;
use crate::error::RpcError;
use crate::extract::parse_call;
use crate::methods::{self, updates_get_difference};
use crate::state::Server;

/// Runs `method` if it is one of the HTTP door's device methods.
pub fn call(
    server: &Server,
    device: &DeviceRecord,
    method: &str,
    fields: Map<String, Value>,
) -> Option<Result<Value, RpcError>> {
    if !is_bridged(method) {
        return None;
    }
    let armed = server.faults.is_armed();
    if armed {
        if let Some(error) = server.faults.before_call(server, Some(device), method) {
            return Some(Err(error));
        }
    }
    let rewrite = armed && server.faults.rewrites_answer(method);
    let request = rewrite.then(|| Value::Object(fields.clone()));
    let answer = if method == "updates.getDifference" {
        parse_call::<functions::UpdatesGetDifference>(fields).and_then(|call| {
            updates_get_difference::apply(server, device, &call).map(|answer| answer.to_json())
        })
    } else {
        methods::apply_json(server, device, method, fields)?
    };
    Some(answer.map(|mut answer| {
        if let Some(request) = &request {
            server
                .faults
                .rewrite_answer(server, Some(device), method, request, &mut answer);
        }
        answer
    }))
}

/// Whether `method` goes to the HTTP door's implementation.
pub fn is_bridged(method: &str) -> bool {
    method == "updates.getDifference" || methods::device_method_names().any(|name| name == method)
}
