//! The chat on real wire bytes: media of every layer through a pair, the explain trace of
//! one message, the `decrypt_negative` vectors fed to a chat holding the vectors' key, and
//! what is ignored rather than processed (short random_bytes, an unknown inner message).

mod chat_support;

use chat_support::{config, current_key, Pair, START};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{
    AbortReason, ChatConfig, ChatError, ChatEvent, DhParams, FileKind, FileMedia, IgnoreReason,
    Layer, Media, Message, Profile, SecretChat, SendMethod,
};
use secretchat_common::envelope::{self, Version};
use secretchat_common::seq_no::{RawSeqNo, SeqField, SeqNoError, WireSeqNo};
use secretchat_common::tl::e2e::types;
use secretchat_common::tl::TlWrite;
use secretchat_common::{ChatKey, Side};

fn file(kind: FileKind, size: i64) -> FileMedia {
    FileMedia {
        kind,
        size,
        key: [0xa5; 32],
        iv: [0x5a; 32],
        mime_type: "video/mp4".to_owned(),
        caption: "holiday".to_owned(),
        file_name: "clip.mp4".to_owned(),
        thumb: vec![0xff, 0xd8],
        thumb_w: 90,
        thumb_h: 50,
        w: 1280,
        h: 720,
        duration: 12,
    }
}

/// What the receiver should see of `sent` at `layer`: the fields the layer's constructor
/// does not carry come back empty.
fn as_seen_at(layer: i32, sent: &FileMedia) -> FileMedia {
    let mut seen = sent.clone();
    let has = |l| layer >= l;
    match sent.kind {
        FileKind::Photo => {
            seen.mime_type.clear();
            seen.file_name.clear();
            seen.duration = 0;
            if !has(46) {
                seen.caption.clear();
            }
        }
        FileKind::Video => {
            seen.file_name.clear();
            if !has(17) {
                seen.mime_type.clear();
            }
            if !has(46) {
                seen.caption.clear();
            }
        }
        FileKind::Audio => {
            seen.file_name.clear();
            seen.caption.clear();
            seen.thumb.clear();
            (seen.thumb_w, seen.thumb_h, seen.w, seen.h) = (0, 0, 0, 0);
            if !has(17) {
                seen.mime_type.clear();
            }
        }
        FileKind::Document => {
            // Documents carry no duration (we send only file name and image size).
            seen.duration = 0;
            if !has(46) {
                seen.caption.clear();
                (seen.w, seen.h) = (0, 0);
            }
        }
    }
    seen
}

#[test]
fn files_of_every_kind_reach_the_peer_with_their_key_and_iv_at_layers_8_to_144() {
    for (seed, layer) in [(8, 8), (17, 17), (46, 46), (73, 73), (143, 143), (144, 144)] {
        let mut pair = Pair::new(config(144), config(layer), 600 + seed);
        pair.drive();
        for kind in [
            FileKind::Photo,
            FileKind::Video,
            FileKind::Document,
            FileKind::Audio,
        ] {
            let sent = file(kind, 4096);
            let now = pair.now;
            let message = Message {
                text: String::new(),
                media: Some(Media::File(Box::new(sent.clone()))),
                ..Message::default()
            };
            let random_id = pair.a.send_message(now, message, &mut pair.rng_a).unwrap();
            pair.collect();
            let transmit = pair.sent_by_a.last().unwrap();
            assert_eq!(transmit.method, SendMethod::SendEncryptedFile);
            pair.drive();
            let received = pair.events_b.iter().rev().find_map(|e| match e {
                ChatEvent::MessageReceived {
                    random_id: id,
                    message,
                } if *id == random_id => message.media.clone(),
                _ => None,
            });
            assert_eq!(
                received,
                Some(Media::File(Box::new(as_seen_at(layer, &sent)))),
                "{kind:?} at layer {layer}"
            );
        }
    }
}

#[test]
fn a_document_over_2_gib_goes_to_a_layer_143_peer_and_is_refused_for_a_layer_142_peer() {
    let big = file(FileKind::Document, 5_000_000_000);
    let message = Message {
        media: Some(Media::File(Box::new(big.clone()))),
        ..Message::default()
    };
    let mut old = Pair::new(config(144), config(142), 650);
    old.drive();
    let now = old.now;
    assert!(matches!(
        old.a.send_message(now, message.clone(), &mut old.rng_a),
        Err(ChatError::Codec(_))
    ));

    let mut new = Pair::new(config(144), config(143), 651);
    new.drive();
    let now = new.now;
    new.a.send_message(now, message, &mut new.rng_a).unwrap();
    new.drive();
    let received = new.events_b.iter().find_map(|e| match e {
        ChatEvent::MessageReceived { message, .. } => message.media.clone(),
        _ => None,
    });
    assert_eq!(received, Some(Media::File(Box::new(as_seen_at(143, &big)))));
}

#[test]
fn explain_trace_shows_msg_key_seq_numbers_raw_and_wire_and_each_verdict() {
    let explain = |layer| ChatConfig {
        explain: true,
        ..config(layer)
    };
    let mut pair = Pair::new(explain(144), explain(144), 660);
    pair.drive();
    while pair.a.poll_step().is_some() {}
    while pair.b.poll_step().is_some() {}

    pair.send_text(Side::Creator, "explain me");
    let transmit = pair.sent_by_a.last().unwrap().clone();
    let msg_key = hex::encode(&transmit.data[8..24]);
    let sent: Vec<_> = std::iter::from_fn(|| pair.a.poll_step()).collect();
    pair.drive();
    let received: Vec<_> = std::iter::from_fn(|| pair.b.poll_step()).collect();
    let text = |steps: &[secretchat_common::chat::Step]| {
        steps
            .iter()
            .map(|s| format!("{}: {}", s.kind, s.detail))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (sent, received) = (text(&sent), text(&received));

    // Both NotifyLayers went bare (each side still believed the other at layer 8), so they
    // used no seq numbers: this is A's first wrapped message, out raw 0 → wire 2·0+1 = 1
    // (the creator's out parity), in raw 0 → wire 0.
    assert!(
        sent.contains("assign in_seq_no raw 0 → wire 0, out_seq_no raw 0 → wire 1"),
        "{sent}"
    );
    assert!(sent.contains(&format!("msg_key {msg_key}")), "{sent}");
    assert!(sent.contains("V2 as Creator"), "{sent}");
    assert!(
        received.contains(&format!("V2 from the Creator: msg_key {msg_key} checked")),
        "{received}"
    );
    assert!(
        received
            .contains("in_seq_no wire 0 → raw 0, out_seq_no wire 1 → raw 0; expecting out raw 0"),
        "{received}"
    );
}

#[test]
fn explain_trace_shows_the_tl_object_as_json_and_the_same_aes_key_and_iv_on_both_sides() {
    let explain = |layer| ChatConfig {
        explain: true,
        ..config(layer)
    };
    let mut pair = Pair::new(explain(144), explain(144), 661);
    pair.drive();
    while pair.a.poll_step().is_some() {}
    while pair.b.poll_step().is_some() {}

    pair.send_text(Side::Creator, "explain the key");
    let sent: Vec<_> = std::iter::from_fn(|| pair.a.poll_step()).collect();
    pair.drive();
    let received: Vec<_> = std::iter::from_fn(|| pair.b.poll_step()).collect();
    let find = |steps: &[secretchat_common::chat::Step], kind: &str, needle: &str| {
        steps
            .iter()
            .find(|s| s.kind == kind && s.detail.contains(needle))
            .map(|s| s.detail.clone())
            .unwrap_or_else(|| panic!("no {kind} step with {needle:?} in {steps:#?}"))
    };
    let tl = find(&sent, "tl", "TL object: ");
    assert!(tl.contains(r#""_":"decryptedMessageLayer""#), "{tl}");
    assert!(tl.contains(r#""message":"explain the key""#), "{tl}");
    let sealed = find(&sent, "seal", "aes_key ");
    let opened = find(&received, "open", "aes_key ");
    // The receiver derives the same aes_key and aes_iv from the same msg_key.
    assert_eq!(sealed, opened);
    assert!(find(&received, "tl", "TL object: ").contains("explain the key"));
}

// ---- the decrypt_negative vectors, through the state machine ----

#[derive(serde::Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(serde::Deserialize)]
struct Vector {
    kind: String,
    name: String,
    inputs: serde_json::Value,
}

fn negative_vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/vectors.json"
    ))
    .unwrap();
    let all: Vectors = serde_json::from_str(&text).unwrap();
    all.vectors
        .into_iter()
        .filter(|v| v.kind == "decrypt_negative")
        .collect()
}

fn hex_input(vector: &Vector, field: &str) -> Vec<u8> {
    hex::decode(vector.inputs[field].as_str().unwrap()).unwrap()
}

/// A chat holding the vector's key, as the receiver the vector names, with the peer
/// known to speak `remote_layer`.
fn receiver_of(vector: &Vector, remote_layer: i32) -> SecretChat {
    let side = if vector.inputs["receiver_is_originator"].as_bool().unwrap() {
        Side::Creator
    } else {
        Side::Participant
    };
    let key = ChatKey::from_bytes(&hex_input(vector, "key")).unwrap();
    let config = ChatConfig {
        initial_remote_layer: Layer(remote_layer),
        ..ChatConfig::default()
    };
    let mut chat =
        SecretChat::from_key(config, DhParams::telegram(), 1, 2, side, key, START).unwrap();
    assert!(matches!(
        chat.poll_event(),
        Some(ChatEvent::Established { .. })
    ));
    assert!(chat.poll_transmit().is_none());
    chat
}

fn feed(chat: &mut SecretChat, wire: &[u8]) -> (Result<(), ChatError>, Vec<ChatEvent>) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let result = chat.handle_encrypted(START, wire, &mut rng);
    (result, std::iter::from_fn(|| chat.poll_event()).collect())
}

fn vector(name: &str) -> Vector {
    negative_vectors()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap()
}

#[test]
fn vector_v2_in_seq_no_wrong_parity_aborts_the_chat() {
    let v = vector("v2_in_seq_no_wrong_parity");
    let mut chat = receiver_of(&v, 144);
    let (result, events) = feed(&mut chat, &hex_input(&v, "wire"));
    assert!(matches!(result, Err(ChatError::Aborted { .. })));
    assert_eq!(
        events,
        [ChatEvent::Aborted {
            reason: AbortReason::SeqNo(SeqNoError::WrongParity {
                field: SeqField::In,
                got: WireSeqNo(1),
                sender: Side::Creator,
                expected_x: 0,
            })
        }]
    );
    assert!(chat.is_closed());
}

#[test]
fn vector_v2_reflected_own_message_is_refused_as_mirrored() {
    let v = vector("v2_reflected_own_message");
    let mut chat = receiver_of(&v, 144);
    let (result, events) = feed(&mut chat, &hex_input(&v, "wire"));
    assert!(matches!(result, Err(ChatError::Aborted { .. })));
    assert_eq!(
        events,
        [ChatEvent::Aborted {
            reason: AbortReason::MirroredMessage
        }]
    );
}

#[test]
fn every_decrypt_negative_vector_is_refused_by_the_chat_never_delivered() {
    let vectors = negative_vectors();
    assert!(vectors.len() >= 5);
    for v in &vectors {
        for layer in [46, 144] {
            let mut chat = receiver_of(v, layer);
            let (result, events) = feed(&mut chat, &hex_input(v, "wire"));
            let refused = match events.as_slice() {
                [ChatEvent::Aborted { .. }] => result.is_err(),
                [ChatEvent::Ignored { .. }] => result.is_ok(),
                _ => false,
            };
            assert!(
                refused,
                "{} at layer {layer}: {result:?} {events:?}",
                v.name
            );
        }
    }
}

// ---- ignored, not processed ----

/// Seals TL bytes as the creator of `pair` would (v2).
fn sealed_by_a(pair: &Pair, tl: &[u8]) -> Vec<u8> {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    envelope::seal(
        &current_key(&pair.a),
        Version::V2,
        Side::Creator,
        tl,
        &mut rng,
    )
    .unwrap()
}

#[test]
fn a_message_with_14_random_bytes_is_ignored() {
    // The spec's reading (SPEC §2.1); tdlib processes it (tests/chat_profiles.rs).
    let spec = ChatConfig {
        profile: Profile::Spec,
        ..config(144)
    };
    let mut pair = Pair::new(spec, spec, 670);
    pair.drive();
    let (_, received) = pair.b.seq_counters();
    let tl = types::DecryptedMessageLayer {
        random_bytes: vec![7; 14],
        layer: 144,
        in_seq_no: 0,
        out_seq_no: 3,
        message: types::DecryptedMessageService {
            random_id: 5,
            action: types::DecryptedMessageActionFlushHistory {}.into(),
        }
        .into(),
    }
    .to_bytes();
    let data = sealed_by_a(&pair, &tl);
    let now = pair.now;
    pair.b
        .handle_encrypted(now, &data, &mut pair.rng_b)
        .unwrap();
    assert_eq!(
        pair.b.poll_event(),
        Some(ChatEvent::Ignored {
            reason: IgnoreReason::RandomBytesTooShort { got: 14, min: 15 }
        })
    );
    assert_eq!(pair.b.seq_counters().1, received);
}

#[test]
fn an_unknown_inner_message_uses_up_its_seq_number_and_is_ignored() {
    // The spec's reading (SPEC §5); tdlib aborts (tests/chat_profiles.rs).
    let spec = ChatConfig {
        profile: Profile::Spec,
        ..config(144)
    };
    let mut pair = Pair::new(spec, spec, 671);
    pair.drive();
    let (_, received) = pair.b.seq_counters();
    let out_seq_no = received.to_wire(SeqField::Out, Side::Creator).unwrap();
    let mut tl = types::DecryptedMessageLayer {
        random_bytes: vec![7; 15],
        layer: 144,
        in_seq_no: 0,
        out_seq_no: out_seq_no.0,
        message: types::DecryptedMessageService {
            random_id: 5,
            action: types::DecryptedMessageActionNoop {}.into(),
        }
        .into(),
    }
    .to_bytes();
    // The inner constructor id follows id (4) + random_bytes (16) + three ints (12).
    tl[32..36].copy_from_slice(&0x0bad_c0de_u32.to_le_bytes());
    let data = sealed_by_a(&pair, &tl);
    let now = pair.now;
    pair.b
        .handle_encrypted(now, &data, &mut pair.rng_b)
        .unwrap();
    assert!(matches!(
        pair.b.poll_event(),
        Some(ChatEvent::Ignored {
            reason: IgnoreReason::UndecodableMessage { .. }
        })
    ));
    assert_eq!(pair.b.seq_counters().1, RawSeqNo(received.0 + 1));
    assert!(
        pair.b.poll_transmit().is_none(),
        "no Resend for a used-up number"
    );
}

// ---- MTProto 1.0 after 2.0 (SPEC §2.5), on chats made from one key ----

/// A message from the creator with raw out_seq_no `out`, sealed with `version`.
fn from_creator(key: &ChatKey, layer: i32, out: u32, version: Version) -> Vec<u8> {
    use secretchat_common::chat::codec::{self, Outbound, Wrapper};
    use secretchat_common::chat::Payload;
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(out));
    let payload = Payload::Message(Message {
        text: format!("message {out}"),
        ..Message::default()
    });
    let tl = codec::encode(
        Outbound {
            wrapper: Some(Wrapper {
                layer: Layer(layer),
                in_seq_no: WireSeqNo(0),
                out_seq_no: RawSeqNo(out).to_wire(SeqField::Out, Side::Creator).unwrap(),
            }),
            random_id: i64::from(out) + 100,
            payload: &payload,
        },
        &mut rng,
    )
    .unwrap();
    envelope::seal(key, version, Side::Creator, &tl, &mut rng).unwrap()
}

#[test]
fn mtproto_1_fills_a_gap_below_the_first_v2_message_but_is_refused_above_it() {
    let key = ChatKey::from_bytes(&[0x3c; 256]).unwrap();
    let config = ChatConfig {
        initial_remote_layer: Layer(46),
        ..ChatConfig::default()
    };
    let mut b = SecretChat::from_key(
        config,
        DhParams::telegram(),
        9,
        9,
        Side::Participant,
        key.clone(),
        START,
    )
    .unwrap();
    b.poll_event();
    let mut rng = ChaCha20Rng::seed_from_u64(5);

    // raw 1 under v2 first: a gap at raw 0, queued.
    b.handle_encrypted(START, &from_creator(&key, 46, 1, Version::V2), &mut rng)
        .unwrap();
    // raw 0 under v1: below the first v2 message, so it may still fill the gap.
    b.handle_encrypted(START, &from_creator(&key, 46, 0, Version::V1), &mut rng)
        .unwrap();
    let texts: Vec<_> = std::iter::from_fn(|| b.poll_event())
        .filter_map(|e| match e {
            ChatEvent::MessageReceived { message, .. } => Some(message.text),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["message 0", "message 1"]);

    // raw 2 under v1: above the first v2 message — a downgrade.
    let result = b.handle_encrypted(START, &from_creator(&key, 46, 2, Version::V1), &mut rng);
    assert!(matches!(result, Err(ChatError::Aborted { .. })));
    assert_eq!(
        b.poll_event(),
        Some(ChatEvent::Aborted {
            reason: AbortReason::MtProto1AfterMtProto2 {
                out_seq_no: RawSeqNo(2),
                v2_from: RawSeqNo(1),
            }
        })
    );
}
