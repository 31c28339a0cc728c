//! The server dashboard (`/ui` on the admin listener) in a browser: opened from the link the
//! log prints, it shows a message queued for a device and then shows it gone once the
//! device acknowledges it — live, without a reload.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use secretchat_common::dh::{public_value, CheckedConfig, Exponent};
use secretchat_server::admin::ui;
use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::screenshot_path;
use crate::webdriver::{Browser, DEADLINE};

/// A server on ephemeral loopback ports: its API URL and the dashboard link.
struct Lab {
    api: String,
    dashboard: String,
    http: reqwest::Client,
}

impl Lab {
    async fn start() -> Lab {
        let config = ServerConfig::for_tests();
        let state = Arc::new(Server::new(&config).expect("a valid config"));
        let api = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let lab = Lab {
            api: format!("http://{}", api.local_addr().expect("address")),
            dashboard: ui::link(admin.local_addr().expect("address"), state.admin_token()),
            http: reqwest::Client::new(),
        };
        let app = secretchat_server::app(Arc::clone(&state));
        tokio::spawn(secretchat_server::serve(api, app, std::future::pending()));
        let admin_app = secretchat_server::admin_app(state);
        tokio::spawn(secretchat_server::serve(
            admin,
            admin_app,
            std::future::pending(),
        ));
        lab
    }

    async fn call(&self, token: Option<&str>, method: &str, body: Value) -> Value {
        let mut request = self
            .http
            .post(format!("{}/api/{method}", self.api))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = tokio::time::timeout(DEADLINE, request.send())
            .await
            .unwrap_or_else(|_| panic!("{method} did not answer within {DEADLINE:?}"))
            .expect("HTTP call");
        assert!(response.status().is_success(), "{method} failed");
        response.json().await.expect("a JSON answer")
    }

    async fn sign_in(&self, username: &str) -> String {
        let auth = self
            .call(
                None,
                "auth.signIn",
                json!({"username": username, "device": "phone"}),
            )
            .await;
        auth["token"].as_str().expect("a token").to_owned()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A valid g^x mod p for Telegram's (p, g): the server checks its range.
fn public(seed: u8) -> Vec<u8> {
    let mut exponent = [0x5au8; 256];
    exponent[0] = seed;
    let exponent = Exponent::from_be_bytes(&exponent).expect("256 bytes");
    public_value(&CheckedConfig::telegram_default(), &exponent)
}

/// The number in a device's table cell, as the page shows it.
const CELL: &str =
    "const row = document.querySelector(`#devices tr[data-device='${arguments[0]}']`);
     const cell = row && row.querySelector(`[data-field='${arguments[1]}']`);
     return cell ? cell.textContent : null;";

#[tokio::test]
async fn the_dashboard_shows_a_queued_message_appear_and_go() {
    let lab = Lab::start().await;
    let browser = Browser::start().await;
    browser.goto(&lab.dashboard).await;
    let address = browser.eval("return location.href;", json!([])).await;
    assert!(
        address.as_str().is_some_and(|url| url.ends_with("/ui")),
        "the key left the address bar: {address}"
    );
    browser
        .wait_for(
            "the stream to connect",
            "return document.getElementById('connection').textContent === 'live';",
            json!([]),
        )
        .await;

    // alice asks bob for a secret chat; bob accepts; alice sends one encrypted message.
    let alice = lab.sign_in("alice").await;
    let bob = lab.sign_in("bob").await;
    let user = lab
        .call(
            Some(&alice),
            "contacts.resolveUsername",
            json!({"username": "bob"}),
        )
        .await;
    let waiting = lab
        .call(
            Some(&alice),
            "messages.requestEncryption",
            json!({"user_id": {"_": "inputUser", "user_id": user["id"], "access_hash": user["access_hash"]},
                   "random_id": 3, "g_a": b64(&public(1))}),
        )
        .await;
    let difference = lab
        .call(
            Some(&bob),
            "updates.getDifference",
            json!({"pts": 0, "qts": 0, "date": 0}),
        )
        .await;
    let bob_hash = difference["other_updates"][0]["chat"]["access_hash"].clone();
    let pts = difference["state"]["pts"].clone();
    lab.call(
        Some(&bob),
        "messages.acceptEncryption",
        json!({"peer": {"_": "inputEncryptedChat", "chat_id": 3, "access_hash": bob_hash},
               "g_b": b64(&public(2)), "key_fingerprint": "1"}),
    )
    .await;
    browser
        .wait_for(
            "bob/phone in the device table with nothing queued",
            CELL,
            json!(["bob/phone", "queued_messages"]),
        )
        .await;
    let peer =
        json!({"_": "inputEncryptedChat", "chat_id": 3, "access_hash": waiting["access_hash"]});
    lab.call(
        Some(&alice),
        "messages.sendEncrypted",
        json!({"peer": peer, "random_id": "11", "data": b64(&[7u8; 24 + 32])}),
    )
    .await;

    let queued =
        "const text = (() => {".to_owned() + CELL + "})(); return text === '1' ? text : null;";
    browser
        .wait_for(
            "bob's queue to show 1 message",
            &queued,
            json!(["bob/phone", "queued_messages"]),
        )
        .await;
    let shown_chat = browser
        .eval(
            "const row = document.querySelector(\"#chats tr[data-chat-id='3'] [data-field='state']\");
             return row && row.textContent;",
            json!([]),
        )
        .await;
    assert_eq!(shown_chat, "accepted");
    browser
        .screenshot(&screenshot_path("dashboard-queued"))
        .await;
    let devices = browser.find("#devices").await;
    browser
        .element_screenshot(&devices, &screenshot_path("dashboard-queued-devices"))
        .await;

    // bob fetches it and acknowledges: the queue empties.
    let fetched = lab
        .call(
            Some(&bob),
            "updates.getDifference",
            json!({"pts": pts, "qts": 0, "date": 0}),
        )
        .await;
    let qts = fetched["state"]["qts"].as_i64().expect("qts");
    lab.call(
        Some(&bob),
        "messages.receivedQueue",
        json!({"max_qts": qts}),
    )
    .await;
    let gone =
        "const text = (() => {".to_owned() + CELL + "})(); return text === '0' ? text : null;";
    browser
        .wait_for(
            "bob's queue to show 0 messages",
            &gone,
            json!(["bob/phone", "queued_messages"]),
        )
        .await;
    let logged = browser
        .wait_for(
            "the acknowledgement in the event log",
            "return [...document.querySelectorAll('#events [data-field=event]')]
                .some((cell) => cell.textContent === 'acknowledged');",
            json!([]),
        )
        .await;
    assert_eq!(logged, true);
    browser
        .screenshot(&screenshot_path("dashboard-acknowledged"))
        .await;

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
}
