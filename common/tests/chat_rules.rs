//! One test per rule of the secret-chat state machine, each a short story.

mod chat_support;

use chat_support::{config, Pair};
use secretchat_common::chat::{
    AbortReason, ChatEvent, IgnoreReason, Layer, TypingAction, UserAction,
};
use secretchat_common::Side;

#[test]
fn both_sides_end_the_handshake_with_the_same_key_and_visualization() {
    let pair = Pair::new(config(144), config(144), 1);
    assert!(pair.a.is_established() && pair.b.is_established());
    assert_eq!(pair.a.key_fingerprint(), pair.b.key_fingerprint());
    assert_eq!(pair.a.visualization(), pair.b.visualization());
    assert!(matches!(pair.events_a[0], ChatEvent::Established { .. }));
}

#[test]
fn notify_layer_raises_both_remote_layers() {
    let mut pair = Pair::new(config(144), config(73), 2);
    pair.drive();
    assert_eq!(pair.a.layers().common(), Layer(73));
    assert_eq!(pair.b.layers().common(), Layer(73));
    assert!(pair.events_b.contains(&ChatEvent::PeerLayerRaised {
        from: Layer(8),
        to: Layer(144)
    }));
    assert!(pair.events_b.contains(&ChatEvent::PeerIsNewer {
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
        Some(ChatEvent::Ignored {
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
        Some(&ChatEvent::Aborted {
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
        Some(ChatEvent::Ignored {
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
    let lost = |events: &[ChatEvent]| {
        events.iter().any(|e| {
            matches!(
                e,
                ChatEvent::Ignored {
                    reason: IgnoreReason::RequestKeyLostTieBreak { .. }
                }
            )
        })
    };
    assert!(lost(&pair.events_a) ^ lost(&pair.events_b));
    assert_eq!(
        pair.events_a
            .iter()
            .filter(|e| matches!(e, ChatEvent::KeyChanged { .. }))
            .count(),
        1
    );
}

/// tdlib `run_pfs`: `last_timestamp + 60 * 60 * 24 * 7 < Time::now()` — more than a week.
#[test]
fn more_than_a_week_passes_and_rekeying_starts() {
    let mut pair = Pair::new(config(144), config(144), 10);
    pair.drive();
    let old = pair.a.key_fingerprint();
    pair.advance(7 * 24 * 3600);
    pair.drive();
    assert_eq!(pair.a.key_fingerprint(), old);
    pair.advance(1);
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
    let actions = actions_received(&pair.events_b);
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

#[test]
fn every_user_action_sent_arrives_as_the_same_user_action() {
    let mut pair = Pair::new(config(144), config(144), 12);
    pair.drive();
    let now = pair.now;
    let id = pair.send_text(Side::Creator, "secret");
    let sent = vec![
        UserAction::SetMessageTtl { ttl_seconds: 30 },
        UserAction::ReadMessages {
            random_ids: vec![id],
        },
        UserAction::ScreenshotMessages {
            random_ids: vec![id],
        },
        UserAction::Typing {
            action: TypingAction::Typing,
        },
        UserAction::DeleteMessages {
            random_ids: vec![id],
        },
        UserAction::FlushHistory,
    ];
    for action in sent.clone() {
        pair.a.send_action(now, action, &mut pair.rng_a).unwrap();
    }
    pair.collect();
    pair.drive();
    assert_eq!(actions_received(&pair.events_b), sent);
}

fn actions_received(events: &[ChatEvent]) -> Vec<UserAction> {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::ActionReceived { action, .. } => Some(action.clone()),
            _ => None,
        })
        .collect()
}

mod crafted {
    use super::chat_support::{config, craft, open_as, payload_of, Pair, START};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use secretchat_common::chat::codec::Wrapper;
    use secretchat_common::chat::{
        AbortReason, AcceptedChat, ChatError, ChatEvent, DhParams, Layer, Payload, RequestedChat,
        SecretChat, ServiceAction,
    };
    use secretchat_common::dh::DhError;
    use secretchat_common::envelope::Version;
    use secretchat_common::seq_no::{RawSeqNo, SeqField, WireSeqNo};
    use secretchat_common::{KeyFingerprint, Side};

    fn aborted_with(chat_events: &[ChatEvent]) -> Option<&AbortReason> {
        chat_events.iter().find_map(|e| match e {
            ChatEvent::Aborted { reason } => Some(reason),
            _ => None,
        })
    }

    #[test]
    fn initiator_aborts_when_the_key_fingerprint_does_not_match() {
        let mut rng = ChaCha20Rng::seed_from_u64(20);
        let (mut a, request) =
            SecretChat::request(config(144), DhParams::telegram(), &[], START, &mut rng).unwrap();
        let mut b = SecretChat::from_requested(
            config(144),
            DhParams::telegram(),
            RequestedChat {
                id: request.random_id,
                access_hash: 1,
                g_a: request.g_a,
            },
            START,
        )
        .unwrap();
        let acceptance = b.accept(START, &[], &mut rng).unwrap();
        let wrong = KeyFingerprint::from_i64(acceptance.key_fingerprint.as_i64() ^ 1);
        let result = a.handle_accepted(
            START,
            AcceptedChat {
                id: request.random_id,
                access_hash: 1,
                g_a_or_b: acceptance.g_b,
                key_fingerprint: wrong,
            },
            &mut rng,
        );
        assert!(matches!(result, Err(ChatError::Aborted { .. })));
        assert_eq!(
            a.poll_event(),
            Some(ChatEvent::Aborted {
                reason: AbortReason::KeyFingerprintMismatch {
                    announced: wrong,
                    computed: acceptance.key_fingerprint
                }
            })
        );
        assert!(a.poll_transmit().is_none());
    }

    #[test]
    fn responder_rejects_g_a_outside_the_safety_range() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let mut b = SecretChat::from_requested(
            config(144),
            DhParams::telegram(),
            RequestedChat {
                id: 5,
                access_hash: 1,
                g_a: vec![2],
            },
            START,
        )
        .unwrap();
        assert!(matches!(
            b.accept(START, &[], &mut rng),
            Err(ChatError::Aborted { .. })
        ));
        assert!(matches!(
            b.poll_event(),
            Some(ChatEvent::Aborted {
                reason: AbortReason::InvalidPublicValue {
                    value: "g_a",
                    error: DhError::PublicValueNotAboveSafetyBound { .. }
                }
            })
        ));
    }

    #[test]
    fn chat_id_is_the_requesters_positive_31_bit_random_id() {
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        for _ in 0..5 {
            let (chat, request) =
                SecretChat::request(config(144), DhParams::telegram(), &[], START, &mut rng)
                    .unwrap();
            assert!(request.random_id > 0);
            assert_eq!(chat.id(), request.random_id);
        }
    }

    #[test]
    fn a_chat_that_aborted_refuses_further_input() {
        let mut pair = Pair::new(config(144), config(144), 23);
        pair.drive();
        pair.send_text(Side::Creator, "x");
        let own = pair.to_b.pop_back().unwrap();
        pair.to_a.push_back(own);
        pair.drive();
        let now = pair.now;
        assert!(matches!(
            pair.a.send_text(now, "more", 0, &mut pair.rng_a),
            Err(ChatError::Aborted { .. })
        ));
    }

    #[test]
    fn mtproto_1_message_at_layer_73_or_above_is_rejected() {
        let mut pair = Pair::new(config(144), config(144), 24);
        pair.drive();
        let (sent, _) = pair.a.seq_counters();
        let (_, received) = pair.b.seq_counters();
        let wrapper = Wrapper {
            layer: Layer(144),
            in_seq_no: received.to_wire(SeqField::In, Side::Creator).unwrap(),
            out_seq_no: sent.to_wire(SeqField::Out, Side::Creator).unwrap(),
        };
        let data = craft(
            &pair.a,
            Version::V1,
            Some(wrapper),
            42,
            &Payload::Service(ServiceAction::Noop),
        );
        pair.to_b.push_back(super::chat_support::Packet {
            transmit: secretchat_common::chat::Transmit {
                method: secretchat_common::chat::SendMethod::SendEncryptedService,
                random_id: 42,
                data,
            },
        });
        pair.drive();
        assert_eq!(
            aborted_with(&pair.events_b),
            Some(&AbortReason::MtProto1AtLayer73 {
                layer: Layer(144),
                out_seq_no: RawSeqNo(sent.0)
            })
        );
    }

    #[test]
    fn resend_request_for_more_than_1000_messages_aborts() {
        let mut pair = Pair::new(config(144), config(144), 25);
        pair.drive();
        let (sent, _) = pair.b.seq_counters();
        let (_, received) = pair.a.seq_counters();
        let wrapper = Wrapper {
            layer: Layer(144),
            in_seq_no: received.to_wire(SeqField::In, Side::Participant).unwrap(),
            out_seq_no: sent.to_wire(SeqField::Out, Side::Participant).unwrap(),
        };
        // In A's out_seq_no form: raw 0 → 1, raw 1000 → 2001.
        let resend = Payload::Service(ServiceAction::Resend {
            start_seq_no: WireSeqNo(1),
            end_seq_no: WireSeqNo(2001),
        });
        let data = craft(&pair.b, Version::V2, Some(wrapper), 43, &resend);
        let now = pair.now;
        let _ = pair.a.handle_encrypted(now, &data, &mut pair.rng_a);
        pair.collect();
        assert_eq!(
            aborted_with(&pair.events_a),
            Some(&AbortReason::ResendTooLarge {
                count: 1001,
                max: 1000
            })
        );
    }

    #[test]
    fn accept_key_with_a_wrong_fingerprint_aborts() {
        let mut pair = Pair::new(config(144), config(144), 26);
        pair.drive();
        let now = pair.now;
        pair.a.rekey_now(now, &mut pair.rng_a).unwrap();
        pair.collect();
        pair.deliver_one_to_b();
        let accept = pair.to_a.pop_back().unwrap();
        let inbound = open_as(&pair.b, Version::V2, &accept.transmit.data);
        let (random_id, payload) = payload_of(&inbound);
        let Payload::Service(ServiceAction::AcceptKey {
            exchange_id,
            g_b,
            key_fingerprint,
        }) = payload.clone()
        else {
            panic!("expected AcceptKey, got {payload:?}");
        };
        let wrong = KeyFingerprint::from_i64(key_fingerprint.as_i64().wrapping_add(1));
        let forged = Payload::Service(ServiceAction::AcceptKey {
            exchange_id,
            g_b,
            key_fingerprint: wrong,
        });
        let data = craft(&pair.b, Version::V2, inbound.wrapper, random_id, &forged);
        let _ = pair.a.handle_encrypted(now, &data, &mut pair.rng_a);
        pair.collect();
        assert_eq!(
            aborted_with(&pair.events_a),
            Some(&AbortReason::NewKeyFingerprintMismatch {
                announced: wrong,
                computed: key_fingerprint
            })
        );
    }

    #[test]
    fn in_seq_no_beyond_what_we_sent_aborts() {
        let mut pair = Pair::new(config(144), config(144), 27);
        pair.drive();
        let (sent_by_b, _) = pair.b.seq_counters();
        let (sent_by_a, _) = pair.a.seq_counters();
        let claims = RawSeqNo(sent_by_a.0 + 5);
        let wrapper = Wrapper {
            layer: Layer(144),
            in_seq_no: claims.to_wire(SeqField::In, Side::Participant).unwrap(),
            out_seq_no: sent_by_b.to_wire(SeqField::Out, Side::Participant).unwrap(),
        };
        let data = craft(
            &pair.b,
            Version::V2,
            Some(wrapper),
            44,
            &Payload::Service(ServiceAction::Noop),
        );
        let now = pair.now;
        let _ = pair.a.handle_encrypted(now, &data, &mut pair.rng_a);
        pair.collect();
        assert_eq!(
            aborted_with(&pair.events_a),
            Some(&AbortReason::InSeqNoBeyondSent {
                got: claims,
                sent: sent_by_a
            })
        );
    }

    #[test]
    fn deleting_an_unacknowledged_message_makes_its_resend_delete_itself() {
        let mut pair = Pair::new(config(144), config(144), 28);
        pair.drive();
        let now = pair.now;
        let id = pair.a.send_text(now, "oops", 0, &mut pair.rng_a).unwrap();
        // Deleted before it left (not acknowledged): the pending copy is rewritten.
        pair.a
            .delete_messages(now, vec![id], &mut pair.rng_a)
            .unwrap();
        pair.collect();
        pair.drive();
        assert!(pair.texts_received(Side::Participant).is_empty());
        let deletes: Vec<_> = pair
            .events_b
            .iter()
            .filter(|e| {
                matches!(e, ChatEvent::ActionReceived { action: secretchat_common::chat::UserAction::DeleteMessages { random_ids }, .. } if random_ids == &vec![id])
            })
            .collect();
        assert_eq!(
            deletes.len(),
            2,
            "the rewritten copy and the new DeleteMessages"
        );
    }

    #[test]
    fn state_survives_a_serde_round_trip_mid_conversation() {
        let mut pair = Pair::new(config(144), config(144), 29);
        pair.drive();
        pair.send_text(Side::Creator, "before");
        pair.drive();
        let saved = serde_json::to_string(&pair.b).unwrap();
        pair.b = serde_json::from_str(&saved).unwrap();
        pair.send_text(Side::Creator, "after");
        pair.send_text(Side::Participant, "reply");
        pair.drive();
        assert_eq!(pair.texts_received(Side::Participant), ["before", "after"]);
        assert_eq!(pair.texts_received(Side::Creator), ["reply"]);
    }
}

mod known_answers {
    use secretchat_common::chat::agreement::{compute_key, public_value};
    use secretchat_common::chat::profile::PublicValueRange;
    use secretchat_common::chat::{DhParams, SecretExponent};

    fn rekey_vector() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/vectors.json");
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        all["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["kind"] == "rekey")
            .unwrap()
            .clone()
    }

    fn bytes(value: &serde_json::Value) -> Vec<u8> {
        hex::decode(value.as_str().unwrap()).unwrap()
    }

    #[test]
    fn rekey_vector_gives_the_same_new_key_on_both_sides() {
        let vector = rekey_vector();
        let (inputs, outputs) = (&vector["inputs"], &vector["outputs"]);
        let params = DhParams::telegram();
        let a = SecretExponent::from_be_bytes(&bytes(&inputs["a_prime"])).unwrap();
        let b = SecretExponent::from_be_bytes(&bytes(&inputs["b_prime"])).unwrap();
        assert_eq!(public_value(&params, &a), bytes(&outputs["g_a"]));
        assert_eq!(public_value(&params, &b), bytes(&outputs["g_b"]));
        let initiator = compute_key(
            &params,
            &a,
            &bytes(&outputs["g_b"]),
            "g_b",
            PublicValueRange::Both,
        )
        .unwrap();
        let responder = compute_key(
            &params,
            &b,
            &bytes(&outputs["g_a"]),
            "g_a",
            PublicValueRange::Both,
        )
        .unwrap();
        assert_eq!(initiator.as_bytes().to_vec(), bytes(&outputs["new_key"]));
        assert_eq!(initiator, responder);
        assert_eq!(
            initiator.fingerprint().as_i64(),
            outputs["new_key_fingerprint_i64"].as_i64().unwrap()
        );
    }
}

mod layers {
    use super::chat_support::payload_of;
    use super::chat_support::{config, open_as, Pair};
    use secretchat_common::chat::codec::CodecError;
    use secretchat_common::chat::{ChatError, Layer, Payload, TypingAction};
    use secretchat_common::envelope::Version;
    use secretchat_common::Side;

    #[test]
    fn typing_cannot_be_sent_to_a_layer_8_peer() {
        let mut pair = Pair::new(config(144), config(8), 30);
        pair.drive();
        let now = pair.now;
        assert_eq!(
            pair.a.typing(now, TypingAction::Typing, &mut pair.rng_a),
            Err(ChatError::Codec(CodecError::NotAtLayer {
                what: "decryptedMessageActionTyping",
                layer: Layer(8)
            }))
        );
    }

    #[test]
    fn messages_go_as_mtproto_1_below_layer_73_and_mtproto_2_from_73() {
        for (layer, version) in [(46, Version::V1), (73, Version::V2)] {
            let mut pair = Pair::new(config(144), config(layer), 31);
            pair.drive();
            pair.send_text(Side::Creator, "which version?");
            let packet = pair.to_b.back().unwrap().clone();
            let inbound = open_as(&pair.a, version, &packet.transmit.data);
            assert_eq!(inbound.wrapper.unwrap().layer, Layer(layer));
            assert!(matches!(payload_of(&inbound).1, Payload::Message(_)));
        }
    }

    #[test]
    fn layer_8_peers_get_bare_messages_without_seq_numbers() {
        let mut pair = Pair::new(config(144), config(8), 32);
        pair.drive();
        pair.send_text(Side::Creator, "bare");
        let packet = pair.to_b.back().unwrap().clone();
        let inbound = open_as(&pair.a, Version::V1, &packet.transmit.data);
        assert_eq!(inbound.wrapper, None);
        pair.drive();
        assert_eq!(pair.texts_received(Side::Participant), ["bare"]);
    }
}
