//! Two peers per profile difference: the same hostile action against a chat of each
//! profile, and the two outcomes its client's source shows (rows of `docs/profiles.md`).

mod chat_support;

use chat_support::{config, current_key, Pair};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::hostile::HostileAction;
use secretchat_common::chat::{
    AbortReason, ChatConfig, ChatError, ChatEvent, IgnoreReason, Layer, Profile, SecretChat,
};
use secretchat_common::envelope::{self, Version};
use secretchat_common::seq_no::{RawSeqNo, SeqField};
use secretchat_common::tl::e2e::{enums, types};
use secretchat_common::tl::TlWrite;
use secretchat_common::Side;

fn with_profile(profile: Profile) -> ChatConfig {
    ChatConfig {
        profile,
        explain: true,
        ..config(144)
    }
}

/// A pair at layer 144 whose receiver (B) follows `profile`, NotifyLayers exchanged.
fn pair(profile: Profile, seed: u64) -> Pair {
    let mut pair = Pair::new(config(144), with_profile(profile), seed);
    pair.drive();
    assert_eq!(pair.b.layers().common(), Layer(144));
    pair
}

fn abort_of(events: &[ChatEvent]) -> Option<&AbortReason> {
    events.iter().find_map(|event| match event {
        ChatEvent::Aborted { reason } => Some(reason),
        _ => None,
    })
}

fn ignored(events: &[ChatEvent]) -> Vec<&IgnoreReason> {
    events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::Ignored { reason } => Some(reason),
            _ => None,
        })
        .collect()
}

/// The explain lines B recorded that a profile decided.
fn profile_lines(chat: &mut SecretChat) -> Vec<String> {
    std::iter::from_fn(|| chat.poll_step())
        .filter(|step| step.kind == "profile")
        .map(|step| step.detail)
        .collect()
}

/// What telethon-secret-chat 0.2.4 sends first (`secret_methods.py`): `notify_layer`
/// builds `DecryptedMessageService8(action=DecryptedMessageActionNotifyLayer(layer=101),
/// random_bytes=os.urandom(15..23))`, `encrypt_secret_message` wraps it in
/// `DecryptedMessageLayer(layer=101, …)` and, with `peer.mtproto == 1` (its default),
/// seals it with MTProto 1.0 (`message_key = sha1(message).digest()[-16:]`).
fn telethon_notify_layer(sender: &SecretChat, out_raw: u32) -> Vec<u8> {
    let random_bytes = vec![7u8; 19];
    let message: enums::DecryptedMessage = types::DecryptedMessageService8 {
        random_id: 0x7e1e_7407,
        random_bytes: random_bytes.clone(),
        action: types::DecryptedMessageActionNotifyLayer { layer: 101 }.into(),
    }
    .into();
    let tl = types::DecryptedMessageLayer {
        random_bytes,
        layer: 101,
        in_seq_no: RawSeqNo(0).to_wire(SeqField::In, sender.side()).unwrap().0,
        out_seq_no: RawSeqNo(out_raw)
            .to_wire(SeqField::Out, sender.side())
            .unwrap()
            .0,
        message,
    }
    .to_bytes();
    let mut rng = ChaCha20Rng::seed_from_u64(101);
    envelope::seal(
        &current_key(sender),
        Version::V1,
        sender.side(),
        &tl,
        &mut rng,
    )
    .unwrap()
}

/// A fresh pair whose B follows `profile` and has processed nothing yet.
fn fresh_pair(profile: Profile) -> Pair {
    Pair::new(config(144), with_profile(profile), 5)
}

/// E1/E2 — Telegram Android SecretChatHelper.java `decryptMessage`: v2 first, v1 while
/// `mtproto_seq == 0`, no layer rule; tdlib SecretChatActor.cpp
/// `do_inbound_message_encrypted` l.853: "MTProto 1.0 encryption is forbidden for this
/// layer" (fatal).
#[test]
fn telethon_secret_chats_mtproto_1_notify_layer_at_layer_101_keeps_an_android_chat() {
    let mut pair = fresh_pair(Profile::Android);
    let data = telethon_notify_layer(&pair.a, 0);
    let now = pair.now;
    pair.b
        .handle_encrypted(now, &data, &mut pair.rng_b)
        .unwrap();
    pair.collect();
    assert!(pair.b.is_established());
    assert!(abort_of(&pair.events_b).is_none());
    assert_eq!(pair.b.layers().remote(), Layer(101));
    let lines = profile_lines(&mut pair.b);
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("android: MTProto 2.0 failed, tried 1.0")),
        "{lines:?}"
    );
    // The chat goes on: the first message processed in order was MTProto 1.0, so Android
    // keeps trying 1.0 (`mtproto_seq` stays 0) and telethon's next message is processed.
    let next = telethon_notify_layer(&pair.a, 1);
    pair.b
        .handle_encrypted(now, &next, &mut pair.rng_b)
        .unwrap();
    pair.collect();
    assert!(pair.b.is_established());
    assert!(abort_of(&pair.events_b).is_none(), "{:?}", pair.events_b);
}

#[test]
fn telethon_secret_chats_mtproto_1_notify_layer_at_layer_101_aborts_a_tdlib_chat_naming_android() {
    for profile in [Profile::Tdlib, Profile::Spec] {
        let mut pair = fresh_pair(profile);
        let data = telethon_notify_layer(&pair.a, 0);
        let now = pair.now;
        let error = pair
            .b
            .handle_encrypted(now, &data, &mut pair.rng_b)
            .unwrap_err();
        let ChatError::Aborted { reason } = error else {
            panic!("{profile}: expected an abort, got {error:?}");
        };
        assert!(
            reason.contains("MTProto 1.0 is forbidden at layer 101"),
            "{reason}"
        );
        assert!(
            reason.contains("Telegram Android (--profile android) accepts it"),
            "{reason}"
        );
    }
}

/// E1 — Telegram Android SecretChatHelper.java `decryptMessage`: once `mtproto_seq != 0`
/// (the first message processed in order was v2) v1 is not tried; the message does not
/// open and is dropped (`return null`). tdlib: fatal at layer ≥ 73.
#[test]
fn mtproto_1_after_mtproto_2_is_dropped_by_android_and_aborts_tdlib() {
    for (profile, aborts) in [(Profile::Tdlib, true), (Profile::Android, false)] {
        let mut pair = pair(profile, 11);
        pair.send_text(Side::Creator, "under MTProto 2.0");
        pair.drive();
        let from = pair.events_b.len();
        let now = pair.now;
        pair.a
            .hostile(now, HostileAction::V1AfterV2, &mut pair.rng_a)
            .unwrap();
        pair.collect();
        pair.drive();
        let events = &pair.events_b[from..];
        if aborts {
            assert!(
                matches!(
                    abort_of(events),
                    Some(AbortReason::MtProto1AtLayer73 { .. })
                ),
                "{events:?}"
            );
        } else {
            assert!(abort_of(events).is_none(), "{events:?}");
            assert!(ignored(events)
                .iter()
                .any(|reason| matches!(reason, IgnoreReason::Undecryptable { .. })));
            assert!(pair.b.is_established());
            let lines = profile_lines(&mut pair.b);
            assert!(
                lines.iter().any(|line| line.contains(
                    "android: MTProto 2.0 failed; 1.0 not tried: the first message processed in order was 2.0"
                )),
                "{lines:?}"
            );
        }
    }
}

/// E4 — tdlib SecretChatActor.cpp `decrypt` → `check_status`: a message under a known key
/// whose msg_key does not match is fatal; Telegram Android SecretChatHelper.java
/// `decryptMessage`: `decryptWithMtProtoVersion` fails → `return null`, the chat stays.
#[test]
fn a_tampered_message_aborts_tdlib_and_is_dropped_by_android_which_then_recovers_it() {
    for (profile, aborts) in [(Profile::Tdlib, true), (Profile::Android, false)] {
        let mut pair = pair(profile, 12);
        let from = pair.events_b.len();
        pair.send_text(Side::Creator, "first");
        let packet = pair.to_b.back_mut().expect("the message is in flight");
        let last = packet.transmit.data.len() - 1;
        packet.transmit.data[last] ^= 0x01;
        pair.drive();
        pair.send_text(Side::Creator, "second");
        pair.drive();
        pair.settle();
        let events = &pair.events_b[from..];
        if aborts {
            assert!(
                matches!(abort_of(events), Some(AbortReason::Undecryptable { .. })),
                "{events:?}"
            );
        } else {
            assert!(abort_of(events).is_none(), "{events:?}");
            assert!(ignored(events)
                .iter()
                .any(|reason| matches!(reason, IgnoreReason::Undecryptable { .. })));
            // The dropped message left a hole; the Resend brought it back.
            assert_eq!(
                pair.texts_received(Side::Participant),
                ["first", "second"],
                "{events:?}"
            );
            let lines = profile_lines(&mut pair.b);
            assert!(
                lines
                    .iter()
                    .any(|line| line
                        .starts_with("android: a message under a key we hold does not open")),
                "{lines:?}"
            );
        }
    }
}

/// A reflected message is a message under a known key that does not open as the peer's:
/// tdlib aborts (E4), Telegram Android drops it (`decryptMessage` → `return null`).
#[test]
fn a_reflected_message_aborts_tdlib_and_is_dropped_by_android() {
    for (profile, aborts) in [(Profile::Tdlib, true), (Profile::Android, false)] {
        let mut pair = pair(profile, 13);
        let from = pair.events_b.len();
        pair.send_text(Side::Participant, "echo?");
        let packet = pair.to_a.back().expect("in flight").clone();
        let now = pair.now;
        let outcome = pair
            .b
            .handle_encrypted(now, &packet.transmit.data, &mut pair.rng_b);
        pair.collect();
        let events = &pair.events_b[from..];
        assert_eq!(outcome.is_err(), aborts, "{profile}: {events:?}");
        if aborts {
            assert_eq!(abort_of(events), Some(&AbortReason::MirroredMessage));
        } else {
            assert!(pair.b.is_established());
        }
    }
}

/// L3 — SPEC §3.4 ("tdlib also aborts if the peer's layer decreases"; tdlib
/// SecretChatActor.cpp `check_seq_no` l.898 "his_layer is not monotonic"): the spec
/// profile aborts; the default keeps the higher layer and shows the message (SPEC §5), as
/// Telegram Android does (`applyPeerLayer` ignores a lower value).
#[test]
fn a_message_at_a_lower_layer_aborts_the_spec_profile_and_is_shown_by_the_others() {
    for (profile, aborts) in [
        (Profile::Tdlib, false),
        (Profile::Android, false),
        (Profile::Spec, true),
    ] {
        let mut pair = pair(profile, 14);
        pair.send_text(Side::Creator, "at 144");
        pair.drive();
        let from = pair.events_b.len();
        let now = pair.now;
        pair.a
            .hostile(now, HostileAction::RegressingLayer, &mut pair.rng_a)
            .unwrap();
        pair.collect();
        pair.drive();
        let events = &pair.events_b[from..];
        if aborts {
            assert!(
                matches!(abort_of(events), Some(AbortReason::LayerDecreased { .. })),
                "{events:?}"
            );
            let lines = profile_lines(&mut pair.b);
            assert!(
                lines.iter().any(|line| line.starts_with("spec: layer ")),
                "{lines:?}"
            );
        } else {
            assert!(abort_of(events).is_none(), "{profile}: {events:?}");
            assert_eq!(pair.b.layers().remote(), Layer(144));
        }
    }
}
