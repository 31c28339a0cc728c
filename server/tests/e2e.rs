//! End-to-end stories over real HTTP: the server runs in-process on ephemeral ports (client
//! API and admin surface), and devices talk to it with an ordinary HTTP client using only
//! the JSON API and raw bytes. Every wait has a deadline and a readable failure.

mod support;

use std::sync::Arc;
use std::time::Duration;

use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use serde_json::{json, Value};
use support::{b64, blob, public, unb64, ADMIN_TOKEN};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(20);

/// A running server: its two base URLs and the switch that stops it.
struct Running {
    api: String,
    admin: String,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    async fn start(config: ServerConfig) -> Self {
        let state = Arc::new(Server::new(&config).expect("config"));
        let api = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let urls = (
            format!("http://{}", api.local_addr().unwrap()),
            format!("http://{}", admin.local_addr().unwrap()),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let (api_stop, api_stopped) = oneshot::channel::<()>();
        let (admin_stop, admin_stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = stopped.await;
            let _ = api_stop.send(());
            let _ = admin_stop.send(());
        });
        let tasks = vec![
            tokio::spawn(secretchat_server::serve(
                api,
                secretchat_server::app(Arc::clone(&state)),
                async {
                    let _ = api_stopped.await;
                },
            )),
            tokio::spawn(secretchat_server::serve(
                admin,
                secretchat_server::admin_app(state),
                async {
                    let _ = admin_stopped.await;
                },
            )),
        ];
        Self {
            api: urls.0,
            admin: urls.1,
            stop: Some(stop),
            tasks,
        }
    }

    async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in self.tasks.drain(..) {
            tokio::time::timeout(DEADLINE, task)
                .await
                .expect("server did not shut down in time")
                .expect("server task")
                .expect("server io");
        }
    }

    async fn sign_in(&self, username: &str, device: &str) -> Client {
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/api/auth.signIn", self.api))
            .json(&json!({"username": username, "device": device}))
            .send()
            .await
            .expect("sign in");
        let body: Value = response.json().await.expect("json");
        Client {
            http,
            api: self.api.clone(),
            token: body["token"].as_str().expect("token").to_owned(),
            user_id: body["user"]["id"].clone(),
        }
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("admin call")
            .json()
            .await
            .expect("json")
    }
}

/// One device, speaking only HTTP/JSON.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    api: String,
    token: String,
    user_id: Value,
}

impl Client {
    async fn call(&self, method: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/{method}", self.api))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("HTTP call");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    async fn ok(&self, method: &str, body: Value) -> Value {
        let (status, value) = self.call(method, body).await;
        assert_eq!(status, 200, "{method}: {value}");
        value
    }

    async fn input_user(&self, username: &str) -> Value {
        let user = self
            .ok("contacts.resolveUsername", json!({"username": username}))
            .await;
        json!({"_": "inputUser", "user_id": user["id"], "access_hash": user["access_hash"]})
    }

    /// getDifference from (pts, qts); answers the difference.
    async fn difference(&self, pts: i64, qts: i64, timeout: u64) -> Value {
        self.ok(
            "updates.getDifference",
            json!({"pts": pts, "qts": qts, "date": 0, "timeout": timeout}),
        )
        .await
    }

    /// Everything waiting, following slices; answers (messages, other updates, final state).
    async fn catch_up(&self, mut pts: i64, mut qts: i64) -> (Vec<Value>, Vec<Value>, (i64, i64)) {
        let (mut messages, mut others) = (Vec::new(), Vec::new());
        loop {
            let diff = self.difference(pts, qts, 0).await;
            if diff["_"] == "updates.differenceEmpty" {
                return (messages, others, (pts, qts));
            }
            messages.extend(
                diff["new_encrypted_messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .cloned(),
            );
            others.extend(diff["other_updates"].as_array().unwrap().iter().cloned());
            let state = if diff["_"] == "updates.differenceSlice" {
                &diff["intermediate_state"]
            } else {
                &diff["state"]
            };
            pts = state["pts"].as_i64().unwrap();
            qts = state["qts"].as_i64().unwrap();
        }
    }

    async fn send(&self, peer: &Value, random_id: i64, data: &[u8]) -> Value {
        self.ok(
            "messages.sendEncrypted",
            json!({"peer": peer, "random_id": random_id.to_string(), "data": b64(data)}),
        )
        .await
    }
}

fn config() -> ServerConfig {
    ServerConfig::for_tests()
}

/// Alice's phone asks Bob; answers (alice's peer, bob's phone peer).
async fn open_chat(alice: &Client, bob: &Client, chat_id: i32) -> (Value, Value) {
    let user = alice.input_user("bob").await;
    let waiting = alice
        .ok(
            "messages.requestEncryption",
            json!({"user_id": user, "random_id": chat_id, "g_a": b64(&public(1))}),
        )
        .await;
    let (_, others, _) = bob.catch_up(0, 0).await;
    let requested = others
        .iter()
        .find(|u| u["chat"]["id"] == chat_id)
        .expect("bob was told about the request");
    let bob_peer = json!({"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": requested["chat"]["access_hash"]});
    bob.ok(
        "messages.acceptEncryption",
        json!({"peer": bob_peer, "g_b": b64(&public(2)), "key_fingerprint": "42"}),
    )
    .await;
    let alice_peer = json!({"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": waiting["access_hash"]});
    (alice_peer, bob_peer)
}

#[tokio::test]
async fn two_users_with_two_devices_race_to_accept_then_exchange_messages() {
    let server = Running::start(config()).await;
    let alice_phone = server.sign_in("alice", "phone").await;
    let alice_laptop = server.sign_in("alice", "laptop").await;
    let bob_phone = server.sign_in("bob", "phone").await;
    let bob_laptop = server.sign_in("bob", "laptop").await;

    let user = alice_phone.input_user("bob").await;
    let waiting = alice_phone
        .ok(
            "messages.requestEncryption",
            json!({"user_id": user, "random_id": 1234, "g_a": b64(&public(1))}),
        )
        .await;
    assert_eq!(waiting["_"], "encryptedChatWaiting");
    assert_eq!(waiting["admin_id"], alice_phone.user_id);
    assert_eq!(waiting["participant_id"], bob_laptop.user_id);

    // Both of Bob's devices see the request and both accept at once.
    let mut peers = Vec::new();
    for bob in [&bob_phone, &bob_laptop] {
        let (_, others, _) = bob.catch_up(0, 0).await;
        assert_eq!(others[0]["chat"]["_"], "encryptedChatRequested");
        peers.push(json!({"_": "inputEncryptedChat", "chat_id": 1234, "access_hash": others[0]["chat"]["access_hash"]}));
    }
    let accept = |bob: &Client, peer: &Value, g: u8| {
        let (bob, peer) = (bob.clone(), peer.clone());
        async move {
            bob.call(
                "messages.acceptEncryption",
                json!({"peer": peer, "g_b": b64(&public(g)), "key_fingerprint": "42"}),
            )
            .await
        }
    };
    let (phone, laptop) = tokio::join!(
        accept(&bob_phone, &peers[0], 2),
        accept(&bob_laptop, &peers[1], 3)
    );
    let outcomes = [phone.0, laptop.0];
    assert!(
        outcomes.contains(&200) && outcomes.contains(&400),
        "exactly one wins: {phone:?} {laptop:?}"
    );
    let (winner, winner_peer, loser, lost) = if phone.0 == 200 {
        (&bob_phone, &peers[0], &bob_laptop, laptop.1)
    } else {
        (&bob_laptop, &peers[1], &bob_phone, phone.1)
    };
    assert_eq!(lost["error_message"], "ENCRYPTION_ALREADY_ACCEPTED");
    let (_, loser_updates, _) = loser.catch_up(0, 0).await;
    assert_eq!(
        loser_updates.last().unwrap()["chat"]["_"],
        "encryptedChatDiscarded"
    );

    // Only Alice's initiating device learns g_b.
    let (_, alice_updates, (alice_pts, _)) = alice_phone.catch_up(0, 0).await;
    assert_eq!(alice_updates[0]["chat"]["_"], "encryptedChat");
    assert_eq!(alice_updates[0]["chat"]["key_fingerprint"], "42");
    assert_eq!(alice_laptop.catch_up(0, 0).await.1.len(), 0);

    let alice_peer =
        json!({"_": "inputEncryptedChat", "chat_id": 1234, "access_hash": waiting["access_hash"]});
    let (_, _, (bob_pts, _)) = winner.catch_up(0, 0).await;
    for i in 0..5 {
        alice_phone
            .send(&alice_peer, 100 + i, &blob(1, i as u8))
            .await;
        winner.send(winner_peer, 200 + i, &blob(2, i as u8)).await;
    }
    let (to_bob, _, _) = winner.catch_up(bob_pts, 1).await;
    let (to_alice, _, _) = alice_phone.catch_up(alice_pts, 1).await;
    assert_eq!(
        to_bob
            .iter()
            .map(|m| m["random_id"].clone())
            .collect::<Vec<_>>(),
        (100..105).map(|i| json!(i.to_string())).collect::<Vec<_>>()
    );
    assert_eq!(unb64(&to_alice[4]["bytes"]), blob(2, 4));
    // The loser and Alice's laptop got no messages; the loser can no longer send.
    assert!(loser.catch_up(0, 0).await.0.is_empty());
    let (status, refused) = loser.call("messages.sendEncrypted", json!({"peer": peers[if phone.0 == 200 { 1 } else { 0 }], "random_id": "1", "data": b64(&blob(1, 0))})).await;
    assert_eq!(
        (status, refused["error_message"].as_str()),
        (400, Some("CHAT_ID_INVALID"))
    );
    server.shut_down().await;
}

#[tokio::test]
async fn an_offline_device_catches_up_through_get_difference_in_slices() {
    let server = Running::start(config()).await;
    let alice = server.sign_in("alice", "phone").await;
    let bob = server.sign_in("bob", "phone").await;
    let (alice_peer, _) = open_chat(&alice, &bob, 5).await;
    let state = bob.ok("updates.getState", json!({})).await;
    // Bob is offline while 150 messages arrive.
    for i in 0..150 {
        alice.send(&alice_peer, i, &blob(1, 0)).await;
    }
    let pts = state["pts"].as_i64().unwrap();
    let first = bob.difference(pts, 1, 0).await;
    assert_eq!(first["_"], "updates.differenceSlice");
    let (messages, _, (_, qts)) = bob.catch_up(pts, 1).await;
    assert_eq!(messages.len(), 150);
    assert_eq!(qts, 151);
    assert_eq!(messages[149]["random_id"], "149");
    server.shut_down().await;
}

#[tokio::test]
async fn a_long_poll_is_woken_by_a_send() {
    let server = Running::start(config()).await;
    let alice = server.sign_in("alice", "phone").await;
    let bob = server.sign_in("bob", "phone").await;
    let (alice_peer, _) = open_chat(&alice, &bob, 6).await;
    let (_, _, (pts, qts)) = bob.catch_up(0, 0).await;
    let poll = tokio::spawn({
        let bob = bob.clone();
        async move { bob.difference(pts, qts, 30).await }
    });
    alice.send(&alice_peer, 77, &blob(1, 9)).await;
    let woken = tokio::time::timeout(DEADLINE, poll)
        .await
        .expect("the long-poll was not woken by the send")
        .expect("poll task");
    assert_eq!(woken["_"], "updates.difference");
    assert_eq!(woken["new_encrypted_messages"][0]["random_id"], "77");
    server.shut_down().await;
}

#[tokio::test]
async fn a_long_poll_ends_when_its_device_logs_out() {
    let server = Running::start(config()).await;
    let bob = server.sign_in("bob", "phone").await;
    let poll = tokio::spawn({
        let bob = bob.clone();
        async move {
            bob.call(
                "updates.getDifference",
                json!({"pts": 1, "qts": 1, "date": 0, "timeout": 30}),
            )
            .await
        }
    });
    // Make sure the poll is waiting (its answer would otherwise come at once anyway).
    tokio::time::sleep(Duration::from_millis(100)).await;
    bob.ok("auth.logOut", json!({})).await;
    let (status, answer) = tokio::time::timeout(DEADLINE, poll)
        .await
        .expect("the long-poll did not end at logout")
        .expect("poll task");
    assert_eq!(
        (status, answer["error_message"].as_str()),
        (401, Some("AUTH_KEY_UNREGISTERED"))
    );
    server.shut_down().await;
}

#[tokio::test]
async fn the_event_stream_pushes_messages_and_typing() {
    let server = Running::start(config()).await;
    let alice = server.sign_in("alice", "phone").await;
    let bob = server.sign_in("bob", "phone").await;
    let (alice_peer, _) = open_chat(&alice, &bob, 7).await;
    let mut stream = bob
        .http
        .get(format!("{}/api/updates.stream", bob.api))
        .bearer_auth(&bob.token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    alice
        .ok(
            "messages.setEncryptedTyping",
            json!({"peer": alice_peer, "typing": true}),
        )
        .await;
    alice.send(&alice_peer, 55, &blob(1, 0)).await;
    let mut text = String::new();
    let read = async {
        while !(text.contains("event: updateEncryptedChatTyping")
            && text.contains("event: updateNewEncryptedMessage"))
        {
            match stream.chunk().await.expect("stream chunk") {
                Some(chunk) => text.push_str(&String::from_utf8_lossy(&chunk)),
                None => break,
            }
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("no pushed events within the deadline");
    assert!(text.contains("\"random_id\":\"55\""), "{text}");
    assert!(text.contains("\"qts\":2"), "{text}");
    drop(stream);
    server.shut_down().await;
}

#[tokio::test]
async fn unacknowledged_updates_expire_when_the_clock_moves_8_days() {
    let server = Running::start(config()).await;
    let alice = server.sign_in("alice", "phone").await;
    let bob = server.sign_in("bob", "phone").await;
    let (alice_peer, _) = open_chat(&alice, &bob, 8).await;
    alice.send(&alice_peer, 1, &blob(1, 0)).await;
    let before = bob.ok("updates.getState", json!({})).await;
    let moved = server
        .admin("/admin/clock/advance", json!({"seconds": 8 * 24 * 3600}))
        .await;
    assert!(moved["expired_updates"].as_u64().unwrap() >= 1, "{moved}");
    let after = bob.ok("updates.getState", json!({})).await;
    assert!(after["date"].as_i64().unwrap() >= before["date"].as_i64().unwrap() + 8 * 24 * 3600);
    // The expired message is gone: bob, behind, is only told the counters.
    let behind = bob.difference(0, 0, 0).await;
    assert_eq!(behind["_"], "updates.difference");
    assert_eq!(behind["new_encrypted_messages"], json!([]));
    assert_eq!(behind["state"]["qts"], after["qts"]);
    // Counters keep going after expiry.
    alice.send(&alice_peer, 2, &blob(1, 0)).await;
    let (messages, _, (_, qts)) = bob.catch_up(0, 0).await;
    assert_eq!((messages.len(), qts), (1, 3));
    server.shut_down().await;
}

#[tokio::test]
async fn a_file_uploaded_in_parts_is_downloaded_and_forwarded() {
    let server = Running::start(config()).await;
    let alice = server.sign_in("alice", "phone").await;
    let bob = server.sign_in("bob", "phone").await;
    let (alice_peer, bob_peer) = open_chat(&alice, &bob, 9).await;
    let content: Vec<u8> = (0..(3 * 8192 + 1000))
        .map(|i: u32| (i % 251) as u8)
        .collect();
    for (part, chunk) in content.chunks(8192).enumerate() {
        let saved = alice
            .ok(
                "upload.saveFilePart",
                json!({"file_id": "77", "file_part": part, "bytes": b64(chunk)}),
            )
            .await;
        assert_eq!(saved, json!(true));
    }
    let md5 = hex_md5(&content);
    let sent = alice
        .ok("messages.sendEncryptedFile", json!({
            "peer": alice_peer, "random_id": "1", "data": b64(&blob(1, 0)),
            "file": {"_": "inputEncryptedFileUploaded", "id": "77", "parts": 4, "md5_checksum": md5, "key_fingerprint": -5}
        }))
        .await;
    let file = sent["file"].clone();
    let (messages, _, _) = bob.catch_up(0, 0).await;
    assert_eq!(messages[0]["file"], file);
    let location = json!({"_": "inputEncryptedFileLocation", "id": file["id"], "access_hash": file["access_hash"]});
    let mut downloaded = Vec::new();
    loop {
        let offset = downloaded.len();
        let part = bob
            .ok(
                "upload.getFile",
                json!({"location": location, "offset": offset.to_string(), "limit": 16384}),
            )
            .await;
        let bytes = unb64(&part["bytes"]);
        let last = bytes.len() < 16384;
        downloaded.extend(bytes);
        if last {
            break;
        }
    }
    assert_eq!(downloaded, content);
    let forwarded = bob
        .ok("messages.sendEncryptedFile", json!({
            "peer": bob_peer, "random_id": "2", "data": b64(&blob(1, 0)),
            "file": {"_": "inputEncryptedFile", "id": file["id"], "access_hash": file["access_hash"]}
        }))
        .await;
    assert_eq!(forwarded["file"], file);
    let state = reqwest::Client::new()
        .get(format!("{}/admin/state", server.admin))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(state["files"]["stored"], 1);
    assert_eq!(state["files"]["stored_bytes"], content.len());
    server.shut_down().await;
}

#[tokio::test]
async fn many_devices_sending_at_once_each_get_every_message_exactly_once() {
    let server = Running::start(config()).await;
    let mut pairs = Vec::new();
    for n in 0..4 {
        let sender = server.sign_in(&format!("s{n}"), "phone").await;
        let receiver = server.sign_in(&format!("r{n}"), "phone").await;
        let user = sender.input_user(&format!("r{n}")).await;
        let waiting = sender
            .ok(
                "messages.requestEncryption",
                json!({"user_id": user, "random_id": 100 + n, "g_a": b64(&public(1))}),
            )
            .await;
        let (_, others, _) = receiver.catch_up(0, 0).await;
        let peer = json!({"_": "inputEncryptedChat", "chat_id": 100 + n, "access_hash": others[0]["chat"]["access_hash"]});
        receiver
            .ok(
                "messages.acceptEncryption",
                json!({"peer": peer, "g_b": b64(&public(2)), "key_fingerprint": "1"}),
            )
            .await;
        let sender_peer = json!({"_": "inputEncryptedChat", "chat_id": 100 + n, "access_hash": waiting["access_hash"]});
        pairs.push((sender, sender_peer, receiver));
    }
    let sends = pairs.iter().map(|(sender, peer, _)| {
        let (sender, peer) = (sender.clone(), peer.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                sender.send(&peer, i, &blob(1, 0)).await;
                // Every tenth message is resent: it must not be delivered twice.
                if i % 10 == 0 {
                    sender.send(&peer, i, &blob(1, 0)).await;
                }
            }
        })
    });
    for send in sends.collect::<Vec<_>>() {
        tokio::time::timeout(DEADLINE, send)
            .await
            .expect("senders finished")
            .expect("task");
    }
    for (_, _, receiver) in &pairs {
        let (messages, _, (_, qts)) = receiver.catch_up(0, 0).await;
        assert_eq!(messages.len(), 40);
        assert_eq!(qts, 41);
    }
    server.shut_down().await;
}

fn hex_md5(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(bytes))
}
