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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mtproto::api::layers::{self, Layer};

    const HTTP_SCHEMA: &str = include_str!("../../../../common/tl/api_subset.tl");
    const L229: &str = include_str!("../../../../mtproto/tl/api_telethon_L229.tl");
    const L158: &str = include_str!("../../../../mtproto/tl/api_pyrogram_L158.tl");

    /// The line declaring `name` (a method or constructor), without its comment.
    fn line<'a>(schema: &'a str, name: &str) -> Option<&'a str> {
        schema
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default().trim())
            .find(|line| line.starts_with(&format!("{name}#")))
    }

    /// Every bridged method, and every constructor its request or answer can hold.
    fn bridged_names() -> Vec<&'static str> {
        let mut names: Vec<&str> = methods::device_method_names().collect();
        names.extend([
            "inputEncryptedChat",
            "inputUser",
            "inputUserSelf",
            "inputEncryptedFileEmpty",
            "inputEncryptedFileUploaded",
            "inputEncryptedFile",
            "inputEncryptedFileBigUploaded",
            "inputEncryptedFileLocation",
            "encryptedChatEmpty",
            "encryptedChatWaiting",
            "encryptedChatRequested",
            "encryptedChat",
            "encryptedChatDiscarded",
            "encryptedMessage",
            "encryptedMessageService",
            "encryptedFileEmpty",
            "encryptedFile",
            "messages.dhConfigNotModified",
            "messages.dhConfig",
            "messages.sentEncryptedMessage",
            "messages.sentEncryptedFile",
            "updateNewEncryptedMessage",
            "updateEncryptedChatTyping",
            "updateEncryption",
            "updateEncryptedMessagesRead",
            "updates",
            "updatesTooLong",
            "updates.state",
            "updates.differenceEmpty",
            "updates.difference",
            "updates.differenceSlice",
            "upload.file",
            "storage.fileUnknown",
            "storage.filePartial",
        ]);
        names
    }

    #[test]
    fn every_bridged_method_and_constructor_is_declared_alike_at_both_layers() {
        for name in bridged_names() {
            let http =
                line(HTTP_SCHEMA, name).unwrap_or_else(|| panic!("{name} not in api_subset.tl"));
            for (layer, schema) in [("229", L229), ("158", L158)] {
                let theirs =
                    line(schema, name).unwrap_or_else(|| panic!("{name} not at layer {layer}"));
                assert_eq!(theirs, http, "{name} differs at layer {layer}");
            }
        }
    }

    #[test]
    fn get_difference_reads_into_the_http_doors_fields_at_both_layers() {
        // 229's form is the HTTP door's; 158's lacks the two optional limits.
        assert_eq!(
            line(L229, "updates.getDifference"),
            line(HTTP_SCHEMA, "updates.getDifference")
        );
        let old = line(L158, "updates.getDifference").unwrap();
        assert_eq!(
            old,
            "updates.getDifference#25939651 flags:# pts:int pts_total_limit:flags.0?int date:int qts:int = updates.Difference;"
        );
    }

    #[test]
    fn every_bridged_method_has_a_result_type_at_both_layers() {
        for layer in [Layer::L229, Layer::L158] {
            for method in methods::device_method_names().chain(["updates.getDifference"]) {
                if let Err(reason) = layers::encode(layer, method, &Value::Null) {
                    assert!(!reason.starts_with("no result type"), "{method}: {reason}");
                }
            }
        }
    }
}
