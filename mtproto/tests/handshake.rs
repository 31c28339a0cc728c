//! The auth-key handshake: Telegram's worked example as known answers, both sides against
//! each other in every form a client uses, and each check of each side failing with its own
//! error when the message it guards is tampered with.

use std::sync::LazyLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::crypto::ige;
use secretchat_common::dh::{
    check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent, TELEGRAM_PRIME,
};
use secretchat_common::tl::{Reader, TlRead, TlWrite};
use secretchat_mtproto::auth_key::AuthKey;
use secretchat_mtproto::handshake::client::{
    self, ClientAuthKey, ClientError, ClientOptions, DhGenOutcome, InnerDataForm, RsaPadding,
};
use secretchat_mtproto::handshake::nonces::{new_nonce_hash, refusal_hash, DhGen};
use secretchat_mtproto::handshake::tmp_aes::{TmpAes, TmpAesError};
use secretchat_mtproto::handshake::{
    AuthKeyKind, ClientDhAnswer, DhParamsAnswer, Handshake, HandshakeError, HandshakeServer,
    InnerDataMismatch, NewAuthKey, Outcome,
};
use secretchat_mtproto::message::unencrypted;
use secretchat_mtproto::rsa::{RsaError, ServerKey};
use secretchat_mtproto::service::{enums, functions as f, types as t};

static SERVER: LazyLock<HandshakeServer> = LazyLock::new(|| {
    let key = ServerKey::from_pem(include_str!("data/test_server_key.pkcs8.pem")).unwrap();
    HandshakeServer::new(vec![key]).unwrap()
});

const NOW: i32 = 1_705_754_877;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// core.telegram.org/mtproto/samples-auth_key (2024); see tests/data/README.md.
struct Sample(serde_json::Value);

static SAMPLE: LazyLock<Sample> = LazyLock::new(|| {
    Sample(serde_json::from_str(include_str!("data/samples_auth_key.json")).unwrap())
});

impl Sample {
    fn bytes(&self, name: &str) -> Vec<u8> {
        hex::decode(self.0[name].as_str().unwrap()).unwrap()
    }

    fn array<const N: usize>(&self, name: &str) -> [u8; N] {
        self.bytes(name).try_into().unwrap()
    }

    fn tmp_aes(&self) -> TmpAes {
        TmpAes::derive(&self.array("new_nonce"), &self.array("server_nonce"))
    }
}

// ---- Telegram's worked example ----

#[test]
fn documented_tmp_aes_key_and_iv_follow_from_the_nonces() {
    let tmp = SAMPLE.tmp_aes();
    assert_eq!(tmp.key(), &SAMPLE.array("tmp_aes_key"));
    assert_eq!(tmp.iv(), &SAMPLE.array("tmp_aes_iv"));
    // The 2013 revision of the same page.
    let tmp = TmpAes::derive(
        &unhex("311C85DB234AA2640AFC4A76A735CF5B1F0FD68BD17FA181E1229AD867CC024D"),
        &unhex("A5CF4D33F4A11EA877BA4AA573907330"),
    );
    assert_eq!(
        hex::encode_upper(tmp.key()),
        "F011280887C7BB01DF0FC4E17830E0B91FBB8BE4B2267CB985AE25F33B527253"
    );
    assert_eq!(
        hex::encode_upper(tmp.iv()),
        "3212D579EE35452ED23E0D0C92841AA7D31B2E9BDEF2151E80D15860311C85DB"
    );
}

#[test]
fn documented_res_pq_and_p_q_inner_data_dc_decode_and_encode_byte_for_byte() {
    let body = SAMPLE.bytes("res_pq_body");
    let res_pq = t::ResPQ::from_bytes(&body).unwrap();
    assert_eq!(res_pq.nonce, SAMPLE.array::<16>("nonce"));
    assert_eq!(res_pq.pq, hex::decode("1460E7D3FA727791").unwrap());
    assert_eq!(res_pq.server_public_key_fingerprints.len(), 3);
    assert_eq!(res_pq.to_bytes(), body);
    let data = SAMPLE.bytes("p_q_inner_data_dc");
    let enums::PQInnerData::PQInnerDataDc(inner) = enums::PQInnerData::from_bytes(&data).unwrap()
    else {
        panic!("not p_q_inner_data_dc");
    };
    assert_eq!(inner.new_nonce, SAMPLE.array::<32>("new_nonce"));
    assert_eq!(
        (inner.p.clone(), inner.q.clone(), inner.dc),
        (
            vec![0x3c, 0x23, 0x57, 0xcf],
            vec![0x56, 0xbf, 0xb2, 0x9f],
            2
        )
    );
    assert_eq!(enums::PQInnerData::from(inner).to_bytes(), data);
}

/// The server's `server_DH_inner_data`, opened as a client does.
fn sample_answer() -> t::ServerDHInnerData {
    let enums::ServerDHInnerData::ServerDHInnerData(answer) = SAMPLE
        .tmp_aes()
        .open(&SAMPLE.bytes("encrypted_answer"))
        .unwrap();
    answer
}

#[test]
fn documented_encrypted_answer_opens_to_telegrams_group_and_seals_back_identically() {
    let answer = sample_answer();
    assert_eq!(answer.nonce, SAMPLE.array::<16>("nonce"));
    assert_eq!(answer.server_nonce, SAMPLE.array::<16>("server_nonce"));
    assert_eq!((answer.g, answer.server_time), (3, NOW));
    assert_eq!(answer.dh_prime, TELEGRAM_PRIME.to_vec());
    // Sealing the same object with the same 8 padding bytes gives the documented bytes.
    let tmp = SAMPLE.tmp_aes();
    let mut decrypted = SAMPLE.bytes("encrypted_answer");
    ige::decrypt_in_place(tmp.key(), tmp.iv(), &mut decrypted).unwrap();
    let data = answer.to_bytes();
    let padding = &decrypted[20 + data.len()..];
    assert_eq!(padding.len(), 8);
    assert_eq!(
        tmp.seal_with_padding(&data, padding).unwrap(),
        SAMPLE.bytes("encrypted_answer")
    );
}

#[test]
fn documented_client_dh_inner_data_seals_to_the_documented_encrypted_data() {
    let inner = t::ClientDHInnerData {
        nonce: SAMPLE.array("nonce"),
        server_nonce: SAMPLE.array("server_nonce"),
        retry_id: 0,
        g_b: SAMPLE.bytes("g_b"),
    };
    let tmp = SAMPLE.tmp_aes();
    let sealed = tmp
        .seal_with_padding(&inner.to_bytes(), &SAMPLE.bytes("client_dh_padding"))
        .unwrap();
    assert_eq!(sealed, SAMPLE.bytes("encrypted_data"));
    let enums::ClientDHInnerData::ClientDHInnerData(opened) = tmp.open(&sealed).unwrap();
    assert_eq!(opened, inner);
}

#[test]
fn documented_b_gives_the_documented_g_b_auth_key_and_new_nonce_hash1() {
    let dh = CheckedConfig::telegram_default();
    let b = Exponent::from_be_bytes(&SAMPLE.bytes("b")).unwrap();
    assert_eq!(public_value(&dh, &b), SAMPLE.bytes("g_b"));
    let g_a = check_public_value(&dh, &sample_answer().g_a).unwrap();
    let auth_key = AuthKey::from_chat_key(compute_key(&dh, &b, &g_a));
    assert_eq!(auth_key.as_bytes().to_vec(), SAMPLE.bytes("auth_key"));
    assert_eq!(
        new_nonce_hash(&SAMPLE.array("new_nonce"), DhGen::Ok, &auth_key.aux_hash()),
        SAMPLE.array::<16>("new_nonce_hash1")
    );
}

// ---- both sides against each other ----

/// Runs a whole handshake through the step functions; `key_id_taken` answers for each agreed key.
fn run(
    options: ClientOptions,
    seed: u64,
    mut key_id_taken: impl FnMut() -> bool,
) -> (NewAuthKey, ClientAuthKey) {
    let (mut srng, mut crng) = (rng(seed), rng(seed ^ 0x5eed));
    let (req_pq, client) = client::start(&mut crng);
    let (res_pq, server) = SERVER.answer_req_pq(req_pq.nonce, &mut srng);
    let public = [SERVER.keys()[0].public_key().clone()];
    let (req_dh, client) = client
        .handle_res_pq(&res_pq, &public, &options, &mut crng)
        .unwrap();
    let DhParamsAnswer::Ok {
        answer,
        next: mut server,
    } = server
        .answer_req_dh_params(&SERVER, &req_dh, NOW, &mut srng)
        .unwrap()
    else {
        panic!("refused");
    };
    let (mut set_dh, mut client) = client
        .handle_server_dh_params(&answer.into(), NOW - 5, &mut crng)
        .unwrap();
    loop {
        let ClientDhAnswer::Agreed(agreed) = server
            .answer_set_client_dh_params(&SERVER, &set_dh)
            .unwrap()
        else {
            panic!("dh_gen_fail");
        };
        if key_id_taken() {
            let (answer, next) = agreed.retry();
            server = next;
            match client.handle_dh_gen(&answer.into(), &mut crng).unwrap() {
                DhGenOutcome::Retry { request, next } => (set_dh, client) = (request, *next),
                DhGenOutcome::Done(_) => panic!("done on retry"),
            }
            continue;
        }
        let (answer, key) = agreed.accept();
        let DhGenOutcome::Done(client_key) =
            client.handle_dh_gen(&answer.into(), &mut crng).unwrap()
        else {
            panic!("retry on ok");
        };
        return (key, client_key);
    }
}

#[test]
fn every_client_form_agrees_on_the_key_the_salt_and_the_kind() {
    let forms = [
        (ClientOptions::TELETHON, AuthKeyKind::Permanent, None),
        (ClientOptions::tdlib(2), AuthKeyKind::Permanent, Some(2)),
        (
            ClientOptions {
                inner_data: InnerDataForm::Temp { expires_in: 86400 },
                padding: RsaPadding::Legacy,
            },
            AuthKeyKind::Temporary { expires_in: 86400 },
            None,
        ),
        (
            ClientOptions {
                inner_data: InnerDataForm::TempDc {
                    dc: -2,
                    expires_in: 3600,
                },
                padding: RsaPadding::RsaPad,
            },
            AuthKeyKind::Temporary { expires_in: 3600 },
            Some(-2),
        ),
    ];
    for (i, (options, kind, dc)) in forms.into_iter().enumerate() {
        let (server, client) = run(options, i as u64, || false);
        assert_eq!(server.auth_key, client.auth_key, "{options:?}");
        assert_eq!(server.server_salt, client.server_salt, "{options:?}");
        assert_eq!((server.kind, server.dc), (kind, dc), "{options:?}");
        assert_eq!(client.time_offset, 5);
    }
}

#[test]
fn a_taken_key_id_sends_dh_gen_retry_and_the_client_tries_another_b() {
    let mut answers = [true, true, false].into_iter();
    let (server, client) = run(ClientOptions::TELETHON, 9, || answers.next().unwrap());
    assert_eq!(server.auth_key, client.auth_key);
}

/// Unencrypted messages both ways, through [`Handshake`] as a server door drives it.
#[test]
fn the_connection_driver_runs_a_handshake_from_unencrypted_packets() {
    let (mut srng, mut crng) = (rng(20), rng(21));
    let mut handshake = Handshake::new();
    let mut exchange = |request: Vec<u8>, handshake: &mut Handshake| {
        let packet = unencrypted::encode(4, &request).unwrap();
        let body = unencrypted::decode(&packet).unwrap().body;
        handshake
            .handle(&SERVER, &body, NOW, |_| false, &mut srng)
            .unwrap()
    };
    let (req_pq, client) = client::start(&mut crng);
    let Outcome::Reply(res_pq) = exchange(f::ReqPqMulti::to_bytes(&req_pq), &mut handshake) else {
        panic!()
    };
    let public = [SERVER.keys()[0].public_key().clone()];
    let (req_dh, client) = client
        .handle_res_pq(
            &t::ResPQ::from_bytes(&res_pq).unwrap(),
            &public,
            &ClientOptions::TELETHON,
            &mut crng,
        )
        .unwrap();
    let Outcome::Reply(dh_params) = exchange(req_dh.to_bytes(), &mut handshake) else {
        panic!()
    };
    let (set_dh, client) = client
        .handle_server_dh_params(
            &enums::ServerDHParams::from_bytes(&dh_params).unwrap(),
            NOW,
            &mut crng,
        )
        .unwrap();
    let Outcome::KeyCreated { reply, key } = exchange(set_dh.to_bytes(), &mut handshake) else {
        panic!()
    };
    let answer = enums::SetClientDHParamsAnswer::from_bytes(&reply).unwrap();
    let DhGenOutcome::Done(client_key) = client.handle_dh_gen(&answer, &mut crng).unwrap() else {
        panic!()
    };
    assert_eq!(key.auth_key, client_key.auth_key);
}

#[test]
fn the_driver_refuses_requests_out_of_order_and_bodies_that_are_not_requests() {
    let mut handshake = Handshake::new();
    let set_dh = f::SetClientDHParams {
        nonce: [0; 16],
        server_nonce: [0; 16],
        encrypted_data: vec![0; 16],
    };
    assert_eq!(
        handshake
            .handle(&SERVER, &set_dh.to_bytes(), NOW, |_| false, &mut rng(1))
            .unwrap_err(),
        HandshakeError::UnexpectedRequest {
            got: "set_client_DH_params",
            expected: "req_pq_multi"
        }
    );
    assert!(matches!(
        handshake.handle(&SERVER, &[1, 2, 3, 4], NOW, |_| false, &mut rng(1)),
        Err(HandshakeError::Malformed(_))
    ));
    // req_pq (legacy) starts a handshake too, and req_pq_multi restarts one at any point.
    let req_pq = f::ReqPq { nonce: [1; 16] }.to_bytes();
    assert!(matches!(
        handshake.handle(&SERVER, &req_pq, NOW, |_| false, &mut rng(1)),
        Ok(Outcome::Reply(_))
    ));
    let again = f::ReqPqMulti { nonce: [2; 16] }.to_bytes();
    assert!(matches!(
        handshake.handle(&SERVER, &again, NOW, |_| false, &mut rng(1)),
        Ok(Outcome::Reply(_))
    ));
}

// ---- the server's checks, each tampered with ----

/// A client done by hand, so tests know `new_nonce` and can build any inner data.
struct ByHand {
    res_pq: t::ResPQ,
    server: secretchat_mtproto::handshake::AwaitingReqDhParams,
    new_nonce: [u8; 32],
}

fn by_hand(seed: u64) -> ByHand {
    let (res_pq, server) = SERVER.answer_req_pq([7; 16], &mut rng(seed));
    ByHand {
        res_pq,
        server,
        new_nonce: [0x42; 32],
    }
}

impl ByHand {
    fn factors(&self) -> (Vec<u8>, Vec<u8>) {
        let pq = u64::from_be_bytes(self.res_pq.pq.clone().try_into().unwrap());
        let (p, q) = secretchat_mtproto::handshake::pq::factorize(pq).unwrap();
        (
            secretchat_mtproto::handshake::pq::be_bytes(p),
            secretchat_mtproto::handshake::pq::be_bytes(q),
        )
    }

    fn inner(&self) -> t::PQInnerData {
        let (p, q) = self.factors();
        t::PQInnerData {
            pq: self.res_pq.pq.clone(),
            p,
            q,
            nonce: self.res_pq.nonce,
            server_nonce: self.res_pq.server_nonce,
            new_nonce: self.new_nonce,
        }
    }

    fn request(&self, encrypted_data: Vec<u8>) -> f::ReqDHParams {
        let (p, q) = self.factors();
        f::ReqDHParams {
            nonce: self.res_pq.nonce,
            server_nonce: self.res_pq.server_nonce,
            p,
            q,
            public_key_fingerprint: self.res_pq.server_public_key_fingerprints[0],
            encrypted_data,
        }
    }

    fn encrypt(&self, inner: &t::PQInnerData) -> Vec<u8> {
        let data = enums::PQInnerData::from(inner.clone()).to_bytes();
        SERVER.keys()[0]
            .public_key()
            .encrypt_legacy(&data, &mut rng(3))
            .unwrap()
            .to_vec()
    }

    fn answer(self, request: &f::ReqDHParams) -> Result<DhParamsAnswer, HandshakeError> {
        self.server
            .answer_req_dh_params(&SERVER, request, NOW, &mut rng(4))
    }
}

/// Raw RSA of a 256-byte `m` with the test key (to build malformed paddings).
fn raw_rsa(m: &[u8; 256]) -> Vec<u8> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPublicKey::from_pkcs1_pem(include_str!("data/test_server_key.pub.pkcs1.pem"))
        .unwrap();
    let c = rsa::hazmat::rsa_encrypt(&key, &rsa::BigUint::from_bytes_be(m)).unwrap();
    let mut out = vec![0u8; 256 - c.to_bytes_be().len()];
    out.extend(c.to_bytes_be());
    assert_eq!(key.size(), 256);
    out
}

#[test]
fn req_dh_params_with_foreign_nonces_factors_or_fingerprint_is_refused() {
    type Tamper = Box<dyn Fn(&mut f::ReqDHParams)>;
    let mut cases: Vec<(Tamper, HandshakeError)> = vec![
        (
            Box::new(|r| r.nonce[0] ^= 1),
            HandshakeError::NonceMismatch {
                step: "req_DH_params",
            },
        ),
        (
            Box::new(|r| r.server_nonce[15] ^= 1),
            HandshakeError::ServerNonceMismatch {
                step: "req_DH_params",
            },
        ),
        (Box::new(|r| r.p[3] ^= 2), HandshakeError::WrongFactors),
        (
            Box::new(|r| std::mem::swap(&mut r.p, &mut r.q)),
            HandshakeError::WrongFactors,
        ),
    ];
    cases.push((
        Box::new(|r| r.public_key_fingerprint ^= 1),
        HandshakeError::UnknownFingerprint {
            fingerprint: secretchat_mtproto::rsa::RsaFingerprint::from_i64(
                SERVER.keys()[0].fingerprint().as_i64() ^ 1,
            ),
        },
    ));
    for (tamper, expected) in cases {
        let hand = by_hand(1);
        let mut request = hand.request(hand.encrypt(&hand.inner()));
        tamper(&mut request);
        assert_eq!(hand.answer(&request).unwrap_err(), expected);
    }
}

#[test]
fn factors_are_compared_as_numbers_whatever_their_byte_length() {
    let hand = by_hand(2);
    let mut request = hand.request(hand.encrypt(&hand.inner()));
    request.p.insert(0, 0);
    request.q.insert(0, 0);
    assert!(matches!(
        hand.answer(&request),
        Ok(DhParamsAnswer::Ok { .. })
    ));
}

#[test]
fn encrypted_data_that_does_not_decrypt_to_a_hashed_inner_data_is_refused() {
    let hand = by_hand(3);
    let inner_bytes = enums::PQInnerData::from(hand.inner()).to_bytes();

    let short = hand.request(vec![1; 255]);
    let mut m = [0u8; 256];
    m[0] = 0x01;
    let no_padding = hand.request(raw_rsa(&m));
    // Legacy form with a wrong SHA1 in front of a valid inner data.
    let mut m = [0u8; 256];
    m[21..21 + inner_bytes.len()].copy_from_slice(&inner_bytes);
    let wrong_hash = hand.request(raw_rsa(&m));
    // Legacy form around something that is no p_q_inner_data.
    let mut m = [0x33u8; 256];
    m[0] = 0;
    let garbage = hand.request(raw_rsa(&m));

    assert_eq!(
        by_hand(3).answer(&short).unwrap_err(),
        HandshakeError::Rsa(RsaError::EncryptedDataLength { len: 255 })
    );
    assert_eq!(
        by_hand(3)
            .answer(&hand.request(vec![0xff; 256]))
            .unwrap_err(),
        HandshakeError::Rsa(RsaError::NotBelowModulus)
    );
    assert_eq!(
        by_hand(3).answer(&no_padding).unwrap_err(),
        HandshakeError::Rsa(RsaError::NoPaddingFits)
    );
    assert_eq!(
        by_hand(3).answer(&wrong_hash).unwrap_err(),
        HandshakeError::InnerDataHashMismatch
    );
    assert!(matches!(
        by_hand(3).answer(&garbage).unwrap_err(),
        HandshakeError::InnerDataMalformed(_)
    ));
}

#[test]
fn inner_data_naming_another_handshake_gets_a_verifiable_server_dh_params_fail() {
    type Tamper = fn(&mut t::PQInnerData);
    let cases: [(Tamper, InnerDataMismatch); 5] = [
        (|i| i.nonce[0] ^= 1, InnerDataMismatch::Nonce),
        (|i| i.server_nonce[0] ^= 1, InnerDataMismatch::ServerNonce),
        (|i| i.pq[7] ^= 2, InnerDataMismatch::Pq),
        (|i| i.p[3] ^= 2, InnerDataMismatch::Factors),
        (|i| i.q = vec![1], InnerDataMismatch::Factors),
    ];
    for (tamper, expected) in cases {
        let hand = by_hand(4);
        let mut inner = hand.inner();
        tamper(&mut inner);
        let request = hand.request(hand.encrypt(&inner));
        let new_nonce = hand.new_nonce;
        let Ok(DhParamsAnswer::Refused { answer, reason }) = hand.answer(&request) else {
            panic!("{expected:?} not refused");
        };
        assert_eq!(reason, expected);
        assert_eq!(answer.new_nonce_hash, refusal_hash(&new_nonce));
    }
}

/// A by-hand client past req_DH_params: the server's state and the tmp key.
fn awaiting_client_dh(
    seed: u64,
) -> (
    Box<secretchat_mtproto::handshake::AwaitingClientDh>,
    TmpAes,
    t::ServerDHInnerData,
    [u8; 32],
) {
    let hand = by_hand(seed);
    let request = hand.request(hand.encrypt(&hand.inner()));
    let (server_nonce, new_nonce) = (hand.res_pq.server_nonce, hand.new_nonce);
    let Ok(DhParamsAnswer::Ok { answer, next }) = hand.answer(&request) else {
        panic!()
    };
    let tmp = TmpAes::derive(&new_nonce, &server_nonce);
    let enums::ServerDHInnerData::ServerDHInnerData(inner) =
        tmp.open(&answer.encrypted_answer).unwrap();
    (next, tmp, inner, new_nonce)
}

fn set_client_dh(
    tmp: &TmpAes,
    server_dh: &t::ServerDHInnerData,
    inner: &t::ClientDHInnerData,
) -> f::SetClientDHParams {
    f::SetClientDHParams {
        nonce: server_dh.nonce,
        server_nonce: server_dh.server_nonce,
        encrypted_data: tmp.seal(&inner.to_bytes(), &mut rng(5)),
    }
}

fn honest_inner(server_dh: &t::ServerDHInnerData) -> t::ClientDHInnerData {
    let dh = CheckedConfig::telegram_default();
    t::ClientDHInnerData {
        nonce: server_dh.nonce,
        server_nonce: server_dh.server_nonce,
        retry_id: 0,
        g_b: public_value(&dh, &Exponent::generate(&mut rng(6), &[])),
    }
}

#[test]
fn the_servers_answer_carries_telegrams_group_and_a_g_a_in_the_safety_range() {
    let (_, _, server_dh, _) = awaiting_client_dh(5);
    assert_eq!((server_dh.g, server_dh.server_time), (3, NOW));
    assert_eq!(server_dh.dh_prime, TELEGRAM_PRIME.to_vec());
    assert_eq!(server_dh.g_a.len(), 256);
    assert!(check_public_value(&CheckedConfig::telegram_default(), &server_dh.g_a).is_ok());
}

#[test]
fn set_client_dh_params_tampered_anywhere_before_g_b_is_refused_with_its_error() {
    type Tamper = fn(&mut f::SetClientDHParams, &mut t::ClientDHInnerData);
    let cases: [(Tamper, HandshakeError); 5] = [
        (
            |r, _| r.nonce[1] ^= 1,
            HandshakeError::NonceMismatch {
                step: "set_client_DH_params",
            },
        ),
        (
            |r, _| r.server_nonce[1] ^= 1,
            HandshakeError::ServerNonceMismatch {
                step: "set_client_DH_params",
            },
        ),
        (
            |_, i| i.nonce[1] ^= 1,
            HandshakeError::NonceMismatch {
                step: "client_DH_inner_data",
            },
        ),
        (
            |_, i| i.server_nonce[1] ^= 1,
            HandshakeError::ServerNonceMismatch {
                step: "client_DH_inner_data",
            },
        ),
        (
            |_, i| i.retry_id = 5,
            HandshakeError::RetryIdMismatch {
                got: 5,
                expected: 0,
            },
        ),
    ];
    for (tamper, expected) in cases {
        let (server, tmp, server_dh, _) = awaiting_client_dh(6);
        let mut inner = honest_inner(&server_dh);
        let mut request = set_client_dh(&tmp, &server_dh, &inner);
        tamper(&mut request, &mut inner);
        request.encrypted_data = tmp.seal(&inner.to_bytes(), &mut rng(5));
        assert_eq!(
            server
                .answer_set_client_dh_params(&SERVER, &request)
                .unwrap_err(),
            expected
        );
    }
}

#[test]
fn encrypted_data_that_fails_its_sha1_padding_or_length_is_unreadable() {
    let (_, tmp, server_dh, _) = awaiting_client_dh(7);
    let honest = set_client_dh(&tmp, &server_dh, &honest_inner(&server_dh));
    let mut flipped = honest.clone();
    flipped.encrypted_data[0] ^= 1;
    let mut cut = honest.clone();
    cut.encrypted_data.truncate(cut.encrypted_data.len() - 8);
    let mut padded = honest.clone();
    let data = honest_inner(&server_dh).to_bytes();
    let mut long_padding = vec![0u8; TmpAes::padding_len(data.len()) + 16];
    long_padding.fill(9);
    let mut buf = sha1_hashed(&data);
    buf.extend(&long_padding);
    ige::encrypt_in_place(tmp.key(), tmp.iv(), &mut buf).unwrap();
    padded.encrypted_data = buf;
    for (request, check) in [
        (
            flipped,
            (|e: &TmpAesError| matches!(e, TmpAesError::HashMismatch | TmpAesError::Decode(_)))
                as fn(&TmpAesError) -> bool,
        ),
        (cut, |e| matches!(e, TmpAesError::BadLength { .. })),
        (padded, |e| matches!(e, TmpAesError::PaddingTooLong { .. })),
    ] {
        let (server, ..) = awaiting_client_dh(7);
        match server
            .answer_set_client_dh_params(&SERVER, &request)
            .unwrap_err()
        {
            HandshakeError::ClientDhUnreadable(error) => assert!(check(&error), "{error:?}"),
            other => panic!("{other:?}"),
        }
    }
}

fn sha1_hashed(data: &[u8]) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    let mut buf = Sha1::digest(data).to_vec();
    buf.extend(data);
    buf
}

#[test]
fn g_b_outside_its_ranges_gets_dh_gen_fail_signed_with_the_key_it_implies() {
    let mut two_1984 = vec![0u8; 256];
    two_1984[7] = 1;
    let mut p_minus_1 = TELEGRAM_PRIME.to_vec();
    p_minus_1[255] -= 1;
    let cases = [
        (vec![1], DhError::PublicValueNotAboveOne { bits: 1 }),
        (
            p_minus_1,
            DhError::PublicValueNotBelowPMinusOne { bits: 2048 },
        ),
        (
            two_1984,
            DhError::PublicValueNotAboveSafetyBound { bits: 1985 },
        ),
    ];
    for (g_b, expected) in cases {
        let (server, tmp, server_dh, new_nonce) = awaiting_client_dh(8);
        let inner = t::ClientDHInnerData {
            g_b: g_b.clone(),
            ..honest_inner(&server_dh)
        };
        let request = set_client_dh(&tmp, &server_dh, &inner);
        let Ok(ClientDhAnswer::Refused { answer, reason }) =
            server.answer_set_client_dh_params(&SERVER, &request)
        else {
            panic!("{expected:?} accepted");
        };
        assert_eq!(reason, expected);
        if g_b == [1] {
            // 1^a = 1: the key a client with g_b = 1 would compute, left-padded.
            let mut key = [0u8; 256];
            key[255] = 1;
            let aux = AuthKey::from_bytes(&key).unwrap().aux_hash();
            assert_eq!(
                answer.new_nonce_hash3,
                new_nonce_hash(&new_nonce, DhGen::Fail, &aux)
            );
        }
    }
}

// ---- the client's checks ----

/// A client past req_DH_params, with the server's view of its new_nonce (read with the
/// server's private key) so that tests can forge any answer.
fn client_awaiting_server_dh(
    seed: u64,
) -> (
    client::AwaitingServerDhParams,
    t::ResPQ,
    [u8; 32],
    DhParamsAnswer,
) {
    let (mut srng, mut crng) = (rng(seed), rng(seed + 100));
    let (req_pq, client) = client::start(&mut crng);
    let (res_pq, server) = SERVER.answer_req_pq(req_pq.nonce, &mut srng);
    let public = [SERVER.keys()[0].public_key().clone()];
    let (req_dh, client) = client
        .handle_res_pq(&res_pq, &public, &ClientOptions::TELETHON, &mut crng)
        .unwrap();
    let inner = SERVER.keys()[0]
        .decrypt_inner_data(&req_dh.encrypted_data, &mut srng)
        .unwrap();
    let mut reader = Reader::new(inner.data_with_padding());
    let enums::PQInnerData::PQInnerData(inner) =
        enums::PQInnerData::read_from(&mut reader).unwrap()
    else {
        panic!()
    };
    let answer = server
        .answer_req_dh_params(&SERVER, &req_dh, NOW, &mut srng)
        .unwrap();
    (client, res_pq, inner.new_nonce, answer)
}

#[test]
fn the_client_refuses_answers_with_foreign_nonces_or_a_tampered_encrypted_answer() {
    for (tamper, expected) in [
        (
            (|a: &mut t::ServerDHParamsOk| a.nonce[0] ^= 1) as fn(&mut t::ServerDHParamsOk),
            "nonce",
        ),
        (|a| a.server_nonce[0] ^= 1, "server_nonce"),
        (|a| a.encrypted_answer[40] ^= 1, "unreadable"),
    ] {
        let (client, _, _, answer) = client_awaiting_server_dh(30);
        let DhParamsAnswer::Ok { mut answer, .. } = answer else {
            panic!()
        };
        tamper(&mut answer);
        let error = client
            .handle_server_dh_params(&answer.into(), NOW, &mut rng(1))
            .unwrap_err();
        match expected {
            "nonce" => assert_eq!(
                error,
                ClientError::NonceMismatch {
                    step: "server_DH_params_ok"
                }
            ),
            "server_nonce" => assert_eq!(
                error,
                ClientError::ServerNonceMismatch {
                    step: "server_DH_params_ok"
                }
            ),
            _ => assert!(
                matches!(error, ClientError::AnswerUnreadable(_)),
                "{error:?}"
            ),
        }
    }
}

#[test]
fn the_client_checks_the_group_and_g_a_the_server_sends() {
    let forge = |tamper: fn(&mut t::ServerDHInnerData)| {
        let (client, res_pq, new_nonce, answer) = client_awaiting_server_dh(31);
        let DhParamsAnswer::Ok { answer, .. } = answer else {
            panic!()
        };
        let tmp = TmpAes::derive(&new_nonce, &res_pq.server_nonce);
        let enums::ServerDHInnerData::ServerDHInnerData(mut inner) =
            tmp.open(&answer.encrypted_answer).unwrap();
        tamper(&mut inner);
        let forged = t::ServerDHParamsOk {
            encrypted_answer: tmp.seal(&inner.to_bytes(), &mut rng(2)),
            ..answer
        };
        client
            .handle_server_dh_params(&forged.into(), NOW, &mut rng(3))
            .unwrap_err()
    };
    assert_eq!(
        forge(|i| i.g = 2),
        ClientError::Dh(DhError::GeneratorNotQuadraticResidue {
            g: 2,
            modulus: 8,
            p_mod: 3,
            allowed: &[7]
        })
    );
    assert!(matches!(
        forge(|i| {
            i.dh_prime.remove(0);
        }),
        ClientError::Dh(DhError::PrimeWrongSize { len: 255, .. })
    ));
    assert_eq!(
        forge(|i| i.g_a = vec![1]),
        ClientError::Dh(DhError::PublicValueNotAboveOne { bits: 1 })
    );
    assert_eq!(
        forge(|i| i.nonce[3] ^= 1),
        ClientError::NonceMismatch {
            step: "server_DH_inner_data"
        }
    );
}

#[test]
fn the_client_tells_a_genuine_server_dh_params_fail_from_a_forged_one() {
    let (client, res_pq, new_nonce, _) = client_awaiting_server_dh(32);
    let fail = t::ServerDHParamsFail {
        nonce: res_pq.nonce,
        server_nonce: res_pq.server_nonce,
        new_nonce_hash: refusal_hash(&new_nonce),
    };
    assert_eq!(
        client
            .handle_server_dh_params(&fail.clone().into(), NOW, &mut rng(1))
            .unwrap_err(),
        ClientError::Refused
    );
    let (client, ..) = client_awaiting_server_dh(32);
    let forged = t::ServerDHParamsFail {
        new_nonce_hash: [0; 16],
        ..fail
    };
    assert_eq!(
        client
            .handle_server_dh_params(&forged.into(), NOW, &mut rng(1))
            .unwrap_err(),
        ClientError::NonceHashMismatch {
            answer: "server_DH_params_fail"
        }
    );
}

#[test]
fn the_client_checks_each_dh_gen_hash() {
    let (client, _, _, answer) = client_awaiting_server_dh(33);
    let DhParamsAnswer::Ok {
        answer,
        next: server,
    } = answer
    else {
        panic!()
    };
    let (set_dh, client) = client
        .handle_server_dh_params(&answer.into(), NOW, &mut rng(1))
        .unwrap();
    let ClientDhAnswer::Agreed(agreed) = server
        .answer_set_client_dh_params(&SERVER, &set_dh)
        .unwrap()
    else {
        panic!()
    };
    let (mut ok, _) = agreed.accept();
    ok.new_nonce_hash1[0] ^= 1;
    assert_eq!(
        client.handle_dh_gen(&ok.into(), &mut rng(2)).unwrap_err(),
        ClientError::NonceHashMismatch {
            answer: "dh_gen_ok"
        }
    );
}

#[test]
fn the_client_refuses_a_res_pq_without_a_known_key_or_with_a_prime_pq() {
    let (req_pq, client) = client::start(&mut rng(40));
    let (mut res_pq, _) = SERVER.answer_req_pq(req_pq.nonce, &mut rng(41));
    let public = [SERVER.keys()[0].public_key().clone()];
    res_pq.server_public_key_fingerprints = vec![1, 2];
    assert_eq!(
        client
            .clone()
            .handle_res_pq(&res_pq, &public, &ClientOptions::TELETHON, &mut rng(42))
            .unwrap_err(),
        ClientError::NoKnownKey {
            offered: vec![1, 2]
        }
    );
    res_pq.server_public_key_fingerprints = vec![SERVER.keys()[0].fingerprint().as_i64()];
    res_pq.pq = 4_294_967_291u64.to_be_bytes().to_vec();
    assert!(matches!(
        client
            .clone()
            .handle_res_pq(&res_pq, &public, &ClientOptions::TELETHON, &mut rng(42))
            .unwrap_err(),
        ClientError::PqNotFactorable { .. }
    ));
    res_pq.nonce[0] ^= 1;
    assert_eq!(
        client
            .handle_res_pq(&res_pq, &public, &ClientOptions::TELETHON, &mut rng(42))
            .unwrap_err(),
        ClientError::NonceMismatch { step: "resPQ" }
    );
}
