//! The server's side of the handshake, one step function per request. Each step consumes the
//! state the previous one returned, so a step cannot be skipped or repeated; [`Handshake`]
//! drives them for a connection that sends raw TL bodies.
//!
//! ```text
//! req_pq_multi / req_pq  ──answer_req_pq──────────▶ resPQ                     + AwaitingReqDhParams
//! req_DH_params          ──answer_req_dh_params───▶ server_DH_params_ok      + AwaitingClientDh
//!                                                 or server_DH_params_fail   (inner data wrong)
//! set_client_DH_params   ──answer_set_client_dh───▶ KeyAgreed ──accept()──▶ dh_gen_ok    + NewAuthKey
//!                                                             └─retry()───▶ dh_gen_retry + AwaitingClientDh
//!                                                 or dh_gen_fail             (g_b out of range)
//! ```
//!
//! A [`HandshakeError`] means the request cannot be answered at all (wrong nonces, an unknown
//! key, undecryptable data): piltover answers transport error −404 and closes, and Pyrogram
//! then retries on a new connection (NOTES b.2). The two refusals with an answer are for a
//! request that decrypted but asked for something wrong; both carry a hash of `new_nonce`, so
//! the client can tell they are genuine.

use num_bigint::BigUint;
use rand::{CryptoRng, RngCore};
use secretchat_common::dh::{
    check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent,
};
use secretchat_common::tl::{DecodeError, Reader, TlRead, TlWrite};
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::nonces::{first_server_salt, new_nonce_hash, refusal_hash, DhGen};
use super::pq::{be_bytes, be_u64, Pq};
use super::tmp_aes::{TmpAes, TmpAesError};
use crate::auth_key::{AuthKey, AuthKeyId};
use crate::fault::Fault;
use crate::rsa::{RsaError, RsaFingerprint, ServerKey};
use crate::service::{enums, functions as f, types as t, Function};

/// What the server brings to every handshake: its RSA keys and the DH group.
#[derive(Debug, Clone)]
pub struct HandshakeServer {
    keys: Vec<ServerKey>,
    dh: CheckedConfig,
}

/// A server without an RSA key cannot take part (a configuration mistake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the handshake needs at least one RSA key")]
pub struct NoRsaKey;

impl HandshakeServer {
    /// With Telegram's 2048-bit prime and `g = 3`: Pyrogram refuses any other prime, `g = 3`
    /// also passes the secret-chat plugins' checks (NOTES b.3).
    pub fn new(keys: Vec<ServerKey>) -> Result<Self, NoRsaKey> {
        if keys.is_empty() {
            return Err(NoRsaKey);
        }
        Ok(Self {
            keys,
            dh: CheckedConfig::telegram_default(),
        })
    }

    pub fn keys(&self) -> &[ServerKey] {
        &self.keys
    }

    /// Step 1: `req_pq_multi(nonce)` (or the legacy `req_pq`) → `resPQ` with a fresh
    /// `server_nonce`, a fresh `pq` and the fingerprints of every key.
    pub fn answer_req_pq(
        &self,
        nonce: [u8; 16],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> (t::ResPQ, AwaitingReqDhParams) {
        let mut server_nonce = [0u8; 16];
        rng.fill_bytes(&mut server_nonce);
        let pq = Pq::generate(rng);
        let answer = t::ResPQ {
            nonce,
            server_nonce,
            pq: be_bytes(pq.pq()),
            server_public_key_fingerprints: self
                .keys
                .iter()
                .map(|key| key.fingerprint().as_i64())
                .collect(),
        };
        let next = AwaitingReqDhParams {
            nonce,
            server_nonce,
            pq,
        };
        (answer, next)
    }
}

/// Why a handshake request cannot be answered. All are the client's fault (or an attacker's):
/// answer transport error −404 and close the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("{got} arrived while the handshake waits for {expected}")]
    UnexpectedRequest {
        got: &'static str,
        expected: &'static str,
    },
    #[error("the request is not a handshake request: {0}")]
    Malformed(DecodeError),
    #[error("{step}: nonce is not the one of this handshake")]
    NonceMismatch { step: &'static str },
    #[error("{step}: server_nonce is not the one this server sent")]
    ServerNonceMismatch { step: &'static str },
    #[error("req_DH_params: p and q are not the factors of the pq this server sent")]
    WrongFactors,
    #[error("req_DH_params: public_key_fingerprint {fingerprint} names none of the server's keys")]
    UnknownFingerprint { fingerprint: RsaFingerprint },
    #[error("req_DH_params: encrypted_data: {0}")]
    Rsa(RsaError),
    #[error("req_DH_params: encrypted_data does not hold a p_q_inner_data: {0}")]
    InnerDataMalformed(DecodeError),
    #[error("req_DH_params: the legacy SHA1 in encrypted_data does not match its p_q_inner_data")]
    InnerDataHashMismatch,
    #[error("set_client_DH_params: encrypted_data: {0}")]
    ClientDhUnreadable(TmpAesError),
    #[error("set_client_DH_params: retry_id is {got}, expected {expected}")]
    RetryIdMismatch { got: i64, expected: i64 },
}

impl HandshakeError {
    pub fn fault(&self) -> Fault {
        Fault::Peer
    }
}

/// Which field of a decrypted `p_q_inner_data` disagrees with the handshake (the reason of a
/// `server_DH_params_fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InnerDataMismatch {
    #[error("p_q_inner_data.nonce differs from req_DH_params.nonce")]
    Nonce,
    #[error("p_q_inner_data.server_nonce differs from the one sent")]
    ServerNonce,
    #[error("p_q_inner_data.pq differs from the pq sent")]
    Pq,
    #[error("p_q_inner_data.p or .q differs from the factors of pq")]
    Factors,
}

/// After `resPQ`: the server waits for `req_DH_params`.
#[derive(Debug, Clone)]
pub struct AwaitingReqDhParams {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    pq: Pq,
}

/// The answer to `req_DH_params`.
#[derive(Debug)]
pub enum DhParamsAnswer {
    Ok {
        answer: t::ServerDHParamsOk,
        next: Box<AwaitingClientDh>,
    },
    /// The inner data decrypted but names another handshake: `server_DH_params_fail`, and the
    /// handshake is over.
    Refused {
        answer: t::ServerDHParamsFail,
        reason: InnerDataMismatch,
    },
}

/// Whether the key will be permanent or temporary (`p_q_inner_data_temp*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKeyKind {
    Permanent,
    /// Bound to expire `expires_in` seconds after creation (for `auth.bindTempAuthKey`).
    Temporary {
        expires_in: i32,
    },
}

/// The four forms of `p_q_inner_data`, reduced to what the server uses.
struct InnerData {
    pq: Vec<u8>,
    p: Vec<u8>,
    q: Vec<u8>,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: Zeroizing<[u8; 32]>,
    dc: Option<i32>,
    kind: AuthKeyKind,
}

impl From<enums::PQInnerData> for InnerData {
    fn from(inner: enums::PQInnerData) -> Self {
        use enums::PQInnerData as E;
        // The fields all four forms share, and what the form adds.
        macro_rules! inner {
            ($d:expr, $dc:expr, $kind:expr) => {
                InnerData {
                    pq: $d.pq,
                    p: $d.p,
                    q: $d.q,
                    nonce: $d.nonce,
                    server_nonce: $d.server_nonce,
                    new_nonce: Zeroizing::new($d.new_nonce),
                    dc: $dc,
                    kind: $kind,
                }
            };
        }
        match inner {
            E::PQInnerData(d) => inner!(d, None, AuthKeyKind::Permanent),
            E::PQInnerDataDc(d) => inner!(d, Some(d.dc), AuthKeyKind::Permanent),
            E::PQInnerDataTemp(d) => {
                let expires_in = d.expires_in;
                inner!(d, None, AuthKeyKind::Temporary { expires_in })
            }
            E::PQInnerDataTempDc(d) => {
                let (dc, expires_in) = (d.dc, d.expires_in);
                inner!(d, Some(dc), AuthKeyKind::Temporary { expires_in })
            }
        }
    }
}

impl AwaitingReqDhParams {
    /// Step 2: `req_DH_params` → `server_DH_params_ok` (or `_fail`).
    ///
    /// Checks, in order: nonce, server_nonce, p and q (as numbers), the key fingerprint, the
    /// RSA decryption and padding (RSA_PAD, else legacy with its SHA1), the TL of the inner
    /// data; then the inner data's nonce, server_nonce, pq, p and q, each of which gives a
    /// `server_DH_params_fail`. `now` is the server's unix time, sent as `server_time`.
    pub fn answer_req_dh_params(
        self,
        server: &HandshakeServer,
        request: &f::ReqDHParams,
        now: i32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<DhParamsAnswer, HandshakeError> {
        const STEP: &str = "req_DH_params";
        if request.nonce != self.nonce {
            return Err(HandshakeError::NonceMismatch { step: STEP });
        }
        if request.server_nonce != self.server_nonce {
            return Err(HandshakeError::ServerNonceMismatch { step: STEP });
        }
        if !self.factors_match(&request.p, &request.q) {
            return Err(HandshakeError::WrongFactors);
        }
        let fingerprint = RsaFingerprint::from_i64(request.public_key_fingerprint);
        let key = server
            .keys
            .iter()
            .find(|key| key.fingerprint() == fingerprint)
            .ok_or(HandshakeError::UnknownFingerprint { fingerprint })?;
        let decrypted = key
            .decrypt_inner_data(&request.encrypted_data, rng)
            .map_err(HandshakeError::Rsa)?;
        let mut reader = Reader::new(decrypted.data_with_padding());
        let inner = enums::PQInnerData::read_from(&mut reader)
            .map_err(HandshakeError::InnerDataMalformed)?;
        if !decrypted.legacy_hash_matches(reader.position()) {
            return Err(HandshakeError::InnerDataHashMismatch);
        }
        let inner = InnerData::from(inner);

        if let Some(reason) = self.mismatch(&inner) {
            return Ok(DhParamsAnswer::Refused {
                answer: t::ServerDHParamsFail {
                    nonce: self.nonce,
                    server_nonce: self.server_nonce,
                    new_nonce_hash: refusal_hash(&inner.new_nonce),
                },
                reason,
            });
        }

        let (a, exponent, g_a) = draw_exponent(&server.dh, rng);
        let tmp = TmpAes::derive(&inner.new_nonce, &self.server_nonce);
        let answer = t::ServerDHInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            g: server.dh.g(),
            dh_prime: server.dh.p_bytes().to_vec(),
            g_a,
            server_time: now,
        };
        let encrypted_answer = tmp.seal(&answer.to_bytes(), rng);
        Ok(DhParamsAnswer::Ok {
            answer: t::ServerDHParamsOk {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                encrypted_answer,
            },
            next: Box::new(AwaitingClientDh {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce: inner.new_nonce,
                a,
                exponent,
                tmp,
                kind: inner.kind,
                dc: inner.dc,
                retry_id: 0,
            }),
        })
    }

    fn factors_match(&self, p: &[u8], q: &[u8]) -> bool {
        be_u64(p) == Some(u64::from(self.pq.p())) && be_u64(q) == Some(u64::from(self.pq.q()))
    }

    fn mismatch(&self, inner: &InnerData) -> Option<InnerDataMismatch> {
        if inner.nonce != self.nonce {
            Some(InnerDataMismatch::Nonce)
        } else if inner.server_nonce != self.server_nonce {
            Some(InnerDataMismatch::ServerNonce)
        } else if be_u64(&inner.pq) != Some(self.pq.pq()) {
            Some(InnerDataMismatch::Pq)
        } else if !self.factors_match(&inner.p, &inner.q) {
            Some(InnerDataMismatch::Factors)
        } else {
            None
        }
    }
}

/// `a`: 256 random bytes, drawn again (about once in 2^64) until `g_a` is inside
/// `2^1984 < g_a < p − 2^1984`, which both clients check.
fn draw_exponent(
    dh: &CheckedConfig,
    rng: &mut (impl RngCore + CryptoRng),
) -> (Zeroizing<[u8; 256]>, Exponent, Vec<u8>) {
    loop {
        let mut a = Zeroizing::new([0u8; 256]);
        rng.fill_bytes(a.as_mut_slice());
        let Ok(exponent) = Exponent::from_be_bytes(a.as_slice()) else {
            continue;
        };
        let g_a = public_value(dh, &exponent);
        if check_public_value(dh, &g_a).is_ok() {
            return (a, exponent, g_a);
        }
    }
}

/// After `server_DH_params_ok`: the server waits for `set_client_DH_params`.
pub struct AwaitingClientDh {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: Zeroizing<[u8; 32]>,
    /// `a` twice: as common's exponent for the checked path, as bytes for `dh_gen_fail`.
    a: Zeroizing<[u8; 256]>,
    exponent: Exponent,
    tmp: TmpAes,
    kind: AuthKeyKind,
    dc: Option<i32>,
    /// 0 on the first attempt, then the `auth_key_aux_hash` of the key refused by retry.
    retry_id: i64,
}

impl std::fmt::Debug for AwaitingClientDh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwaitingClientDh")
            .field("kind", &self.kind)
            .field("dc", &self.dc)
            .field("retry_id", &self.retry_id)
            .finish_non_exhaustive()
    }
}

/// The answer to `set_client_DH_params`.
#[derive(Debug)]
pub enum ClientDhAnswer {
    /// The key is computed; the caller accepts it, or asks for a retry if its id is taken.
    Agreed(KeyAgreed),
    /// `g_b` broke a range rule: `dh_gen_fail`, and the handshake is over.
    Refused {
        answer: t::DhGenFail,
        reason: DhError,
    },
}

impl AwaitingClientDh {
    /// Step 3: `set_client_DH_params` → the auth key (or `dh_gen_fail`).
    ///
    /// Checks, in order: nonce, server_nonce, the decryption with its SHA1 and padding, the
    /// inner nonce and server_nonce, `retry_id`; then `g_b` against `1 < g_b < p − 1` and
    /// `2^1984 < g_b < p − 2^1984`, whose failure is a `dh_gen_fail`.
    pub fn answer_set_client_dh_params(
        self: Box<Self>,
        server: &HandshakeServer,
        request: &f::SetClientDHParams,
    ) -> Result<ClientDhAnswer, HandshakeError> {
        const STEP: &str = "set_client_DH_params";
        if request.nonce != self.nonce {
            return Err(HandshakeError::NonceMismatch { step: STEP });
        }
        if request.server_nonce != self.server_nonce {
            return Err(HandshakeError::ServerNonceMismatch { step: STEP });
        }
        let enums::ClientDHInnerData::ClientDHInnerData(inner) = self
            .tmp
            .open::<enums::ClientDHInnerData>(&request.encrypted_data)
            .map_err(HandshakeError::ClientDhUnreadable)?;
        if inner.nonce != self.nonce {
            return Err(HandshakeError::NonceMismatch {
                step: "client_DH_inner_data",
            });
        }
        if inner.server_nonce != self.server_nonce {
            return Err(HandshakeError::ServerNonceMismatch {
                step: "client_DH_inner_data",
            });
        }
        if inner.retry_id != self.retry_id {
            return Err(HandshakeError::RetryIdMismatch {
                got: inner.retry_id,
                expected: self.retry_id,
            });
        }
        match check_public_value(&server.dh, &inner.g_b) {
            Ok(g_b) => {
                // auth_key = pow(g_b, a) mod dh_prime, 256 bytes big-endian
                let auth_key =
                    AuthKey::from_chat_key(compute_key(&server.dh, &self.exponent, &g_b));
                Ok(ClientDhAnswer::Agreed(KeyAgreed {
                    auth_key,
                    state: self,
                }))
            }
            Err(reason) => {
                // The client computed its key as g_a^b; for an honest g_b = g^b that is
                // g_b^a, which this side computes without the checks to sign the refusal.
                let aux_hash = unchecked_aux_hash(&server.dh, &self.a, &inner.g_b);
                Ok(ClientDhAnswer::Refused {
                    answer: t::DhGenFail {
                        nonce: self.nonce,
                        server_nonce: self.server_nonce,
                        new_nonce_hash3: new_nonce_hash(&self.new_nonce, DhGen::Fail, &aux_hash),
                    },
                    reason,
                })
            }
        }
    }
}

/// `auth_key_aux_hash` of `pow(g_b mod p, a) mod p` for a `g_b` that failed its checks (only
/// to sign `dh_gen_fail`).
fn unchecked_aux_hash(dh: &CheckedConfig, a: &[u8; 256], g_b: &[u8]) -> [u8; 8] {
    let p = BigUint::from_bytes_be(dh.p_bytes());
    let key = (BigUint::from_bytes_be(g_b) % &p).modpow(&BigUint::from_bytes_be(a), &p);
    let be = Zeroizing::new(key.to_bytes_be());
    // key < p < 2^2048, so it has at most 256 bytes.
    let len = be.len().min(256);
    let mut bytes = Zeroizing::new([0u8; 256]);
    bytes[256 - len..].copy_from_slice(&be[be.len() - len..]);
    let digest = Sha1::digest(bytes.as_slice());
    let mut aux = [0u8; 8];
    aux.copy_from_slice(&digest[..8]);
    aux
}

/// The auth key both sides now hold, before the server commits to it.
pub struct KeyAgreed {
    auth_key: AuthKey,
    state: Box<AwaitingClientDh>,
}

impl std::fmt::Debug for KeyAgreed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyAgreed({:?})", self.auth_key)
    }
}

/// A new auth key, ready to be stored under its id.
#[derive(Debug, Clone)]
pub struct NewAuthKey {
    pub auth_key: AuthKey,
    /// The first salt: `new_nonce[0..8] XOR server_nonce[0..8]`.
    pub server_salt: i64,
    pub kind: AuthKeyKind,
    /// The DC the client named (`p_q_inner_data_dc`, `_temp_dc`); tdlib negates it for media.
    pub dc: Option<i32>,
}

impl KeyAgreed {
    /// The id the key would be stored under: a server that already has a key with this id
    /// calls [`KeyAgreed::retry`] instead of [`KeyAgreed::accept`].
    pub fn auth_key_id(&self) -> AuthKeyId {
        self.auth_key.id()
    }

    /// `dh_gen_ok` with `new_nonce_hash1`, and the key.
    pub fn accept(self) -> (t::DhGenOk, NewAuthKey) {
        let state = self.state;
        let answer = t::DhGenOk {
            nonce: state.nonce,
            server_nonce: state.server_nonce,
            new_nonce_hash1: new_nonce_hash(&state.new_nonce, DhGen::Ok, &self.auth_key.aux_hash()),
        };
        let key = NewAuthKey {
            server_salt: first_server_salt(&state.new_nonce, &state.server_nonce),
            auth_key: self.auth_key,
            kind: state.kind,
            dc: state.dc,
        };
        (answer, key)
    }

    /// `dh_gen_retry` with `new_nonce_hash2`: the client draws another `b` and sends
    /// `set_client_DH_params` again, with this key's `auth_key_aux_hash` as `retry_id`.
    pub fn retry(self) -> (t::DhGenRetry, Box<AwaitingClientDh>) {
        let aux_hash = self.auth_key.aux_hash();
        let mut state = self.state;
        let answer = t::DhGenRetry {
            nonce: state.nonce,
            server_nonce: state.server_nonce,
            new_nonce_hash2: new_nonce_hash(&state.new_nonce, DhGen::Retry, &aux_hash),
        };
        state.retry_id = i64::from_le_bytes(aux_hash);
        (answer, state)
    }
}

/// The handshake of one connection, for a caller that has the TL body of each unencrypted
/// message: it decodes the request, runs the step its state allows, and keeps the next state.
/// `req_pq_multi` restarts it at any point (Telethon redoes the handshake on the same
/// connection after a failure).
#[derive(Debug, Default)]
pub struct Handshake {
    state: Awaiting,
}

#[derive(Debug, Default)]
enum Awaiting {
    #[default]
    ReqPq,
    ReqDhParams(AwaitingReqDhParams),
    ClientDh(Box<AwaitingClientDh>),
}

/// What one request led to.
#[derive(Debug)]
pub enum Outcome {
    /// Send `reply` (TL, in an unencrypted message); the handshake goes on.
    Reply(Vec<u8>),
    /// Send `reply` (`dh_gen_ok`) and store the key: the handshake is done.
    KeyCreated { reply: Vec<u8>, key: NewAuthKey },
    /// Send `reply` (`server_DH_params_fail` or `dh_gen_fail`): the handshake is over; the
    /// client may start again.
    Refused { reply: Vec<u8>, reason: String },
}

impl Handshake {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one unencrypted request body. `key_id_taken` answers whether a new key's id is
    /// already in use (then the client is asked to retry with another `b`). After an `Err`
    /// the handshake starts over; the caller should send transport error −404 and close.
    pub fn handle(
        &mut self,
        server: &HandshakeServer,
        body: &[u8],
        now: i32,
        key_id_taken: impl FnOnce(AuthKeyId) -> bool,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Outcome, HandshakeError> {
        let state = std::mem::take(&mut self.state);
        let request = Function::from_bytes(body).map_err(HandshakeError::Malformed)?;
        match (request, state) {
            (
                Function::ReqPqMulti(f::ReqPqMulti { nonce }) | Function::ReqPq(f::ReqPq { nonce }),
                _,
            ) => {
                let (answer, next) = server.answer_req_pq(nonce, rng);
                self.state = Awaiting::ReqDhParams(next);
                Ok(Outcome::Reply(answer.to_bytes()))
            }
            (Function::ReqDHParams(request), Awaiting::ReqDhParams(awaiting)) => {
                match awaiting.answer_req_dh_params(server, &request, now, rng)? {
                    DhParamsAnswer::Ok { answer, next } => {
                        self.state = Awaiting::ClientDh(next);
                        Ok(Outcome::Reply(
                            enums::ServerDHParams::from(answer).to_bytes(),
                        ))
                    }
                    DhParamsAnswer::Refused { answer, reason } => Ok(Outcome::Refused {
                        reply: enums::ServerDHParams::from(answer).to_bytes(),
                        reason: reason.to_string(),
                    }),
                }
            }
            (Function::SetClientDHParams(request), Awaiting::ClientDh(awaiting)) => {
                match awaiting.answer_set_client_dh_params(server, &request)? {
                    ClientDhAnswer::Agreed(agreed) if key_id_taken(agreed.auth_key_id()) => {
                        let (answer, next) = agreed.retry();
                        self.state = Awaiting::ClientDh(next);
                        Ok(Outcome::Reply(
                            enums::SetClientDHParamsAnswer::from(answer).to_bytes(),
                        ))
                    }
                    ClientDhAnswer::Agreed(agreed) => {
                        let (answer, key) = agreed.accept();
                        Ok(Outcome::KeyCreated {
                            reply: enums::SetClientDHParamsAnswer::from(answer).to_bytes(),
                            key,
                        })
                    }
                    ClientDhAnswer::Refused { answer, reason } => Ok(Outcome::Refused {
                        reply: enums::SetClientDHParamsAnswer::from(answer).to_bytes(),
                        reason: reason.to_string(),
                    }),
                }
            }
            (request, state) => Err(HandshakeError::UnexpectedRequest {
                got: request.name(),
                expected: state.expects(),
            }),
        }
    }
}

impl Awaiting {
    fn expects(&self) -> &'static str {
        match self {
            Awaiting::ReqPq => f::ReqPqMulti::NAME,
            Awaiting::ReqDhParams(_) => f::ReqDHParams::NAME,
            Awaiting::ClientDh(_) => f::SetClientDHParams::NAME,
        }
    }
}
