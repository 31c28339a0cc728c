//! One test per rule of the secret-chat state machine, each a short story.

mod chat_support;

use chat_support::{config, Pair};
use secretchat_common::chat::{AbortReason, Event, IgnoreReason, Layer, UserAction};
use secretchat_common::Side;

#[test]
fn both_sides_end_the_handshake_with_the_same_key_and_visualization() {
    let pair = Pair::new(config(144), config(144), 1);
    assert!(pair.a.is_established() && pair.b.is_established());
    assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    assert_eq!(pair.a.visualization(), pair.b.visualization());
    assert!(matches!(pair.events_a[0], Event::Established { .. }));
}

#[test]
fn notify_layer_raises_both_remote_layers() {
    let mut pair = Pair::new(config(144), config(73), 2);
    pair.drive();
    assert_eq!(pair.a.layers().common(), Layer(73));
    assert_eq!(pair.b.layers().common(), Layer(73));
    assert!(pair.events_b.contains(&Event::PeerLayerRaised {
        from: Layer(8),
        to: Layer(144)
    }));
    assert!(pair.events_b.contains(&Event::PeerIsNewer {
        peer_layer: Layer(144),
        own_layer: Layer(73)
    }));
}

#[test]
fn messages_arrive_in_order_both_ways() {
    let mut pair = Pair::new(config(144), config(144), 3);
    pair.drive();
    pair.send_text(Side::Creator, "hello");
    pair.send_text(Side::Participant, "hi");
    pair.send_text(Side::Creator, "how are you");
    pair.drive();
    assert_eq!(
        pair.texts_received(Side::Participant),
        ["hello", "how are you"]
    );
    assert_eq!(pair.texts_received(Side::Creator), ["hi"]);
}

#[test]
fn replayed_message_is_ignored() {
    let mut pair = Pair::new(config(144), config(144), 4);
    pair.drive();
    pair.send_text(Side::Creator, "once");
    let replay = pair.to_b.back().unwrap().clone();
    pair.drive();
    pair.to_b.push_back(replay);
    pair.drive();
    assert_eq!(pair.texts_received(Side::Participant), ["once"]);
    assert!(matches!(
        pair.events_b.last(),
        Some(Event::Ignored {
            reason: IgnoreReason::Duplicate { .. }
        })
    ));
}

#[test]
fn mirrored_message_aborts_the_chat() {
    let mut pair = Pair::new(config(144), config(144), 5);
    pair.drive();
    pair.send_text(Side::Creator, "to B");
    let own = pair.to_b.pop_back().unwrap();
    pair.to_a.push_back(own);
    pair.drive();
    assert_eq!(
        pair.events_a.last(),
        Some(&Event::Aborted {
            reason: AbortReason::MirroredMessage
        })
    );
    assert!(pair.a.is_closed());
}

#[test]
fn gap_triggers_resend_and_is_filled() {
    let mut pair = Pair::new(config(144), config(144), 6);
    pair.drive();
    pair.send_text(Side::Creator, "one");
    pair.send_text(Side::Creator, "two");
    pair.send_text(Side::Creator, "three");
    // "two" is lost.
    let lost = pair.to_b.remove(1).unwrap();
    assert!(!lost.transmit.data.is_empty());
    pair.drive();
    assert_eq!(
        pair.texts_received(Side::Participant),
        ["one", "two", "three"]
    );
}

#[test]
fn unknown_fingerprint_is_ignored() {
    let mut pair = Pair::new(config(144), config(144), 7);
    pair.drive();
    let mut garbage = vec![0xeeu8; 64];
    garbage[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let now = pair.now;
    let _ = pair.b.handle_encrypted(now, &garbage, &mut pair.rng_b);
    pair.collect();
    assert!(matches!(
        pair.events_b.last(),
        Some(Event::Ignored {
            reason: IgnoreReason::UnknownFingerprint { .. }
        })
    ));
    assert!(pair.b.is_established());
}

#[test]
fn rekey_now_switches_both_sides_to_one_new_key() {
    let mut pair = Pair::new(config(144), config(144), 8);
    pair.drive();
    let old = pair.a.key_fingerprint();
    let now = pair.now;
    pair.b.rekey_now(now, &mut pair.rng_b).unwrap();
    pair.drive();
    assert_ne!(pair.a.key_fingerprint(), old);
    assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    // B committed; A's Noop under the new key let B drop the old key. A keeps its old key
    // until B sends something under the new one.
    assert!(!pair.b.is_rekeying());
    assert!(pair.a.is_rekeying());
    pair.send_text(Side::Participant, "after");
    pair.drive();
    assert_eq!(pair.texts_received(Side::Creator), ["after"]);
    assert!(!pair.a.is_rekeying());
}

#[test]
fn concurrent_request_key_both_ways_resolves_to_one_key() {
    let mut pair = Pair::new(config(144), config(144), 9);
    pair.drive();
    let now = pair.now;
    pair.a.rekey_now(now, &mut pair.rng_a).unwrap();
    pair.b.rekey_now(now, &mut pair.rng_b).unwrap();
    pair.drive();
    assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    let lost = |events: &[Event]| {
        events.iter().any(|e| {
            matches!(
                e,
                Event::Ignored {
                    reason: IgnoreReason::RequestKeyLostTieBreak { .. }
                }
            )
        })
    };
    assert!(lost(&pair.events_a) ^ lost(&pair.events_b));
    assert_eq!(
        pair.events_a
            .iter()
            .filter(|e| matches!(e, Event::KeyChanged { .. }))
            .count(),
        1
    );
}

#[test]
fn a_week_passes_and_rekeying_starts() {
    let mut pair = Pair::new(config(144), config(144), 10);
    pair.drive();
    let old = pair.a.key_fingerprint();
    pair.advance(7 * 24 * 3600);
    pair.drive();
    assert_ne!(pair.a.key_fingerprint(), old);
    assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
}

#[test]
fn service_actions_reach_the_peer() {
    let mut pair = Pair::new(config(144), config(144), 11);
    pair.drive();
    let now = pair.now;
    let id = pair.send_text(Side::Creator, "secret");
    pair.a.set_ttl(now, 30, &mut pair.rng_a).unwrap();
    pair.a.screenshot(now, vec![id], &mut pair.rng_a).unwrap();
    pair.a.flush_history(now, &mut pair.rng_a).unwrap();
    pair.collect();
    pair.drive();
    let actions: Vec<_> = pair
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::ActionReceived { action, .. } => Some(action.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        actions,
        [
            UserAction::SetMessageTtl { ttl_seconds: 30 },
            UserAction::ScreenshotMessages {
                random_ids: vec![id]
            },
            UserAction::FlushHistory
        ]
    );
}
