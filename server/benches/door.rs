//! The MTProto door under load, side by side with the HTTP door, in one run.
//!
//! * `auth_key_creation`: a TCP connection and a whole handshake as Telethon and Pyrogram
//!   make it (req_pq_multi, req_DH_params with the legacy RSA padding,
//!   set_client_DH_params), client and server in this process;
//! * `rpc_round_trip/mtproto` and `rpc_round_trip/http`: the same call —
//!   `messages.getDhConfig` with the current version, answered `dhConfigNotModified` — by
//!   a signed-in device over its MTProto connection (sealed, framed, one call in flight) and
//!   over HTTP/1.1 with keep-alive (reqwest), both on loopback sockets to one server.
//!
//! After criterion's report the bench prints the median ratio of interleaved MTProto and
//! HTTP batches, so both see the same machine load.
//!
//! `cargo bench -p secretchat-server --bench door`

#[path = "../tests/door/client.rs"]
mod client;

use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{Client, Door};
use criterion::{criterion_group, Criterion, Throughput};
use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use secretchat_mtproto::api::layer229::{enums, Function};
use secretchat_mtproto::handshake::client::ClientOptions;
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::transport::Transport;
use secretchat_server::config::ServerConfig;
use serde_json::json;

const BATCH: usize = 50;

struct Lab {
    door: Door,
    mtproto: Client,
    http: reqwest::Client,
    http_url: String,
    token: String,
    get_dh_config: Vec<u8>,
}

async fn lab() -> Lab {
    let door = Door::start(ServerConfig::for_tests()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(secretchat_server::serve(
        listener,
        secretchat_server::app(Arc::clone(&door.server)),
        std::future::pending(),
    ));
    let mut mtproto = door.client(Transport::Abridged).await;
    // Sign the MTProto device in (code 22222 for 99966 2 …).
    let send_code = Function::from_json(&json!({
        "_": "auth.sendCode", "phone_number": "9996621234", "api_id": 1, "api_hash": "x",
        "settings": {"_": "codeSettings"},
    }))
    .unwrap();
    let RpcAnswer::Object(sent) = mtproto.call_with_layer(229, send_code.to_bytes()).await else {
        panic!("auth.sendCode failed");
    };
    let hash = enums::AuthSentCode::from_bytes(&sent).unwrap().to_json()["phone_code_hash"].clone();
    let sign_in = Function::from_json(&json!({
        "_": "auth.signIn", "phone_number": "9996621234", "phone_code_hash": hash, "phone_code": "22222",
    }))
    .unwrap();
    assert!(matches!(
        mtproto.call_with_layer(229, sign_in.to_bytes()).await,
        RpcAnswer::Object(_)
    ));
    let version = door.server.dh.version;
    let get_dh_config = Function::from_json(
        &json!({"_": "messages.getDhConfig", "version": version, "random_length": 0}),
    )
    .unwrap()
    .to_bytes();
    let http = reqwest::Client::new();
    let signed_in: serde_json::Value = http
        .post(format!("{http_url}/api/auth.signIn"))
        .body(r#"{"username":"bench","device":"http"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["token"].as_str().unwrap().to_owned();
    Lab {
        door,
        mtproto,
        http,
        http_url,
        token,
        get_dh_config,
    }
}

impl Lab {
    async fn mtproto_batch(&mut self) {
        for _ in 0..BATCH {
            let answer = self.mtproto.call(self.get_dh_config.clone()).await;
            assert!(matches!(answer, RpcAnswer::Object(_)));
        }
    }

    async fn http_batch(&mut self) {
        let version = self.door.server.dh.version;
        let body = format!(r#"{{"version":{version},"random_length":0}}"#);
        for _ in 0..BATCH {
            let response = self
                .http
                .post(format!("{}/api/messages.getDhConfig", self.http_url))
                .bearer_auth(&self.token)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        }
    }

    async fn handshake(&self) {
        let mut client = Client::connect(self.door.addr, Transport::Abridged, false).await;
        client
            .create_key(&self.door.public_key(), ClientOptions::TELETHON)
            .await;
    }
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
    group.bench_function("mtproto", |b| b.iter(|| rt.block_on(lab.mtproto_batch())));
    group.bench_function("http", |b| b.iter(|| rt.block_on(lab.http_batch())));
    group.finish();

    let mut ratios = Vec::new();
    let (mut mtproto_time, mut http_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..100 {
        let start = Instant::now();
        rt.block_on(lab.mtproto_batch());
        let mtproto_batch = start.elapsed();
        let start = Instant::now();
        rt.block_on(lab.http_batch());
        let http_batch = start.elapsed();
        ratios.push(http_batch.as_secs_f64() / mtproto_batch.as_secs_f64());
        mtproto_time += mtproto_batch;
        http_time += http_batch;
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "MTProto / HTTP call rate: median of 100 interleaved batch pairs = {:.2} \
         (totals: MTProto {:.0} calls/s, HTTP {:.0} calls/s)",
        ratios[ratios.len() / 2],
        (100 * BATCH) as f64 / mtproto_time.as_secs_f64(),
        (100 * BATCH) as f64 / http_time.as_secs_f64(),
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
