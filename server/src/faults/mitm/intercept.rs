//! # The man in the middle on the delivery path
//!
//! What each delivery of an intercepted chat becomes ([`super::Mitm`] holds the keys):
//!
//! * `updateEncryption{encryptedChatRequested}` to B — interception starts: A's g_a is
//!   kept and B is shown the server's g_a';
//! * `updateEncryption{encryptedChat}` to A — B's g_b gives the server its key with B; A is
//!   shown g_b' and the fingerprint of the server's key with A;
//! * `updateEncryption{encryptedChat}` to B's side — it carries g_a', as B's own answer
//!   to `messages.acceptEncryption` does ([`crate::faults::answers`]);
//! * every message — opened with the key its sender used, sealed again with the
//!   receiver's key of the same pair ([`Mitm::reencrypt`]); what cannot be opened goes by
//!   unchanged, and the failure is logged.
//!
//! Every substitution is logged as a `hostile` event with the keys as they stand.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use secretchat_common::tl::api::enums;
use serde_json::{json, Value};

use super::{Direction, Mitm};
use crate::delivery::Delivery;
use crate::device::DeviceRecord;
use crate::faults::hostile::HostileSpec;
use crate::faults::installed::Installed;
use crate::faults::{message_bytes, with_bytes, FaultContext};

/// What one delivery of an intercepted chat becomes (`mitm` holds the state of every
/// intercepted chat; `mode` is the chat's `mitm` mode).
pub fn intercept(
    ctx: &dyn FaultContext,
    mitm: &mut HashMap<i32, Mitm>,
    mode: &mut Installed<HostileSpec>,
    to: &DeviceRecord,
    chat_id: i32,
    delivery: Delivery,
) -> Delivery {
    let now = ctx.now();
    let config = ctx.dh();
    let note = |mode: &Installed<HostileSpec>, detail: Value| {
        mode.log(ctx, now, Some(to.id), Some(chat_id), detail);
    };
    match delivery {
        Delivery::Other(enums::Update::UpdateEncryption(mut update)) => {
            match &mut update.chat {
                // A's g_a on its way to B: start intercepting, show B the server's g_a'.
                enums::EncryptedChat::EncryptedChatRequested(requested) => {
                    if let Entry::Vacant(slot) = mitm.entry(chat_id) {
                        let admin_id = requested.admin_id;
                        match Mitm::start(config, admin_id, &requested.g_a, &mut mode.rng) {
                            Ok(state) => {
                                slot.insert(state);
                            }
                            Err(err) => note(
                                mode,
                                json!({"detail": format!("cannot intercept: A's g_a fails the checks: {err}")}),
                            ),
                        }
                    }
                    if let Some(state) = mitm.get(&chat_id) {
                        requested.g_a = state.g_a_forged.clone();
                        mode.applied += 1;
                        note(
                            mode,
                            json!({"detail": "B is shown the server's g_a' instead of A's g_a"}),
                        );
                    }
                }
                // B's g_b on its way to A: the key with B, then show A g_b' and key_A's
                // fingerprint.
                enums::EncryptedChat::EncryptedChat(accepted)
                    if to.user_id == accepted.admin_id =>
                {
                    let Some(state) = mitm.get_mut(&chat_id) else {
                        return Delivery::Other(enums::Update::UpdateEncryption(update));
                    };
                    let g_b = &accepted.g_a_or_b;
                    match state.participant_accepted(config, g_b, accepted.key_fingerprint) {
                        Ok(matches) => {
                            accepted.g_a_or_b = state.g_b_forged.clone();
                            let key_a = state.first_key_with_admin.fingerprint();
                            accepted.key_fingerprint = key_a.as_i64();
                            mode.applied += 1;
                            let mut detail = state.to_json(chat_id);
                            detail["detail"] = json!(
                                "A is shown the server's g_b' and the fingerprint of key_A; \
                                 the server now holds a key with each side"
                            );
                            detail["participant_fingerprint_matches_key_with_participant"] =
                                json!(matches);
                            note(mode, detail);
                        }
                        Err(err) => note(
                            mode,
                            json!({"detail": format!("cannot intercept: B's g_b fails the checks: {err}")}),
                        ),
                    }
                }
                enums::EncryptedChat::EncryptedChat(accepted) => {
                    if let Some(state) = mitm.get(&chat_id) {
                        accepted.g_a_or_b = state.g_a_forged.clone();
                    }
                }
                _ => {}
            }
            Delivery::Other(enums::Update::UpdateEncryption(update))
        }
        // Every message: open with the sender's key, seal with the receiver's.
        Delivery::Message(message) => {
            let Some(state) = mitm.get_mut(&chat_id) else {
                return Delivery::Message(message);
            };
            let direction = if to.user_id == state.admin_id {
                Direction::ToAdmin
            } else {
                Direction::ToParticipant
            };
            let wire = message_bytes(&message);
            match state.reencrypt(config, direction, wire, &mut mode.rng) {
                Ok(relayed) => {
                    mode.applied += 1;
                    if let Some(mut detail) = relayed.note {
                        // The keys as they stand after this action, next to what it did.
                        detail["keys"] = state.to_json(chat_id);
                        note(mode, detail);
                    }
                    with_bytes(&Delivery::Message(message), |bytes| *bytes = relayed.wire)
                }
                Err(why) => {
                    state.forwarded_unopened += 1;
                    note(
                        mode,
                        json!({"detail": format!("forwarded unchanged: {why}")}),
                    );
                    Delivery::Message(message)
                }
            }
        }
        other => other,
    }
}
