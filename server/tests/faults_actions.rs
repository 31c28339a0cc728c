//! Fault rules, one story per action: each installs a rule through the admin surface,
//! drives a chat through the client API (the router, over HTTP requests), and asserts the
//! exact outcome the device sees and the event log records.

mod support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use support::{blob, unb64, Dev, Lab, ADMIN_TOKEN};

/// alice and bob with an accepted chat 5: (lab, alice, bob, alice's peer, bob's peer).
async fn chat() -> (Lab, Dev, Dev, Value, Value) {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let bob = lab.sign_in("bob", "phone").await;
    let (alice_peer, bob_peer) = lab.chat(&alice, &bob, "bob", 5).await;
    (lab, alice, bob, alice_peer, bob_peer)
}

async fn install(lab: &Lab, rule: Value) -> (u64, u64) {
    let (status, answer) = lab
        .admin_call("POST", "/admin/faults", Some(rule), Some(ADMIN_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (
        answer["id"].as_u64().expect("id"),
        answer["seed"].as_u64().expect("seed"),
    )
}

async fn events(lab: &Lab) -> Vec<Value> {
    let (status, answer) = lab
        .admin_call("GET", "/admin/events?since=0", None, Some(ADMIN_TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["events"].as_array().expect("events").clone()
}

/// The qts of every message delivered so far, in delivery order, as (qts, chat_id).
async fn delivered_qts(lab: &Lab) -> Vec<i64> {
    events(lab)
        .await
        .iter()
        .filter(|e| e["event"] == "delivered" && e["qts"].is_i64())
        .map(|e| e["qts"].as_i64().unwrap_or(0))
        .collect()
}

async fn send(lab: &Lab, from: &Dev, peer: &Value, random_id: i64, fill: u8) {
    let (status, answer) = lab
        .send_message(from, peer, random_id, &blob(2, fill))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// (random_id, first byte of bytes) of every message bob has not acknowledged, and his qts.
async fn inbox(lab: &Lab, dev: &Dev) -> (Vec<(String, Vec<u8>)>, i64) {
    let diff = lab.difference(dev, 0, 0).await;
    let messages = diff["new_encrypted_messages"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|m| {
                    (
                        m["random_id"].as_str().unwrap_or("").to_owned(),
                        unb64(&m["bytes"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let qts = diff["state"]["qts"].as_i64().unwrap_or(-1);
    (messages, qts)
}

fn ids(messages: &[(String, Vec<u8>)]) -> Vec<&str> {
    messages.iter().map(|(id, _)| id.as_str()).collect()
}

#[tokio::test]
async fn a_dropped_message_never_reaches_the_device_and_the_drop_is_logged_with_its_seed() {
    let (lab, alice, bob, peer, _) = chat().await;
    let (rule, seed) = install(
        &lab,
        json!({"match": {"device": {"user": "bob", "device": "phone"}, "update": "new_encrypted_message", "nth": 1},
               "action": {"type": "drop"}, "seed": 42}),
    )
    .await;
    assert_eq!(seed, 42);
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    let (messages, qts) = inbox(&lab, &bob).await;
    assert_eq!(ids(&messages), vec!["2"]);
    assert_eq!(qts, 2, "the dropped message took no qts");
    let faults: Vec<Value> = events(&lab)
        .await
        .into_iter()
        .filter(|e| e["event"] == "fault")
        .collect();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["rule"], rule);
    assert_eq!(faults[0]["seed"], 42);
    assert_eq!(faults[0]["action"], "drop");
    assert_eq!(faults[0]["chat_id"], 5);
    assert_eq!(faults[0]["username"], "bob");
    assert_eq!(faults[0]["qts"], 2);
}

#[tokio::test]
async fn a_dropped_message_can_be_sent_again_with_its_random_id_and_then_arrives() {
    // The protocol's answer to a lost message is a Resend, and the sender re-sends the same
    // random_id: the server must not treat that as a duplicate of what it never delivered.
    let (lab, alice, bob, peer, _) = chat().await;
    install(
        &lab,
        json!({"match": {"update": "new_encrypted_message", "nth": 1}, "action": {"type": "drop"}}),
    )
    .await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    send(&lab, &alice, &peer, 1, 1).await;
    // An honest repeat of a delivered message is still answered without a second delivery.
    send(&lab, &alice, &peer, 2, 2).await;
    let (messages, _) = inbox(&lab, &bob).await;
    assert_eq!(ids(&messages), vec!["2", "1"]);
}

#[tokio::test]
async fn a_duplicated_message_arrives_twice_under_consecutive_qts() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "duplicate"}, "times": 1})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    let (messages, qts) = inbox(&lab, &bob).await;
    assert_eq!(ids(&messages), vec!["1", "1", "2"]);
    assert_eq!(messages[0].1, messages[1].1);
    assert_eq!(qts, 4);
    assert_eq!(delivered_qts(&lab).await, vec![2, 3, 4]);
}

#[tokio::test]
async fn a_reorder_window_of_three_is_released_all_at_once_in_another_order() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "reorder", "window": 3}, "seed": 7})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    assert!(
        inbox(&lab, &bob).await.0.is_empty(),
        "held until the window is full"
    );
    send(&lab, &alice, &peer, 3, 3).await;
    let (messages, qts) = inbox(&lab, &bob).await;
    let mut order = ids(&messages);
    assert_ne!(order, vec!["1", "2", "3"]);
    order.sort_unstable();
    assert_eq!(order, vec!["1", "2", "3"]);
    assert_eq!(qts, 4);
}

#[tokio::test]
async fn a_held_message_comes_out_only_when_the_admin_releases_it() {
    let (lab, alice, bob, peer, _) = chat().await;
    let (rule, _) = install(&lab, json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "hold"}, "times": 1})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    assert_eq!(ids(&inbox(&lab, &bob).await.0), vec!["2"]);
    let (status, answer) = lab
        .admin_call(
            "POST",
            &format!("/admin/faults/{rule}/release"),
            None,
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(
        (status, answer["released"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let (messages, qts) = inbox(&lab, &bob).await;
    assert_eq!(ids(&messages), vec!["2", "1"]);
    assert_eq!(qts, 3);
}

#[tokio::test]
async fn a_message_held_for_one_delivery_arrives_right_after_the_next_one() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"nth": 1, "update": "new_encrypted_message"}, "action": {"type": "hold", "after_deliveries": 1}})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    send(&lab, &alice, &peer, 3, 3).await;
    assert_eq!(ids(&inbox(&lab, &bob).await.0), vec!["2", "1", "3"]);
}

#[tokio::test]
async fn a_server_clock_delay_releases_when_the_admin_advances_the_clock() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "delay", "seconds": 60, "clock": "server"}})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    assert!(inbox(&lab, &bob).await.0.is_empty());
    lab.admin_call(
        "POST",
        "/admin/clock/advance",
        Some(json!({"seconds": 59})),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert!(inbox(&lab, &bob).await.0.is_empty(), "not before its time");
    lab.admin_call(
        "POST",
        "/admin/clock/advance",
        Some(json!({"seconds": 1})),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(ids(&inbox(&lab, &bob).await.0), vec!["1"]);
}

#[tokio::test]
async fn a_wall_clock_delay_releases_after_the_given_seconds() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "delay", "seconds": 1, "clock": "wall"}})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    assert!(inbox(&lab, &bob).await.0.is_empty());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if ids(&inbox(&lab, &bob).await.0) == vec!["1"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delayed message never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn skip_qts_leaves_a_gap_of_exactly_count_values() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"nth": 2, "update": "new_encrypted_message"}, "action": {"type": "skip_qts", "count": 3}})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    assert_eq!(delivered_qts(&lab).await, vec![2, 6]);
    assert_eq!(inbox(&lab, &bob).await.1, 6);
}

async fn corrupted(how: Value) -> (Vec<u8>, Vec<u8>) {
    let (lab, alice, bob, peer, _) = chat().await;
    let mut action = how;
    action["type"] = json!("corrupt");
    install(
        &lab,
        json!({"match": {"update": "new_encrypted_message"}, "action": action, "seed": 3}),
    )
    .await;
    let original: Vec<u8> = (0..24 + 32).map(|i| i as u8).collect();
    let (status, answer) = lab.send_message(&alice, &peer, 1, &original).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (messages, _) = inbox(&lab, &bob).await;
    (original, messages[0].1.clone())
}

#[tokio::test]
async fn flip_bits_flips_exactly_the_named_bits() {
    let (original, got) = corrupted(json!({"how": "flip_bits", "bits": [200, 447]})).await;
    let mut expected = original;
    expected[25] ^= 0x80;
    expected[55] ^= 0x01;
    assert_eq!(got, expected);
}

#[tokio::test]
async fn truncate_cuts_exactly_one_block_off_the_end() {
    let (original, got) = corrupted(json!({"how": "truncate", "bytes": 16})).await;
    assert_eq!(got, original[..original.len() - 16]);
}

#[tokio::test]
async fn extend_appends_exactly_two_random_blocks() {
    let (original, got) = corrupted(json!({"how": "extend", "blocks": 2})).await;
    assert_eq!(got.len(), original.len() + 32);
    assert_eq!(got[..original.len()], original[..]);
}

#[tokio::test]
async fn replace_last_block_changes_only_the_last_16_bytes() {
    let (original, got) = corrupted(json!({"how": "replace_last_block"})).await;
    let cut = original.len() - 16;
    assert_eq!(got.len(), original.len());
    assert_eq!(got[..cut], original[..cut]);
    assert_ne!(got[cut..], original[cut..]);
}

#[tokio::test]
async fn a_replayed_message_comes_again_under_a_new_qts_after_the_next_delivery() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"nth": 1, "update": "new_encrypted_message"}, "action": {"type": "replay", "after_deliveries": 1}})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    send(&lab, &alice, &peer, 3, 3).await;
    let (messages, qts) = inbox(&lab, &bob).await;
    assert_eq!(ids(&messages), vec!["1", "2", "1", "3"]);
    assert_eq!(messages[0].1, messages[2].1);
    assert_eq!(qts, 5);
}

#[tokio::test]
async fn a_reflected_message_also_comes_back_to_its_sender_as_if_from_the_peer() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"device": {"user": "bob", "device": "phone"}}, "action": {"type": "reflect"}})).await;
    send(&lab, &alice, &peer, 1, 9).await;
    let (to_bob, _) = inbox(&lab, &bob).await;
    let (to_alice, alice_qts) = inbox(&lab, &alice).await;
    assert_eq!(ids(&to_bob), vec!["1"]);
    assert_eq!(ids(&to_alice), vec!["1"]);
    assert_eq!(to_alice[0].1, blob(2, 9));
    assert_eq!(alice_qts, 2);
}

#[tokio::test]
async fn an_error_rule_answers_flood_wait_twice_then_the_call_goes_through() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"method": "messages.sendEncrypted"},
                          "action": {"type": "error", "error_code": 420, "error_message": "FLOOD_WAIT_5"}, "times": 2})).await;
    for _ in 0..2 {
        let (status, answer) = lab.send_message(&alice, &peer, 1, &blob(2, 1)).await;
        assert_eq!(status.as_u16(), 420);
        assert_eq!(answer["_"], "rpc_error");
        assert_eq!(answer["error_code"], 420);
        assert_eq!(answer["error_message"], "FLOOD_WAIT_5");
    }
    send(&lab, &alice, &peer, 1, 1).await;
    assert_eq!(ids(&inbox(&lab, &bob).await.0), vec!["1"]);
}

#[tokio::test]
async fn a_500_internal_rule_matches_only_the_named_device() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(&lab, json!({"match": {"method": "updates.getState", "device": {"user": "bob", "device": "phone"}},
                          "action": {"type": "error", "error_code": 500, "error_message": "INTERNAL"}})).await;
    let (status, answer) = lab.call(Some(&bob), "updates.getState", json!({})).await;
    assert_eq!(
        (status.as_u16(), answer["error_message"].as_str()),
        (500, Some("INTERNAL"))
    );
    lab.ok(&alice, "updates.getState", json!({})).await;
    let _ = peer;
}

#[tokio::test]
async fn a_probability_rule_acts_the_same_way_for_the_same_seed() {
    async fn run(seed: u64) -> Vec<String> {
        let (lab, alice, bob, peer, _) = chat().await;
        install(
            &lab,
            json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "drop"},
                              "probability": 0.5, "seed": seed}),
        )
        .await;
        for n in 1..=12 {
            send(&lab, &alice, &peer, n, 1).await;
        }
        inbox(&lab, &bob)
            .await
            .0
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }
    let first = run(11).await;
    assert_eq!(first, run(11).await);
    assert!(!first.is_empty() && first.len() < 12, "{first:?}");
}

#[tokio::test]
async fn deleting_a_rule_releases_what_it_holds_so_nothing_is_lost() {
    let (lab, alice, bob, peer, _) = chat().await;
    let (rule, _) = install(
        &lab,
        json!({"action": {"type": "hold"}, "match": {"update": "new_encrypted_message"}}),
    )
    .await;
    send(&lab, &alice, &peer, 1, 1).await;
    let (status, _) = lab
        .admin_call(
            "DELETE",
            &format!("/admin/faults/{rule}"),
            None,
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&inbox(&lab, &bob).await.0), vec!["1"]);
    let (_, listed) = lab
        .admin_call("GET", "/admin/faults", None, Some(ADMIN_TOKEN))
        .await;
    assert_eq!(listed["rules"], json!([]));
}

#[tokio::test]
async fn bad_rule_json_gets_a_clear_error_and_installs_nothing() {
    let lab = Lab::new();
    for (body, needle) in [
        (json!({"action": {"type": "explode"}}), "explode"),
        (
            json!({"action": {"type": "error", "error_code": 420, "error_message": "FLOOD_WAIT_5"}}),
            "match.method",
        ),
        (
            json!({"action": {"type": "reorder", "window": 1}}),
            "window",
        ),
        (
            json!({"match": {"method": "messages.nope"}, "action": {"type": "error", "error_code": 500, "error_message": "X"}}),
            "messages.nope",
        ),
    ] {
        let (status, answer) = lab
            .admin_call("POST", "/admin/faults", Some(body), Some(ADMIN_TOKEN))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["error_message"], "INPUT_REQUEST_INVALID");
        let detail = answer["detail"].as_str().unwrap_or("");
        assert!(detail.contains(needle), "{detail}");
    }
    let (_, listed) = lab
        .admin_call("GET", "/admin/faults", None, Some(ADMIN_TOKEN))
        .await;
    assert_eq!(listed["rules"], json!([]));
}

#[tokio::test]
async fn the_fault_routes_need_the_admin_token() {
    let lab = Lab::new();
    for (method, path) in [
        ("GET", "/admin/faults"),
        ("POST", "/admin/faults"),
        ("GET", "/admin/events"),
        ("POST", "/admin/hostile"),
    ] {
        let (status, answer) = lab.admin_call(method, path, Some(json!({})), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer["error_message"], "ADMIN_TOKEN_INVALID");
    }
}

#[tokio::test]
async fn the_event_log_lists_sign_ins_and_deliveries_after_since() {
    let (lab, alice, _, peer, _) = chat().await;
    let all = events(&lab).await;
    assert_eq!(all[0]["event"], "signed_in");
    assert_eq!(all[0]["username"], "alice");
    let last = all.last().and_then(|e| e["id"].as_u64()).unwrap_or(0);
    send(&lab, &alice, &peer, 1, 1).await;
    let (_, page) = lab
        .admin_call(
            "GET",
            &format!("/admin/events?since={last}"),
            None,
            Some(ADMIN_TOKEN),
        )
        .await;
    let newer = page["events"].as_array().unwrap();
    assert_eq!(newer.len(), 1, "{newer:?}");
    assert_eq!(newer[0]["event"], "delivered");
    assert_eq!(newer[0]["update"], "new_encrypted_message");
    assert_eq!(newer[0]["qts"], 2);
}

#[tokio::test]
async fn only_the_first_firing_rule_acts_and_a_later_rule_does_not_spend_its_times() {
    let (lab, alice, bob, peer, _) = chat().await;
    install(
        &lab,
        json!({"match": {"nth": 1, "update": "new_encrypted_message"}, "action": {"type": "drop"}}),
    )
    .await;
    install(&lab, json!({"match": {"update": "new_encrypted_message"}, "action": {"type": "duplicate"}, "times": 1})).await;
    send(&lab, &alice, &peer, 1, 1).await;
    send(&lab, &alice, &peer, 2, 2).await;
    send(&lab, &alice, &peer, 3, 3).await;
    assert_eq!(ids(&inbox(&lab, &bob).await.0), vec!["2", "2", "3"]);
    let (_, listed) = lab
        .admin_call("GET", "/admin/faults", None, Some(ADMIN_TOKEN))
        .await;
    let counts: Vec<(u64, u64)> = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["matched"].as_u64().unwrap(),
                r["applied"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, vec![(3, 1), (3, 1)]);
}
