//! Creating the first key: both roles of the handshake (SPEC §1.4).
//!
//! ```text
//!   A (creator)                         server                       B (participant)
//!   SecretChat::request ── requestEncryption(random_id = chat id, g_a) ──▶
//!                                             encryptedChatRequested{id, access_hash, g_a}
//!                                                  ──▶ SecretChat::from_requested
//!                                                      accept: checks g_a, key = g_a^b
//!                              ◀── acceptEncryption(g_b, key_fingerprint)
//!   handle_accepted ◀── encryptedChat{g_a_or_b = g_b, key_fingerprint}
//!   checks g_b, key = g_b^a, compares key_fingerprint (mismatch ⇒ discard)
//!   both: Established, then NotifyLayer{own layer} as the first message
//! ```
//!
//! The chat id is the requester's `random_id`, a positive 31-bit number, as tdlib chooses
//! it; a server that answers with another id breaks the chat. B may instead
//! [`SecretChat::decline`]: the transport then calls `messages.discardEncryption`.

use rand::{CryptoRng, RngCore};

use super::agreement::{self, DhParams, SecretExponent};
use super::keys::KeyRing;
use super::time::UnixTime;
use super::violation::AbortReason;
use super::{ChatConfig, ChatError, ChatEvent, SecretChat, State};
use crate::key::{ChatKey, KeyFingerprint};
use crate::side::Side;

/// What to send with `messages.requestEncryption`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `random_id`, which doubles as the chat id.
    pub random_id: i32,
    pub g_a: Vec<u8>,
}

/// An incoming `encryptedChatRequested`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedChat {
    pub id: i32,
    pub access_hash: i64,
    pub g_a: Vec<u8>,
}

/// What to send with `messages.acceptEncryption`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub g_b: Vec<u8>,
    pub key_fingerprint: KeyFingerprint,
}

/// The `encryptedChat` the requester receives once the peer accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedChat {
    pub id: i32,
    pub access_hash: i64,
    /// `g_a_or_b`: for the requester, the peer's `g_b`.
    pub g_a_or_b: Vec<u8>,
    pub key_fingerprint: KeyFingerprint,
}

impl SecretChat {
    /// We ask for a chat: picks the chat id (`random_id & 0x7fffffff`, never 0) and `a`
    /// (mixed with the server's `random` from getDhConfig), and returns what to send.
    pub fn request(
        config: ChatConfig,
        dh: DhParams,
        server_random: &[u8],
        now: UnixTime,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(SecretChat, Request), ChatError> {
        let random_id = loop {
            let id = (rng.next_u32() & 0x7fff_ffff) as i32;
            if id != 0 {
                break id;
            }
        };
        let a = SecretExponent::generate(rng, server_random);
        // g_a = pow(g, a) mod p
        let g_a = agreement::public_value(&dh, &a);
        let state = State::AwaitingAccepted { a: Box::new(a) };
        let chat = SecretChat::new(config, random_id, 0, Side::Creator, state, dh, now)?;
        Ok((chat, Request { random_id, g_a }))
    }

    /// The peer asks for a chat (`encryptedChatRequested`): waits for [`Self::accept`] or
    /// [`Self::decline`].
    pub fn from_requested(
        config: ChatConfig,
        dh: DhParams,
        requested: RequestedChat,
        now: UnixTime,
    ) -> Result<SecretChat, ChatError> {
        let state = State::AwaitingDecision { g_a: requested.g_a };
        SecretChat::new(
            config,
            requested.id,
            requested.access_hash,
            Side::Participant,
            state,
            dh,
            now,
        )
    }

    /// Our user accepts: checks `g_a`, computes the key, and returns `g_b` and the
    /// `key_fingerprint` to send. A `g_a` that fails the DH checks aborts the chat.
    pub fn accept(
        &mut self,
        now: UnixTime,
        server_random: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Acceptance, ChatError> {
        let State::AwaitingDecision { g_a } = &self.state else {
            return Err(self.wrong_state("awaiting the user's decision"));
        };
        let g_a = g_a.clone();
        let b = SecretExponent::generate(rng, server_random);
        // key = pow(g_a, b) mod p
        let key = match self.compute_key(&b, &g_a, "g_a") {
            Ok(key) => key,
            Err(reason) => return Err(self.abort(reason)),
        };
        let g_b = agreement::public_value(&self.dh, &b);
        let key_fingerprint = key.fingerprint();
        self.establish(now, KeyRing::new(key, now, self.layers.common()), rng)?;
        Ok(Acceptance {
            g_b,
            key_fingerprint,
        })
    }

    /// Our user declines: the chat is over (the transport calls discardEncryption).
    pub fn decline(&mut self) -> Result<(), ChatError> {
        if !matches!(self.state, State::AwaitingDecision { .. }) {
            return Err(self.wrong_state("awaiting the user's decision"));
        }
        self.state = State::Discarded;
        self.emit(ChatEvent::Discarded);
        Ok(())
    }

    /// The requester receives `encryptedChat{g_a_or_b = g_b, key_fingerprint}`: checks
    /// `g_b`, computes the key and compares fingerprints. A mismatch (or a `g_b` that fails
    /// the checks, or another chat id) aborts: the chat must be discarded.
    pub fn handle_accepted(
        &mut self,
        now: UnixTime,
        accepted: AcceptedChat,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        let State::AwaitingAccepted { a } = &self.state else {
            return Err(self.wrong_state("awaiting encryptedChat"));
        };
        let a = a.clone();
        if accepted.id != self.id {
            return Err(self.abort(AbortReason::ChatIdMismatch {
                expected: self.id,
                got: accepted.id,
            }));
        }
        // key = pow(g_b, a) mod p
        let key = match self.compute_key(&a, &accepted.g_a_or_b, "g_b") {
            Ok(key) => key,
            Err(reason) => return Err(self.abort(reason)),
        };
        let computed = key.fingerprint();
        if computed != accepted.key_fingerprint {
            return Err(self.abort(AbortReason::KeyFingerprintMismatch {
                announced: accepted.key_fingerprint,
                computed,
            }));
        }
        self.access_hash = accepted.access_hash;
        self.establish(now, KeyRing::new(key, now, self.layers.common()), rng)
    }

    /// A chat whose key already exists: for scenarios that start from a prepared state, for
    /// tests that feed known-answer wire bytes to a chat holding the vectors' key, and for
    /// tools. A live chat comes from [`SecretChat::request`] / [`SecretChat::from_requested`].
    ///
    /// `side` is our role (it fixes the seq_no parities and the MTProto 2.0 `x`), `key` the
    /// chat key both sides hold. The chat is established at `now` with nothing sent or
    /// received yet; the layers start from `config` (set `initial_remote_layer` to what the
    /// peer is known to speak). [`ChatEvent::Established`] is emitted, but — unlike a fresh
    /// handshake — no NotifyLayer is queued: the chat is taken to have announced its layer
    /// when it was created.
    pub fn from_key(
        config: ChatConfig,
        dh: DhParams,
        id: i32,
        access_hash: i64,
        side: Side,
        key: ChatKey,
        now: UnixTime,
    ) -> Result<Self, ChatError> {
        let mut chat = Self::new(config, id, access_hash, side, State::Established, dh, now)?;
        let keys = KeyRing::new(key, now, chat.layers.common());
        chat.emit(ChatEvent::Established {
            key_fingerprint: keys.current().fingerprint(),
            visualization: keys.visualization(),
        });
        chat.keys = Some(keys);
        Ok(chat)
    }

    /// `encryptedChatDiscarded`: the peer closed (or declined) the chat.
    pub fn handle_discarded(&mut self) {
        if !matches!(self.state, State::Discarded) {
            self.state = State::Discarded;
            self.outbox.clear();
            self.emit(ChatEvent::Discarded);
        }
    }

    /// The key exists: tell the user, then send NotifyLayer (SPEC §1.4 step 9, §5 case 1).
    fn establish(
        &mut self,
        now: UnixTime,
        keys: KeyRing,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), ChatError> {
        let key_fingerprint = keys.current().fingerprint();
        let visualization = keys.visualization();
        self.keys = Some(keys);
        self.state = State::Established;
        self.created = now;
        self.step("handshake", || {
            format!("key established, key_fingerprint {key_fingerprint}")
        });
        self.emit(ChatEvent::Established {
            key_fingerprint,
            visualization,
        });
        self.send_notify_layer(now, rng)
    }

    fn wrong_state(&self, expected: &'static str) -> ChatError {
        match &self.state {
            State::Aborted { reason } => ChatError::Aborted {
                reason: reason.clone(),
            },
            State::Discarded => ChatError::Discarded,
            other => ChatError::WrongState {
                state: other.name(),
                expected,
            },
        }
    }
}
