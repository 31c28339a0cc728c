//! The auth-key handshake: how a client and the server create the 2048-bit key they share
//! (core.telegram.org/mtproto/auth_key; the server's view in NOTES.md section b).
//!
//! ```text
//!  client                                               server
//!  req_pq_multi(nonce)                    ───────▶
//!                                         ◀───────  resPQ(nonce, server_nonce, pq, [fingerprint])
//!  factor pq = p·q; new_nonce; RSA(p_q_inner_data)
//!  req_DH_params(nonce, server_nonce, p, q,
//!                fingerprint, encrypted_data) ───▶  RSA-decrypt, check; a; g_a = g^a mod p
//!                                         ◀───────  server_DH_params_ok(tmp_aes(server_DH_inner_data
//!                                                       {g, dh_prime, g_a, server_time}))
//!  check dh_prime, g_a; b; g_b = g^b mod p
//!  set_client_DH_params(tmp_aes(client_DH_inner_data{g_b, retry_id})) ──▶  check g_b
//!  auth_key = g_a^b mod p                 ◀───────  dh_gen_ok(new_nonce_hash1)     auth_key = g_b^a mod p
//! ```
//!
//! All of it travels in unencrypted messages ([`crate::message::unencrypted`]). The pieces:
//!
//! * [`pq`] — the proof of work: `pq`, its factors, and factoring it;
//! * [`crate::rsa`] — the server's key and the two paddings of `encrypted_data`;
//! * [`tmp_aes`] — the temporary AES key from the nonces and what it encrypts;
//! * [`nonces`] — the nonce hashes of the answers and the first server salt;
//! * [`server`] — the server's steps, and [`Handshake`], which drives them per connection;
//! * [`client`] — the client's steps, for tests and benchmarks.
//!
//! The DH group is Telegram's 2048-bit prime with `g = 3`, and the DH arithmetic and checks
//! are `secretchat_common::dh`'s: the same numbers and rules as a secret chat's key exchange.

pub mod client;
pub mod nonces;
pub mod pq;
pub mod server;
pub mod tmp_aes;

pub use server::{
    AuthKeyKind, AwaitingClientDh, AwaitingReqDhParams, ClientDhAnswer, DhParamsAnswer, Handshake,
    HandshakeError, HandshakeServer, InnerDataMismatch, KeyAgreed, NewAuthKey, NoRsaKey, Outcome,
};
