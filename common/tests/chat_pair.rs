//! Long runs of two chats over a lossy, duplicating, reordering network, and a model test.

mod chat_support;

use chat_support::{config, Faults, Pair};
use proptest::prelude::*;
use rand::Rng;
use secretchat_common::chat::codec::{self, Content};
use secretchat_common::chat::{ChatConfig, ChatEvent, Layer, Payload, RekeyPolicy};
use secretchat_common::envelope::{self, Version};
use secretchat_common::Side;

fn key_changes(events: &[ChatEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ChatEvent::KeyChanged { .. }))
        .count()
}

fn aborted(events: &[ChatEvent]) -> Option<&ChatEvent> {
    events
        .iter()
        .find(|e| matches!(e, ChatEvent::Aborted { .. }))
}

/// 300 messages each way between a creator at `layer_a` and a participant at `layer_b`.
fn long_run(layer_a: i32, layer_b: i32, seed: u64) -> Pair {
    let with_rekey = |layer| ChatConfig {
        rekey: RekeyPolicy {
            after_messages: 200,
            ..RekeyPolicy::default()
        },
        ..config(layer)
    };
    let mut pair = Pair::new(with_rekey(layer_a), with_rekey(layer_b), seed);
    pair.drive(); // NotifyLayer both ways, before the network turns hostile
    let common = pair.a.layers().common();
    pair.faults = if common.has_seq_no() {
        Faults {
            drop: 0.05,
            duplicate: 0.05,
            reorder: 0.1,
        }
    } else {
        // Bare layer-8 messages have no seq numbers: a loss or a reorder cannot be repaired.
        Faults {
            duplicate: 0.1,
            ..Faults::default()
        }
    };
    for i in 0..300 {
        pair.send_text(Side::Creator, &format!("a{i}"));
        pair.send_text(Side::Participant, &format!("b{i}"));
        let deliveries = pair.net.gen_range(0..4);
        for _ in 0..deliveries {
            pair.deliver_one_to_b();
            pair.deliver_one_to_a();
        }
        if i % 25 == 0 {
            let seconds = pair.net.gen_range(1..30);
            pair.advance(seconds);
        }
    }
    pair.faults = Faults::default();
    pair.drive();
    pair.send_text(Side::Creator, "a-end");
    pair.send_text(Side::Participant, "b-end");
    pair.settle();
    pair
}

fn expected(prefix: &str) -> Vec<String> {
    (0..300)
        .map(|i| format!("{prefix}{i}"))
        .chain([format!("{prefix}-end")])
        .collect()
}

fn assert_complete(pair: &Pair, rekeys: bool) {
    assert_eq!(aborted(&pair.events_a), None);
    assert_eq!(aborted(&pair.events_b), None);
    assert_eq!(pair.texts_received(Side::Participant), expected("a"));
    assert_eq!(pair.texts_received(Side::Creator), expected("b"));
    assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    if rekeys {
        assert!(
            key_changes(&pair.events_a) >= 2,
            "{}",
            key_changes(&pair.events_a)
        );
        assert_eq!(key_changes(&pair.events_a), key_changes(&pair.events_b));
    }
}

#[test]
fn three_hundred_messages_each_way_arrive_in_order_at_layer_144_through_rekeys_and_resends() {
    let pair = long_run(144, 144, 100);
    assert_complete(&pair, true);
    let resends = pair
        .sent_by_a
        .iter()
        .chain(&pair.sent_by_b)
        .filter(|t| {
            let count = pair
                .sent_by_a
                .iter()
                .chain(&pair.sent_by_b)
                .filter(|u| u.random_id == t.random_id)
                .count();
            count > 1
        })
        .count();
    assert!(resends > 0, "the lossy network should have forced re-sends");
}

#[test]
fn peers_of_different_layers_settle_on_the_lower_one_in_either_role_and_lose_nothing() {
    for (seed, (a, b)) in [
        (73, 144),
        (144, 46),
        (17, 144),
        (144, 73),
        (46, 17),
        (8, 144),
        (144, 8),
    ]
    .into_iter()
    .enumerate()
    {
        let pair = long_run(a, b, 200 + seed as u64);
        let common = Layer(a.min(b));
        assert_eq!(pair.a.layers().common(), common, "layers {a}/{b}");
        assert_eq!(pair.b.layers().common(), common, "layers {a}/{b}");
        assert_complete(&pair, common.has_pfs());
    }
}

/// One step of the model test.
#[derive(Debug, Clone)]
enum Op {
    Send(Side),
    Deliver(Side),
    Drop(Side),
    Duplicate(Side),
    Reorder(Side),
    Advance(u64),
    Rekey(Side),
    /// The side's app is upgraded to layer 144 (the model starts both at 46).
    Upgrade(Side),
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Creator), Just(Side::Participant)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => side().prop_map(Op::Send),
        4 => side().prop_map(Op::Deliver),
        1 => side().prop_map(Op::Drop),
        1 => side().prop_map(Op::Duplicate),
        1 => side().prop_map(Op::Reorder),
        1 => (1u64..40).prop_map(Op::Advance),
        1 => side().prop_map(Op::Rekey),
        1 => side().prop_map(Op::Upgrade),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The reference model: each side's texts arrive at the other exactly once, in the
    /// order sent, whatever the network does and however the layer rises meanwhile; and
    /// both sides end with the same key.
    #[test]
    fn no_message_is_lost_or_delivered_twice(ops in proptest::collection::vec(op(), 1..80), seed in 0u64..1000) {
        run_model(Layer(46), ops, seed)?;
    }
}

/// A case the model once found: the creator's CommitKey is lost, the participant switches
/// at the first message under the new key, and an old-key message that had waited behind
/// the gap must not count as "the peer sends under the current key" — else the previous
/// key goes, a new exchange starts, and the re-sent CommitKey arrives in the middle of it.
#[test]
fn an_old_key_message_queued_behind_a_lost_commit_key_does_not_end_the_switch_early() {
    use Side::{Creator, Participant};
    let ops = vec![
        Op::Send(Creator),
        Op::Rekey(Creator),
        Op::Send(Creator),
        Op::Reorder(Creator),
        Op::Send(Participant),
        Op::Send(Creator),
        Op::Send(Participant),
        Op::Reorder(Creator),
        Op::Deliver(Participant),
        Op::Deliver(Creator),
        Op::Deliver(Creator),
        Op::Deliver(Participant),
        Op::Deliver(Participant),
        Op::Send(Creator),
        Op::Send(Participant),
        Op::Drop(Creator),
        Op::Send(Creator),
        Op::Drop(Creator),
        Op::Deliver(Creator),
        Op::Deliver(Participant),
        Op::Deliver(Creator),
        Op::Deliver(Participant),
        Op::Deliver(Creator),
        Op::Deliver(Creator),
        Op::Rekey(Participant),
    ];
    run_model(Layer(144), ops, 314).unwrap();
}

/// A message lost at layer 46 and asked for after the layer rose to 144 is re-sent at 46,
/// as first sent (tdlib re-sends the bytes it stored, `outbound_resend`). Re-sealed at 144
/// it would be followed by the next message, sent at 46 before the rise, and the tdlib
/// profile would see the peer's layer go down and close the chat (row L3).
#[test]
fn a_message_re_sent_after_the_layer_rose_keeps_the_layer_it_was_sent_at() {
    let mut pair = Pair::new(config(144), config(46), 41);
    pair.drive();
    assert_eq!(pair.a.layers().common(), Layer(46));
    pair.send_text(Side::Creator, "m1");
    pair.to_b.clear();
    pair.send_text(Side::Creator, "m2");
    // B is upgraded; its NotifyLayer raises A's common layer before m2 reaches B.
    let now = pair.now;
    pair.b
        .upgrade_layer(now, Layer(144), &mut pair.rng_b)
        .unwrap();
    pair.collect();
    while pair.deliver_one_to_a() {}
    assert_eq!(pair.a.layers().common(), Layer(144));
    pair.drive();
    assert!(aborted(&pair.events_b).is_none(), "{:?}", pair.events_b);
    assert_eq!(pair.texts_received(Side::Participant), ["m1", "m2"]);
    // The original and its re-send, both at 46 (so both MTProto 1.0).
    let key = chat_support::current_key(&pair.a);
    let layers_of_m1: Vec<Layer> = pair
        .sent_by_a
        .iter()
        .filter_map(|transmit| {
            let opened = envelope::open(&key, Version::V1, Side::Creator, &transmit.data).ok()?;
            let inbound = codec::decode(opened.tl()).ok()?;
            let is_m1 = matches!(&inbound.content,
                Content::Payload { payload: Payload::Message(m), .. } if m.text == "m1");
            is_m1.then_some(inbound.wrapper?.layer)
        })
        .collect();
    assert_eq!(layers_of_m1, [Layer(46), Layer(46)]);
}

/// Runs `ops` on a fresh pair of apps at layer `start`, then lets it settle and checks the
/// model's promises.
fn run_model(start: Layer, ops: Vec<Op>, seed: u64) -> Result<(), TestCaseError> {
    let mut pair = Pair::new(config(start.0), config(start.0), seed);
    pair.drive();
    let mut sent = [Vec::new(), Vec::new()];
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send(side) => {
                let text = format!("{side:?}{i}");
                pair.send_text(side, &text);
                sent[side as usize].push(text);
            }
            Op::Deliver(Side::Creator) => {
                pair.deliver_one_to_b();
            }
            Op::Deliver(Side::Participant) => {
                pair.deliver_one_to_a();
            }
            Op::Drop(side) => {
                queue(&mut pair, side).pop_front();
            }
            Op::Duplicate(side) => {
                let q = queue(&mut pair, side);
                if let Some(p) = q.front().cloned() {
                    q.push_back(p);
                }
            }
            Op::Reorder(side) => {
                let q = queue(&mut pair, side);
                if q.len() > 1 {
                    q.swap(0, 1);
                }
            }
            Op::Advance(seconds) => pair.advance(seconds),
            Op::Rekey(side) => {
                let now = pair.now;
                let (chat, rng) = match side {
                    Side::Creator => (&mut pair.a, &mut pair.rng_a),
                    Side::Participant => (&mut pair.b, &mut pair.rng_b),
                };
                let _ = chat.rekey_now(now, rng);
                pair.collect();
            }
            Op::Upgrade(side) => {
                let now = pair.now;
                let (chat, rng) = match side {
                    Side::Creator => (&mut pair.a, &mut pair.rng_a),
                    Side::Participant => (&mut pair.b, &mut pair.rng_b),
                };
                chat.upgrade_layer(now, Layer(144), rng).unwrap();
                pair.collect();
            }
        }
    }
    pair.drive();
    for side in [Side::Creator, Side::Participant] {
        let text = format!("{side:?}-end");
        pair.send_text(side, &text);
        sent[side as usize].push(text);
    }
    pair.settle();
    prop_assert_eq!(aborted(&pair.events_a), None);
    prop_assert_eq!(aborted(&pair.events_b), None);
    prop_assert_eq!(pair.texts_received(Side::Participant), sent[0].clone());
    prop_assert_eq!(pair.texts_received(Side::Creator), sent[1].clone());
    prop_assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    Ok(())
}

fn queue(pair: &mut Pair, from: Side) -> &mut std::collections::VecDeque<chat_support::Packet> {
    match from {
        Side::Creator => &mut pair.to_b,
        Side::Participant => &mut pair.to_a,
    }
}
