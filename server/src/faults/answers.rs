//! # Answer rewriting: hostile modes that change what a call answers
//!
//! After a method ran, the HTTP door's answer hook (`crate::methods::answer_hook`) hands
//! its successful answer, as JSON, to [`Engine::rewrite_answer`]:
//!
//! | method | mode | the answer becomes |
//! |---|---|---|
//! | `messages.getDhConfig` | `bad_dh` for the calling device | the bad `(p, g)`, under a `version` the client cannot have cached |
//! | `messages.requestEncryption` | `next_chat_of` the caller | unchanged; the mode is bound to the new chat |
//! | `messages.acceptEncryption` | `mitm`, `degenerate_g_a` on the chat | `encryptedChat` with the g_a B was shown (g_a', or the degenerate value) |
//! | `upload.getFile` | `swap_file`, `truncate_file` on the chat the file was sent in | the other file's bytes of the same range, or the range cut short |
//!
//! [`Engine::rewrites_answer`] tells the hook beforehand whether it needs to keep the body.

use serde_json::{json, Value};

use super::engine::Engine;
use super::hostile::{bad_dh_params, Mode};
use super::rule::DeviceMatcher;
use super::FaultContext;
use crate::device::DeviceRecord;

fn device_matches(matcher: &DeviceMatcher, ctx: &dyn FaultContext, device: &DeviceRecord) -> bool {
    match matcher {
        DeviceMatcher::Id { id } => id.parse::<i64>() == Ok(device.id.0),
        DeviceMatcher::Names { user, device: name } => {
            *name == device.name && ctx.username(device.user_id).is_some_and(|u| u == *user)
        }
    }
}

impl Engine {
    /// Whether the answer to `method` may be rewritten by an installed mode.
    pub fn rewrites_answer(&self, method: &str) -> bool {
        let engine = self;
        match method {
            "messages.getDhConfig" => engine
                .hostile
                .iter()
                .any(|h| matches!(h.spec.mode, Mode::BadDh { .. })),
            "messages.acceptEncryption" | "messages.requestEncryption" => {
                !engine.hostile.is_empty()
            }
            "upload.getFile" => engine.hostile.iter().any(|h| {
                matches!(
                    h.spec.mode,
                    Mode::SwapFile { .. } | Mode::TruncateFile { .. }
                )
            }),
            _ => false,
        }
    }

    /// The answer hook's second half: hostile modes rewrite a successful answer (as JSON).
    /// `request` is the call's body (for `upload.getFile`'s location and range).
    pub fn rewrite_answer(
        &mut self,
        ctx: &dyn FaultContext,
        device: Option<&DeviceRecord>,
        method: &str,
        request: &Value,
        answer: &mut Value,
    ) {
        let engine = self;
        let now = ctx.now();
        let device_id = device.map(|d| d.id);
        match method {
            "messages.getDhConfig" => {
                let Some(device) = device else { return };
                let Some(mode) = engine.hostile.iter_mut().find(|h| {
                    matches!(h.spec.mode, Mode::BadDh { .. })
                        && h.spec
                            .device
                            .as_ref()
                            .is_some_and(|m| device_matches(m, ctx, device))
                }) else {
                    return;
                };
                let Mode::BadDh { params } = mode.spec.mode else {
                    return;
                };
                let (p, g) = bad_dh_params(params);
                let random = answer.get("random").cloned().unwrap_or(json!(""));
                *answer = json!({
                    "_": "messages.dhConfig",
                    "g": g,
                    "p": base64_encode(&p),
                    // A version the client cannot have cached, so it takes these values.
                    "version": ctx.dh_version().wrapping_add(1_000_000),
                    "random": random,
                });
                mode.applied += 1;
                let hostile = &*mode;
                hostile.log(ctx, now, device_id, None,
                    json!({"detail": format!("served {params:?}: g = {g}, p of {} bytes", p.len())}));
            }
            "messages.requestEncryption" => {
                let chat_id = answer["id"].as_i64().and_then(|id| i32::try_from(id).ok());
                let admin_id = answer["admin_id"].as_str().and_then(|id| id.parse().ok());
                if let (Some(chat_id), Some(admin_id)) = (chat_id, admin_id) {
                    engine.bind_next_chat(ctx, chat_id, admin_id);
                }
            }
            "messages.acceptEncryption" => {
                let Some(chat_id) = answer["id"].as_i64().and_then(|id| i32::try_from(id).ok())
                else {
                    return;
                };
                let forged = engine
                    .mitm
                    .get(&chat_id)
                    .map(|m| m.g_a_forged.clone())
                    .or_else(|| {
                        engine.hostile.iter().find_map(|h| match &h.spec.mode {
                            Mode::DegenerateGA { value } if h.chat() == Some(chat_id) => {
                                Some(value.value(ctx.dh()))
                            }
                            _ => None,
                        })
                    });
                if let Some(forged) = forged {
                    answer["g_a_or_b"] = json!(base64_encode(&forged));
                }
            }
            "upload.getFile" => {
                let location = &request["location"];
                let Some(file_id) = location["id"]
                    .as_str()
                    .and_then(|id| id.parse::<i64>().ok())
                else {
                    return;
                };
                let Some(chat_id) = engine.file_chats.get(&file_id).copied() else {
                    return;
                };
                let Some(mode) = engine.hostile.iter_mut().find(|h| {
                    h.chat() == Some(chat_id)
                        && matches!(
                            h.spec.mode,
                            Mode::SwapFile { .. } | Mode::TruncateFile { .. }
                        )
                }) else {
                    return;
                };
                let Some(bytes) = answer["bytes"].as_str().and_then(base64_decode) else {
                    return;
                };
                let replaced = match &mode.spec.mode {
                    Mode::TruncateFile { bytes: cut } => {
                        let keep = bytes
                            .len()
                            .saturating_sub(usize::try_from(*cut).unwrap_or(usize::MAX));
                        bytes[..keep].to_vec()
                    }
                    Mode::SwapFile { with_file_id } => {
                        let other = with_file_id.parse::<i64>().ok().and_then(|id| ctx.file(id));
                        let offset = request["offset"]
                            .as_str()
                            .and_then(|o| o.parse::<i64>().ok())
                            .unwrap_or(0);
                        let limit = request["limit"]
                            .as_i64()
                            .and_then(|l| i32::try_from(l).ok())
                            .unwrap_or(0);
                        match other.map(|f| f.range(offset, limit)) {
                            Some(Ok(range)) => range.to_vec(),
                            _ => {
                                mode.log(ctx, now, device_id, Some(chat_id),
                                    json!({"detail": format!("swap_file: file {with_file_id} is not stored or has no such range; served unchanged")}));
                                return;
                            }
                        }
                    }
                    _ => return,
                };
                let detail = format!(
                    "file {file_id}: served {} bytes instead of {}",
                    replaced.len(),
                    bytes.len()
                );
                answer["bytes"] = json!(base64_encode(&replaced));
                mode.applied += 1;
                let hostile = &*mode;
                hostile.log(
                    ctx,
                    now,
                    device_id,
                    Some(chat_id),
                    json!({"detail": detail}),
                );
            }
            _ => {}
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}
