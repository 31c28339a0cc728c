//! The client's side of the handshake, one step function per answer of the server, each
//! consuming the state of the step before (the flow is in [`super`]). It lets tests and
//! benchmarks create auth keys against a server without Python, in every form a real client
//! uses: the legacy padding with plain `p_q_inner_data` (Telethon, Pyrogram) or RSA_PAD with
//! `p_q_inner_data_dc` / `_temp_dc` (tdlib).
//!
//! It checks what the strictest real client checks: the nonces of every answer, the SHA1 of
//! `server_DH_inner_data`, that `(dh_prime, g)` is a safe 2048-bit group with a proper
//! generator and `g_a` inside the safety range (`secretchat_common::dh`), and the
//! `new_nonce_hash` of `server_DH_params_fail` and of every `dh_gen_*`.

use rand::{CryptoRng, RngCore};
use secretchat_common::dh::{
    check_config, check_public_value, compute_key, public_value, CheckedConfig, CheckedPublicValue,
    DhError, Exponent,
};
use secretchat_common::tl::TlWrite;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::nonces::{first_server_salt, new_nonce_hash, refusal_hash, DhGen};
use super::pq::{be_bytes, be_u64, factorize};
use super::tmp_aes::{TmpAes, TmpAesError};
use crate::auth_key::AuthKey;
use crate::fault::Fault;
use crate::rsa::{RsaError, ServerPublicKey};
use crate::service::{enums, functions as f, types as t};

/// Which `p_q_inner_data` the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnerDataForm {
    /// `p_q_inner_data` (Telethon, Pyrogram).
    Plain,
    /// `p_q_inner_data_dc` (tdlib, permanent keys).
    Dc { dc: i32 },
    /// `p_q_inner_data_temp`.
    Temp { expires_in: i32 },
    /// `p_q_inner_data_temp_dc` (tdlib, temporary keys).
    TempDc { dc: i32, expires_in: i32 },
}

/// Which padding wraps it for RSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaPadding {
    /// `SHA1(data) + data + random` (Telethon, Pyrogram).
    Legacy,
    /// RSA_PAD (tdlib).
    RsaPad,
}

/// How the client builds `req_DH_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    pub inner_data: InnerDataForm,
    pub padding: RsaPadding,
}

impl ClientOptions {
    /// What Telethon and Pyrogram send.
    pub const TELETHON: ClientOptions = ClientOptions {
        inner_data: InnerDataForm::Plain,
        padding: RsaPadding::Legacy,
    };

    /// What tdlib sends for a permanent key on DC `dc`.
    pub const fn tdlib(dc: i32) -> ClientOptions {
        ClientOptions {
            inner_data: InnerDataForm::Dc { dc },
            padding: RsaPadding::RsaPad,
        }
    }
}

/// Why the client gives up on a handshake. The server's fault, except [`ClientError::Rsa`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("{step}: nonce is not ours")]
    NonceMismatch { step: &'static str },
    #[error("{step}: server_nonce is not the one of resPQ")]
    ServerNonceMismatch { step: &'static str },
    #[error("resPQ offers fingerprints {offered:x?}, none of them a key we know")]
    NoKnownKey { offered: Vec<i64> },
    #[error("resPQ: pq {pq:02x?} is not a product of two primes below 2^64")]
    PqNotFactorable { pq: Vec<u8> },
    #[error("encrypting p_q_inner_data: {0}")]
    Rsa(RsaError),
    #[error("the server refused req_DH_params (server_DH_params_fail)")]
    Refused,
    #[error("{answer}: new_nonce_hash does not match: not an answer of the server that read our new_nonce")]
    NonceHashMismatch { answer: &'static str },
    #[error("server_DH_params_ok: encrypted_answer: {0}")]
    AnswerUnreadable(TmpAesError),
    #[error("server_DH_inner_data: {0}")]
    Dh(DhError),
    #[error("the server refused our g_b (dh_gen_fail)")]
    DhGenFail,
}

impl ClientError {
    pub fn fault(&self) -> Fault {
        match self {
            ClientError::Rsa(_) => Fault::Caller,
            _ => Fault::Peer,
        }
    }
}

/// Step 0: a fresh nonce and `req_pq_multi`.
pub fn start(rng: &mut (impl RngCore + CryptoRng)) -> (f::ReqPqMulti, AwaitingResPq) {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    (f::ReqPqMulti { nonce }, AwaitingResPq { nonce })
}

/// After `req_pq_multi`: waiting for `resPQ`.
#[derive(Debug, Clone)]
pub struct AwaitingResPq {
    nonce: [u8; 16],
}

impl AwaitingResPq {
    /// `resPQ` → `req_DH_params`: picks the first offered fingerprint among `keys`, factors
    /// `pq`, draws `new_nonce` and encrypts the inner data as `options` say.
    pub fn handle_res_pq(
        self,
        res_pq: &t::ResPQ,
        keys: &[ServerPublicKey],
        options: &ClientOptions,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(f::ReqDHParams, AwaitingServerDhParams), ClientError> {
        if res_pq.nonce != self.nonce {
            return Err(ClientError::NonceMismatch { step: "resPQ" });
        }
        let key = res_pq
            .server_public_key_fingerprints
            .iter()
            .find_map(|&offered| {
                keys.iter()
                    .find(|key| key.fingerprint().as_i64() == offered)
            })
            .ok_or_else(|| ClientError::NoKnownKey {
                offered: res_pq.server_public_key_fingerprints.clone(),
            })?;
        let (p, q) =
            be_u64(&res_pq.pq)
                .and_then(factorize)
                .ok_or_else(|| ClientError::PqNotFactorable {
                    pq: res_pq.pq.clone(),
                })?;
        let mut new_nonce = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(new_nonce.as_mut_slice());
        let (p, q) = (be_bytes(p), be_bytes(q));
        let data = inner_data(options.inner_data, res_pq, &p, &q, &self.nonce, &new_nonce);
        let encrypted_data = match options.padding {
            RsaPadding::Legacy => key.encrypt_legacy(&data, rng),
            RsaPadding::RsaPad => key.encrypt_rsa_pad(&data, rng),
        }
        .map_err(ClientError::Rsa)?;
        let request = f::ReqDHParams {
            nonce: self.nonce,
            server_nonce: res_pq.server_nonce,
            p,
            q,
            public_key_fingerprint: key.fingerprint().as_i64(),
            encrypted_data: encrypted_data.to_vec(),
        };
        let next = AwaitingServerDhParams {
            nonce: self.nonce,
            server_nonce: res_pq.server_nonce,
            new_nonce,
        };
        Ok((request, next))
    }
}

/// The serialized `p_q_inner_data*` of the chosen form.
fn inner_data(
    form: InnerDataForm,
    res_pq: &t::ResPQ,
    p: &[u8],
    q: &[u8],
    nonce: &[u8; 16],
    new_nonce: &[u8; 32],
) -> Zeroizing<Vec<u8>> {
    let (pq, p, q, nonce, server_nonce, new_nonce) = (
        res_pq.pq.clone(),
        p.to_vec(),
        q.to_vec(),
        *nonce,
        res_pq.server_nonce,
        *new_nonce,
    );
    let inner: enums::PQInnerData = match form {
        InnerDataForm::Plain => t::PQInnerData {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
        }
        .into(),
        InnerDataForm::Dc { dc } => t::PQInnerDataDc {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
            dc,
        }
        .into(),
        InnerDataForm::Temp { expires_in } => t::PQInnerDataTemp {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
            expires_in,
        }
        .into(),
        InnerDataForm::TempDc { dc, expires_in } => t::PQInnerDataTempDc {
            pq,
            p,
            q,
            nonce,
            server_nonce,
            new_nonce,
            dc,
            expires_in,
        }
        .into(),
    };
    Zeroizing::new(inner.to_bytes())
}

/// After `req_DH_params`: waiting for `server_DH_params_ok`.
pub struct AwaitingServerDhParams {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for AwaitingServerDhParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwaitingServerDhParams(<redacted>)")
    }
}

impl AwaitingServerDhParams {
    /// `server_DH_params_ok` → `set_client_DH_params`: decrypts and checks the DH group and
    /// `g_a`, draws `b`, computes the key. `now` (unix time) gives the clock offset.
    pub fn handle_server_dh_params(
        self,
        answer: &enums::ServerDHParams,
        now: i32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(f::SetClientDHParams, AwaitingDhGen), ClientError> {
        let ok = match answer {
            enums::ServerDHParams::ServerDHParamsOk(ok) => ok,
            enums::ServerDHParams::ServerDHParamsFail(fail) => {
                self.check_nonces(&fail.nonce, &fail.server_nonce, "server_DH_params_fail")?;
                let genuine = bool::from(fail.new_nonce_hash.ct_eq(&refusal_hash(&self.new_nonce)));
                return Err(if genuine {
                    ClientError::Refused
                } else {
                    ClientError::NonceHashMismatch {
                        answer: "server_DH_params_fail",
                    }
                });
            }
        };
        self.check_nonces(&ok.nonce, &ok.server_nonce, "server_DH_params_ok")?;
        let tmp = TmpAes::derive(&self.new_nonce, &self.server_nonce);
        let enums::ServerDHInnerData::ServerDHInnerData(inner) = tmp
            .open::<enums::ServerDHInnerData>(&ok.encrypted_answer)
            .map_err(ClientError::AnswerUnreadable)?;
        self.check_nonces(&inner.nonce, &inner.server_nonce, "server_DH_inner_data")?;
        let dh = check_config(&inner.dh_prime, inner.g).map_err(ClientError::Dh)?;
        let g_a = check_public_value(&dh, &inner.g_a).map_err(ClientError::Dh)?;
        let mut next = AwaitingDhGen {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            new_nonce: self.new_nonce,
            tmp,
            dh,
            g_a,
            auth_key: None,
            time_offset: inner.server_time.wrapping_sub(now),
        };
        let request = next.client_dh_params(0, rng);
        Ok((request, next))
    }

    fn check_nonces(
        &self,
        nonce: &[u8; 16],
        server_nonce: &[u8; 16],
        step: &'static str,
    ) -> Result<(), ClientError> {
        if *nonce != self.nonce {
            return Err(ClientError::NonceMismatch { step });
        }
        if *server_nonce != self.server_nonce {
            return Err(ClientError::ServerNonceMismatch { step });
        }
        Ok(())
    }
}

/// After `set_client_DH_params`: waiting for `dh_gen_*`.
pub struct AwaitingDhGen {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: Zeroizing<[u8; 32]>,
    tmp: TmpAes,
    dh: CheckedConfig,
    g_a: CheckedPublicValue,
    /// The key of the last `set_client_DH_params` (always set once built).
    auth_key: Option<AuthKey>,
    time_offset: i32,
}

impl std::fmt::Debug for AwaitingDhGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwaitingDhGen(<redacted>)")
    }
}

/// A finished handshake, client side.
#[derive(Debug, Clone)]
pub struct ClientAuthKey {
    pub auth_key: AuthKey,
    /// `new_nonce[0..8] XOR server_nonce[0..8]`.
    pub server_salt: i64,
    /// `server_time − now`, to correct the client's msg_ids.
    pub time_offset: i32,
}

/// What a `dh_gen_*` leads to.
#[derive(Debug)]
pub enum DhGenOutcome {
    Done(ClientAuthKey),
    /// `dh_gen_retry`: send `request` (a new `b`) and wait again.
    Retry {
        request: f::SetClientDHParams,
        next: Box<AwaitingDhGen>,
    },
}

impl AwaitingDhGen {
    /// `b`, `g_b` (both inside the safety range) and the key; the request carrying `g_b`.
    fn client_dh_params(
        &mut self,
        retry_id: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> f::SetClientDHParams {
        let (b, g_b) = loop {
            let b = Exponent::generate(rng, &[]);
            let g_b = public_value(&self.dh, &b);
            if check_public_value(&self.dh, &g_b).is_ok() {
                break (b, g_b);
            }
        };
        // auth_key = pow(g_a, b) mod dh_prime
        self.auth_key = Some(AuthKey::from_chat_key(compute_key(&self.dh, &b, &self.g_a)));
        let inner = t::ClientDHInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            retry_id,
            g_b,
        };
        f::SetClientDHParams {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            encrypted_data: self.tmp.seal(&inner.to_bytes(), rng),
        }
    }

    /// `dh_gen_ok` → the key; `dh_gen_retry` → a new `set_client_DH_params`; `dh_gen_fail` →
    /// an error. Each answer's `new_nonce_hash` is checked first.
    pub fn handle_dh_gen(
        mut self,
        answer: &enums::SetClientDHParamsAnswer,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<DhGenOutcome, ClientError> {
        use enums::SetClientDHParamsAnswer as A;
        let (nonce, server_nonce, hash, which, name) = match answer {
            A::DhGenOk(a) => (
                a.nonce,
                a.server_nonce,
                a.new_nonce_hash1,
                DhGen::Ok,
                "dh_gen_ok",
            ),
            A::DhGenRetry(a) => (
                a.nonce,
                a.server_nonce,
                a.new_nonce_hash2,
                DhGen::Retry,
                "dh_gen_retry",
            ),
            A::DhGenFail(a) => (
                a.nonce,
                a.server_nonce,
                a.new_nonce_hash3,
                DhGen::Fail,
                "dh_gen_fail",
            ),
        };
        if nonce != self.nonce {
            return Err(ClientError::NonceMismatch { step: name });
        }
        if server_nonce != self.server_nonce {
            return Err(ClientError::ServerNonceMismatch { step: name });
        }
        let Some(auth_key) = self.auth_key.take() else {
            return Err(ClientError::NonceHashMismatch { answer: name });
        };
        let aux_hash = auth_key.aux_hash();
        let expected = new_nonce_hash(&self.new_nonce, which, &aux_hash);
        if !bool::from(hash.ct_eq(&expected)) {
            return Err(ClientError::NonceHashMismatch { answer: name });
        }
        match which {
            DhGen::Ok => Ok(DhGenOutcome::Done(ClientAuthKey {
                server_salt: first_server_salt(&self.new_nonce, &self.server_nonce),
                auth_key,
                time_offset: self.time_offset,
            })),
            DhGen::Retry => {
                let request = self.client_dh_params(i64::from_le_bytes(aux_hash), rng);
                Ok(DhGenOutcome::Retry {
                    request,
                    next: Box::new(self),
                })
            }
            DhGen::Fail => Err(ClientError::DhGenFail),
        }
    }
}
