//! What the end of the handshake derives from the nonces (core.telegram.org/mtproto/auth_key,
//! steps 6 and 9).
//!
//! ```text
//! new_nonce_hash1/2/3 = SHA1(new_nonce + [1|2|3] + auth_key_aux_hash)[4..20]   dh_gen_ok/retry/fail
//! new_nonce_hash      = SHA1(new_nonce)[4..20]                                 server_DH_params_fail
//! server_salt         = new_nonce[0..8] XOR server_nonce[0..8]                 the first salt
//! ```
//!
//! The hashes let the client tell a real answer of the server (which knows `new_nonce`) from
//! one made up in between, and the three numbers keep a `dh_gen_ok` from being turned into a
//! `dh_gen_retry` (tdlib Handshake.cpp `on_dh_gen_response`; Telethon crypto/authkey.py
//! `calc_new_nonce_hash`). The salt is tdlib's `server_salt_` (Handshake.cpp); Telethon and
//! Pyrogram start from 0 anyway.

use sha1::{Digest, Sha1};

/// Which `dh_gen_*` a hash is for: the byte after `new_nonce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhGen {
    Ok = 1,
    Retry = 2,
    Fail = 3,
}

/// `new_nonce_hash{1,2,3} = SHA1(new_nonce + [n] + auth_key_aux_hash)[4..20]`.
pub fn new_nonce_hash(new_nonce: &[u8; 32], which: DhGen, auth_key_aux_hash: &[u8; 8]) -> [u8; 16] {
    let digest = Sha1::new()
        .chain_update(new_nonce)
        .chain_update([which as u8])
        .chain_update(auth_key_aux_hash)
        .finalize();
    last16(&digest)
}

/// `server_DH_params_fail.new_nonce_hash = SHA1(new_nonce)[4..20]`.
pub fn refusal_hash(new_nonce: &[u8; 32]) -> [u8; 16] {
    last16(&Sha1::digest(new_nonce))
}

/// `server_salt = new_nonce[0..8] XOR server_nonce[0..8]`, as a little-endian long.
pub fn first_server_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    let mut salt = [0u8; 8];
    for (out, (a, b)) in salt.iter_mut().zip(new_nonce.iter().zip(server_nonce)) {
        *out = a ^ b;
    }
    i64::from_le_bytes(salt)
}

fn last16(digest: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[4..20]);
    out
}
