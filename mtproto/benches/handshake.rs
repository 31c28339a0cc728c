//! Speed of auth-key creation (core.telegram.org/mtproto/auth_key): each step of the server
//! and of the client, and whole handshakes, against one plain 2048-bit `modpow` as the unit.
//!
//! `cargo bench -p secretchat-mtproto --bench handshake -- --warm-up-time 1 --measurement-time 5`

use std::sync::LazyLock;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use num_bigint::BigUint;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secretchat_common::dh::TELEGRAM_PRIME;
use secretchat_mtproto::handshake::client::{
    self, AwaitingDhGen, AwaitingResPq, AwaitingServerDhParams, ClientOptions, DhGenOutcome,
};
use secretchat_mtproto::handshake::{
    AwaitingClientDh, AwaitingReqDhParams, ClientDhAnswer, DhParamsAnswer, HandshakeServer,
};
use secretchat_mtproto::rsa::{ServerKey, ServerPublicKey};
use secretchat_mtproto::service::{enums, functions as f, types as t};

const NOW: i32 = 1_705_754_877;

static SERVER: LazyLock<HandshakeServer> = LazyLock::new(|| {
    let key = ServerKey::from_pem(include_str!("../tests/data/test_server_key.pkcs8.pem"))
        .expect("the test key");
    HandshakeServer::new(vec![key]).expect("one key")
});

fn public_keys() -> [ServerPublicKey; 1] {
    [SERVER.keys()[0].public_key().clone()]
}

/// Every intermediate value of one handshake, so each step can be measured alone.
struct Transcript {
    client_start: AwaitingResPq,
    server_start: AwaitingReqDhParams,
    res_pq: t::ResPQ,
    req_dh: f::ReqDHParams,
    client_after_req_dh: AwaitingServerDhParams,
    server_dh_params: enums::ServerDHParams,
    server_after_dh: Box<AwaitingClientDh>,
    set_dh: f::SetClientDHParams,
    client_after_set_dh: AwaitingDhGen,
    dh_gen: enums::SetClientDHParamsAnswer,
}

fn transcript(options: ClientOptions, seed: u64) -> Transcript {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (req_pq, client_start) = client::start(&mut rng);
    let (res_pq, server_start) = SERVER.answer_req_pq(req_pq.nonce, &mut rng);
    let (req_dh, client_after_req_dh) = client_start
        .clone()
        .handle_res_pq(&res_pq, &public_keys(), &options, &mut rng)
        .expect("resPQ");
    let DhParamsAnswer::Ok { answer, next } = server_start
        .clone()
        .answer_req_dh_params(&SERVER, &req_dh, NOW, &mut rng)
        .expect("req_DH_params")
    else {
        panic!("refused")
    };
    let server_dh_params = enums::ServerDHParams::from(answer);
    // The client state is consumed by each measurement: a second, identical client run.
    let (set_dh, client_after_set_dh) = replay_client(&res_pq, options, seed)
        .handle_server_dh_params(&server_dh_params, NOW, &mut rng)
        .expect("server_DH_params_ok");
    let server_after_dh = next;
    let ClientDhAnswer::Agreed(agreed) = rebuild_server(options, seed)
        .answer_set_client_dh_params(&SERVER, &set_dh)
        .expect("set_client_DH_params")
    else {
        panic!("dh_gen_fail")
    };
    let (ok, _) = agreed.accept();
    Transcript {
        client_start,
        server_start,
        res_pq,
        req_dh,
        client_after_req_dh,
        server_dh_params,
        server_after_dh,
        set_dh,
        client_after_set_dh,
        dh_gen: ok.into(),
    }
}

/// The client of [`transcript`] again, up to `req_DH_params` (same seed, same values).
fn replay_client(res_pq: &t::ResPQ, options: ClientOptions, seed: u64) -> AwaitingServerDhParams {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (_, client) = client::start(&mut rng);
    let _ = SERVER.answer_req_pq([0; 16], &mut rng);
    let (_, client) = client
        .handle_res_pq(res_pq, &public_keys(), &options, &mut rng)
        .expect("resPQ");
    client
}

/// The server of [`transcript`] again, up to `server_DH_params_ok`.
fn rebuild_server(options: ClientOptions, seed: u64) -> Box<AwaitingClientDh> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (req_pq, client) = client::start(&mut rng);
    let (res_pq, server) = SERVER.answer_req_pq(req_pq.nonce, &mut rng);
    let (req_dh, _) = client
        .handle_res_pq(&res_pq, &public_keys(), &options, &mut rng)
        .expect("resPQ");
    match server
        .answer_req_dh_params(&SERVER, &req_dh, NOW, &mut rng)
        .expect("req_DH_params")
    {
        DhParamsAnswer::Ok { next, .. } => next,
        DhParamsAnswer::Refused { .. } => panic!("refused"),
    }
}

fn steps(c: &mut Criterion) {
    let options = ClientOptions::TELETHON;
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    // The setup of each measured call runs a handshake of its own, seeded from this counter.
    let seeds = std::cell::Cell::new(0u64);
    let setup = || {
        seeds.set(seeds.get() + 1);
        transcript(options, seeds.get())
    };
    let mut group = c.benchmark_group("handshake step");
    group.sample_size(20);
    group.bench_function("server: req_pq_multi → resPQ (pq from two primes)", |b| {
        b.iter(|| SERVER.answer_req_pq(black_box([1; 16]), &mut rng))
    });
    group.bench_function(
        "server: req_DH_params → server_DH_params_ok (RSA, g^a)",
        |b| {
            b.iter_batched(
                setup,
                |tr| {
                    tr.server_start
                        .answer_req_dh_params(&SERVER, &tr.req_dh, NOW, &mut rng)
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function("server: set_client_DH_params → dh_gen_ok (g_b^a)", |b| {
        b.iter_batched(
            setup,
            |tr| {
                let answer = tr
                    .server_after_dh
                    .answer_set_client_dh_params(&SERVER, &tr.set_dh);
                match answer {
                    Ok(ClientDhAnswer::Agreed(agreed)) => Some(agreed.accept()),
                    _ => None,
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(
        "client: resPQ → req_DH_params (factor pq, RSA legacy)",
        |b| {
            b.iter_batched(
                setup,
                |tr| {
                    tr.client_start
                        .handle_res_pq(&tr.res_pq, &public_keys(), &options, &mut rng)
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function(
        "client: server_DH_params_ok → set_client_DH_params (checks, g^b, g_a^b)",
        |b| {
            b.iter_batched(
                setup,
                |tr| {
                    tr.client_after_req_dh.handle_server_dh_params(
                        &tr.server_dh_params,
                        NOW,
                        &mut rng,
                    )
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function("client: dh_gen_ok → auth key", |b| {
        b.iter_batched(
            setup,
            |tr| tr.client_after_set_dh.handle_dh_gen(&tr.dh_gen, &mut rng),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// One whole handshake, both sides, in process.
fn whole(options: ClientOptions, rng: &mut ChaCha20Rng) -> bool {
    let (req_pq, client) = client::start(rng);
    let (res_pq, server) = SERVER.answer_req_pq(req_pq.nonce, rng);
    let Ok((req_dh, client)) = client.handle_res_pq(&res_pq, &public_keys(), &options, rng) else {
        return false;
    };
    let Ok(DhParamsAnswer::Ok { answer, next }) =
        server.answer_req_dh_params(&SERVER, &req_dh, NOW, rng)
    else {
        return false;
    };
    let Ok((set_dh, client)) = client.handle_server_dh_params(&answer.into(), NOW, rng) else {
        return false;
    };
    let Ok(ClientDhAnswer::Agreed(agreed)) = next.answer_set_client_dh_params(&SERVER, &set_dh)
    else {
        return false;
    };
    let (ok, key) = agreed.accept();
    matches!(client.handle_dh_gen(&ok.into(), rng), Ok(DhGenOutcome::Done(c)) if c.auth_key == key.auth_key)
}

fn handshakes(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let p = BigUint::from_bytes_be(&TELEGRAM_PRIME);
    let mut a = [0u8; 256];
    rng.fill_bytes(&mut a);
    let a = BigUint::from_bytes_be(&a);
    let g = BigUint::from(3u32);
    let mut group = c.benchmark_group("auth key creation");
    group.sample_size(20);
    group.bench_function("baseline: one plain 2048-bit modpow", |b| {
        b.iter(|| black_box(&g).modpow(black_box(&a), &p))
    });
    group.bench_function(
        "whole handshake, Telethon/Pyrogram form (legacy padding)",
        |b| b.iter(|| assert!(whole(ClientOptions::TELETHON, &mut rng))),
    );
    group.bench_function(
        "whole handshake, tdlib form (RSA_PAD, p_q_inner_data_dc)",
        |b| b.iter(|| assert!(whole(ClientOptions::tdlib(2), &mut rng))),
    );
    group.finish();
}

criterion_group!(benches, steps, handshakes);
criterion_main!(benches);
