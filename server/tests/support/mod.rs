//! Test support: a server in-process, called through the router with `oneshot`, and the
//! few steps every story needs (sign in, resolve, request, accept, send, getDifference).
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use http_body_util::BodyExt;
use secretchat_common::dh::{public_value, CheckedConfig, Exponent};
use secretchat_server::config::ServerConfig;
use secretchat_server::state::{AppState, Server};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A signed-in device as a test sees it.
#[derive(Debug, Clone)]
pub struct Dev {
    pub token: String,
    pub user_id: String,
}

pub struct Lab {
    pub state: AppState,
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_str().expect("a base64 string"))
        .expect("valid base64")
}

/// A valid public value g^x mod p for Telegram's (p, g), from a small exponent seed.
pub fn public(seed: u8) -> Vec<u8> {
    let mut exponent = [0x5au8; 256];
    exponent[0] = seed;
    let exponent = Exponent::from_be_bytes(&exponent).expect("256 bytes");
    public_value(&CheckedConfig::telegram_default(), &exponent)
}

/// An opaque blob shaped like an encrypted message: fingerprint(8) + msg_key(16) + blocks.
pub fn blob(blocks: usize, fill: u8) -> Vec<u8> {
    vec![fill; 24 + 16 * blocks]
}

impl Lab {
    pub fn new() -> Self {
        Self::with_config(ServerConfig::for_tests())
    }

    pub fn with_config(config: ServerConfig) -> Self {
        Self {
            state: Arc::new(Server::new(&config).expect("valid test config")),
        }
    }

    pub fn app(&self) -> Router {
        secretchat_server::app(Arc::clone(&self.state))
    }

    pub fn admin(&self) -> Router {
        secretchat_server::admin_app(Arc::clone(&self.state))
    }

    /// Any request through a router; answers the status and the JSON body (or Null).
    pub async fn send(router: Router, request: Request<Body>) -> (StatusCode, Value) {
        let response = router.oneshot(request).await.expect("infallible router");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }

    /// `POST /api/<method>` with a raw body.
    pub async fn raw(
        &self,
        token: Option<&str>,
        method: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, Value) {
        let mut request =
            Request::post(format!("/api/{method}")).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        Self::send(self.app(), request.body(body.into()).expect("request")).await
    }

    /// `POST /api/<method>` with a JSON body.
    pub async fn call(&self, dev: Option<&Dev>, method: &str, body: Value) -> (StatusCode, Value) {
        self.raw(dev.map(|d| d.token.as_str()), method, body.to_string())
            .await
    }

    /// A call that must succeed.
    pub async fn ok(&self, dev: &Dev, method: &str, body: Value) -> Value {
        let (status, value) = self.call(Some(dev), method, body).await;
        assert_eq!(status, StatusCode::OK, "{method} failed: {value}");
        value
    }

    /// A call that must fail with exactly this code and message; checks nothing changed
    /// in the admin state.
    pub async fn fails(
        &self,
        dev: Option<&Dev>,
        method: &str,
        body: Value,
        code: u16,
        message: &str,
    ) {
        let before = self.admin_state().await;
        let (status, value) = self.call(dev, method, body).await;
        assert_eq!(status.as_u16(), code, "{method}: {value}");
        assert_eq!(value["_"], "rpc_error");
        assert_eq!(value["error_code"], code);
        assert_eq!(value["error_message"], message, "{method}: {value}");
        assert!(
            message == "INPUT_METHOD_INVALID"
                || secretchat_server::openapi::client::may_answer(method, message),
            "{method} answered {message}, which its file does not declare (MethodDoc::errors)"
        );
        let mut after = self.admin_state().await;
        after["clock"] = before["clock"].clone();
        // The process's memory moves on its own; it is not state a call may change.
        after["process"] = before["process"].clone();
        assert_eq!(
            before, after,
            "{method} failed with {message} but changed the state"
        );
    }

    /// Calls of one method, in order, each refused with 400 and exactly its message, and
    /// each changing nothing (see [`Lab::fails`]): one row per call, as (caller, body,
    /// `error_message`).
    pub async fn refuses<'a>(
        &self,
        method: &str,
        calls: impl IntoIterator<Item = (&'a Dev, Value, &'a str)>,
    ) {
        for (dev, body, message) in calls {
            self.fails(Some(dev), method, body, 400, message).await;
        }
    }

    pub async fn admin_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
        Self::send(self.admin(), request.body(body).expect("request")).await
    }

    pub async fn admin_state(&self) -> Value {
        let (status, value) = self
            .admin_call("GET", "/admin/state", None, Some(ADMIN_TOKEN))
            .await;
        assert_eq!(status, StatusCode::OK);
        value
    }

    pub async fn sign_in(&self, username: &str, device: &str) -> Dev {
        let (status, value) = self
            .call(
                None,
                "auth.signIn",
                json!({"username": username, "device": device}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{value}");
        Dev {
            token: value["token"].as_str().expect("token").to_owned(),
            user_id: value["user"]["id"].as_str().expect("id").to_owned(),
        }
    }

    /// `inputUser` for `username` as `viewer` sees it.
    pub async fn input_user(&self, viewer: &Dev, username: &str) -> Value {
        let user = self
            .ok(
                viewer,
                "contacts.resolveUsername",
                json!({"username": username}),
            )
            .await;
        json!({"_": "inputUser", "user_id": user["id"], "access_hash": user["access_hash"]})
    }

    /// A requests a chat with `username`; answers encryptedChatWaiting.
    pub async fn request(&self, from: &Dev, username: &str, chat_id: i32) -> Value {
        let user_id = self.input_user(from, username).await;
        self.ok(
            from,
            "messages.requestEncryption",
            json!({"user_id": user_id, "random_id": chat_id, "g_a": b64(&public(1))}),
        )
        .await
    }

    /// The participant's `inputEncryptedChat`, read from its encryptedChatRequested update.
    pub async fn requested_peer(&self, dev: &Dev, chat_id: i32) -> Value {
        let diff = self.difference(dev, 0, 0).await;
        let update = diff["other_updates"]
            .as_array()
            .and_then(|u| {
                u.iter().rev().find(|u| {
                    u["chat"]["_"] == "encryptedChatRequested" && u["chat"]["id"] == chat_id
                })
            })
            .unwrap_or_else(|| panic!("no request for chat {chat_id}: {diff}"));
        json!({"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": update["chat"]["access_hash"]})
    }

    pub async fn accept(&self, dev: &Dev, peer: &Value) -> Value {
        self.ok(
            dev,
            "messages.acceptEncryption",
            json!({"peer": peer, "g_b": b64(&public(2)), "key_fingerprint": "1234"}),
        )
        .await
    }

    /// A full chat: alice's device requests, bob's device accepts. Answers (alice's peer,
    /// bob's peer).
    pub async fn chat(
        &self,
        alice: &Dev,
        bob: &Dev,
        bob_name: &str,
        chat_id: i32,
    ) -> (Value, Value) {
        let waiting = self.request(alice, bob_name, chat_id).await;
        let bob_peer = self.requested_peer(bob, chat_id).await;
        self.accept(bob, &bob_peer).await;
        let alice_peer = json!({"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": waiting["access_hash"]});
        (alice_peer, bob_peer)
    }

    pub async fn send_message(
        &self,
        from: &Dev,
        peer: &Value,
        random_id: i64,
        data: &[u8],
    ) -> (StatusCode, Value) {
        self.call(
            Some(from),
            "messages.sendEncrypted",
            json!({"peer": peer, "random_id": random_id.to_string(), "data": b64(data)}),
        )
        .await
    }

    pub async fn difference(&self, dev: &Dev, pts: i32, qts: i32) -> Value {
        self.ok(
            dev,
            "updates.getDifference",
            json!({"pts": pts, "qts": qts, "date": 0}),
        )
        .await
    }
}
