//! Two peers per profile difference: the same hostile action against a chat of each
//! profile, and the two outcomes its client's source shows (rows of `docs/profiles.md`).

mod chat_support;

use chat_support::{config, current_key, Pair};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::hostile::HostileAction;
use secretchat_common::chat::{
    AbortReason, ChatConfig, ChatError, ChatEvent, DhParams, IgnoreReason, Layer, Profile,
    RequestedChat, SecretChat, UserAction,
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

/// Row L3: a wrapped message at a lower layer than the last (SPEC §3.4; tdlib
/// SecretChatActor.cpp `check_seq_no` l.898 "his_layer is not monotonic", fatal): tdlib and
/// the spec profile abort; Telegram Android keeps the higher layer and shows the message
/// (`applyPeerLayer` ignores a lower value).
#[test]
fn a_message_at_a_lower_layer_aborts_tdlib_and_the_spec_profile_and_is_shown_by_android() {
    for (profile, aborts) in [
        (Profile::Tdlib, true),
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
                lines
                    .iter()
                    .any(|line| line.starts_with(&format!("{profile}: layer "))),
                "{lines:?}"
            );
        } else {
            assert!(abort_of(events).is_none(), "{profile}: {events:?}");
            assert_eq!(pair.b.layers().remote(), Layer(144));
        }
    }
}

/// B's events since `from`, after A performed `action` and everything was delivered.
fn after(pair: &mut Pair, action: HostileAction) -> Vec<ChatEvent> {
    let from = pair.events_b.len();
    let now = pair.now;
    pair.a.hostile(now, action, &mut pair.rng_a).unwrap();
    pair.collect();
    pair.drive();
    pair.events_b[from..].to_vec()
}

fn texts(events: &[ChatEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::MessageReceived { message, .. } => Some(message.text.clone()),
            _ => None,
        })
        .collect()
}

/// The abort a chat of `profile` answers A's `action` with (fails if the chat goes on).
fn abort_after(profile: Profile, seed: u64, action: HostileAction) -> AbortReason {
    let mut pair = pair(profile, seed);
    let events = after(&mut pair, action);
    abort_of(&events)
        .cloned()
        .unwrap_or_else(|| panic!("{profile} did not abort: {events:?}"))
}

/// The chat goes on: a text A sends now is the last message B shows.
fn assert_goes_on(pair: &mut Pair, text: &str) {
    pair.send_text(Side::Creator, text);
    pair.drive();
    assert_eq!(texts(&pair.events_b).last().map(String::as_str), Some(text));
}

/// Row E7: random_bytes of 14 bytes. tdlib has no length check (SecretChatActor.cpp:
/// `random_bytes` appears only in `create_encrypted_message` l.215): the message is shown
/// and uses up its numbers, so the honest message that takes them next is dropped as old.
/// The spec (§2.1) and Telegram Android (`decryptMessage`: `random_bytes.length < 15` →
/// `return null`) ignore it, and the honest one is shown.
#[test]
fn short_random_bytes_are_shown_by_tdlib_and_ignored_by_the_spec_profile() {
    for (profile, shown) in [(Profile::Tdlib, true), (Profile::Spec, false)] {
        let mut pair = pair(profile, 30);
        let mut events = after(&mut pair, HostileAction::ShortRandomBytes);
        pair.send_text(Side::Creator, "honest");
        pair.drive();
        events.extend(pair.events_b.iter().rev().take(4).rev().cloned());
        let shown_texts = texts(&pair.events_b);
        if shown {
            assert!(
                shown_texts.contains(&"short-random-bytes".to_owned()),
                "{shown_texts:?}"
            );
            assert!(
                !shown_texts.contains(&"honest".to_owned()),
                "{shown_texts:?}"
            );
            assert!(profile_lines(&mut pair.b)
                .iter()
                .any(|line| line.starts_with("tdlib: random_bytes of 14 bytes")));
        } else {
            assert!(!shown_texts.contains(&"short-random-bytes".to_owned()));
            assert!(
                shown_texts.contains(&"honest".to_owned()),
                "{shown_texts:?}"
            );
            assert!(ignored(&events)
                .iter()
                .any(|r| matches!(r, IgnoreReason::RandomBytesTooShort { got: 14, .. })));
        }
    }
}

/// Row E9: an inner message with an unknown constructor. tdlib's parser fails on the whole
/// `decryptedMessageLayer` ("Unknown constructor found", code 0: fatal —
/// SecretChatActor.cpp do_inbound_message_encrypted l.840–866); the spec (§5) and Android
/// use up its seq number and ignore it.
#[test]
fn an_unknown_inner_constructor_aborts_tdlib_and_is_ignored_by_the_spec_profile() {
    let reason = abort_after(Profile::Tdlib, 31, HostileAction::UnknownConstructor);
    assert!(
        matches!(&reason, AbortReason::UndecodableInnerMessage { error } if error.contains("0badc0de")),
        "{reason:?}"
    );
    let mut spec = pair(Profile::Spec, 31);
    let events = after(&mut spec, HostileAction::UnknownConstructor);
    assert!(abort_of(&events).is_none(), "{events:?}");
    assert!(ignored(&events)
        .iter()
        .any(|r| matches!(r, IgnoreReason::UndecodableMessage { .. })));
    assert_goes_on(&mut spec, "after");
}

/// A seq number of `field` with the wrong parity, after checking that tdlib refuses it
/// ("Bad seq_no parity", check_seq_no l.881–882, fatal).
fn wrong_parity_that_tdlib_refuses(field: SeqField, seed: u64) -> HostileAction {
    let action = HostileAction::WrongSeqParity { field };
    let reason = abort_after(Profile::Tdlib, seed, action.clone());
    assert!(matches!(reason, AbortReason::SeqNo(_)), "{reason:?}");
    action
}

/// Row S3: an out_seq_no with the receiver's own parity. tdlib: "Bad seq_no parity"
/// (check_seq_no l.882, fatal). Telegram Android checks no parity (`decryptMessage`): the
/// number is above the last one processed, so it is a gap — `sendResendMessage(seq_in + 2,
/// out_seq_no − 2)`, an inverted range — and the message waits for ever; the chat goes on.
#[test]
fn a_wrong_parity_aborts_tdlib_and_is_held_as_a_gap_by_android() {
    let action = wrong_parity_that_tdlib_refuses(SeqField::Out, 32);

    // Only B's side is driven: A, a tdlib chat, would abort on Android's inverted Resend.
    let mut android = pair(Profile::Android, 32);
    let from = android.events_b.len();
    let now = android.now;
    android.a.hostile(now, action, &mut android.rng_a).unwrap();
    android.collect();
    while android.deliver_one_to_b() {}
    let events = android.events_b[from..].to_vec();
    assert!(abort_of(&events).is_none(), "{events:?}");
    let resend = events.iter().find_map(|event| match event {
        ChatEvent::ResendRequested {
            start_seq_no,
            end_seq_no,
        } => Some((start_seq_no.0, end_seq_no.0)),
        _ => None,
    });
    let Some((start, end)) = resend else {
        panic!("no Resend: {events:?}");
    };
    assert!(
        end < start,
        "Android's Resend for a mis-parity number is inverted: {start}..={end}"
    );
    assert!(ignored(&events)
        .iter()
        .any(|r| matches!(r, IgnoreReason::WrongParity { held: true, .. })));
    android.send_text(Side::Creator, "honest");
    while android.deliver_one_to_b() {}
    assert_eq!(
        texts(&android.events_b).last().map(String::as_str),
        Some("honest")
    );
}

/// Row F1: a photo whose key is 31 bytes and IV 16. tdlib shows the message with a file it
/// never downloads (FileEncryptionKey.cpp "Wrong key/iv sizes", Type::None); Telegram
/// Android drops the whole message (`processDecryptedObject`: key/iv length != 32 →
/// `return null`, after the seq update).
#[test]
fn a_media_key_of_the_wrong_length_is_shown_without_a_file_by_tdlib_and_dropped_by_android() {
    let mut tdlib = pair(Profile::Tdlib, 33);
    let events = after(&mut tdlib, HostileAction::MediaWrongKeyLengths);
    assert!(events.iter().any(|event| matches!(event,
        ChatEvent::MessageReceived { message, .. } if message.media.as_ref().is_some_and(|m| m.is_file_with_bad_key()))));

    let mut android = pair(Profile::Android, 33);
    let events = after(&mut android, HostileAction::MediaWrongKeyLengths);
    assert!(!events
        .iter()
        .any(|event| matches!(event, ChatEvent::MessageReceived { .. })));
    assert!(ignored(&events)
        .iter()
        .any(|r| matches!(r, IgnoreReason::MediaKeyLength { .. })));
    // Its seq number was used up: the next message is in order.
    assert_goes_on(&mut android, "next");
}

/// Rows K3–K7: an AcceptKey for an exchange nobody started. tdlib: "AcceptKey: unexpected"
/// (on_inbound_action l.2094, fatal). Telegram Android (`processDecryptedObject`,
/// ActionAcceptKey): the ids differ, so it resets and sends AbortKey for their id; the chat
/// goes on with the old key.
#[test]
fn an_accept_key_nobody_asked_for_aborts_tdlib_and_gets_an_abort_key_from_android() {
    let reason = abort_after(Profile::Tdlib, 34, HostileAction::AcceptKeyUnknownExchange);
    assert!(
        matches!(reason, AbortReason::UnexpectedAcceptKey { .. }),
        "{reason:?}"
    );

    let mut android = pair(Profile::Android, 34);
    let key = current_key(&android.b);
    let events = after(&mut android, HostileAction::AcceptKeyUnknownExchange);
    assert!(abort_of(&events).is_none(), "{events:?}");
    assert!(events
        .iter()
        .any(|event| matches!(event, ChatEvent::RekeyRejected { .. })));
    assert_eq!(current_key(&android.b), key);
    assert_goes_on(&mut android, "still here");
}

/// Row S4: an `in_seq_no` with the wrong parity. tdlib: "Bad seq_no parity" (check_seq_no
/// l.881, fatal). Telegram Android never looks at it (`decryptMessage` stores
/// `chat.in_seq_no = layer.in_seq_no`): the message is shown.
#[test]
fn a_wrong_in_seq_no_parity_aborts_tdlib_and_is_not_checked_by_android() {
    let action = wrong_parity_that_tdlib_refuses(SeqField::In, 35);

    let mut android = pair(Profile::Android, 35);
    let events = after(&mut android, action);
    assert!(abort_of(&events).is_none(), "{events:?}");
    assert_eq!(texts(&events), ["hostile"]);
}

/// Row S8: a Resend that waits behind a gap. tdlib answers it on arrival
/// (do_inbound_message_decrypted_unchecked l.905–960, before the gap check); Telegram
/// Android only when its turn comes (`processDecryptedObject` is reached in order), so it
/// first asks for its own hole and answers once that is filled.
#[test]
fn a_resend_behind_a_gap_is_answered_at_once_by_tdlib_and_in_order_by_android() {
    for profile in [Profile::Tdlib, Profile::Android] {
        let mut pair = pair(profile, 36);
        // B's "b1" to A is lost, and so is A's "lost" to B.
        pair.send_text(Side::Participant, "b1");
        pair.to_a.clear();
        pair.send_text(Side::Creator, "lost");
        pair.to_b.clear();
        pair.send_text(Side::Participant, "b2");
        // A sees b2 behind a gap; its Resend reaches B behind A's lost message.
        while pair.deliver_one_to_a() {}
        let from = pair.events_b.len();
        assert!(pair.deliver_one_to_b(), "{profile}: A's Resend");
        let events = pair.events_b[from..].to_vec();
        let answered = events
            .iter()
            .any(|event| matches!(event, ChatEvent::PeerAskedForResend { .. }));
        let asked = events
            .iter()
            .any(|event| matches!(event, ChatEvent::ResendRequested { .. }));
        assert!(asked, "{profile}: B asks for A's lost message: {events:?}");
        assert_eq!(answered, profile == Profile::Tdlib, "{profile}: {events:?}");
        pair.drive();
        assert_eq!(
            pair.texts_received(Side::Creator),
            ["b1", "b2"],
            "{profile}"
        );
        assert_eq!(
            pair.texts_received(Side::Participant),
            ["lost"],
            "{profile}"
        );
    }
}

/// Rows R1–R5: a Resend for 5000 messages. tdlib: "Can't resend too many messages"
/// (do_inbound_message_decrypted_unchecked l.951, fatal). Telegram Android has no limit
/// (`resendMessages`): what it holds goes out again and every other number as
/// `createDeleteMessage(…, seq, seq + 1, …)`, a message deleting itself. Its own count
/// does not move, so its next message carries a number the peer has processed: dropped.
#[test]
fn a_resend_of_5000_aborts_tdlib_and_android_fills_it_with_messages_deleting_themselves() {
    let reason = abort_after(Profile::Tdlib, 37, HostileAction::ResendTooMany);
    assert!(
        matches!(reason, AbortReason::ResendTooLarge { count: 5000, .. }),
        "{reason:?}"
    );

    // Both sides Android: a tdlib A would abort on the placeholders' in_seq_no (row S4).
    let mut android = Pair::new(
        with_profile(Profile::Android),
        with_profile(Profile::Android),
        37,
    );
    android.drive();
    let a_from = android.events_a.len();
    let events = after(&mut android, HostileAction::ResendTooMany);
    assert!(abort_of(&events).is_none(), "{events:?}");
    let answer = events.iter().find_map(|event| match event {
        ChatEvent::PeerAskedForResend {
            messages,
            placeholders,
            ..
        } => Some((*messages, *placeholders)),
        _ => None,
    });
    assert_eq!(answer, Some((0, 5000)));
    let deleting_themselves = android.events_a[a_from..]
        .iter()
        .filter(|event| {
            matches!(event, ChatEvent::ActionReceived {
                random_id,
                action: UserAction::DeleteMessages { random_ids },
            } if random_ids == &[*random_id])
        })
        .count();
    assert_eq!(deleting_themselves, 5000);
    assert!(profile_lines(&mut android.b).iter().any(
        |line| line.starts_with("android: Resend") && line.contains("5000 delete placeholders")
    ));

    let a_from = android.events_a.len();
    android.send_text(Side::Participant, "after");
    android.drive();
    let events = &android.events_a[a_from..];
    assert!(texts(events).is_empty(), "{events:?}");
    assert!(ignored(events)
        .iter()
        .any(|r| matches!(r, IgnoreReason::Duplicate { .. })));
}

/// Row D2: a g_a of 2^1984 − 1, inside the mandatory range `1 < g_a < p − 1` but below the
/// recommended `2^(2048−64)`. tdlib refuses it (DhHandshake.cpp `dh_check`, fatal →
/// discardEncryption); Telegram Android checks only the mandatory range
/// (Utilities.java `isGoodGaAndGb`, called by `acceptSecretChat`) and accepts the chat.
#[test]
fn a_g_a_below_2_to_the_1984_is_refused_by_tdlib_and_accepted_by_android() {
    let small = (num_bigint::BigUint::from(1u32) << 1984u32) - 1u32;
    let mut g_a = vec![0u8; 256];
    let bytes = small.to_bytes_be();
    g_a[256 - bytes.len()..].copy_from_slice(&bytes);
    for profile in [Profile::Tdlib, Profile::Android] {
        let requested = RequestedChat {
            id: 4242,
            access_hash: 77,
            g_a: g_a.clone(),
        };
        let mut b = SecretChat::from_requested(
            with_profile(profile),
            DhParams::telegram(),
            requested,
            chat_support::START,
        )
        .unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(39);
        let accepted = b.accept(chat_support::START, &[], &mut rng);
        let events: Vec<ChatEvent> = std::iter::from_fn(|| b.poll_event()).collect();
        if profile == Profile::Android {
            assert!(accepted.is_ok(), "{accepted:?}");
            assert!(b.is_established());
        } else {
            assert!(accepted.is_err());
            assert!(
                matches!(
                    abort_of(&events),
                    Some(AbortReason::InvalidPublicValue { .. })
                ),
                "{events:?}"
            );
        }
    }
}

/// Row S5: two holes at once (A's 2nd and 4th messages lost). The tdlib profile asks for
/// each hole as it appears; Telegram Android sends `Resend(seq_in + 2, out_seq_no − 2)`
/// once per start number (`sendResendMessage`, `requestedHoles`), so the second hole,
/// opened while the first is unfilled, is asked for only when a later message arrives.
#[test]
fn a_second_hole_is_asked_for_at_once_by_tdlib_and_only_at_the_next_arrival_by_android() {
    for profile in [Profile::Tdlib, Profile::Android] {
        let mut pair = pair(profile, 38);
        for i in 1..=5 {
            pair.send_text(Side::Creator, &format!("m{i}"));
        }
        assert_eq!(pair.to_b.len(), 5);
        pair.to_b.remove(3);
        pair.to_b.remove(1);
        let from = pair.events_b.len();
        while pair.deliver_one_to_b() {}
        let asked = pair.events_b[from..]
            .iter()
            .filter(|event| matches!(event, ChatEvent::ResendRequested { .. }))
            .count();
        let shown = |pair: &Pair| pair.texts_received(Side::Participant);
        pair.drive();
        if profile == Profile::Tdlib {
            assert_eq!(asked, 2, "{profile}");
            assert_eq!(shown(&pair), ["m1", "m2", "m3", "m4", "m5"]);
        } else {
            assert_eq!(asked, 1, "{profile}");
            assert_eq!(shown(&pair), ["m1", "m2", "m3"]);
            pair.send_text(Side::Creator, "m6");
            pair.drive();
            assert_eq!(shown(&pair), ["m1", "m2", "m3", "m4", "m5", "m6"]);
        }
    }
}

/// Row K1: a chat that only receives. tdlib counts messages both ways and re-keys after
/// more than 100 (`run_pfs` l.577); Telegram Android counts apart — 100 sent, or 120
/// received, looked at as it processes one (`processDecryptedObject`,
/// `key_use_count_in >= 120`). A never starts an exchange here (its policy says 10 000).
#[test]
fn a_chat_that_only_receives_re_keys_after_100_messages_as_tdlib_and_120_as_android() {
    let patient = ChatConfig {
        rekey: secretchat_common::chat::RekeyPolicy {
            after_messages: 10_000,
            ..Default::default()
        },
        ..config(144)
    };
    let started = |pair: &Pair| {
        pair.events_b
            .iter()
            .any(|event| matches!(event, ChatEvent::KeyChanged { .. }))
    };
    for profile in [Profile::Tdlib, Profile::Android] {
        let mut pair = Pair::new(patient, with_profile(profile), 40);
        pair.drive();
        for i in 0..105 {
            pair.send_text(Side::Creator, &format!("m{i}"));
            pair.drive();
        }
        assert_eq!(
            started(&pair),
            profile == Profile::Tdlib,
            "{profile} after 105"
        );
        for i in 105..125 {
            pair.send_text(Side::Creator, &format!("m{i}"));
            pair.drive();
        }
        assert!(started(&pair), "{profile} after 125");
        assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    }
}

/// Row S7: five messages wait behind a lost one. tdlib keeps any number
/// (`pending_inbound_messages_`) and shows them all once the hole is filled; Telegram
/// Android discards the chat when a 5th message would wait (`decryptMessage`,
/// `arr.size() >= 4` → `declineSecretChat`).
#[test]
fn five_messages_behind_a_gap_are_shown_by_tdlib_and_end_an_android_chat() {
    for profile in [Profile::Tdlib, Profile::Android] {
        let mut pair = pair(profile, 41);
        for i in 0..6 {
            pair.send_text(Side::Creator, &format!("m{i}"));
        }
        pair.to_b.pop_front();
        let from = pair.events_b.len();
        pair.drive();
        let events = &pair.events_b[from..];
        if profile == Profile::Tdlib {
            assert!(abort_of(events).is_none(), "{events:?}");
            assert_eq!(texts(events), ["m0", "m1", "m2", "m3", "m4", "m5"]);
        } else {
            assert_eq!(
                abort_of(events),
                Some(&AbortReason::TooManyQueued { limit: 4 }),
                "{events:?}"
            );
            assert!(texts(events).is_empty());
        }
    }
}

/// Row M1: chat TTLs of −5 s and ten years. tdlib keeps `max(0, ttl)` and shows nothing for
/// a negative one (SecretChatActor.cpp l.1973; MessagesManager.cpp
/// `on_secret_chat_ttl_changed`: "Receive wrong self-destruct time"), ten years as sent;
/// Telegram Android clamps both to a year (`processDecryptedObject`, ActionSetMessageTTL).
#[test]
fn out_of_range_chat_ttls_are_dropped_or_kept_by_tdlib_and_clamped_to_a_year_by_android() {
    const YEAR: i32 = 365 * 24 * 3600;
    for (profile, shown) in [
        (Profile::Tdlib, vec![10 * YEAR]),
        (Profile::Android, vec![YEAR, YEAR]),
    ] {
        let mut pair = pair(profile, 42);
        let from = pair.events_b.len();
        let now = pair.now;
        for ttl in [-5, 10 * YEAR] {
            pair.a.set_ttl(now, ttl, &mut pair.rng_a).unwrap();
        }
        pair.collect();
        pair.drive();
        let ttls: Vec<i32> = pair.events_b[from..]
            .iter()
            .filter_map(|event| match event {
                ChatEvent::ActionReceived {
                    action: UserAction::SetMessageTtl { ttl_seconds },
                    ..
                } => Some(*ttl_seconds),
                _ => None,
            })
            .collect();
        assert_eq!(ttls, shown, "{profile}");
        assert!(pair.b.is_established());
    }
}
