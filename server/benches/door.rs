//! The MTProto door under load, side by side with the HTTP door, in one run.
//!
//! * `auth_key_creation`: a TCP connection and a whole handshake as Telethon and Pyrogram
//!   make it (req_pq_multi, req_DH_params with the legacy RSA padding,
//!   set_client_DH_params), client and server in this process;
//! * `rpc_round_trip/mtproto` and `rpc_round_trip/http`: the same call —
//!   `messages.getDhConfig` with the current version, answered `dhConfigNotModified` — by
//!   a signed-in device over its MTProto connection (sealed, framed, one call in flight) and
//!   over HTTP/1.1 with keep-alive (reqwest), both on loopback sockets to one server;
//! * `relay/mtproto` and `relay/http`: 50 `messages.sendEncrypted` (300-byte payloads) from
//!   one device, until the other device of the chat has received all 50 — pushed to its
//!   MTProto session, or on its HTTP event stream (`GET /api/updates.stream`) — then one
//!   `messages.receivedQueue` acknowledging them.
//!
//! After criterion's report the bench prints the median ratios of interleaved MTProto and
//! HTTP batches, so both see the same machine load.
//!
//! `cargo bench -p secretchat-server --bench door`

#[path = "../tests/door/client.rs"]
mod client;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use client::{Client, Door};
use criterion::{criterion_group, Criterion, Throughput};
use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use secretchat_mtproto::api::layer229::{enums, Function};
use secretchat_mtproto::handshake::client::ClientOptions;
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::session::ClientEvent;
use secretchat_mtproto::transport::Transport;
use secretchat_server::config::ServerConfig;
use secretchat_server::device::DeviceRecord;
use serde_json::{json, Value};

const BATCH: usize = 50;
const PAIRS: usize = 60;

fn request(value: Value) -> Vec<u8> {
    Function::from_json(&value)
        .expect("a valid request")
        .to_bytes()
}

/// A signed-in MTProto device (phone `99966 2 YYYY`, code 22222) that asked for updates.
async fn mtproto_device(door: &Door, phone: &str) -> (Client, Arc<DeviceRecord>) {
    let mut client = door.client(Transport::Abridged).await;
    let send_code = request(json!({
        "_": "auth.sendCode", "phone_number": phone, "api_id": 1, "api_hash": "x",
        "settings": {"_": "codeSettings"},
    }));
    let RpcAnswer::Object(sent) = client.call_with_layer(229, send_code).await else {
        panic!("auth.sendCode failed");
    };
    let hash = enums::AuthSentCode::from_bytes(&sent).unwrap().to_json()["phone_code_hash"].clone();
    let sign_in = request(json!({
        "_": "auth.signIn", "phone_number": phone, "phone_code_hash": hash, "phone_code": "22222",
    }));
    let RpcAnswer::Object(authorization) = client.call_with_layer(229, sign_in).await else {
        panic!("auth.signIn failed");
    };
    let user = enums::AuthAuthorization::from_bytes(&authorization)
        .unwrap()
        .to_json();
    let user_id: i64 = user["user"]["id"].as_str().unwrap().parse().unwrap();
    client.call(request(json!({"_": "updates.getState"}))).await;
    let device = door.server.directory.devices_of(user_id).pop().unwrap();
    (client, device)
}

/// An HTTP device: its bearer token and record.
async fn http_device(lab: &Http, door: &Door, name: &str) -> (String, Arc<DeviceRecord>) {
    let signed_in: Value = lab
        .client
        .post(format!("{}/api/auth.signIn", lab.url))
        .body(json!({"username": name, "device": "bench"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id: i64 = signed_in["user"]["id"].as_str().unwrap().parse().unwrap();
    let device = door.server.directory.devices_of(user_id).pop().unwrap();
    (signed_in["token"].as_str().unwrap().to_owned(), device)
}

struct Http {
    client: reqwest::Client,
    url: String,
}

struct Lab {
    door: Door,
    http: Http,
    /// getDhConfig callers.
    mtproto_caller: Client,
    http_token: String,
    get_dh_config: Vec<u8>,
    /// Relay: sender and receiver over each door.
    mtproto_sender: Client,
    mtproto_receiver: Client,
    mtproto_send: Value,
    http_sender: String,
    http_receiver: String,
    http_stream: reqwest::Response,
    http_send: Value,
    random_id: i64,
}

async fn lab() -> Lab {
    let door = Door::start(ServerConfig::for_tests()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = Http {
        client: reqwest::Client::new(),
        url: format!("http://{}", listener.local_addr().unwrap()),
    };
    tokio::spawn(secretchat_server::serve(
        listener,
        secretchat_server::app(Arc::clone(&door.server)),
        std::future::pending(),
    ));
    let (mtproto_caller, _) = mtproto_device(&door, "9996621000").await;
    let (mtproto_sender, alice) = mtproto_device(&door, "9996621001").await;
    let (mtproto_receiver, bob) = mtproto_device(&door, "9996621002").await;
    let (http_token, _) = http_device(&http, &door, "caller").await;
    let (http_sender, carol) = http_device(&http, &door, "carol").await;
    let (http_receiver, dave) = http_device(&http, &door, "dave").await;
    let mtproto_peer = client::chat(&door, &alice, &bob, 11);
    let http_peer = client::chat(&door, &carol, &dave, 12);
    let http_stream = http
        .client
        .get(format!("{}/api/updates.stream", http.url))
        .bearer_auth(&http_receiver)
        .send()
        .await
        .unwrap();
    let payload = base64::engine::general_purpose::STANDARD.encode(vec![0x42u8; 24 + 16 * 17]);
    let version = door.server.dh.version;
    Lab {
        get_dh_config: request(
            json!({"_": "messages.getDhConfig", "version": version, "random_length": 0}),
        ),
        mtproto_send: json!({"_": "messages.sendEncrypted", "peer": mtproto_peer, "random_id": "0", "data": payload}),
        http_send: json!({"peer": http_peer, "random_id": "0", "data": payload}),
        door,
        http,
        mtproto_caller,
        http_token,
        mtproto_sender,
        mtproto_receiver,
        http_sender,
        http_receiver,
        http_stream,
        random_id: 0,
    }
}

impl Lab {
    async fn mtproto_calls(&mut self) {
        for _ in 0..BATCH {
            let answer = self.mtproto_caller.call(self.get_dh_config.clone()).await;
            assert!(matches!(answer, RpcAnswer::Object(_)));
        }
    }

    async fn http_calls(&mut self) {
        let version = self.door.server.dh.version;
        let body = format!(r#"{{"version":{version},"random_length":0}}"#);
        for _ in 0..BATCH {
            let response = self
                .http
                .client
                .post(format!("{}/api/messages.getDhConfig", self.http.url))
                .bearer_auth(&self.http_token)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        }
    }

    fn next_random_id(&mut self) -> String {
        self.random_id += 1;
        self.random_id.to_string()
    }

    async fn mtproto_relay(&mut self) {
        for _ in 0..BATCH {
            self.mtproto_send["random_id"] = json!(self.next_random_id());
            let answer = self
                .mtproto_sender
                .call(request(self.mtproto_send.clone()))
                .await;
            assert!(matches!(answer, RpcAnswer::Object(_)));
        }
        let (mut received, mut max_qts) = (0, 0);
        while received < BATCH {
            for event in self.mtproto_receiver.events().await.unwrap() {
                if let ClientEvent::Update { body, .. } = event {
                    let updates = enums::Updates::from_bytes(&body).unwrap().to_json();
                    for update in updates["updates"].as_array().unwrap() {
                        max_qts = max_qts.max(update["qts"].as_i64().unwrap_or(0));
                        received += 1;
                    }
                }
            }
        }
        let ack = request(json!({"_": "messages.receivedQueue", "max_qts": max_qts}));
        self.mtproto_receiver.call(ack).await;
    }

    async fn http_relay(&mut self) {
        for _ in 0..BATCH {
            self.http_send["random_id"] = json!(self.next_random_id());
            let response = self
                .http
                .client
                .post(format!("{}/api/messages.sendEncrypted", self.http.url))
                .bearer_auth(&self.http_sender)
                .body(self.http_send.to_string())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        }
        let (mut received, mut text) = (0, String::new());
        while received < BATCH {
            let chunk = self
                .http_stream
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            text.push_str(&String::from_utf8_lossy(&chunk));
            received = text.matches("event: updateNewEncryptedMessage").count();
        }
        let max_qts = text
            .match_indices("\"qts\":")
            .filter_map(|(at, key)| {
                let rest = &text[at + key.len()..];
                rest[..rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len())]
                    .parse::<i64>()
                    .ok()
            })
            .max()
            .unwrap();
        let response = self
            .http
            .client
            .post(format!("{}/api/messages.receivedQueue", self.http.url))
            .bearer_auth(&self.http_receiver)
            .body(json!({"max_qts": max_qts}).to_string())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    async fn handshake(&self) {
        let mut client = Client::connect(self.door.addr, Transport::Abridged, false).await;
        client
            .create_key(&self.door.public_key(), ClientOptions::TELETHON)
            .await;
    }
}

/// The median of `PAIRS` interleaved (MTProto, HTTP) batch pairs' time ratios, and the
/// totals' rates.
macro_rules! pairs {
    ($rt:expr, $lab:expr, $what:literal, $mtproto:ident, $http:ident) => {{
        let mut ratios = Vec::new();
        let (mut mtproto_time, mut http_time) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..PAIRS {
            let start = Instant::now();
            $rt.block_on($lab.$mtproto());
            let mtproto = start.elapsed();
            let start = Instant::now();
            $rt.block_on($lab.$http());
            let http = start.elapsed();
            ratios.push(http.as_secs_f64() / mtproto.as_secs_f64());
            mtproto_time += mtproto;
            http_time += http;
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "{}: MTProto / HTTP rate, median of {PAIRS} interleaved batch pairs = {:.2} \
             (totals: MTProto {:.0}/s, HTTP {:.0}/s)",
            $what,
            ratios[ratios.len() / 2],
            (PAIRS * BATCH) as f64 / mtproto_time.as_secs_f64(),
            (PAIRS * BATCH) as f64 / http_time.as_secs_f64(),
        );
    }};
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut lab = rt.block_on(lab());

    let mut group = c.benchmark_group("auth_key_creation");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(1));
    group.bench_function("tcp_handshake", |b| b.iter(|| rt.block_on(lab.handshake())));
    group.finish();

    let mut group = c.benchmark_group("rpc_round_trip");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("mtproto", |b| b.iter(|| rt.block_on(lab.mtproto_calls())));
    group.bench_function("http", |b| b.iter(|| rt.block_on(lab.http_calls())));
    group.finish();

    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("mtproto", |b| b.iter(|| rt.block_on(lab.mtproto_relay())));
    group.bench_function("http", |b| b.iter(|| rt.block_on(lab.http_relay())));
    group.finish();

    pairs!(rt, lab, "getDhConfig calls", mtproto_calls, http_calls);
    pairs!(rt, lab, "relayed messages", mtproto_relay, http_relay);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
