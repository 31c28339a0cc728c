//! The reference peer against the mock's hostile modes (docs/faults.md), end to end over
//! HTTP: what the device does and reports when the server attacks a chat.

mod peer_support;

use std::time::Duration;

use peer_support::{device, establish, expect_event, server};
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
        .request("/admin/hostile", "/admin/hostile", Some(&body), Duration::ZERO)
        .await
        .unwrap_or_else(|error| panic!("installing {body}: {error}"));
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
        let outcome = bob.accept_chat(chat_id).await.expect("the accept is answered");
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
