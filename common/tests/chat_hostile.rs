//! One test per hostile action: the creator (A) breaks a rule on purpose with
//! `SecretChat::hostile`, the reference chat (B) receives it, and its exact reaction is
//! checked against the spec's (`HostileAction::expected_reaction`).

mod chat_support;

use chat_support::{config, open_as, payload_of, Pair};
use secretchat_common::chat::hostile::{
    HostileAction, HostileError, Reaction, RESEND_NEVER_SENT_OFFSET, RESEND_TOO_MANY,
    SHORT_RANDOM_BYTES, WRONG_MEDIA_IV_LEN, WRONG_MEDIA_KEY_LEN,
};
use secretchat_common::chat::{
    AbortReason, ChatConfig, ChatEvent, IgnoreReason, Layer, Media, Payload, Profile, SecretChat,
    ServiceAction, Transmit,
};
use secretchat_common::envelope::Version;
use secretchat_common::seq_no::{RawSeqNo, SeqField, SeqNoError, WireSeqNo};
use secretchat_common::tl::e2e::enums::DecryptedMessageMedia;
use secretchat_common::Side;

/// A pair at layer `layer` on both sides, NotifyLayers exchanged.
fn pair(layer: i32, seed: u64) -> Pair {
    let mut pair = Pair::new(config(layer), config(layer), seed);
    pair.drive();
    assert_eq!(pair.b.layers().common(), Layer(layer));
    pair
}

/// A pair under `profile` on both sides (see `pair`).
fn pair_as(profile: Profile, layer: i32, seed: u64) -> Pair {
    let config = ChatConfig {
        profile,
        ..config(layer)
    };
    let mut pair = Pair::new(config, config, seed);
    pair.drive();
    assert_eq!(pair.b.layers().common(), Layer(layer));
    pair
}

/// A performs `action`; its messages go onto the network.
fn act(pair: &mut Pair, action: HostileAction) -> i64 {
    let now = pair.now;
    let random_id = pair.a.hostile(now, action, &mut pair.rng_a).unwrap();
    pair.collect();
    random_id
}

/// What B did, as events since index `from`.
fn b_events_since(pair: &Pair, from: usize) -> &[ChatEvent] {
    &pair.events_b[from..]
}

fn abort_of(events: &[ChatEvent]) -> Option<&AbortReason> {
    events.iter().find_map(|event| match event {
        ChatEvent::Aborted { reason } => Some(reason),
        _ => None,
    })
}

fn ignore_of(events: &[ChatEvent]) -> Option<&IgnoreReason> {
    events.iter().find_map(|event| match event {
        ChatEvent::Ignored { reason } => Some(reason),
        _ => None,
    })
}

/// The service action a side sent in `transmit`, opened with its current key.
fn action_in(sender: &SecretChat, transmit: &Transmit) -> ServiceAction {
    let inbound = open_as(sender, Version::V2, &transmit.data);
    match payload_of(&inbound).1 {
        Payload::Service(action) => action.clone(),
        other => panic!("expected a service message, got {other:?}"),
    }
}

/// B's reaction, checked to be the one the action expects.
fn assert_reaction(action: &HostileAction, observed: Reaction) {
    assert_eq!(
        action.expected_reaction(),
        observed,
        "{}: the spec requires {}",
        action.name(),
        action.expected_reaction()
    );
}

#[test]
fn a_wrong_out_seq_no_parity_aborts_the_receiver() {
    let mut pair = pair(144, 1);
    let (sent, _) = pair.a.seq_counters();
    let from = pair.events_b.len();
    let action = HostileAction::WrongSeqParity {
        field: SeqField::Out,
    };
    act(&mut pair, action.clone());
    pair.drive();
    // A creator's out_seq_no is 2·raw + 1; the hostile one is 2·raw.
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::SeqNo(SeqNoError::WrongParity {
            field: SeqField::Out,
            got: WireSeqNo(2 * sent.0 as i32),
            sender: Side::Creator,
            expected_x: 1
        }))
    );
    assert_reaction(&action, Reaction::Abort);
}

#[test]
fn a_wrong_in_seq_no_parity_aborts_the_receiver() {
    let mut pair = pair(144, 2);
    let (_, received) = pair.a.seq_counters();
    let from = pair.events_b.len();
    let action = HostileAction::WrongSeqParity {
        field: SeqField::In,
    };
    act(&mut pair, action.clone());
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::SeqNo(SeqNoError::WrongParity {
            field: SeqField::In,
            got: WireSeqNo(2 * received.0 as i32 + 1),
            sender: Side::Creator,
            expected_x: 0
        }))
    );
    assert_reaction(&action, Reaction::Abort);
}

#[test]
fn a_skipped_seq_no_makes_the_receiver_ask_for_it_and_then_deliver_the_text() {
    let mut pair = pair(144, 3);
    let (skipped, _) = pair.a.seq_counters();
    let sent_by_b = pair.sent_by_b.len();
    act(&mut pair, HostileAction::SkipSeqNo);
    pair.drive();
    let skipped_wire = WireSeqNo(2 * skipped.0 as i32 + 1);
    let resend = pair.sent_by_b[sent_by_b..]
        .iter()
        .map(|t| action_in(&pair.b, t))
        .find(|a| matches!(a, ServiceAction::Resend { .. }));
    assert_eq!(
        resend,
        Some(ServiceAction::Resend {
            start_seq_no: skipped_wire,
            end_seq_no: skipped_wire
        })
    );
    assert_eq!(
        pair.texts_received(Side::Participant),
        ["after a skipped seq_no"]
    );
    assert!(pair.b.is_established());
    assert_reaction(&HostileAction::SkipSeqNo, Reaction::RequestResend);
}

#[test]
fn a_regressing_layer_is_processed_without_lowering_the_receivers_layer() {
    let mut pair = pair(144, 4);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::RegressingLayer);
    pair.drive();
    assert_eq!(pair.texts_received(Side::Participant), ["regressing-layer"]);
    assert_eq!(abort_of(b_events_since(&pair, from)), None);
    assert_eq!(pair.b.layers().common(), Layer(144));
    // B keeps writing at 144.
    pair.send_text(Side::Participant, "still at 144");
    let last = pair.sent_by_b.last().unwrap();
    let inbound = open_as(&pair.b, Version::V2, &last.data);
    assert_eq!(inbound.wrapper.map(|w| w.layer), Some(Layer(144)));
    assert_reaction(&HostileAction::RegressingLayer, Reaction::NoDowngrade);
}

#[test]
fn a_regressing_layer_needs_a_common_layer_above_17() {
    let mut pair = pair(17, 5);
    let now = pair.now;
    assert_eq!(
        pair.a
            .hostile(now, HostileAction::RegressingLayer, &mut pair.rng_a),
        Err(HostileError::Unavailable {
            action: "regressing-layer",
            needs: "a common layer above 17"
        })
    );
}

#[test]
fn an_mtproto_1_message_at_layer_144_aborts_the_receiver() {
    let mut pair = pair(144, 6);
    let (sent, _) = pair.a.seq_counters();
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::V1AfterV2);
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::MtProto1AtLayer73 {
            layer: Layer(144),
            out_seq_no: sent
        })
    );
    assert_reaction(&HostileAction::V1AfterV2, Reaction::Abort);
}

#[test]
fn mtproto_1_after_2_needs_a_common_layer_of_73() {
    let mut pair = pair(46, 7);
    let now = pair.now;
    assert_eq!(
        pair.a
            .hostile(now, HostileAction::V1AfterV2, &mut pair.rng_a),
        Err(HostileError::Unavailable {
            action: "v1-after-v2",
            needs: "a common layer of 73 or more"
        })
    );
}

#[test]
fn a_resend_for_messages_never_sent_aborts_the_receiver() {
    let mut pair = pair(144, 8);
    pair.send_text(Side::Participant, "one");
    pair.drive();
    let (b_sent, _) = pair.b.seq_counters();
    let (_, a_received) = pair.a.seq_counters();
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::ResendNeverSent);
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::ResendBeyondSent {
            end: RawSeqNo(a_received.0 + RESEND_NEVER_SENT_OFFSET + 1),
            sent: b_sent
        })
    );
    assert_reaction(&HostileAction::ResendNeverSent, Reaction::Abort);
}

#[test]
fn a_resend_for_5000_messages_aborts_the_receiver() {
    let mut pair = pair(144, 9);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::ResendTooMany);
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::ResendTooLarge {
            count: RESEND_TOO_MANY,
            max: 1000
        })
    );
    assert_reaction(&HostileAction::ResendTooMany, Reaction::Abort);
}

#[test]
fn a_second_request_key_while_the_first_is_pending_aborts_the_receiver() {
    let mut pair = pair(144, 10);
    let sent = pair.sent_by_a.len();
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::RequestKeyWhilePending);
    let ids: Vec<i64> = pair.sent_by_a[sent..]
        .iter()
        .map(|t| match action_in(&pair.a, t) {
            ServiceAction::RequestKey { exchange_id, .. } => exchange_id,
            other => panic!("expected RequestKey, got {other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 2);
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::UnexpectedRequestKey {
            exchange_id: ids[1],
            expected: format!("awaiting CommitKey for exchange {}", ids[0])
        })
    );
    assert_reaction(&HostileAction::RequestKeyWhilePending, Reaction::Abort);
}

/// B asks for a new key and A receives the RequestKey without sending its answer yet.
fn b_requests_a_key(pair: &mut Pair) {
    let now = pair.now;
    pair.b.rekey_now(now, &mut pair.rng_b).unwrap();
    pair.collect();
    let request = pair.to_a.pop_front().unwrap();
    pair.a
        .handle_encrypted(now, &request.transmit.data, &mut pair.rng_a)
        .unwrap();
}

#[test]
fn an_accept_key_with_a_flipped_fingerprint_aborts_the_requester() {
    let mut pair = pair(144, 11);
    b_requests_a_key(&mut pair);
    let from = pair.events_b.len();
    // The honest AcceptKey is still in A's outbox: it is rewritten in place.
    let forged_id = act(&mut pair, HostileAction::AcceptKeyWrongFingerprint);
    pair.drive();
    let Some(AbortReason::NewKeyFingerprintMismatch {
        announced,
        computed,
    }) = abort_of(b_events_since(&pair, from))
    else {
        panic!(
            "B did not abort for the fingerprint: {:?}",
            &pair.events_b[from..]
        );
    };
    assert_eq!(announced.as_i64(), computed.as_i64() ^ 1);
    // Only the forged AcceptKey left A, in place of the honest one.
    let forged: Vec<_> = pair
        .sent_by_a
        .iter()
        .filter(|t| t.random_id == forged_id)
        .collect();
    assert_eq!(forged.len(), 1);
    assert!(matches!(
        action_in(&pair.a, forged[0]),
        ServiceAction::AcceptKey { key_fingerprint, .. } if key_fingerprint == *announced
    ));
    assert_reaction(&HostileAction::AcceptKeyWrongFingerprint, Reaction::Abort);
}

#[test]
fn an_accept_key_with_a_wrong_fingerprint_after_the_honest_one_still_aborts_the_requester() {
    let mut pair = pair(144, 12);
    b_requests_a_key(&mut pair);
    pair.collect(); // the honest AcceptKey leaves first
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::AcceptKeyWrongFingerprint);
    pair.drive();
    let reason = abort_of(b_events_since(&pair, from));
    assert!(
        matches!(reason, Some(AbortReason::UnexpectedAcceptKey { expected, .. }) if expected == "no exchange is in progress"),
        "{reason:?}"
    );
}

#[test]
fn an_accept_key_needs_an_exchange_accepted_from_the_peer() {
    let mut pair = pair(144, 13);
    let now = pair.now;
    assert_eq!(
        pair.a.hostile(
            now,
            HostileAction::AcceptKeyWrongFingerprint,
            &mut pair.rng_a
        ),
        Err(HostileError::Unavailable {
            action: "accept-key-wrong-fingerprint",
            needs: "an exchange accepted from the peer"
        })
    );
}

#[test]
fn an_accept_key_for_an_unknown_exchange_aborts_the_receiver() {
    let mut pair = pair(144, 14);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::AcceptKeyUnknownExchange);
    let ServiceAction::AcceptKey { exchange_id, .. } =
        action_in(&pair.a, pair.sent_by_a.last().unwrap())
    else {
        panic!("A did not send an AcceptKey");
    };
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::UnexpectedAcceptKey {
            got: exchange_id,
            expected: "no exchange is in progress".to_owned()
        })
    );
    assert_reaction(&HostileAction::AcceptKeyUnknownExchange, Reaction::Abort);
}

#[test]
fn a_commit_key_with_a_wrong_fingerprint_aborts_the_side_that_accepted() {
    let mut pair = pair(144, 15);
    let sent = pair.sent_by_a.len();
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::CommitKeyWrongFingerprint);
    let ServiceAction::CommitKey {
        key_fingerprint: announced,
        ..
    } = action_in(&pair.a, &pair.sent_by_a[sent + 1])
    else {
        panic!("A did not send RequestKey then CommitKey");
    };
    pair.drive();
    let reason = abort_of(b_events_since(&pair, from));
    assert!(
        matches!(reason, Some(AbortReason::NewKeyFingerprintMismatch { announced: a, computed }) if *a == announced && *computed != announced),
        "{reason:?}"
    );
    assert_reaction(&HostileAction::CommitKeyWrongFingerprint, Reaction::Abort);
}

#[test]
fn a_commit_key_for_an_unknown_exchange_aborts_the_receiver() {
    let mut pair = pair(144, 16);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::CommitKeyUnknownExchange);
    let ServiceAction::CommitKey { exchange_id, .. } =
        action_in(&pair.a, pair.sent_by_a.last().unwrap())
    else {
        panic!("A did not send a CommitKey");
    };
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::UnexpectedCommitKey {
            got: exchange_id,
            expected: "no exchange is in progress".to_owned()
        })
    );
    assert_reaction(&HostileAction::CommitKeyUnknownExchange, Reaction::Abort);
}

#[test]
fn an_abort_key_after_the_exchange_was_committed_aborts_the_receiver() {
    let mut pair = pair(144, 17);
    let now = pair.now;
    let exchange_id = pair.a.rekey_now(now, &mut pair.rng_a).unwrap();
    pair.drive();
    assert!(pair
        .events_b
        .iter()
        .any(|e| matches!(e, ChatEvent::KeyChanged { .. })));
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::AbortKeyAfterCommit);
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::AbortAfterCommit { exchange_id })
    );
    assert_reaction(&HostileAction::AbortKeyAfterCommit, Reaction::Abort);
}

#[test]
fn an_abort_key_for_an_exchange_nobody_knows_is_still_ignored() {
    let mut pair = pair(144, 18);
    let now = pair.now;
    pair.a.rekey_now(now, &mut pair.rng_a).unwrap();
    pair.drive();
    let from = pair.events_b.len();
    // AbortKey{an id nobody used}, in sequence, after a finished exchange.
    let (sent, received) = pair.a.seq_counters();
    let wrapper = secretchat_common::chat::codec::Wrapper {
        layer: Layer(144),
        in_seq_no: received.to_wire(SeqField::In, Side::Creator).unwrap(),
        out_seq_no: sent.to_wire(SeqField::Out, Side::Creator).unwrap(),
    };
    let data = chat_support::craft(
        &pair.a,
        Version::V2,
        Some(wrapper),
        5,
        &Payload::Service(ServiceAction::AbortKey { exchange_id: 42 }),
    );
    let _ = pair.b.handle_encrypted(now, &data, &mut pair.rng_b);
    pair.collect();
    assert_eq!(
        ignore_of(b_events_since(&pair, from)),
        Some(&IgnoreReason::UnknownAbortKey { exchange_id: 42 })
    );
    assert!(pair.b.is_established());
}

#[test]
fn an_abort_key_needs_a_finished_exchange() {
    let mut pair = pair(144, 19);
    let now = pair.now;
    assert_eq!(
        pair.a
            .hostile(now, HostileAction::AbortKeyAfterCommit, &mut pair.rng_a),
        Err(HostileError::Unavailable {
            action: "abort-key-after-commit",
            needs: "a finished re-keying exchange"
        })
    );
}

#[test]
fn random_bytes_shorter_than_15_are_ignored_and_the_next_honest_message_arrives() {
    // The spec's reading (SPEC §2.1); tdlib has no length check (common/tests/chat_profiles.rs).
    let mut pair = pair_as(Profile::Spec, 144, 20);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::ShortRandomBytes);
    pair.drive();
    assert_eq!(
        ignore_of(b_events_since(&pair, from)),
        Some(&IgnoreReason::RandomBytesTooShort {
            got: SHORT_RANDOM_BYTES,
            min: 15
        })
    );
    pair.send_text(Side::Creator, "honest");
    pair.drive();
    assert_eq!(pair.texts_received(Side::Participant), ["honest"]);
    assert_reaction(&HostileAction::ShortRandomBytes, Reaction::Ignore);
}

#[test]
fn media_with_a_31_byte_key_and_16_byte_iv_never_becomes_a_file() {
    let mut pair = pair(144, 21);
    let random_id = act(&mut pair, HostileAction::MediaWrongKeyLengths);
    pair.drive();
    let media = pair.events_b.iter().find_map(|event| match event {
        ChatEvent::MessageReceived {
            random_id: id,
            message,
        } if *id == random_id => Some(message.media.clone()),
        _ => None,
    });
    let Some(Some(Media::Other(raw))) = media else {
        panic!("B did not receive the message with its media refused: {media:?}");
    };
    let DecryptedMessageMedia::DecryptedMessageMediaPhoto23(photo) = *raw else {
        panic!("unexpected media {raw:?}");
    };
    assert_eq!(
        (photo.key.len(), photo.iv.len()),
        (WRONG_MEDIA_KEY_LEN, WRONG_MEDIA_IV_LEN)
    );
    assert!(pair.b.is_established());
    assert_reaction(&HostileAction::MediaWrongKeyLengths, Reaction::RejectMedia);
}

#[test]
fn an_unknown_constructor_uses_up_its_seq_number_and_is_ignored() {
    // The spec's reading (SPEC §5); tdlib aborts (common/tests/chat_profiles.rs).
    let mut pair = pair_as(Profile::Spec, 144, 22);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::UnknownConstructor);
    pair.drive();
    let ignored = ignore_of(b_events_since(&pair, from));
    assert!(
        matches!(ignored, Some(IgnoreReason::UndecodableMessage { error }) if error.contains("0badc0de")),
        "{ignored:?}"
    );
    pair.send_text(Side::Creator, "after it");
    pair.drive();
    assert_eq!(pair.texts_received(Side::Participant), ["after it"]);
    assert_reaction(&HostileAction::UnknownConstructor, Reaction::Ignore);
}

#[test]
fn a_lost_unknown_constructor_is_resent_as_a_noop_that_fills_the_hole() {
    let mut pair = pair(144, 23);
    act(&mut pair, HostileAction::UnknownConstructor);
    pair.to_b.clear();
    pair.send_text(Side::Creator, "behind the hole");
    pair.drive();
    assert_eq!(pair.texts_received(Side::Participant), ["behind the hole"]);
    assert!(pair.b.is_established());
}

#[test]
fn a_byte_for_byte_replay_of_an_earlier_message_is_ignored() {
    let mut pair = pair(144, 24);
    let (sent, _) = pair.a.seq_counters();
    pair.send_text(Side::Creator, "once");
    pair.drive();
    let data = pair.sent_by_a.last().unwrap().data.clone();
    let from = pair.events_b.len();
    let action = HostileAction::Replay { data: data.clone() };
    act(&mut pair, action.clone());
    assert_eq!(pair.sent_by_a.last().unwrap().data, data);
    pair.drive();
    assert_eq!(
        ignore_of(b_events_since(&pair, from)),
        Some(&IgnoreReason::Duplicate { out_seq_no: sent })
    );
    assert_eq!(pair.texts_received(Side::Participant), ["once"]);
    assert_reaction(&action, Reaction::Ignore);
}

#[test]
fn a_replay_must_be_a_message_this_chat_sent() {
    let mut pair = pair(144, 25);
    pair.send_text(Side::Participant, "B's");
    let theirs = pair.sent_by_b.last().unwrap().data.clone();
    let now = pair.now;
    for data in [theirs, vec![1, 2, 3]] {
        assert_eq!(
            pair.a
                .hostile(now, HostileAction::Replay { data }, &mut pair.rng_a),
            Err(HostileError::Unavailable {
                action: "replay",
                needs: "a message this chat sent, under a key it holds"
            })
        );
    }
}

#[test]
fn a_message_sealed_as_the_receivers_own_side_aborts_it_as_mirrored() {
    let mut pair = pair(144, 26);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::Mirror);
    pair.drive();
    assert_eq!(
        abort_of(b_events_since(&pair, from)),
        Some(&AbortReason::MirroredMessage)
    );
    assert_reaction(&HostileAction::Mirror, Reaction::Abort);
}

#[test]
fn under_mtproto_1_a_mirror_is_caught_by_its_seq_no_parity() {
    let mut pair = pair(46, 27);
    let from = pair.events_b.len();
    act(&mut pair, HostileAction::Mirror);
    pair.drive();
    let reason = abort_of(b_events_since(&pair, from));
    assert!(
        matches!(
            reason,
            Some(AbortReason::SeqNo(SeqNoError::WrongParity {
                field: SeqField::Out,
                ..
            }))
        ),
        "{reason:?}"
    );
}

#[test]
fn the_hostile_side_can_still_talk_honestly_after_every_ignored_action() {
    // Telegram Android ignores (or keeps going after) every one of these; tdlib aborts on
    // the unknown constructor and the lower layer, the spec profile on the lower layer.
    let mut pair = pair_as(Profile::Android, 144, 28);
    let (sent, _) = pair.a.seq_counters();
    pair.send_text(Side::Creator, "first");
    pair.drive();
    let first = pair.sent_by_a.last().unwrap().data.clone();
    for action in [
        HostileAction::ShortRandomBytes,
        HostileAction::UnknownConstructor,
        HostileAction::Replay { data: first },
        HostileAction::MediaWrongKeyLengths,
        HostileAction::RegressingLayer,
        HostileAction::SkipSeqNo,
    ] {
        act(&mut pair, action);
        pair.send_text(Side::Creator, "honest");
        pair.drive();
    }
    assert!(pair.b.is_established());
    let honest = pair
        .texts_received(Side::Participant)
        .iter()
        .filter(|t| *t == "honest")
        .count();
    assert_eq!(honest, 6);
    assert!(pair.a.seq_counters().0 > sent);
}

#[test]
fn skipping_a_seq_no_and_mirroring_need_a_common_layer_of_17() {
    let mut pair = pair(8, 29);
    let now = pair.now;
    for (action, name) in [
        (HostileAction::SkipSeqNo, "skip-seq-no"),
        (HostileAction::Mirror, "mirror"),
    ] {
        assert_eq!(
            pair.a.hostile(now, action, &mut pair.rng_a),
            Err(HostileError::Unavailable {
                action: name,
                needs: "a common layer of 17 or more"
            })
        );
    }
    assert_eq!(pair.a.seq_counters().0, RawSeqNo(0));
}
