//! Hostile modes: what a malicious server does, and a real client — the sans-I/O
//! `SecretChat` of `secretchat-common`, driven through the client API — refusing it (or,
//! for the man in the middle, not noticing anything but the key visualizations).

mod support;

use axum::http::StatusCode;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{
    AbortReason, AcceptedChat, ChatConfig, ChatEvent, DhParams, RequestedChat, SecretChat, UnixTime,
};
use secretchat_common::dh::{check_config, CheckedConfig, DhError};
use secretchat_common::envelope::{self, OpenError, Side, Version};
use secretchat_common::{ChatKey, KeyFingerprint};
use serde_json::{json, Value};
use support::{b64, unb64, Dev, Lab, ADMIN_TOKEN};

const NOW: UnixTime = UnixTime(1_700_000_000);

async fn hostile(lab: &Lab, body: Value) -> Value {
    let (status, answer) = lab
        .admin_call("POST", "/admin/hostile", Some(body), Some(ADMIN_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// One device running a real `SecretChat`, with its update state.
struct Client {
    dev: Dev,
    chat: Option<SecretChat>,
    peer: Value,
    rng: ChaCha20Rng,
    pts: i64,
    qts: i64,
    texts: Vec<String>,
    aborted: Option<AbortReason>,
}

impl Client {
    fn new(dev: Dev, seed: u64) -> Self {
        Self {
            dev,
            chat: None,
            peer: Value::Null,
            rng: ChaCha20Rng::seed_from_u64(seed),
            pts: 0,
            qts: 0,
            texts: Vec::new(),
            aborted: None,
        }
    }

    /// getDifference from the client's state: (other updates, encrypted messages).
    async fn updates(&mut self, lab: &Lab) -> (Vec<Value>, Vec<Value>) {
        let diff = lab
            .ok(
                &self.dev,
                "updates.getDifference",
                json!({"pts": self.pts, "qts": self.qts, "date": 0}),
            )
            .await;
        if diff["_"] == "updates.differenceEmpty" {
            return (vec![], vec![]);
        }
        self.pts = diff["state"]["pts"].as_i64().expect("pts");
        self.qts = diff["state"]["qts"].as_i64().expect("qts");
        let list = |key: &str| diff[key].as_array().cloned().unwrap_or_default();
        (list("other_updates"), list("new_encrypted_messages"))
    }

    /// Sends what the chat wants to send; hands it what arrived. Answers whether anything moved.
    async fn pump(&mut self, lab: &Lab) -> bool {
        let mut moved = false;
        let Some(chat) = self.chat.as_mut() else {
            return false;
        };
        while let Some(transmit) = chat.poll_transmit() {
            lab.ok(
                &self.dev,
                transmit.method.name(),
                json!({"peer": self.peer, "random_id": transmit.random_id.to_string(), "data": b64(&transmit.data)}),
            )
            .await;
            chat.handle_sent_ack(transmit.random_id);
            moved = true;
        }
        let (_, messages) = self.updates(lab).await;
        let chat = self.chat.as_mut().expect("chat");
        for message in messages {
            let _ = chat.handle_encrypted(NOW, &unb64(&message["bytes"]), &mut self.rng);
            moved = true;
        }
        while let Some(event) = chat.poll_event() {
            match event {
                ChatEvent::MessageReceived { message, .. } => self.texts.push(message.text),
                ChatEvent::Aborted { reason } => self.aborted = Some(reason),
                _ => {}
            }
        }
        moved
    }
}

/// alice requests a chat with bob with a real SecretChat; bob receives it. Answers both
/// clients (bob's chat not created yet) and bob's encryptedChatRequested.
async fn request(lab: &Lab) -> (Client, Client, Value) {
    let mut alice = Client::new(lab.sign_in("alice", "phone").await, 1);
    let mut bob = Client::new(lab.sign_in("bob", "phone").await, 2);
    let user = lab.input_user(&alice.dev, "bob").await;
    let (chat, request) = SecretChat::request(
        ChatConfig::default(),
        DhParams::telegram(),
        &[],
        NOW,
        &mut alice.rng,
    )
    .expect("request");
    let waiting = lab
        .ok(
            &alice.dev,
            "messages.requestEncryption",
            json!({"user_id": user, "random_id": request.random_id, "g_a": b64(&request.g_a)}),
        )
        .await;
    alice.chat = Some(chat);
    alice.peer = json!({"_": "inputEncryptedChat", "chat_id": request.random_id, "access_hash": waiting["access_hash"]});
    let (others, _) = bob.updates(lab).await;
    let requested = others
        .iter()
        .find(|u| u["chat"]["_"] == "encryptedChatRequested")
        .unwrap_or_else(|| panic!("bob was not told: {others:?}"))["chat"]
        .clone();
    (alice, bob, requested)
}

fn requested_chat(requested: &Value) -> RequestedChat {
    RequestedChat {
        id: requested["id"].as_i64().expect("id") as i32,
        access_hash: requested["access_hash"]
            .as_str()
            .expect("hash")
            .parse()
            .expect("long"),
        g_a: unb64(&requested["g_a"]),
    }
}

/// bob accepts with a real SecretChat; alice handles the encryptedChat she is told.
async fn accept(
    lab: &Lab,
    alice: &mut Client,
    bob: &mut Client,
    requested: &Value,
) -> Result<(), secretchat_common::chat::ChatError> {
    let requested = requested_chat(requested);
    let chat_id = requested.id;
    bob.peer = json!({"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": requested.access_hash.to_string()});
    let mut chat =
        SecretChat::from_requested(ChatConfig::default(), DhParams::telegram(), requested, NOW)?;
    let acceptance = chat.accept(NOW, &[], &mut bob.rng)?;
    bob.chat = Some(chat);
    lab.ok(
        &bob.dev,
        "messages.acceptEncryption",
        json!({"peer": bob.peer, "g_b": b64(&acceptance.g_b), "key_fingerprint": acceptance.key_fingerprint.as_i64().to_string()}),
    )
    .await;
    let (others, _) = alice.updates(lab).await;
    let accepted = others
        .iter()
        .find(|u| u["chat"]["_"] == "encryptedChat")
        .unwrap_or_else(|| panic!("alice was not told: {others:?}"))["chat"]
        .clone();
    let chat = alice.chat.as_mut().expect("alice's chat");
    chat.handle_accepted(
        NOW,
        AcceptedChat {
            id: chat_id,
            access_hash: accepted["access_hash"]
                .as_str()
                .expect("hash")
                .parse()
                .expect("long"),
            g_a_or_b: unb64(&accepted["g_a_or_b"]),
            key_fingerprint: KeyFingerprint::from_i64(
                accepted["key_fingerprint"]
                    .as_str()
                    .expect("fp")
                    .parse()
                    .expect("long"),
            ),
        },
        &mut alice.rng,
    )
}

async fn drive(lab: &Lab, alice: &mut Client, bob: &mut Client) {
    for _ in 0..20 {
        let a = alice.pump(lab).await;
        let b = bob.pump(lab).await;
        if !a && !b {
            return;
        }
    }
    panic!("the two clients never went quiet");
}

#[tokio::test]
async fn a_man_in_the_middle_goes_unnoticed_except_by_the_key_visualizations() {
    let lab = Lab::new();
    hostile(
        &lab,
        json!({"next_chat_of": "alice", "mode": {"type": "mitm"}, "seed": 5}),
    )
    .await;
    let (mut alice, mut bob, requested) = request(&lab).await;
    accept(&lab, &mut alice, &mut bob, &requested)
        .await
        .expect("both fingerprint checks pass");
    drive(&lab, &mut alice, &mut bob).await;

    let now = NOW;
    alice
        .chat
        .as_mut()
        .unwrap()
        .send_text(now, "hello bob", 0, &mut alice.rng)
        .unwrap();
    drive(&lab, &mut alice, &mut bob).await;
    bob.chat
        .as_mut()
        .unwrap()
        .send_text(now, "hi alice", 0, &mut bob.rng)
        .unwrap();
    alice
        .chat
        .as_mut()
        .unwrap()
        .send_text(now, "how are you", 0, &mut alice.rng)
        .unwrap();
    drive(&lab, &mut alice, &mut bob).await;
    assert_eq!(bob.texts, vec!["hello bob", "how are you"]);
    assert_eq!(alice.texts, vec!["hi alice"]);
    assert_eq!((alice.aborted.clone(), bob.aborted.clone()), (None, None));

    let alice_picture = alice
        .chat
        .as_ref()
        .unwrap()
        .visualization()
        .expect("established");
    let bob_picture = bob
        .chat
        .as_ref()
        .unwrap()
        .visualization()
        .expect("established");
    assert_ne!(
        alice_picture, bob_picture,
        "the pictures give the MitM away"
    );

    let chat_id = requested["id"].as_i64().unwrap();
    let (status, keys) = lab
        .admin_call(
            "GET",
            &format!("/admin/hostile/mitm?chat_id={chat_id}"),
            None,
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(
        keys["key_with_admin"]["visualization"],
        hex::encode(alice_picture.as_bytes())
    );
    assert_eq!(
        keys["key_with_participant"]["visualization"],
        hex::encode(bob_picture.as_bytes())
    );
    assert!(
        keys["messages_reencrypted"].as_u64().unwrap() >= 3,
        "{keys}"
    );
    assert_eq!(keys["messages_forwarded_unopened"], 0);

    let (_, log) = lab
        .admin_call("GET", "/admin/events", None, Some(ADMIN_TOKEN))
        .await;
    let keys_event = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "hostile" && e["key_with_participant"].is_object())
        .cloned()
        .expect("the keys are logged side by side");
    assert_eq!(keys_event["seed"], 5);
    assert_eq!(
        keys_event["participant_fingerprint_matches_key_with_participant"],
        true
    );
}

#[tokio::test]
async fn an_altered_fingerprint_makes_the_requester_abort_with_a_fingerprint_mismatch() {
    let lab = Lab::new();
    hostile(
        &lab,
        json!({"next_chat_of": "alice", "mode": {"type": "altered_fingerprint"}}),
    )
    .await;
    let (mut alice, mut bob, requested) = request(&lab).await;
    let error = accept(&lab, &mut alice, &mut bob, &requested)
        .await
        .unwrap_err();
    let chat = alice.chat.as_mut().unwrap();
    let Some(ChatEvent::Aborted {
        reason:
            AbortReason::KeyFingerprintMismatch {
                announced,
                computed,
            },
    }) = std::iter::from_fn(|| chat.poll_event()).last()
    else {
        panic!("expected a fingerprint mismatch, got {error}");
    };
    assert_eq!(announced.as_i64(), computed.as_i64() ^ 1);
}

#[tokio::test]
async fn each_degenerate_g_a_makes_the_accepting_side_refuse_with_the_range_error() {
    for (value, expected) in [
        ("zero", "PublicValueNotAboveOne"),
        ("one", "PublicValueNotAboveOne"),
        ("p_minus_1", "PublicValueNotBelowPMinusOne"),
        ("below_2_1984", "PublicValueNotAboveSafetyBound"),
    ] {
        let lab = Lab::new();
        hostile(
            &lab,
            json!({"next_chat_of": "alice", "mode": {"type": "degenerate_g_a", "value": value}}),
        )
        .await;
        let (_, mut bob, requested) = request(&lab).await;
        let mut chat = SecretChat::from_requested(
            ChatConfig::default(),
            DhParams::telegram(),
            requested_chat(&requested),
            NOW,
        )
        .expect("created, not yet accepted");
        chat.accept(NOW, &[], &mut bob.rng)
            .expect_err("must refuse");
        let Some(ChatEvent::Aborted {
            reason:
                AbortReason::InvalidPublicValue {
                    value: "g_a",
                    error,
                },
        }) = std::iter::from_fn(|| chat.poll_event()).last()
        else {
            panic!("{value}: expected InvalidPublicValue for g_a");
        };
        assert!(
            format!("{error:?}").starts_with(expected),
            "{value}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_degenerate_g_b_makes_the_requester_abort() {
    let lab = Lab::new();
    hostile(
        &lab,
        json!({"next_chat_of": "alice", "mode": {"type": "degenerate_g_b", "value": "one"}}),
    )
    .await;
    let (mut alice, mut bob, requested) = request(&lab).await;
    accept(&lab, &mut alice, &mut bob, &requested)
        .await
        .expect_err("must refuse");
    let chat = alice.chat.as_mut().unwrap();
    let Some(ChatEvent::Aborted { reason }) = std::iter::from_fn(|| chat.poll_event()).last()
    else {
        panic!("expected an abort");
    };
    assert!(
        matches!(
            reason,
            AbortReason::InvalidPublicValue {
                value: "g_b",
                error: DhError::PublicValueNotAboveOne { .. }
            }
        ),
        "{reason:?}"
    );
}

#[tokio::test]
async fn each_bad_dh_config_is_refused_by_the_client_check_with_its_exact_error() {
    let lab = Lab::new();
    let dev = lab.sign_in("alice", "phone").await;
    let other = lab.sign_in("bob", "phone").await;
    for (params, check) in [
        (
            "non_safe_prime",
            (|e: &DhError| *e == DhError::PrimeNotSafe) as fn(&DhError) -> bool,
        ),
        ("composite", |e| *e == DhError::PrimeNotPrime),
        ("wrong_size", |e| {
            matches!(
                e,
                DhError::PrimeWrongSize {
                    bits: 2047,
                    len: 256
                }
            )
        }),
        ("g_not_residue", |e| {
            matches!(e, DhError::GeneratorNotQuadraticResidue { g: 2, .. })
        }),
        ("g_one", |e| *e == DhError::GeneratorOutOfRange { g: 1 }),
    ] {
        lab.admin_call("DELETE", "/admin/hostile", None, Some(ADMIN_TOKEN))
            .await;
        hostile(&lab, json!({"device": {"user": "alice", "device": "phone"}, "mode": {"type": "bad_dh", "params": params}})).await;
        let served = lab
            .ok(
                &dev,
                "messages.getDhConfig",
                json!({"version": 1, "random_length": 256}),
            )
            .await;
        assert_eq!(
            served["_"], "messages.dhConfig",
            "{params}: even a cached version gets the bad values"
        );
        assert_eq!(unb64(&served["random"]).len(), 256);
        let error =
            check_config(&unb64(&served["p"]), served["g"].as_i64().unwrap() as i32).unwrap_err();
        assert!(check(&error), "{params}: {error:?}");
        // Another device is served the real parameters.
        let fine = lab
            .ok(
                &other,
                "messages.getDhConfig",
                json!({"version": 0, "random_length": 0}),
            )
            .await;
        check_config(&unb64(&fine["p"]), fine["g"].as_i64().unwrap() as i32).expect("untouched");
    }
}

/// Sends one sealed message from alice to bob through a chat in padding-malleability mode
/// and answers what bob received.
async fn malleated(variant: Value, wire: &[u8]) -> Vec<u8> {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let bob = lab.sign_in("bob", "phone").await;
    hostile(&lab, json!({"chat_id": 9, "mode": {"type": "padding_malleability", "variant": variant["variant"], "blocks": variant.get("blocks")}})).await;
    let (peer, _) = lab.chat(&alice, &bob, "bob", 9).await;
    let (status, answer) = lab.send_message(&alice, &peer, 1, wire).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let diff = lab.difference(&bob, 0, 0).await;
    unb64(&diff["new_encrypted_messages"][0]["bytes"])
}

fn key() -> ChatKey {
    ChatKey::from_bytes(&[0x42; 256]).unwrap()
}

#[tokio::test]
async fn appended_padding_blocks_are_rejected_by_v1_padding_bounds_and_by_v2_msg_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let tl = [7u8; 20];
    let v1 = envelope::seal(&key(), Version::V1, Side::Creator, &tl, &mut rng).unwrap();
    let got = malleated(json!({"variant": "append_blocks", "blocks": 2}), &v1).await;
    assert_eq!(got.len(), v1.len() + 32);
    assert_eq!(
        envelope::open(&key(), Version::V1, Side::Creator, &got).unwrap_err(),
        OpenError::V1PaddingNotMinimal {
            padding: 32 + 8,
            expected: 8
        }
    );
    let v2 = envelope::seal(&key(), Version::V2, Side::Creator, &tl, &mut rng).unwrap();
    let got = malleated(json!({"variant": "append_blocks", "blocks": 2}), &v2).await;
    assert_eq!(
        envelope::open(&key(), Version::V2, Side::Creator, &got).unwrap_err(),
        OpenError::MsgKeyMismatch
    );
}

#[tokio::test]
async fn a_rewritten_last_block_is_rejected_by_v2_msg_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let v2 = envelope::seal(&key(), Version::V2, Side::Creator, &[7u8; 20], &mut rng).unwrap();
    let got = malleated(json!({"variant": "rewrite_last_block"}), &v2).await;
    assert_eq!(got.len(), v2.len());
    assert_eq!(
        envelope::open(&key(), Version::V2, Side::Creator, &got).unwrap_err(),
        OpenError::MsgKeyMismatch
    );
}

#[tokio::test]
async fn a_hostile_mode_with_a_bad_target_gets_a_clear_error() {
    let lab = Lab::new();
    for (body, needle) in [
        (json!({"mode": {"type": "mitm"}}), "exactly one"),
        (
            json!({"chat_id": 1, "mode": {"type": "bad_dh", "params": "g_one"}}),
            "device",
        ),
        (
            json!({"chat_id": 1, "mode": {"type": "teleport"}}),
            "teleport",
        ),
    ] {
        let (status, answer) = lab
            .admin_call("POST", "/admin/hostile", Some(body), Some(ADMIN_TOKEN))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["detail"].as_str().unwrap_or("").contains(needle),
            "{answer}"
        );
    }
    let _ = CheckedConfig::telegram_default();
}

/// alice uploads `fill` bytes as one 4096-byte part of `file_id` and answers the
/// `inputEncryptedFileUploaded` naming it.
async fn upload(lab: &Lab, alice: &Dev, file_id: &str, fill: u8) -> Value {
    lab.ok(
        alice,
        "upload.saveFilePart",
        json!({"file_id": file_id, "file_part": 0, "bytes": b64(&[fill; 4096])}),
    )
    .await;
    json!({"_": "inputEncryptedFileUploaded", "id": file_id, "parts": 1, "md5_checksum": "", "key_fingerprint": 7})
}

/// A file alice sends in chat 9 (with `mode` installed first), as bob downloads it.
async fn downloaded(mode: impl FnOnce(&str) -> Value) -> Vec<u8> {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let bob = lab.sign_in("bob", "phone").await;
    let (peer, _) = lab.chat(&alice, &bob, "bob", 9).await;
    let other = upload(&lab, &alice, "1", 0x22).await;
    let stored = lab
        .ok(
            &alice,
            "messages.uploadEncryptedFile",
            json!({"peer": peer, "file": other}),
        )
        .await;
    hostile(&lab, mode(stored["id"].as_str().expect("file id"))).await;
    let file = upload(&lab, &alice, "2", 0x11).await;
    lab.ok(
        &alice,
        "messages.sendEncryptedFile",
        json!({"peer": peer, "random_id": "1", "data": b64(&support::blob(2, 1)), "file": file}),
    )
    .await;
    let diff = lab.difference(&bob, 0, 0).await;
    let sent = &diff["new_encrypted_messages"][0]["file"];
    let location = json!({"_": "inputEncryptedFileLocation", "id": sent["id"], "access_hash": sent["access_hash"]});
    let got = lab
        .ok(
            &bob,
            "upload.getFile",
            json!({"location": location, "offset": "0", "limit": 4096}),
        )
        .await;
    unb64(&got["bytes"])
}

#[tokio::test]
async fn a_truncated_file_is_served_exactly_the_given_bytes_shorter() {
    let got =
        downloaded(|_| json!({"chat_id": 9, "mode": {"type": "truncate_file", "bytes": 16}})).await;
    assert_eq!(got, vec![0x11; 4096 - 16]);
}

#[tokio::test]
async fn a_swapped_file_is_served_with_the_other_files_bytes() {
    let got = downloaded(
        |other| json!({"chat_id": 9, "mode": {"type": "swap_file", "with_file_id": other}}),
    )
    .await;
    assert_eq!(got, vec![0x22; 4096]);
}
