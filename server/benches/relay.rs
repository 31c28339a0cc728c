//! The relay path, side by side with a bare handler, in one run.
//!
//! * `relay`: `messages.sendEncrypted` through the server's router (bearer token, JSON →
//!   generated TL type, chat and access checks, idempotency record, queueing for the peer
//!   device, wake-up), and every 100 messages the peer's `updates.getDifference`
//!   collecting and acknowledging them;
//! * `bare`: an axum handler that only parses the same JSON into the same TL type and
//!   pushes it onto a queue (drained every 100 messages).
//!
//! Both go through `tower::ServiceExt::oneshot` on one thread, so the comparison is of the
//! handlers, not of the network. After criterion's report the bench prints the ratio of
//! the two request rates (the goal is ≥ 0.6).
//!
//! `cargo bench -p secretchat-server --bench relay`

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::Request;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use criterion::{criterion_group, Criterion, Throughput};
use http_body_util::BodyExt;
use secretchat_common::dh::{public_value, CheckedConfig, Exponent};
use secretchat_common::tl::api::functions;
use secretchat_common::tl::TlJson;
use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use serde_json::{json, Value};
use tower::ServiceExt;

const BATCH: usize = 100;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One request; answers the raw response body. The timed loops do not parse answers: that
/// is the client's work, not the server's.
async fn call_raw(app: &Router, token: Option<&str>, method: &str, body: &Value) -> Bytes {
    let mut request = Request::post(format!("/api/{method}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    assert!(response.status().is_success(), "{method}");
    response.into_body().collect().await.unwrap().to_bytes()
}

/// One request, answer parsed (set-up and checks only).
async fn call(app: &Router, token: Option<&str>, method: &str, body: &Value) -> Value {
    serde_json::from_slice(&call_raw(app, token, method, body).await).unwrap_or(Value::Null)
}

fn public(seed: u8) -> Vec<u8> {
    let mut exponent = [0x5au8; 256];
    exponent[0] = seed;
    public_value(
        &CheckedConfig::telegram_default(),
        &Exponent::from_be_bytes(&exponent).unwrap(),
    )
}

/// A server with an accepted chat: (router, alice's token, alice's peer, bob's token).
async fn relay_setup() -> (Router, String, Value, String) {
    let app = secretchat_server::app(Arc::new(Server::new(&ServerConfig::for_tests()).unwrap()));
    let sign_in = |name: &'static str| {
        let app = app.clone();
        async move {
            call(
                &app,
                None,
                "auth.signIn",
                &json!({"username": name, "device": "d"}),
            )
            .await["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let alice = sign_in("alice").await;
    let bob = sign_in("bob").await;
    let user = call(
        &app,
        Some(&alice),
        "contacts.resolveUsername",
        &json!({"username": "bob"}),
    )
    .await;
    let waiting = call(
        &app,
        Some(&alice),
        "messages.requestEncryption",
        &json!({"user_id": {"_": "inputUser", "user_id": user["id"], "access_hash": user["access_hash"]}, "random_id": 1, "g_a": b64(&public(1))}),
    )
    .await;
    let diff = call(
        &app,
        Some(&bob),
        "updates.getDifference",
        &json!({"pts": 0, "qts": 0, "date": 0}),
    )
    .await;
    let bob_peer = json!({"_": "inputEncryptedChat", "chat_id": 1, "access_hash": diff["other_updates"][0]["chat"]["access_hash"]});
    call(
        &app,
        Some(&bob),
        "messages.acceptEncryption",
        &json!({"peer": bob_peer, "g_b": b64(&public(2)), "key_fingerprint": "1"}),
    )
    .await;
    let alice_peer =
        json!({"_": "inputEncryptedChat", "chat_id": 1, "access_hash": waiting["access_hash"]});
    (app, alice, alice_peer, bob)
}

type BareQueue = Arc<Mutex<VecDeque<functions::MessagesSendEncrypted>>>;

async fn bare_handler(State(queue): State<BareQueue>, body: Bytes) -> Json<Value> {
    let mut value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("_".into(), Value::String("messages.sendEncrypted".into()));
    }
    if let Ok(call) = functions::MessagesSendEncrypted::from_json(&value) {
        queue.lock().unwrap().push_back(call);
    }
    Json(json!({"_": "messages.sentEncryptedMessage", "date": 0}))
}

/// The relay path, one batch: BATCH sends, then the peer's getDifference.
struct Relay {
    app: Router,
    alice: String,
    peer: Value,
    bob: String,
    bob_pts: i64,
    bob_qts: i64,
    next_random_id: i64,
    payload: String,
}

impl Relay {
    /// The timed unit: BATCH sends, then the receiver's getDifference acknowledging the
    /// previous batch and collecting this one. Answers are not parsed (client work).
    async fn batch(&mut self) {
        self.send_batch(false).await;
        let request = json!({"pts": self.bob_pts, "qts": self.bob_qts, "date": 0});
        call_raw(
            &self.app,
            Some(&self.bob),
            "updates.getDifference",
            &request,
        )
        .await;
        // Each batch adds exactly BATCH messages to bob's queue (`check` verifies it).
        self.bob_qts += BATCH as i64;
    }

    async fn send_batch(&mut self, parse: bool) {
        for _ in 0..BATCH {
            self.next_random_id += 1;
            let body = json!({"peer": self.peer, "random_id": self.next_random_id.to_string(), "data": self.payload});
            if parse {
                let sent = call(
                    &self.app,
                    Some(&self.alice),
                    "messages.sendEncrypted",
                    &body,
                )
                .await;
                assert_eq!(sent["_"], "messages.sentEncryptedMessage");
            } else {
                call_raw(
                    &self.app,
                    Some(&self.alice),
                    "messages.sendEncrypted",
                    &body,
                )
                .await;
            }
        }
    }

    /// One batch with every answer checked, and the receiver's state where the timed
    /// batches assume it is.
    async fn check(&mut self) {
        let state = call(&self.app, Some(&self.bob), "updates.getState", &json!({})).await;
        let qts = state["qts"].as_i64().unwrap();
        if self.bob_qts != 0 {
            assert_eq!(qts, self.bob_qts, "the timed batches lost count of qts");
        }
        self.bob_qts = qts;
        self.bob_pts = state["pts"].as_i64().unwrap();
        self.send_batch(true).await;
        let request = json!({"pts": self.bob_pts, "qts": self.bob_qts, "date": 0});
        let diff = call(
            &self.app,
            Some(&self.bob),
            "updates.getDifference",
            &request,
        )
        .await;
        assert_eq!(
            diff["new_encrypted_messages"].as_array().map(Vec::len),
            Some(BATCH)
        );
        assert_eq!(
            diff["state"]["qts"].as_i64(),
            Some(self.bob_qts + BATCH as i64)
        );
        self.bob_qts += BATCH as i64;
    }
}

struct Bare {
    app: Router,
    queue: BareQueue,
    payload: String,
    peer: Value,
}

impl Bare {
    async fn batch(&mut self) {
        for random_id in 0..BATCH {
            let body = json!({"peer": self.peer, "random_id": random_id.to_string(), "data": self.payload});
            call_raw(&self.app, None, "messages.sendEncrypted", &body).await;
        }
        let drained = self.queue.lock().unwrap().drain(..).count();
        assert_eq!(drained, BATCH);
    }
}

fn setups(rt: &tokio::runtime::Runtime) -> (Relay, Bare) {
    let payload = b64(&vec![0x42u8; 24 + 16 * 16]);
    let (app, alice, peer, bob) = rt.block_on(relay_setup());
    let relay = Relay {
        app,
        alice,
        peer: peer.clone(),
        bob,
        bob_pts: 0,
        bob_qts: 0,
        next_random_id: 0,
        payload: payload.clone(),
    };
    let queue: BareQueue = Arc::default();
    let bare = Bare {
        app: Router::new()
            .route("/api/messages.sendEncrypted", post(bare_handler))
            .with_state(Arc::clone(&queue)),
        queue,
        payload,
        peer,
    };
    (relay, bare)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut relay, mut bare) = setups(&rt);
    // Start the relay's receiver at its current state, with the answers checked.
    rt.block_on(relay.check());
    let mut group = c.benchmark_group("send_encrypted_300_byte_payload");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("relay", |b| b.iter(|| rt.block_on(relay.batch())));
    group.bench_function("bare", |b| b.iter(|| rt.block_on(bare.batch())));
    group.finish();

    // The ratio, measured in interleaved pairs so both see the same machine load; the
    // median of the pairs' ratios is robust to load spikes from other processes.
    let mut ratios = Vec::new();
    let (mut relay_time, mut bare_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..300 {
        let start = Instant::now();
        rt.block_on(relay.batch());
        let relay_batch = start.elapsed();
        let start = Instant::now();
        rt.block_on(bare.batch());
        let bare_batch = start.elapsed();
        ratios.push(bare_batch.as_secs_f64() / relay_batch.as_secs_f64());
        relay_time += relay_batch;
        bare_time += bare_batch;
    }
    rt.block_on(relay.check());
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "relay / bare request rate: median of 300 interleaved batch pairs = {median:.2} \
         (totals: relay {:.0} msg/s, bare {:.0} msg/s; goal >= 0.6)",
        (300 * BATCH) as f64 / relay_time.as_secs_f64(),
        (300 * BATCH) as f64 / bare_time.as_secs_f64(),
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
