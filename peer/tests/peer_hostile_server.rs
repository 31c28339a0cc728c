//! The reference peer against the mock's hostile modes (docs/faults.md), end to end over
//! HTTP: what the device does and reports when the server attacks a chat.

mod peer_support;

use std::time::Duration;

use peer_support::{device, establish, expect_event, expect_text, server};
use secretchat_peer::client::ApiClient;
use secretchat_peer::device::{AcceptOutcome, PeerEvent};
use secretchat_peer::embedded::EmbeddedServer;
use serde_json::{json, Value};

/// `POST /admin/hostile` with `body`; panics with the server's answer when refused.
async fn install_hostile(server: &EmbeddedServer, body: Value) {
    let admin = ApiClient::new(&server.admin_url)
        .expect("admin URL")
        .with_token(server.admin_token.clone());
    admin
        .request(
            "/admin/hostile",
            "/admin/hostile",
            Some(&body),
            Duration::ZERO,
        )
        .await
        .unwrap_or_else(|error| panic!("installing {body}: {error}"));
}

/// `GET` on the admin surface.
async fn admin_get(server: &EmbeddedServer, path: &str) -> Value {
    let admin = ApiClient::new(&server.admin_url)
        .expect("admin URL")
        .with_token(server.admin_token.clone());
    admin
        .request(path, path, None, Duration::ZERO)
        .await
        .unwrap_or_else(|error| panic!("GET {path}: {error}"))
}

/// The server's state of a chat (`GET /admin/state`).
async fn chat_state_on_server(server: &EmbeddedServer, chat_id: i32) -> String {
    let state = server.admin().state().await.expect("admin state");
    state["chats"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|chat| chat["id"] == json!(chat_id))
        .and_then(|chat| chat["state"].as_str())
        .unwrap_or("unknown")
        .to_owned()
}

#[tokio::test]
async fn a_degenerate_g_a_is_refused_on_accept_and_the_request_declined_on_the_server() {
    let server = server().await;
    let mut bob = device(&server, "bob", "phone", 2).await;
    for (n, (value, check)) in [
        ("zero", "must be > 1"),
        ("one", "must be > 1"),
        ("p_minus_1", "must be < p − 1"),
        ("below_2_1984", "must be > 2^(2048−64)"),
    ]
    .into_iter()
    .enumerate()
    {
        let user = format!("alice{n}");
        let mut alice = device(&server, &user, "phone", 10 + n as u64).await;
        install_hostile(
            &server,
            json!({"next_chat_of": user, "mode": {"type": "degenerate_g_a", "value": value}}),
        )
        .await;
        let chat_id = alice.request_chat("bob").await.expect("request");
        expect_event(
            &mut bob,
            "ChatRequested",
            |e| matches!(e, PeerEvent::ChatRequested { chat_id: c, .. } if *c == chat_id),
        )
        .await;

        // The user's accept is answered: refused, with the failed check.
        let outcome = bob
            .accept_chat(chat_id)
            .await
            .expect("the accept is answered");
        let AcceptOutcome::Refused { reason } = outcome else {
            panic!("{value}: bob accepted a degenerate g_a");
        };
        assert!(
            reason.starts_with("the peer's g_a failed the DH checks") && reason.contains(check),
            "{value}: {reason}"
        );
        assert!(!bob.is_established(chat_id), "{value}");
        assert_eq!(bob.key_fingerprint(chat_id), None, "{value}");

        // Bob's device reports the abort; the server holds the chat as discarded, and
        // Alice sees it discarded.
        let aborted = expect_event(
            &mut bob,
            "Aborted",
            |e| matches!(e, PeerEvent::Aborted { chat_id: c, .. } if *c == chat_id),
        )
        .await;
        assert!(aborted.to_string().contains(check), "{aborted}");
        assert_eq!(chat_state_on_server(&server, chat_id).await, "discarded");
        expect_event(
            &mut alice,
            "ChatDiscarded",
            |e| matches!(e, PeerEvent::ChatDiscarded { chat_id: c, .. } if *c == chat_id),
        )
        .await;
        // Accepting again is a caller error now: the chat is over.
        assert!(bob.accept_chat(chat_id).await.is_err(), "{value}");
    }

    // The same device still accepts an honest request.
    let mut carol = device(&server, "carol", "phone", 30).await;
    establish(&mut carol, &mut bob).await;
}

/// Sends `bytes` from Alice and waits for what Bob's device makes of it: the file, or the
/// reason it refused it.
async fn send_and_fetch(
    alice: &mut secretchat_peer::device::Device,
    bob: &mut secretchat_peer::device::Device,
    chat_id: i32,
    bytes: &[u8],
) -> (i64, Result<String, String>) {
    let random_id = alice
        .send_file(chat_id, bytes, "f.bin", "application/octet-stream")
        .await
        .expect("send_file");
    let event = expect_event(bob, "the file or its refusal", |e| {
        matches!(e, PeerEvent::FileReceived { random_id: r, .. } | PeerEvent::FileFailed { random_id: r, .. } if *r == random_id)
    })
    .await;
    let outcome = match event {
        PeerEvent::FileReceived { sha256, .. } => Ok(sha256),
        PeerEvent::FileFailed { reason, .. } => Err(reason),
        other => panic!("{other}"),
    };
    (random_id, outcome)
}

#[tokio::test]
async fn a_swapped_file_of_another_length_is_refused_and_the_chat_goes_on() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 1).await;
    let mut bob = device(&server, "bob", "phone", 2).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    let decoy = vec![7u8; 3000];
    let (decoy_id, got) = send_and_fetch(&mut alice, &mut bob, chat_id, &decoy).await;
    assert_eq!(got, Ok(secretchat_peer::files::sha256_hex(&decoy)));
    let decoy_file = alice
        .file_id(decoy_id)
        .expect("alice knows the decoy's server id");
    install_hostile(
        &server,
        json!({"chat_id": chat_id, "mode": {"type": "swap_file", "with_file_id": decoy_file.to_string()}}),
    )
    .await;

    let (_, got) = send_and_fetch(&mut alice, &mut bob, chat_id, &[9u8; 5000]).await;
    let reason = got.expect_err("a swapped file of another length is refused");
    assert!(
        reason.contains("says 5008 bytes, the download gave 3008"),
        "{reason}"
    );
    alice
        .send_text(chat_id, "still here", 0)
        .await
        .expect("send");
    peer_support::expect_text(&mut bob, chat_id, "still here").await;
}

/// The limit the attack pack documents: nothing in a secret chat lets the receiver check a
/// file's contents (no MAC; the upload's md5_checksum reaches the server only), so bytes
/// of another file of the same padded length pass the fingerprint and size checks and
/// decrypt to garbage. If the protocol (or this peer) ever gains such a check, this test
/// must change to expect a refusal.
#[tokio::test]
async fn a_swapped_file_of_the_same_length_is_beyond_what_the_protocol_can_detect() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 1).await;
    let mut bob = device(&server, "bob", "phone", 2).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    let (decoy_id, _) = send_and_fetch(&mut alice, &mut bob, chat_id, &[7u8; 3000]).await;
    let decoy_file = alice.file_id(decoy_id).expect("decoy id");
    install_hostile(
        &server,
        json!({"chat_id": chat_id, "mode": {"type": "swap_file", "with_file_id": decoy_file.to_string()}}),
    )
    .await;
    let photo = vec![9u8; 3000];
    let (_, got) = send_and_fetch(&mut alice, &mut bob, chat_id, &photo).await;
    let sha256 = got.expect("no check refuses it");
    assert_ne!(sha256, secretchat_peer::files::sha256_hex(&photo));
}

#[tokio::test]
async fn a_truncated_file_is_refused_by_the_size_check() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 1).await;
    let mut bob = device(&server, "bob", "phone", 2).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    install_hostile(
        &server,
        json!({"chat_id": chat_id, "mode": {"type": "truncate_file", "bytes": 16}}),
    )
    .await;
    // One range and several (DOWNLOAD_LIMIT is 512 KiB): each answer is 16 bytes short.
    for (size, got) in [(5000usize, 4992usize), (600_000, 524_272)] {
        let (_, outcome) = send_and_fetch(&mut alice, &mut bob, chat_id, &vec![1u8; size]).await;
        let reason = outcome.expect_err("a truncated file is refused");
        assert!(
            reason.contains(&format!("the download gave {got}")),
            "{size}: {reason}"
        );
    }
}

/// One re-key of the chat, started by `requester`, with both devices switching; answers
/// the fingerprint each ends up with (requester's, acceptor's).
async fn rekey_through(
    requester: &mut secretchat_peer::device::Device,
    acceptor: &mut secretchat_peer::device::Device,
    chat_id: i32,
) -> (i64, i64) {
    let before = (
        requester.key_fingerprint(chat_id).expect("a key"),
        acceptor.key_fingerprint(chat_id).expect("a key"),
    );
    requester.rekey(chat_id).await.expect("rekey");
    // RequestKey → the acceptor answers AcceptKey; the requester commits; both switch.
    acceptor
        .poll(Duration::from_millis(300))
        .await
        .expect("the acceptor answers");
    let changed =
        |e: &PeerEvent| matches!(e, PeerEvent::KeyChanged { chat_id: c, .. } if *c == chat_id);
    expect_event(requester, "KeyChanged (requester)", changed).await;
    expect_event(acceptor, "KeyChanged (acceptor)", changed).await;
    let after = (
        requester.key_fingerprint(chat_id).expect("a key"),
        acceptor.key_fingerprint(chat_id).expect("a key"),
    );
    assert_ne!(after.0, before.0, "the requester has a new key");
    assert_ne!(after.1, before.1, "the acceptor has a new key");
    (after.0.as_i64(), after.1.as_i64())
}

#[tokio::test]
async fn a_man_in_the_middle_stays_in_the_middle_through_rekeys_from_either_side() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 71).await;
    let mut bob = device(&server, "bob", "phone", 72).await;
    install_hostile(
        &server,
        json!({"next_chat_of": "alice", "mode": {"type": "mitm"}, "seed": 9}),
    )
    .await;
    let chat_id = establish(&mut alice, &mut bob).await;
    // Both ends at layer 144 (re-keying needs 20): a message each way negotiates it.
    alice.send_text(chat_id, "before", 0).await.expect("send");
    expect_text(&mut bob, chat_id, "before").await;
    bob.send_text(chat_id, "before too", 0).await.expect("send");
    expect_text(&mut alice, chat_id, "before too").await;
    let pictures = (alice.visualization(chat_id), bob.visualization(chat_id));
    assert_ne!(pictures.0, pictures.1, "the MitM is in from the start");

    let keys_path = format!("/admin/hostile/mitm?chat_id={chat_id}");
    for (round, alice_requests) in [(1, true), (2, false)] {
        let (alice_fp, bob_fp) = if alice_requests {
            rekey_through(&mut alice, &mut bob, chat_id).await
        } else {
            let (bob_fp, alice_fp) = rekey_through(&mut bob, &mut alice, chat_id).await;
            (alice_fp, bob_fp)
        };
        assert_ne!(
            alice_fp, bob_fp,
            "round {round}: the server is still in the middle"
        );

        // Messages still flow both ways, under the new keys.
        let text = format!("after re-key {round}");
        alice.send_text(chat_id, &text, 0).await.expect("send");
        expect_text(&mut bob, chat_id, &text).await;
        bob.send_text(chat_id, &format!("{text}, back"), 0)
            .await
            .expect("send");
        expect_text(&mut alice, chat_id, &format!("{text}, back")).await;

        // The server holds each side's current key, and knows it.
        let keys = admin_get(&server, &keys_path).await;
        assert_eq!(
            keys["key_with_admin"]["key_fingerprint"],
            alice_fp.to_string(),
            "{keys}"
        );
        assert_eq!(
            keys["key_with_participant"]["key_fingerprint"],
            bob_fp.to_string(),
            "{keys}"
        );
        assert_eq!(keys["generation_admin"], round, "{keys}");
        assert_eq!(keys["generation_participant"], round, "{keys}");
        assert_eq!(keys["messages_forwarded_unopened"], 0, "{keys}");
    }
    // The users' pictures are still those of the first keys, still different.
    assert_eq!(
        (alice.visualization(chat_id), bob.visualization(chat_id)),
        pictures
    );
    assert!(alice.chat(chat_id).is_some() && bob.chat(chat_id).is_some());

    // The event log shows each substitution, three per exchange.
    let log = admin_get(&server, "/admin/events?since=0&limit=1000").await;
    let substitutions: Vec<&str> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "hostile" && e["chat_id"] == chat_id)
        .filter_map(|e| e["rekey"].as_str())
        .collect();
    assert_eq!(
        substitutions,
        [
            "request_key",
            "accept_key",
            "commit_key",
            "request_key",
            "accept_key",
            "commit_key"
        ],
        "{log}"
    );
    let accepted = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rekey"] == "accept_key")
        .expect("an accept_key event");
    assert_eq!(accepted["seed"], 9);
    assert_eq!(accepted["acceptor_fingerprint_matches_new_key"], true);
    assert_ne!(
        accepted["new_key_with_admin"]["key_fingerprint"],
        accepted["new_key_with_participant"]["key_fingerprint"]
    );
    server.shut_down().await;
}
