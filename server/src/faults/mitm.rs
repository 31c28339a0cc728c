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
//! It stays in the middle when the chat re-keys (SPEC §4): the four re-key actions travel
//! inside messages it opens anyway, and [`rekey`] rewrites them so that each side agrees a
//! new key with the server again. Every exchange leaves a *key pair* — the server's key
//! with A and its key with B — and the server holds the last few pairs, as a client holds
//! its old key next to the new one while messages under the old one may still arrive. A
//! message is opened with the key its fingerprint names (SPEC §2.6) and sealed with the
//! other side's key *of the same pair*: what a side sent under its old key reaches the
//! other under its old key, what it sent under the new one under the new one, which is
//! exactly what each side can open, whenever it switches.
//!
//! A message the server cannot open (a fingerprint it holds no key for; or bytes that do
//! not open) is forwarded unchanged and the failure logged. This file holds the keys and
//! does the cryptography; [`intercept`] is what each delivery of an intercepted chat
//! becomes, and [`rekey`] how the re-key actions are rewritten.

pub mod intercept;
pub mod rekey;

use std::collections::VecDeque;

use rand::{CryptoRng, RngCore};
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::dh::{
    check_public_value, compute_key, public_value, CheckedConfig, DhError, Exponent,
};
use secretchat_common::envelope::{self, Side, Version};
use secretchat_common::key::ChatKey;
use secretchat_common::tl::e2e::{self, enums};
use secretchat_common::tl::{TlRead, TlWrite};
use serde_json::{json, Value};

use rekey::{Missed, Rekeys, Substitution};

/// How many key pairs are held: the one both sides used before a re-key, the re-key's
/// own, and the one before that for messages still in flight (a Resend answered late).
const PAIRS_HELD: usize = 3;

/// The server's keys from one exchange: one with each side.
struct KeyPair {
    /// 0 for the chat's own exchange, one more for each re-key.
    generation: u32,
    /// The re-key exchange that made it; `None` for the chat's own.
    exchange_id: Option<i64>,
    with_admin: ChatKey,
    with_participant: ChatKey,
}

impl KeyPair {
    fn with(&self, side: Side) -> &ChatKey {
        match side {
            Side::Creator => &self.with_admin,
            Side::Participant => &self.with_participant,
        }
    }
}

/// One intercepted chat.
pub struct Mitm {
    /// A's user id: tells which side a delivery goes to.
    pub admin_id: i64,
    /// The value B is shown instead of A's g_a.
    pub g_a_forged: Vec<u8>,
    /// The value A is shown instead of B's g_b.
    pub g_b_forged: Vec<u8>,
    /// The key the server shares with A from the chat's own exchange (`g_a^s_a`).
    pub first_key_with_admin: ChatKey,
    s_b: Exponent,
    /// The key pairs held, oldest first; none until B accepted.
    pairs: VecDeque<KeyPair>,
    /// The generation of the pair each side is known to use (A's, B's).
    generations: (u32, u32),
    rekeys: Rekeys,
    pub reencrypted: u64,
    pub forwarded_unopened: u64,
    /// Re-key actions rewritten.
    pub rekey_substitutions: u64,
}

impl std::fmt::Debug for Mitm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mitm")
            .field("admin_id", &self.admin_id)
            .field("generations", &self.generations)
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

impl Direction {
    /// The side that sent the message.
    pub fn sender(self) -> Side {
        match self {
            Direction::ToParticipant => Side::Creator,
            Direction::ToAdmin => Side::Participant,
        }
    }
}

/// A message on its way on: the bytes for the receiver, and what to log about it.
pub struct Relayed {
    pub wire: Vec<u8>,
    /// A re-key action rewritten, or one the server had to let by unchanged.
    pub note: Option<Value>,
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
            first_key_with_admin: compute_key(config, &s_a, &g_a),
            s_b,
            pairs: VecDeque::new(),
            generations: (0, 0),
            rekeys: Rekeys::default(),
            reencrypted: 0,
            forwarded_unopened: 0,
            rekey_substitutions: 0,
        })
    }

    /// B's `g_b` goes by: the key with B, the chat's first key pair. Answers whether B's
    /// fingerprint matches it.
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
        self.hold(KeyPair {
            generation: 0,
            exchange_id: None,
            with_admin: self.first_key_with_admin.clone(),
            with_participant: key,
        });
        Ok(matches)
    }

    /// Opens `wire` with the sender's key its fingerprint names, rewrites a re-key action
    /// inside, and seals the TL with the receiver's key of the same pair, same version and
    /// sender side. `Err` says why it could not (forward unchanged).
    pub fn reencrypt(
        &mut self,
        config: &CheckedConfig,
        direction: Direction,
        wire: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Relayed, String> {
        if self.pairs.is_empty() {
            return Err("the participant has not accepted yet".into());
        }
        let sender = direction.sender();
        let fingerprint =
            envelope::key_fingerprint(wire).ok_or("too short to carry a key fingerprint")?;
        let pair = self
            .pairs
            .iter()
            .find(|pair| pair.with(sender).fingerprint() == fingerprint)
            .ok_or_else(|| {
                format!("the server holds no key with the {sender:?} of fingerprint {fingerprint}")
            })?;
        let generation = pair.generation;
        let (opened, version, side) =
            envelope::open_any(pair.with(sender), wire).map_err(|err| err.to_string())?;
        let side = match version {
            Version::V1 => sender,
            Version::V2 => side.unwrap_or(sender),
        };
        self.note_in_use(sender, generation);
        let (tl, note) = match self.rewrite_rekey(config, sender, opened.tl(), rng) {
            Some((tl, note)) => (tl, Some(note)),
            None => (opened.into_tl(), None),
        };
        let to = self
            .pairs
            .iter()
            .find(|pair| pair.generation == generation)
            .map(|pair| pair.with(sender.peer()))
            .ok_or("the key pair is no longer held")?;
        let sealed = envelope::seal(to, version, side, &tl, rng).map_err(|err| err.to_string())?;
        self.reencrypted += 1;
        Ok(Relayed { wire: sealed, note })
    }

    /// If `tl` carries a re-key action, rewrites it and takes in what it means for the
    /// keys: the new TL (or the same, if the server lost the exchange) and a note.
    fn rewrite_rekey(
        &mut self,
        config: &CheckedConfig,
        sender: Side,
        tl: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Option<(Vec<u8>, Value)> {
        let mut object = e2e::Object::from_bytes(tl).ok()?;
        let action = match &mut object {
            e2e::Object::DecryptedMessageLayer(layer) => match &mut layer.message {
                enums::DecryptedMessage::DecryptedMessageService(service) => &mut service.action,
                enums::DecryptedMessage::DecryptedMessageService8(service) => &mut service.action,
                _ => return None,
            },
            e2e::Object::DecryptedMessageService(service) => &mut service.action,
            e2e::Object::DecryptedMessageService8(service) => &mut service.action,
            _ => return None,
        };
        match self.rekeys.intercept(config, sender, action, rng) {
            Ok(None) => None,
            Ok(Some(substitution)) => {
                self.rekey_substitutions += 1;
                let note = self.take_in(sender, &substitution);
                Some((object.to_bytes(), note))
            }
            Err(missed) => Some((tl.to_vec(), missed_json(sender, &missed))),
        }
    }

    /// What a rewritten re-key action means for the keys held; its note for the log.
    fn take_in(&mut self, sender: Side, substitution: &Substitution) -> Value {
        let mut note = json!({
            "detail": substitution.describe(),
            "rekey_from": sender,
        });
        match substitution {
            Substitution::RequestKey { exchange_id, .. } => {
                note["rekey"] = json!("request_key");
                note["exchange_id"] = json!(exchange_id.to_string());
            }
            Substitution::AcceptKey {
                exchange_id,
                keys,
                acceptor_fingerprint_matches,
            } => {
                let generation = match self
                    .pairs
                    .iter()
                    .find(|pair| pair.exchange_id == Some(*exchange_id))
                {
                    Some(again) => again.generation,
                    None => self.pairs.back().map_or(0, |newest| newest.generation + 1),
                };
                self.hold(KeyPair {
                    generation,
                    exchange_id: Some(*exchange_id),
                    with_admin: keys.with_creator.clone(),
                    with_participant: keys.with_participant.clone(),
                });
                note["rekey"] = json!("accept_key");
                note["exchange_id"] = json!(exchange_id.to_string());
                note["generation"] = json!(generation);
                note["new_key_with_admin"] = key_json(Some(&keys.with_creator));
                note["new_key_with_participant"] = key_json(Some(&keys.with_participant));
                note["acceptor_fingerprint_matches_new_key"] = json!(acceptor_fingerprint_matches);
            }
            Substitution::CommitKey {
                exchange_id,
                requester_fingerprint_matches,
            } => {
                // The requester switches as it commits, the acceptor as it receives it.
                if let Some(generation) = self
                    .pairs
                    .iter()
                    .find(|pair| pair.exchange_id == Some(*exchange_id))
                    .map(|pair| pair.generation)
                {
                    self.note_in_use(Side::Creator, generation);
                    self.note_in_use(Side::Participant, generation);
                    note["generation"] = json!(generation);
                }
                note["rekey"] = json!("commit_key");
                note["exchange_id"] = json!(exchange_id.to_string());
                note["requester_fingerprint_matches_new_key"] =
                    json!(requester_fingerprint_matches);
            }
            Substitution::AbortKey { exchange_id, known } => {
                note["rekey"] = json!("abort_key");
                note["exchange_id"] = json!(exchange_id.to_string());
                note["known"] = json!(known);
            }
        }
        note
    }

    /// Holds `pair` (in place of an older pair of the same generation), dropping the
    /// oldest beyond [`PAIRS_HELD`].
    fn hold(&mut self, pair: KeyPair) {
        self.pairs.retain(|held| held.generation != pair.generation);
        self.pairs.push_back(pair);
        self.pairs
            .make_contiguous()
            .sort_by_key(|held| held.generation);
        while self.pairs.len() > PAIRS_HELD {
            self.pairs.pop_front();
        }
    }

    /// `side` is known to use the pair of `generation` (or a newer one).
    fn note_in_use(&mut self, side: Side, generation: u32) {
        let known = match side {
            Side::Creator => &mut self.generations.0,
            Side::Participant => &mut self.generations.1,
        };
        *known = (*known).max(generation);
    }

    /// The key the server shares with `side` now: the pair it is known to use.
    pub fn current_key(&self, side: Side) -> Option<&ChatKey> {
        let generation = match side {
            Side::Creator => self.generations.0,
            Side::Participant => self.generations.1,
        };
        self.pairs
            .iter()
            .rev()
            .find(|pair| pair.generation <= generation)
            .map(|pair| pair.with(side))
    }

    /// Both current keys, side by side, as the admin surface shows them.
    pub fn to_json(&self, chat_id: i32) -> Value {
        let first = self.pairs.iter().find(|pair| pair.generation == 0);
        json!({
            "chat_id": chat_id,
            "key_with_admin": key_json(
                self.current_key(Side::Creator).or(Some(&self.first_key_with_admin))
            ),
            "key_with_participant": key_json(self.current_key(Side::Participant)),
            "generation_admin": self.generations.0,
            "generation_participant": self.generations.1,
            "first_key_with_admin": key_json(Some(&self.first_key_with_admin)),
            "first_key_with_participant": key_json(first.map(|pair| &pair.with_participant)),
            "keys_held": self.pairs.iter().map(|pair| json!({
                "generation": pair.generation,
                "exchange_id": pair.exchange_id.map(|id| id.to_string()),
                "with_admin_fingerprint": pair.with_admin.fingerprint().as_i64().to_string(),
                "with_participant_fingerprint":
                    pair.with_participant.fingerprint().as_i64().to_string(),
            })).collect::<Vec<_>>(),
            "rekey_substitutions": self.rekey_substitutions,
            "messages_reencrypted": self.reencrypted,
            "messages_forwarded_unopened": self.forwarded_unopened,
        })
    }
}

/// The note for a re-key action the server let by unchanged.
fn missed_json(sender: Side, missed: &Missed) -> Value {
    json!({
        "detail": format!("re-key action forwarded without substitution: {missed}"),
        "rekey": "missed",
        "rekey_from": sender,
    })
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use secretchat_common::tl::e2e::types;

    use super::*;

    /// A service message as a layer-144 chat sends it.
    fn service(action: enums::DecryptedMessageAction) -> Vec<u8> {
        types::DecryptedMessageLayer {
            random_bytes: vec![7; 15],
            layer: 144,
            in_seq_no: 0,
            out_seq_no: 0,
            message: types::DecryptedMessageService {
                random_id: 1,
                action,
            }
            .into(),
        }
        .to_bytes()
    }

    /// The action inside a message, opened with `key` as sent by `sender`.
    fn action_in(key: &ChatKey, sender: Side, wire: &[u8]) -> enums::DecryptedMessageAction {
        let opened = envelope::open(key, Version::V2, sender, wire).expect("opens");
        match e2e::Object::from_bytes(opened.tl()).expect("TL") {
            e2e::Object::DecryptedMessageLayer(types::DecryptedMessageLayer {
                message: enums::DecryptedMessage::DecryptedMessageService(service),
                ..
            }) => service.action,
            other => panic!("not a service message: {other:?}"),
        }
    }

    fn key_with(config: &CheckedConfig, secret: &Exponent, theirs: &[u8]) -> ChatKey {
        compute_key(config, secret, &check_public_value(config, theirs).unwrap())
    }

    #[test]
    fn a_rekey_leaves_the_server_holding_both_new_keys_and_the_old_ones_still_open() {
        let config = CheckedConfig::telegram_default();
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (a, b) = (
            Exponent::generate(&mut rng, &[]),
            Exponent::generate(&mut rng, &[]),
        );
        let mut mitm = Mitm::start(&config, 1, &public_value(&config, &a), &mut rng).unwrap();
        let key_b = key_with(&config, &b, &mitm.g_a_forged);
        let g_b = public_value(&config, &b);
        let fp_b = key_b.fingerprint().as_i64();
        assert!(mitm.participant_accepted(&config, &g_b, fp_b).unwrap());
        let key_a = key_with(&config, &a, &mitm.g_b_forged);
        let mut relay = |mitm: &mut Mitm, direction, wire: Vec<u8>| {
            mitm.reencrypt(&config, direction, &wire, &mut rng)
                .expect("relayed")
                .wire
        };
        let seal = |key: &ChatKey, side: Side, tl: &[u8]| {
            envelope::seal(
                key,
                Version::V2,
                side,
                tl,
                &mut ChaCha20Rng::seed_from_u64(0),
            )
            .unwrap()
        };

        // A requests, under the first key.
        let (a2, b2) = (
            Exponent::generate(&mut ChaCha20Rng::seed_from_u64(1), &[]),
            Exponent::generate(&mut ChaCha20Rng::seed_from_u64(2), &[]),
        );
        let request = types::DecryptedMessageActionRequestKey {
            exchange_id: 42,
            g_a: public_value(&config, &a2),
        };
        let wire = relay(
            &mut mitm,
            Direction::ToParticipant,
            seal(&key_a, Side::Creator, &service(request.into())),
        );
        let enums::DecryptedMessageAction::DecryptedMessageActionRequestKey(shown) =
            action_in(&key_b, Side::Creator, &wire)
        else {
            panic!("a RequestKey");
        };
        assert_eq!(shown.exchange_id, 42);
        let new_b = key_with(&config, &b2, &shown.g_a);

        // B accepts, under the first key.
        let accept = types::DecryptedMessageActionAcceptKey {
            exchange_id: 42,
            g_b: public_value(&config, &b2),
            key_fingerprint: new_b.fingerprint().as_i64(),
        };
        let wire = relay(
            &mut mitm,
            Direction::ToAdmin,
            seal(&key_b, Side::Participant, &service(accept.into())),
        );
        let enums::DecryptedMessageAction::DecryptedMessageActionAcceptKey(shown) =
            action_in(&key_a, Side::Participant, &wire)
        else {
            panic!("an AcceptKey");
        };
        let new_a = key_with(&config, &a2, &shown.g_b);
        assert_eq!(shown.key_fingerprint, new_a.fingerprint().as_i64());
        assert_ne!(new_a, new_b);

        // A commits and switches; B is shown the fingerprint of the key it holds.
        let commit = types::DecryptedMessageActionCommitKey {
            exchange_id: 42,
            key_fingerprint: new_a.fingerprint().as_i64(),
        };
        let wire = relay(
            &mut mitm,
            Direction::ToParticipant,
            seal(&key_a, Side::Creator, &service(commit.into())),
        );
        let enums::DecryptedMessageAction::DecryptedMessageActionCommitKey(shown) =
            action_in(&key_b, Side::Creator, &wire)
        else {
            panic!("a CommitKey");
        };
        assert_eq!(shown.key_fingerprint, new_b.fingerprint().as_i64());
        let keys = mitm.to_json(5);
        assert_eq!(
            keys["key_with_admin"]["key_fingerprint"],
            new_a.fingerprint().as_i64().to_string()
        );
        assert_eq!(
            keys["key_with_participant"]["key_fingerprint"],
            new_b.fingerprint().as_i64().to_string()
        );
        assert_eq!(
            keys["first_key_with_participant"]["key_fingerprint"],
            fp_b.to_string()
        );

        // A message under A's new key reaches B under B's new key; one B sent under the
        // old key before it switched still reaches A under A's old key.
        let noop = service(types::DecryptedMessageActionNoop {}.into());
        let wire = relay(
            &mut mitm,
            Direction::ToParticipant,
            seal(&new_a, Side::Creator, &noop),
        );
        assert_eq!(envelope::key_fingerprint(&wire), Some(new_b.fingerprint()));
        action_in(&new_b, Side::Creator, &wire);
        let wire = relay(
            &mut mitm,
            Direction::ToAdmin,
            seal(&key_b, Side::Participant, &noop),
        );
        action_in(&key_a, Side::Participant, &wire);
        assert_eq!(mitm.rekey_substitutions, 3);
        assert_eq!(mitm.forwarded_unopened, 0);
    }
}
