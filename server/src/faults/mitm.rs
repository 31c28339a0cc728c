//! # A man in the middle of the key exchange
//!
//! What the visual key comparison (SPEC §1.7) protects against. The server answers each
//! side's Diffie–Hellman with its own: B is shown `g_a' = g^s_b` instead of A's `g_a`, A
//! is shown `g_b' = g^s_a` instead of B's `g_b`, and the server ends up holding two keys,
//! one with each side:
//!
//! ```text
//!   A                          server (MitM)                          B
//!   g_a ────────────▶ keeps g_a; key_A = g_a^s_a
//!                     sends g_a' = g^s_b ─────────────────────────▶ key_B = g_a'^b
//!                     key_B = g_b^s_b  ◀───────────── g_b, fp(key_B)
//!   key_A = g_b'^a ◀── g_b' = g^s_a, fp(key_A)   (the fingerprint fixed up, so A's check passes)
//!
//!   A ── seal(key_A) ─▶ open(key_A) · seal(key_B) ─▶ B        and back the other way
//! ```
//!
//! Both fingerprint checks pass (the fingerprint is only a bug check, not authentication)
//! and every message is decrypted and re-encrypted with the other key, keeping its
//! MTProto version, its direction (`x`) and the TL inside — seq numbers included — as
//! they were, so both sides chat happily. Only the key visualizations give it away: A's
//! is `key_A`'s, B's is `key_B`'s, and they differ. `GET /admin/hostile/mitm?chat_id=N`
//! and the event log show the two side by side.
//!
//! A message the server cannot open (a key it does not hold, after a re-key it did not
//! intercept; or bytes that do not open) is forwarded unchanged and the failure logged.

use rand::{CryptoRng, RngCore};
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::dh::{
    check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent,
};
use secretchat_common::envelope::{self, Side, Version};
use secretchat_common::key::ChatKey;
use serde_json::{json, Value};

/// One intercepted chat.
pub struct Mitm {
    /// A's user id: tells which side a delivery goes to.
    pub admin_id: i64,
    /// The value B is shown instead of A's g_a.
    pub g_a_forged: Vec<u8>,
    /// The value A is shown instead of B's g_b.
    pub g_b_forged: Vec<u8>,
    /// The key the server shares with A (`g_a^s_a`).
    pub key_with_admin: ChatKey,
    /// The key the server shares with B (`g_b^s_b`), once B accepted.
    pub key_with_participant: Option<ChatKey>,
    s_b: Exponent,
    pub reencrypted: u64,
    pub forwarded_unopened: u64,
}

impl std::fmt::Debug for Mitm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mitm")
            .field("admin_id", &self.admin_id)
            .field("reencrypted", &self.reencrypted)
            .finish_non_exhaustive()
    }
}

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From A (the creator) to B.
    ToParticipant,
    /// From B to A.
    ToAdmin,
}

impl Mitm {
    /// Starts intercepting when A's `g_a` goes by: picks both exponents, computes the key
    /// with A at once.
    pub fn start(
        config: &CheckedConfig,
        admin_id: i64,
        g_a: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Self, DhError> {
        let g_a = check_public_value(config, g_a)?;
        let s_a = Exponent::generate(rng, &[]);
        let s_b = Exponent::generate(rng, &[]);
        Ok(Self {
            admin_id,
            g_a_forged: public_value(config, &s_b),
            g_b_forged: public_value(config, &s_a),
            // key_A = pow(g_a, s_a) mod p
            key_with_admin: compute_key(config, &s_a, &g_a),
            key_with_participant: None,
            s_b,
            reencrypted: 0,
            forwarded_unopened: 0,
        })
    }

    /// B's `g_b` goes by: the key with B. Answers whether B's fingerprint matches it.
    pub fn participant_accepted(
        &mut self,
        config: &CheckedConfig,
        g_b: &[u8],
        participant_fingerprint: i64,
    ) -> Result<bool, DhError> {
        let g_b = check_public_value(config, g_b)?;
        // key_B = pow(g_b, s_b) mod p
        let key = compute_key(config, &self.s_b, &g_b);
        let matches = key.fingerprint().as_i64() == participant_fingerprint;
        self.key_with_participant = Some(key);
        Ok(matches)
    }

    /// Opens `wire` with the sender's key and seals the same TL with the receiver's, same
    /// version and sender side. `Err` says why it could not (forward unchanged).
    pub fn reencrypt(
        &mut self,
        direction: Direction,
        wire: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, String> {
        let Some(key_b) = &self.key_with_participant else {
            return Err("the participant has not accepted yet".into());
        };
        let (from, to, sender) = match direction {
            Direction::ToParticipant => (&self.key_with_admin, key_b, Side::Creator),
            Direction::ToAdmin => (key_b, &self.key_with_admin, Side::Participant),
        };
        let (opened, version, side) =
            envelope::open_any(from, wire).map_err(|err| err.to_string())?;
        let side = match version {
            Version::V1 => sender,
            Version::V2 => side.unwrap_or(sender),
        };
        let sealed =
            envelope::seal(to, version, side, opened.tl(), rng).map_err(|err| err.to_string())?;
        self.reencrypted += 1;
        Ok(sealed)
    }

    /// Both keys, side by side, as the admin surface shows them.
    pub fn to_json(&self, chat_id: i32) -> Value {
        json!({
            "chat_id": chat_id,
            "key_with_admin": key_json(Some(&self.key_with_admin)),
            "key_with_participant": key_json(self.key_with_participant.as_ref()),
            "messages_reencrypted": self.reencrypted,
            "messages_forwarded_unopened": self.forwarded_unopened,
        })
    }
}

/// A key's fingerprint and visualization (36 bytes hex, hex lines, block picture).
pub fn key_json(key: Option<&ChatKey>) -> Value {
    let Some(key) = key else {
        return Value::Null;
    };
    let visualization = KeyVisualization::of_key(key);
    json!({
        "key_fingerprint": key.fingerprint().as_i64().to_string(),
        "visualization": hex::encode(visualization.as_bytes()),
        "visualization_hex_lines": visualization.hex_lines(),
        "visualization_blocks": visualization.render_blocks(),
    })
}
