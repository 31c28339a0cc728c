//! The fault engine over real HTTP, as a scenario runner drives it: the server runs
//! in-process on ephemeral ports (client API and admin surface), a plain HTTP client
//! installs rules, devices long-poll, the admin releases, the event log is read back.
//! Every wait has a deadline and a readable failure.

mod support;

use std::sync::Arc;
use std::time::Duration;

use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use serde_json::{json, Value};
use support::{b64, blob, public, ADMIN_TOKEN};
use tokio::net::TcpListener;

const DEADLINE: Duration = Duration::from_secs(20);

struct Running {
    api: String,
    admin: String,
    http: reqwest::Client,
}

impl Running {
    async fn start() -> Self {
        let state = Arc::new(Server::new(&ServerConfig::for_tests()).expect("config"));
        let api = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let running = Self {
            api: format!("http://{}", api.local_addr().expect("addr")),
            admin: format!("http://{}", admin.local_addr().expect("addr")),
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
        running
    }

    async fn call(&self, token: Option<&str>, method: &str, body: Value) -> (u16, Value) {
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
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    async fn ok(&self, token: &str, method: &str, body: Value) -> Value {
        let (status, value) = self.call(Some(token), method, body).await;
        assert_eq!(status, 200, "{method}: {value}");
        value
    }

    async fn admin(&self, verb: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(verb, format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin call");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    async fn sign_in(&self, username: &str) -> String {
        let (_, auth) = self
            .call(
                None,
                "auth.signIn",
                json!({"username": username, "device": "phone"}),
            )
            .await;
        auth["token"].as_str().expect("token").to_owned()
    }
}

/// alice and bob with an accepted chat 3: (alice, bob, alice's peer).
async fn chat(server: &Running) -> (String, String, Value) {
    let alice = server.sign_in("alice").await;
    let bob = server.sign_in("bob").await;
    let user = server
        .ok(
            &alice,
            "contacts.resolveUsername",
            json!({"username": "bob"}),
        )
        .await;
    let waiting = server
        .ok(
            &alice,
            "messages.requestEncryption",
            json!({"user_id": {"_": "inputUser", "user_id": user["id"], "access_hash": user["access_hash"]},
                   "random_id": 3, "g_a": b64(&public(1))}),
        )
        .await;
    let diff = server
        .ok(
            &bob,
            "updates.getDifference",
            json!({"pts": 0, "qts": 0, "date": 0}),
        )
        .await;
    let hash = diff["other_updates"][0]["chat"]["access_hash"].clone();
    server
        .ok(
            &bob,
            "messages.acceptEncryption",
            json!({"peer": {"_": "inputEncryptedChat", "chat_id": 3, "access_hash": hash},
                   "g_b": b64(&public(2)), "key_fingerprint": "1"}),
        )
        .await;
    let peer =
        json!({"_": "inputEncryptedChat", "chat_id": 3, "access_hash": waiting["access_hash"]});
    (alice, bob, peer)
}

#[tokio::test]
async fn a_long_polling_device_is_woken_when_the_admin_releases_a_held_message() {
    let server = Running::start().await;
    let (alice, bob, peer) = chat(&server).await;
    let (status, rule) = server
        .admin(
            reqwest::Method::POST,
            "/admin/faults",
            Some(json!({"match": {"device": {"user": "bob", "device": "phone"}, "update": "new_encrypted_message"},
                        "action": {"type": "hold"}, "seed": 9})),
        )
        .await;
    assert_eq!(status, 200, "{rule}");
    let rule_id = rule["id"].as_u64().expect("id");
    server
        .ok(
            &alice,
            "messages.sendEncrypted",
            json!({"peer": peer, "random_id": "1", "data": b64(&blob(2, 5))}),
        )
        .await;
    // bob waits (registered before the release); the held message is not there yet.
    let state = server.ok(&bob, "updates.getState", json!({})).await;
    let poll = {
        let body = json!({"pts": state["pts"], "qts": state["qts"], "date": 0, "timeout": 15});
        let (api, http, bob) = (server.api.clone(), server.http.clone(), bob.clone());
        tokio::spawn(async move {
            let response = http
                .post(format!("{api}/api/updates.getDifference"))
                .bearer_auth(bob)
                .json(&body)
                .send()
                .await
                .expect("long-poll");
            response.json::<Value>().await.expect("JSON")
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!poll.is_finished(), "nothing may arrive before the release");
    let (status, released) = server
        .admin(
            reqwest::Method::POST,
            &format!("/admin/faults/{rule_id}/release"),
            None,
        )
        .await;
    assert_eq!((status, released["released"].as_u64()), (200, Some(1)));
    let diff = tokio::time::timeout(DEADLINE, poll)
        .await
        .expect("the long-poll was not woken by the release")
        .expect("poll task");
    assert_eq!(
        diff["new_encrypted_messages"][0]["random_id"], "1",
        "{diff}"
    );

    let (_, log) = server
        .admin(reqwest::Method::GET, "/admin/events?since=0", None)
        .await;
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["rule"] == rule_id)
        .map(|e| e["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, vec!["fault", "released"]);
}

#[tokio::test]
async fn an_injected_flood_wait_reaches_the_client_as_a_420_over_http() {
    let server = Running::start().await;
    let (alice, _, peer) = chat(&server).await;
    server
        .admin(
            reqwest::Method::POST,
            "/admin/faults",
            Some(json!({"match": {"method": "messages.sendEncrypted"}, "times": 1,
                        "action": {"type": "error", "error_code": 420, "error_message": "FLOOD_WAIT_3"}})),
        )
        .await;
    let body = json!({"peer": peer, "random_id": "1", "data": b64(&blob(2, 5))});
    let (status, answer) = server
        .call(Some(&alice), "messages.sendEncrypted", body.clone())
        .await;
    assert_eq!(
        (status, answer["error_message"].as_str()),
        (420, Some("FLOOD_WAIT_3"))
    );
    let (status, _) = server
        .call(Some(&alice), "messages.sendEncrypted", body)
        .await;
    assert_eq!(status, 200, "the retry goes through");
    let (status, deleted) = server
        .admin(reqwest::Method::DELETE, "/admin/faults", None)
        .await;
    assert_eq!((status, deleted["deleted"].as_u64()), (200, Some(1)));
}
