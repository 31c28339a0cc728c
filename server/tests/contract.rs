//! Contract tests: every method through the router (`oneshot`), its success, each error
//! it can return (with the exact `error_message`, and no state change), and who may call it.

mod support;

use serde_json::json;
use support::{b64, blob, public, Dev, Lab};

async fn two_users(lab: &Lab) -> (Dev, Dev) {
    (
        lab.sign_in("alice", "phone").await,
        lab.sign_in("bob", "phone").await,
    )
}

// ---- the request itself -------------------------------------------------------------------

#[tokio::test]
async fn unknown_method_is_input_method_invalid() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    lab.refuses(
        "messages.sendMessage",
        [(&alice, json!({}), "INPUT_METHOD_INVALID")],
    )
    .await;
}

#[tokio::test]
async fn calls_without_a_known_token_are_auth_key_unregistered() {
    let lab = Lab::new();
    lab.fails(
        None,
        "updates.getState",
        json!({}),
        401,
        "AUTH_KEY_UNREGISTERED",
    )
    .await;
    let forged = Dev {
        token: "forged".into(),
        user_id: "1".into(),
    };
    lab.fails(
        Some(&forged),
        "updates.getState",
        json!({}),
        401,
        "AUTH_KEY_UNREGISTERED",
    )
    .await;
    let admin = Dev {
        token: support::ADMIN_TOKEN.into(),
        user_id: "0".into(),
    };
    lab.fails(
        Some(&admin),
        "updates.getState",
        json!({}),
        401,
        "AUTH_KEY_UNREGISTERED",
    )
    .await;
}

#[tokio::test]
async fn malformed_bodies_are_input_request_invalid_with_a_detail() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let cases = [
        "{not json",
        "[1,2]",
        r#"{"version": "1", "random_length": 0}"#,
        r#"{"version": 1}"#,
        r#"{"version": 1, "random_length": 0, "typo": 1}"#,
        r#"{"_": "messages.requestEncryption", "version": 1, "random_length": 0}"#,
    ];
    for body in cases {
        let (status, value) = lab
            .raw(Some(&alice.token), "messages.getDhConfig", body)
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(value["error_message"], "INPUT_REQUEST_INVALID", "{body}");
        assert!(!value["detail"].as_str().unwrap_or("").is_empty(), "{body}");
    }
    let (status, value) = lab
        .raw(
            Some(&alice.token),
            "upload.saveFilePart",
            r#"{"file_id":"1","file_part":0,"bytes":"***"}"#,
        )
        .await;
    assert_eq!(
        (status.as_u16(), value["error_message"].as_str()),
        (400, Some("INPUT_REQUEST_INVALID"))
    );
}

#[tokio::test]
async fn oversize_bodies_are_input_request_too_long() {
    let mut config = secretchat_server::config::ServerConfig::for_tests();
    config.limits.max_body_bytes = 1000;
    let lab = Lab::with_config(config);
    let alice = lab.sign_in("alice", "phone").await;
    let body = json!({"file_id": "1", "file_part": 0, "bytes": b64(&[0; 2048])});
    lab.fails(
        Some(&alice),
        "upload.saveFilePart",
        body,
        413,
        "INPUT_REQUEST_TOO_LONG",
    )
    .await;
}

// ---- sign-in --------------------------------------------------------------------------------

#[tokio::test]
async fn sign_in_answers_the_user_and_a_token_and_log_out_revokes_it() {
    let lab = Lab::new();
    let (status, auth) = lab
        .call(
            None,
            "auth.signIn",
            json!({"username": "bob", "device": "laptop"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(auth["_"], "auth.authorization");
    assert_eq!(auth["user"]["_"], "user");
    assert_eq!(auth["user"]["username"], "bob");
    let bob = Dev {
        token: auth["token"].as_str().unwrap().into(),
        user_id: auth["user"]["id"].as_str().unwrap().into(),
    };
    assert_eq!(lab.ok(&bob, "auth.logOut", json!({})).await, json!(true));
    lab.fails(
        Some(&bob),
        "updates.getState",
        json!({}),
        401,
        "AUTH_KEY_UNREGISTERED",
    )
    .await;
}

#[tokio::test]
async fn sign_in_refuses_bad_names_and_too_many_devices() {
    let mut config = secretchat_server::config::ServerConfig::for_tests();
    config.limits.max_devices_per_user = 1;
    let lab = Lab::with_config(config);
    lab.fails(
        None,
        "auth.signIn",
        json!({"username": "b o b", "device": "x"}),
        400,
        "USERNAME_INVALID",
    )
    .await;
    lab.sign_in("bob", "phone").await;
    lab.fails(
        None,
        "auth.signIn",
        json!({"username": "bob", "device": "laptop"}),
        400,
        "DEVICES_TOO_MANY",
    )
    .await;
}

#[tokio::test]
async fn resolve_username_gives_an_access_hash_per_viewer() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let carol = lab.sign_in("carol", "phone").await;
    let by_alice = lab
        .ok(
            &alice,
            "contacts.resolveUsername",
            json!({"username": "bob"}),
        )
        .await;
    let by_carol = lab
        .ok(
            &carol,
            "contacts.resolveUsername",
            json!({"username": "bob"}),
        )
        .await;
    assert_eq!(by_alice["id"], bob.user_id);
    assert_ne!(by_alice["access_hash"], by_carol["access_hash"]);
    lab.refuses(
        "contacts.resolveUsername",
        [(
            &alice,
            json!({"username": "nobody"}),
            "USERNAME_NOT_OCCUPIED",
        )],
    )
    .await;
}

// ---- getDhConfig ------------------------------------------------------------------------------

#[tokio::test]
async fn get_dh_config_serves_telegrams_prime_and_honours_random_length() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let config = lab
        .ok(
            &alice,
            "messages.getDhConfig",
            json!({"version": 0, "random_length": 256}),
        )
        .await;
    assert_eq!(config["_"], "messages.dhConfig");
    assert_eq!(config["g"], 3);
    assert_eq!(
        support::unb64(&config["p"]),
        secretchat_common::dh::TELEGRAM_PRIME.to_vec()
    );
    assert_eq!(support::unb64(&config["random"]).len(), 256);
    let same = lab
        .ok(
            &alice,
            "messages.getDhConfig",
            json!({"version": config["version"], "random_length": 0}),
        )
        .await;
    assert_eq!(
        same,
        json!({"_": "messages.dhConfigNotModified", "random": ""})
    );
    lab.refuses(
        "messages.getDhConfig",
        [
            (
                &alice,
                json!({"version": 0, "random_length": -1}),
                "RANDOM_LENGTH_INVALID",
            ),
            (
                &alice,
                json!({"version": 0, "random_length": 1025}),
                "RANDOM_LENGTH_INVALID",
            ),
        ],
    )
    .await;
}

// ---- the key exchange --------------------------------------------------------------------------

#[tokio::test]
async fn request_goes_to_every_participant_device_with_chat_id_equal_to_random_id() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let bob_phone = lab.sign_in("bob", "phone").await;
    let bob_laptop = lab.sign_in("bob", "laptop").await;
    let waiting = lab.request(&alice, "bob", 77).await;
    assert_eq!(waiting["_"], "encryptedChatWaiting");
    assert_eq!(waiting["id"], 77);
    assert_eq!(waiting["admin_id"], alice.user_id);
    assert_eq!(waiting["participant_id"], bob_phone.user_id);
    for dev in [&bob_phone, &bob_laptop] {
        let diff = lab.difference(dev, 0, 0).await;
        let chat = &diff["other_updates"][0]["chat"];
        assert_eq!(chat["_"], "encryptedChatRequested");
        assert_eq!(support::unb64(&chat["g_a"]), public(1));
        assert_ne!(chat["access_hash"], waiting["access_hash"]);
    }
}

#[tokio::test]
async fn a_request_naming_a_wrong_user_or_carrying_a_bad_g_a_or_random_id_is_refused() {
    let lab = Lab::new();
    let (alice, _bob) = two_users(&lab).await;
    let bob_user = lab.input_user(&alice, "bob").await;
    let request = |user: serde_json::Value, random_id: i32, g_a: Vec<u8>| json!({"user_id": user, "random_id": random_id, "g_a": b64(&g_a)});
    let wrong_hash = json!({"_": "inputUser", "user_id": bob_user["user_id"], "access_hash": "1"});
    lab.refuses(
        "messages.requestEncryption",
        [
            (&alice, request(wrong_hash, 5, public(1)), "USER_ID_INVALID"),
            (
                &alice,
                request(json!({"_": "inputUserSelf"}), 5, public(1)),
                "USER_ID_INVALID",
            ),
            (
                &alice,
                request(bob_user.clone(), 5, vec![1]),
                "DH_G_A_INVALID",
            ),
            (
                &alice,
                request(bob_user.clone(), 0, public(1)),
                "RANDOM_ID_INVALID",
            ),
        ],
    )
    .await;
    lab.ok(
        &alice,
        "messages.requestEncryption",
        request(bob_user.clone(), 5, public(1)),
    )
    .await;
    lab.refuses(
        "messages.requestEncryption",
        [(
            &alice,
            request(bob_user.clone(), 5, public(3)),
            "RANDOM_ID_DUPLICATE",
        )],
    )
    .await;
}

#[tokio::test]
async fn repeating_a_request_answers_the_same_and_tells_nobody_again() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let first = lab.request(&alice, "bob", 9).await;
    let again = lab.request(&alice, "bob", 9).await;
    assert_eq!(first, again);
    let diff = lab.difference(&bob, 0, 0).await;
    assert_eq!(diff["other_updates"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn accept_binds_one_device_tells_the_initiator_and_discards_for_the_others() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let alice_laptop = lab.sign_in("alice", "laptop").await;
    let bob_phone = lab.sign_in("bob", "phone").await;
    let bob_laptop = lab.sign_in("bob", "laptop").await;
    lab.request(&alice, "bob", 11).await;
    let peer = lab.requested_peer(&bob_phone, 11).await;
    let accepted = lab.accept(&bob_phone, &peer).await;
    assert_eq!(accepted["_"], "encryptedChat");
    assert_eq!(support::unb64(&accepted["g_a_or_b"]), public(1));
    assert_eq!(accepted["key_fingerprint"], "1234");

    let alice_diff = lab.difference(&alice, 0, 0).await;
    let chat = &alice_diff["other_updates"][0]["chat"];
    assert_eq!(chat["_"], "encryptedChat");
    assert_eq!(support::unb64(&chat["g_a_or_b"]), public(2));
    assert_eq!(chat["key_fingerprint"], "1234");
    // Nothing for alice's laptop: from 0/0 it is only told the counters it is behind on,
    // and from those it is up to date.
    let laptop = lab.difference(&alice_laptop, 0, 0).await;
    assert_eq!(laptop["_"], "updates.difference");
    assert_eq!(laptop["other_updates"], json!([]));
    assert_eq!(laptop["new_encrypted_messages"], json!([]));
    let (pts, qts) = (&laptop["state"]["pts"], &laptop["state"]["qts"]);
    let again = lab
        .difference(
            &alice_laptop,
            pts.as_i64().unwrap() as i32,
            qts.as_i64().unwrap() as i32,
        )
        .await;
    assert_eq!(again["_"], "updates.differenceEmpty");

    let laptop_diff = lab.difference(&bob_laptop, 0, 0).await;
    assert_eq!(
        laptop_diff["other_updates"][1]["chat"],
        json!({"_": "encryptedChatDiscarded", "id": 11})
    );
    // The race: the other device accepts too.
    lab.refuses(
        "messages.acceptEncryption",
        [(
            &bob_laptop,
            json!({"peer": peer, "g_b": b64(&public(3)), "key_fingerprint": "5"}),
            "ENCRYPTION_ALREADY_ACCEPTED",
        )],
    )
    .await;
    // The same device repeating gets the same answer.
    assert_eq!(lab.accept(&bob_phone, &peer).await, accepted);
}

#[tokio::test]
async fn an_accept_from_a_device_off_the_chat_or_with_a_bad_g_b_or_after_a_discard_is_refused() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let carol = lab.sign_in("carol", "phone").await;
    lab.request(&alice, "bob", 12).await;
    let peer = lab.requested_peer(&bob, 12).await;
    let accept = |peer: serde_json::Value, g_b: Vec<u8>| json!({"peer": peer, "g_b": b64(&g_b), "key_fingerprint": "1"});
    lab.refuses(
        "messages.acceptEncryption",
        [
            (&carol, accept(peer.clone(), public(2)), "CHAT_ID_INVALID"),
            (&alice, accept(peer.clone(), public(2)), "CHAT_ID_INVALID"),
        ],
    )
    .await;
    let wrong = json!({"_": "inputEncryptedChat", "chat_id": 12, "access_hash": "1"});
    lab.refuses(
        "messages.acceptEncryption",
        [
            (&bob, accept(wrong, public(2)), "CHAT_ID_INVALID"),
            (
                &bob,
                accept(peer.clone(), vec![0xff; 256]),
                "DH_G_B_INVALID",
            ),
        ],
    )
    .await;
    lab.ok(&alice, "messages.discardEncryption", json!({"chat_id": 12}))
        .await;
    lab.refuses(
        "messages.acceptEncryption",
        [(&bob, accept(peer, public(2)), "ENCRYPTION_ALREADY_DECLINED")],
    )
    .await;
}

#[tokio::test]
async fn discard_tells_the_other_side_and_the_races_answer_real_errors() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let carol = lab.sign_in("carol", "phone").await;
    let bob_laptop = lab.sign_in("bob", "laptop").await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 13).await;
    lab.refuses(
        "messages.discardEncryption",
        [
            (&alice, json!({"chat_id": 0}), "CHAT_ID_EMPTY"),
            (&alice, json!({"chat_id": 99}), "ENCRYPTION_ID_INVALID"),
            (&carol, json!({"chat_id": 13}), "ENCRYPTION_ID_INVALID"),
            (
                &bob_laptop,
                json!({"chat_id": 13}),
                "ENCRYPTION_ALREADY_ACCEPTED",
            ),
        ],
    )
    .await;
    assert_eq!(
        lab.ok(
            &bob,
            "messages.discardEncryption",
            json!({"chat_id": 13, "delete_history": true})
        )
        .await,
        json!(true)
    );
    let diff = lab.difference(&alice, 0, 0).await;
    let last = diff["other_updates"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["chat"],
        json!({"_": "encryptedChatDiscarded", "history_deleted": true, "id": 13})
    );
    lab.refuses(
        "messages.discardEncryption",
        [(
            &alice,
            json!({"chat_id": 13}),
            "ENCRYPTION_ALREADY_DECLINED",
        )],
    )
    .await;
    lab.refuses(
        "messages.sendEncrypted",
        [(
            &alice,
            json!({"peer": alice_peer, "random_id": "1", "data": b64(&blob(1, 0))}),
            "ENCRYPTION_DECLINED",
        )],
    )
    .await;
}

// ---- sending -------------------------------------------------------------------------------------

#[tokio::test]
async fn send_delivers_to_the_bound_device_with_consecutive_qts_starting_at_2() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 21).await;
    let state = lab.ok(&bob, "updates.getState", json!({})).await;
    assert_eq!(state["qts"], 1);
    let (status, sent) = lab
        .send_message(&alice, &alice_peer, 1001, &blob(2, 7))
        .await;
    assert_eq!(status, 200);
    assert_eq!(sent["_"], "messages.sentEncryptedMessage");
    let service = lab
        .ok(
            &alice,
            "messages.sendEncryptedService",
            json!({"peer": alice_peer, "random_id": "1002", "data": b64(&blob(1, 8))}),
        )
        .await;
    assert_eq!(service["_"], "messages.sentEncryptedMessage");
    let diff = lab
        .difference(&bob, state["pts"].as_i64().unwrap() as i32, 1)
        .await;
    assert_eq!(diff["state"]["qts"], 3);
    let messages = diff["new_encrypted_messages"].as_array().unwrap();
    assert_eq!(messages[0]["_"], "encryptedMessage");
    assert_eq!(messages[0]["random_id"], "1001");
    assert_eq!(messages[0]["chat_id"], 21);
    assert_eq!(messages[0]["date"], sent["date"]);
    assert_eq!(messages[0]["file"], json!({"_": "encryptedFileEmpty"}));
    assert_eq!(support::unb64(&messages[0]["bytes"]), blob(2, 7));
    assert_eq!(messages[1]["_"], "encryptedMessageService");
}

#[tokio::test]
async fn a_resent_random_id_gets_the_same_answer_and_is_delivered_once() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 22).await;
    let (_, first) = lab.send_message(&alice, &alice_peer, 5, &blob(1, 1)).await;
    lab.state.clock.advance(3);
    let (_, again) = lab.send_message(&alice, &alice_peer, 5, &blob(1, 1)).await;
    assert_eq!(first, again);
    let diff = lab.difference(&bob, 0, 0).await;
    assert_eq!(diff["new_encrypted_messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_send_off_the_chat_with_bad_data_into_a_full_queue_or_a_reused_random_id_is_refused() {
    let mut config = secretchat_server::config::ServerConfig::for_tests();
    config.limits.max_message_bytes = 1024;
    config.limits.max_queue_len = 1;
    let lab = Lab::with_config(config);
    let (alice, bob) = two_users(&lab).await;
    let bob_laptop = lab.sign_in("bob", "laptop").await;
    let carol = lab.sign_in("carol", "phone").await;
    lab.request(&alice, "bob", 23).await;
    let bob_peer = lab.requested_peer(&bob, 23).await;
    let send = |peer: &serde_json::Value, random_id: &str, data: Vec<u8>| json!({"peer": peer, "random_id": random_id, "data": b64(&data)});
    // Not accepted yet.
    lab.refuses(
        "messages.sendEncrypted",
        [(&bob, send(&bob_peer, "1", blob(1, 0)), "CHAT_ID_INVALID")],
    )
    .await;
    lab.accept(&bob, &bob_peer).await;
    lab.refuses(
        "messages.sendEncrypted",
        [
            (&carol, send(&bob_peer, "1", blob(1, 0)), "CHAT_ID_INVALID"),
            (
                &bob_laptop,
                send(&bob_peer, "1", blob(1, 0)),
                "CHAT_ID_INVALID",
            ),
            (&bob, send(&bob_peer, "1", vec![0; 30]), "DATA_INVALID"),
            (&bob, send(&bob_peer, "1", vec![0; 24 + 17]), "DATA_INVALID"),
            (&bob, send(&bob_peer, "1", blob(100, 0)), "DATA_TOO_LONG"),
        ],
    )
    .await;
    lab.ok(
        &bob,
        "messages.sendEncrypted",
        send(&bob_peer, "1", blob(1, 0)),
    )
    .await;
    lab.refuses(
        "messages.sendEncryptedService",
        [(&bob, send(&bob_peer, "2", blob(1, 0)), "PEER_QUEUE_FULL")],
    )
    .await;
    lab.refuses(
        "messages.sendEncrypted",
        [(
            &bob,
            send(
                &json!({"_": "inputEncryptedChat", "chat_id": 999, "access_hash": "1"}),
                "1",
                blob(1, 0),
            ),
            "RANDOM_ID_DUPLICATE",
        )],
    )
    .await;
}

// ---- read, typing, spam --------------------------------------------------------------------------

#[tokio::test]
async fn read_history_queues_messages_read_for_the_other_side() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let carol = lab.sign_in("carol", "phone").await;
    let (alice_peer, bob_peer) = lab.chat(&alice, &bob, "bob", 31).await;
    let now = lab.state.now();
    assert_eq!(
        lab.ok(
            &bob,
            "messages.readEncryptedHistory",
            json!({"peer": bob_peer, "max_date": now})
        )
        .await,
        json!(true)
    );
    let diff = lab.difference(&alice, 0, 0).await;
    let read = diff["other_updates"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(read["_"], "updateEncryptedMessagesRead");
    assert_eq!(read["chat_id"], 31);
    assert_eq!(read["max_date"], now);
    lab.refuses(
        "messages.readEncryptedHistory",
        [
            (
                &bob,
                json!({"peer": bob_peer, "max_date": now + 1000}),
                "MAX_DATE_INVALID",
            ),
            (
                &carol,
                json!({"peer": alice_peer, "max_date": now}),
                "CHAT_ID_INVALID",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn typing_is_pushed_not_queued_and_spam_reports_are_recorded() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let carol = lab.sign_in("carol", "phone").await;
    let (alice_peer, bob_peer) = lab.chat(&alice, &bob, "bob", 32).await;
    let alice_device = lab.state.directory.authenticate(&alice.token).unwrap();
    let mut pushes = alice_device.listeners.subscribe();
    let before = lab.ok(&alice, "updates.getState", json!({})).await;
    assert_eq!(
        lab.ok(
            &bob,
            "messages.setEncryptedTyping",
            json!({"peer": bob_peer, "typing": true})
        )
        .await,
        json!(true)
    );
    assert!(matches!(
        pushes.try_recv(),
        Ok(secretchat_server::delivery::Pushed::Typing { chat_id: 32 })
    ));
    assert_eq!(
        lab.ok(&alice, "updates.getState", json!({})).await["pts"],
        before["pts"]
    );
    lab.refuses(
        "messages.setEncryptedTyping",
        [(
            &carol,
            json!({"peer": alice_peer, "typing": true}),
            "CHAT_ID_INVALID",
        )],
    )
    .await;
    assert_eq!(
        lab.ok(
            &bob,
            "messages.reportEncryptedSpam",
            json!({"peer": bob_peer})
        )
        .await,
        json!(true)
    );
    assert_eq!(lab.admin_state().await["chats"][0]["spam_reports"], 1);
    lab.refuses(
        "messages.reportEncryptedSpam",
        [(&carol, json!({"peer": alice_peer}), "CHAT_ID_INVALID")],
    )
    .await;
}

// ---- updates -------------------------------------------------------------------------------------

#[tokio::test]
async fn get_difference_slices_large_differences_and_acknowledges_what_was_passed_in() {
    let mut config = secretchat_server::config::ServerConfig::for_tests();
    config.limits.difference_limit = 2;
    let lab = Lab::with_config(config);
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 41).await;
    for random_id in 1..=3 {
        lab.send_message(&alice, &alice_peer, random_id, &blob(1, 0))
            .await;
    }
    let pts = lab.ok(&bob, "updates.getState", json!({})).await["pts"]
        .as_i64()
        .unwrap() as i32;
    let slice = lab.difference(&bob, pts, 1).await;
    assert_eq!(slice["_"], "updates.differenceSlice");
    assert_eq!(slice["intermediate_state"]["qts"], 3);
    let rest = lab.difference(&bob, pts, 3).await;
    assert_eq!(rest["_"], "updates.difference");
    assert_eq!(rest["new_encrypted_messages"][0]["random_id"], "3");
    assert_eq!(rest["state"]["qts"], 4);
    assert_eq!(
        lab.difference(&bob, pts, 4).await["_"],
        "updates.differenceEmpty"
    );
    lab.refuses(
        "updates.getDifference",
        [(
            &bob,
            json!({"pts": pts, "qts": 5, "date": 0}),
            "PERSISTENT_TIMESTAMP_INVALID",
        )],
    )
    .await;
}

#[tokio::test]
async fn received_queue_acknowledges_and_answers_random_ids() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 42).await;
    lab.send_message(&alice, &alice_peer, 77, &blob(1, 0)).await;
    lab.send_message(&alice, &alice_peer, 78, &blob(1, 0)).await;
    assert_eq!(
        lab.ok(&bob, "messages.receivedQueue", json!({"max_qts": 2}))
            .await,
        json!(["77"])
    );
    lab.refuses(
        "messages.receivedQueue",
        [
            (&bob, json!({"max_qts": 0}), "MAX_QTS_INVALID"),
            (&bob, json!({"max_qts": 4}), "MAX_QTS_INVALID"),
        ],
    )
    .await;
    let diff = lab.difference(&bob, 0, 0).await;
    assert_eq!(diff["new_encrypted_messages"][0]["random_id"], "78");
}

#[tokio::test]
async fn a_long_poll_with_nothing_to_deliver_answers_difference_empty_at_its_timeout() {
    let lab = Lab::new();
    let bob = lab.sign_in("bob", "phone").await;
    let diff = lab
        .ok(
            &bob,
            "updates.getDifference",
            json!({"pts": 1, "qts": 1, "date": 0, "timeout": 1}),
        )
        .await;
    assert_eq!(diff["_"], "updates.differenceEmpty");
}

#[tokio::test]
async fn get_difference_rejects_a_bad_timeout() {
    let lab = Lab::new();
    let bob = lab.sign_in("bob", "phone").await;
    lab.refuses(
        "updates.getDifference",
        [(
            &bob,
            json!({"pts": 0, "qts": 0, "date": 0, "timeout": -1}),
            "INPUT_REQUEST_INVALID",
        )],
    )
    .await;
}

#[tokio::test]
async fn log_out_clears_the_queue_and_discards_the_devices_chats() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 43).await;
    lab.ok(&bob, "auth.logOut", json!({})).await;
    lab.refuses(
        "messages.sendEncrypted",
        [(
            &alice,
            json!({"peer": alice_peer, "random_id": "1", "data": b64(&blob(1, 0))}),
            "ENCRYPTION_DECLINED",
        )],
    )
    .await;
    let diff = lab.difference(&alice, 0, 0).await;
    let last = diff["other_updates"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["chat"]["_"], "encryptedChatDiscarded");
}

// ---- files ---------------------------------------------------------------------------------------

async fn save(
    lab: &Lab,
    dev: &Dev,
    file_id: &str,
    part: i32,
    bytes: &[u8],
) -> (u16, serde_json::Value) {
    let (status, value) = lab
        .call(
            Some(dev),
            "upload.saveFilePart",
            json!({"file_id": file_id, "file_part": part, "bytes": b64(bytes)}),
        )
        .await;
    (status.as_u16(), value)
}

#[tokio::test]
async fn file_parts_follow_the_size_rules() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let part = |file_part: i32, len: usize| json!({"file_id": "5", "file_part": file_part, "bytes": b64(&vec![1; len])});
    lab.refuses(
        "upload.saveFilePart",
        [
            (&alice, part(0, 0), "FILE_PART_EMPTY"),
            (&alice, part(-1, 1024), "FILE_PART_INVALID"),
            (&alice, part(4000, 1024), "FILE_PART_INVALID"),
        ],
    )
    .await;
    assert_eq!(
        lab.ok(&alice, "upload.saveFilePart", part(0, 1024)).await,
        json!(true)
    );
    lab.refuses(
        "upload.saveFilePart",
        [(&alice, part(1, 2048), "FILE_PART_SIZE_CHANGED")],
    )
    .await;
    let big = |file_part: i32, total: i32| json!({"file_id": "6", "file_part": file_part, "file_total_parts": total, "bytes": b64(&[1; 1024])});
    lab.refuses(
        "upload.saveBigFilePart",
        [
            (&alice, big(0, 0), "FILE_PARTS_INVALID"),
            (&alice, big(2, 2), "FILE_PART_INVALID"),
        ],
    )
    .await;
    assert_eq!(
        lab.ok(&alice, "upload.saveBigFilePart", big(0, 2)).await,
        json!(true)
    );
    lab.refuses(
        "upload.saveBigFilePart",
        [(&alice, big(1, 3), "FILE_PARTS_INVALID")],
    )
    .await;
}

#[tokio::test]
async fn a_file_is_sent_downloaded_and_forwarded_without_a_second_copy() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, bob_peer) = lab.chat(&alice, &bob, "bob", 51).await;
    let content: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    assert_eq!(save(&lab, &alice, "9", 0, &content[..4096]).await.0, 200);
    assert_eq!(save(&lab, &alice, "9", 1, &content[4096..]).await.0, 200);
    let send_file = |file: serde_json::Value, random_id: &str| json!({"peer": alice_peer, "random_id": random_id, "data": b64(&blob(1, 0)), "file": file});
    lab.refuses("messages.sendEncryptedFile", [(&alice, send_file(json!({"_": "inputEncryptedFileUploaded", "id": "9", "parts": 3, "md5_checksum": "", "key_fingerprint": 7}), "1"), "FILE_PART_2_MISSING"), (&alice, send_file(json!({"_": "inputEncryptedFileUploaded", "id": "9", "parts": 2, "md5_checksum": "00", "key_fingerprint": 7}), "1"), "MD5_CHECKSUM_INVALID"), (&alice, send_file(json!({"_": "inputEncryptedFileUploaded", "id": "8", "parts": 2, "md5_checksum": "", "key_fingerprint": 7}), "1"), "FILE_EMTPY"), ]).await;
    let sent = lab
        .ok(&alice, "messages.sendEncryptedFile", send_file(json!({"_": "inputEncryptedFileUploaded", "id": "9", "parts": 2, "md5_checksum": "", "key_fingerprint": 7}), "1"))
        .await;
    assert_eq!(sent["_"], "messages.sentEncryptedFile");
    let file = sent["file"].clone();
    assert_eq!(file["size"], "5000");
    assert_eq!(file["key_fingerprint"], 7);
    let diff = lab.difference(&bob, 0, 0).await;
    assert_eq!(diff["new_encrypted_messages"][0]["file"], file);

    let location = json!({"_": "inputEncryptedFileLocation", "id": file["id"], "access_hash": file["access_hash"]});
    let first = lab
        .ok(
            &bob,
            "upload.getFile",
            json!({"location": location, "offset": "0", "limit": 4096}),
        )
        .await;
    assert_eq!(first["_"], "upload.file");
    assert_eq!(support::unb64(&first["bytes"]), content[..4096].to_vec());
    let second = lab
        .ok(
            &bob,
            "upload.getFile",
            json!({"location": location, "offset": "4096", "limit": 4096}),
        )
        .await;
    assert_eq!(support::unb64(&second["bytes"]), content[4096..].to_vec());
    lab.refuses(
        "upload.getFile",
        [
            (
                &bob,
                json!({"location": location, "offset": "100", "limit": 4096}),
                "OFFSET_INVALID",
            ),
            (
                &bob,
                json!({"location": location, "offset": "0", "limit": 1000}),
                "LIMIT_INVALID",
            ),
        ],
    )
    .await;
    let wrong = json!({"_": "inputEncryptedFileLocation", "id": file["id"], "access_hash": "1"});
    lab.refuses(
        "upload.getFile",
        [(
            &bob,
            json!({"location": wrong, "offset": "0", "limit": 4096}),
            "FILE_ID_INVALID",
        )],
    )
    .await;

    // Bob forwards it back: same stored blob, no upload.
    let forwarded = lab
        .ok(&bob, "messages.sendEncryptedFile", json!({"peer": bob_peer, "random_id": "2", "data": b64(&blob(1, 0)), "file": {"_": "inputEncryptedFile", "id": file["id"], "access_hash": file["access_hash"]}}))
        .await;
    assert_eq!(forwarded["file"], file);
    assert_eq!(lab.admin_state().await["files"]["stored"], 1);
    assert_eq!(lab.state.files.len(), 1);
}

#[tokio::test]
async fn upload_encrypted_file_stores_without_sending() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let carol = lab.sign_in("carol", "phone").await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 52).await;
    save(&lab, &alice, "3", 0, &[5; 100]).await;
    let upload = |file: serde_json::Value| json!({"peer": alice_peer, "file": file});
    lab.refuses(
        "messages.uploadEncryptedFile",
        [
            (
                &carol,
                upload(json!({"_": "inputEncryptedFileEmpty"})),
                "CHAT_ID_INVALID",
            ),
            (
                &alice,
                upload(json!({"_": "inputEncryptedFileEmpty"})),
                "FILE_EMTPY",
            ),
        ],
    )
    .await;
    let file = lab
        .ok(&alice, "messages.uploadEncryptedFile", upload(json!({"_": "inputEncryptedFileUploaded", "id": "3", "parts": 1, "md5_checksum": "", "key_fingerprint": 1})))
        .await;
    assert_eq!(file["_"], "encryptedFile");
    assert_eq!(file["size"], "100");
    assert_eq!(
        lab.difference(&bob, 0, 0).await["new_encrypted_messages"],
        json!([])
    );
}

// ---- admin ---------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_needs_its_own_token_and_device_tokens_never_work_there() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    for token in [None, Some(alice.token.as_str()), Some("wrong")] {
        let (status, value) = lab.admin_call("GET", "/admin/state", None, token).await;
        assert_eq!(status, 401);
        assert_eq!(value["error_message"], "ADMIN_TOKEN_INVALID");
    }
    let state = lab.admin_state().await;
    assert_eq!(state["users"][0]["username"], "alice");
}

#[tokio::test]
async fn moving_the_clock_8_days_expires_unacknowledged_updates() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    let (alice_peer, _) = lab.chat(&alice, &bob, "bob", 61).await;
    lab.send_message(&alice, &alice_peer, 1, &blob(1, 0)).await;
    let (status, moved) = lab
        .admin_call(
            "POST",
            "/admin/clock/advance",
            Some(json!({"seconds": 8 * 24 * 3600})),
            Some(support::ADMIN_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    assert!(moved["expired_updates"].as_u64().unwrap() >= 1);
    // The expired message is gone; bob, still at qts 0, is told the counters he missed
    // (never differenceEmpty to a client that is behind).
    let diff = lab.difference(&bob, 0, 0).await;
    assert_eq!(diff["_"], "updates.difference");
    assert_eq!(diff["new_encrypted_messages"], json!([]));
    assert_eq!(diff["state"]["qts"], 2);
    assert_eq!(lab.ok(&bob, "updates.getState", json!({})).await["qts"], 2);
    let (status, _) = lab
        .admin_call("POST", "/admin/reset", None, Some(support::ADMIN_TOKEN))
        .await;
    assert_eq!(status, 200);
    assert_eq!(lab.admin_state().await["users"], json!([]));
}

#[tokio::test]
async fn a_client_further_behind_than_its_pts_total_limit_gets_difference_too_long() {
    let lab = Lab::new();
    let (alice, bob) = two_users(&lab).await;
    for chat_id in [71, 72, 73] {
        lab.request(&alice, "bob", chat_id).await;
    }
    let state = lab.ok(&bob, "updates.getState", json!({})).await;
    let pts = state["pts"].as_i64().unwrap();
    let too_long = lab
        .ok(
            &bob,
            "updates.getDifference",
            json!({"pts": pts - 3, "pts_total_limit": 2, "qts": state["qts"], "date": 0}),
        )
        .await;
    assert_eq!(
        too_long,
        json!({"_": "updates.differenceTooLong", "pts": pts})
    );
    // Within the limit, the three requests come back.
    let difference = lab
        .ok(
            &bob,
            "updates.getDifference",
            json!({"pts": pts - 3, "pts_total_limit": 3, "qts": state["qts"], "date": 0}),
        )
        .await;
    assert_eq!(difference["other_updates"].as_array().unwrap().len(), 3);
}
