//! The `chat_ops` fuzz target's driver: arbitrary bytes → a sequence of operations on two
//! chats joined by an in-memory network, with the invariants checked after every step.
//!
//! A test aid, not part of the crate's API: `fuzz/fuzz_targets/chat_ops.rs` and
//! `common/tests/chat_fuzz_corpus.rs` both include this file with `#[path]`, so a corpus
//! file means the same run in both (the decoding is by hand, not with `arbitrary`, so the
//! common crate does not depend on it and the stable test replays the exact same ops).
//!
//! ```text
//!   byte 0   bits 0-1: A's own layer (17, 46, 73, 144); bits 2-3: B's; bit 4: B is a
//!            layer-8 client. Both chats start from one fixed key, each knowing the
//!            other's layer.
//!   then     op = byte % 13, side = next byte & 1 (the actor, or the receiving side for
//!            network ops), then the op's own bytes (past the end every byte reads as 0):
//!     0  send a text                  len % 40, that many bytes (lossy UTF-8)
//!     1  send an action               kind % 6: read, delete, ttl, screenshot, typing, flush
//!     2  deliver the next message     —
//!     3  drop one in flight           index
//!     4  duplicate one in flight      index
//!     5  swap two in flight           index, index
//!     6  flip bits of one in flight   index, position (u16 LE), xor mask
//!     7  advance the clock            seconds (u16 LE); both sides' due timeouts fire
//!     8  re-key now                   —
//!     9  hostile action               which % 18 (index into all_without_data, 17 =
//!                                     replay one of the actor's earlier messages: index)
//!     10 raw bytes to handle_encrypted   len, bytes
//!     11 the same after the real key fingerprint
//!     12 deliver everything until quiet
//! ```
//!
//! Invariants (a broken one panics, which is what the fuzzer looks for): no panic inside
//! the chats; a chat that has not aborted never delivers the same random_id twice; every
//! delivered message is one the other side sent, and an honest text arrives unchanged.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::hostile::HostileAction;
use secretchat_common::chat::{
    ChatConfig, ChatEvent, DhParams, Layer, RekeyPolicy, SecretChat, Transmit, TypingAction,
    UnixTime,
};
use secretchat_common::{ChatKey, Side};

/// At most this many operations are run per input (keeps one input fast).
pub const MAX_OPS: usize = 96;
/// At most this many operations that do Diffie-Hellman (re-keys, key hostile actions):
/// a 2048-bit modexp under coverage instrumentation takes tens of milliseconds.
pub const MAX_DH_OPS: usize = 2;
/// At most this many messages wait in one direction.
pub const MAX_IN_FLIGHT: usize = 64;

const START: UnixTime = UnixTime(1_700_000_000);
const OPS: u8 = 13;

/// Reads the input byte by byte; past the end every byte is 0.
struct Input<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let byte = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        byte
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn is_done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, len: usize) -> Vec<u8> {
        let end = (self.at + len).min(self.bytes.len());
        let taken = self.bytes.get(self.at..end).unwrap_or_default().to_vec();
        self.at += len;
        taken
    }
}

/// One side of the pair, with what the invariants need to know about it.
struct Peer {
    chat: SecretChat,
    rng: ChaCha20Rng,
    /// In flight towards this side.
    inbox: VecDeque<Vec<u8>>,
    /// Everything this side handed to the network.
    sent: Vec<Transmit>,
    sent_ids: HashSet<i64>,
    /// Honest texts this side sent, by random_id.
    texts: HashMap<i64, String>,
    /// random_ids delivered to this side's user.
    delivered: HashSet<i64>,
}

/// What a run came to, for the replay test's sanity checks on the seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// How many messages and actions each side (A, B) delivered to its user.
    pub delivered: [usize; 2],
    /// Whether each side's chat is over.
    pub closed: [bool; 2],
}

/// Runs one input. Panics only when an invariant is broken.
pub fn run(data: &[u8]) -> Outcome {
    let mut input = Input { bytes: data, at: 0 };
    let layers = input.byte();
    let own = |bits: u8| [17, 46, 73, 144][usize::from(bits & 3)];
    let layer_a = own(layers);
    let layer_b = if layers & 0x10 != 0 {
        8
    } else {
        own(layers >> 2)
    };
    let key = ChatKey::from_bytes(&[0x5a; 256]).expect("256 bytes");
    let config = |own_layer: i32, remote: i32| ChatConfig {
        own_layer: Layer(own_layer),
        initial_remote_layer: Layer(remote.min(own_layer)),
        // Re-keys only when an op asks (each costs two 2048-bit modexps, the slowest
        // thing a run does): automatic ones would make a run unboundedly slow.
        rekey: RekeyPolicy {
            after_messages: u32::MAX,
            after_seconds: u64::from(u32::MAX),
        },
        ..ChatConfig::default()
    };
    let peer = |side: Side, own_layer: i32, remote: i32, seed: u64| -> Peer {
        let chat = SecretChat::from_key(
            config(own_layer, remote),
            DhParams::telegram(),
            1,
            2,
            side,
            key.clone(),
            START,
        )
        .expect("a valid configuration");
        Peer {
            chat,
            rng: ChaCha20Rng::seed_from_u64(seed),
            inbox: VecDeque::new(),
            sent: Vec::new(),
            sent_ids: HashSet::new(),
            texts: HashMap::new(),
            delivered: HashSet::new(),
        }
    };
    let mut pair = [
        peer(Side::Creator, layer_a, layer_b, 1),
        peer(Side::Participant, layer_b, layer_a, 2),
    ];
    let mut now = START;
    let mut dh_ops = 0;
    for _ in 0..MAX_OPS {
        if input.is_done() {
            break;
        }
        let op = input.byte() % OPS;
        let who = usize::from(input.byte() & 1);
        match op {
            0 => {
                let len = usize::from(input.byte() % 40);
                let text = String::from_utf8_lossy(&input.take(len)).into_owned();
                let peer = &mut pair[who];
                if let Ok(id) = peer.chat.send_text(now, &text, 0, &mut peer.rng) {
                    peer.texts.insert(id, text);
                }
            }
            1 => {
                let kind = input.byte();
                let peer = &mut pair[who];
                let ids: Vec<i64> = peer.delivered.iter().copied().take(3).collect();
                let rng = &mut peer.rng;
                let _ = match kind % 6 {
                    0 => peer.chat.read_messages(now, ids, rng),
                    1 => peer.chat.delete_messages(now, ids, rng),
                    2 => peer.chat.set_ttl(now, i32::from(kind), rng),
                    3 => peer.chat.screenshot(now, ids, rng),
                    4 => peer.chat.typing(now, TypingAction::Typing, rng),
                    _ => peer.chat.flush_history(now, rng),
                };
            }
            2 => deliver_one(&mut pair, who, now),
            3 => {
                let at = usize::from(input.byte());
                let inbox = &mut pair[who].inbox;
                if !inbox.is_empty() {
                    inbox.remove(at % inbox.len());
                }
            }
            4 => {
                let at = usize::from(input.byte());
                let inbox = &mut pair[who].inbox;
                if !inbox.is_empty() && inbox.len() < MAX_IN_FLIGHT {
                    if let Some(copy) = inbox.get(at % inbox.len()).cloned() {
                        inbox.push_back(copy);
                    }
                }
            }
            5 => {
                let (i, j) = (usize::from(input.byte()), usize::from(input.byte()));
                let inbox = &mut pair[who].inbox;
                if !inbox.is_empty() {
                    let len = inbox.len();
                    inbox.swap(i % len, j % len);
                }
            }
            6 => {
                let at = usize::from(input.byte());
                let position = usize::from(input.u16());
                let mask = input.byte().max(1);
                let inbox = &mut pair[who].inbox;
                if !inbox.is_empty() {
                    let len = inbox.len();
                    if let Some(message) = inbox.get_mut(at % len) {
                        if !message.is_empty() {
                            let position = position % message.len();
                            message[position] ^= mask;
                        }
                    }
                }
            }
            7 => {
                now = now.plus_seconds(u64::from(input.u16()));
                for peer in pair.iter_mut() {
                    if peer.chat.poll_timeout().is_some_and(|at| at <= now) {
                        let _ = peer.chat.handle_timeout(now, &mut peer.rng);
                    }
                }
            }
            8 => {
                if dh_ops < MAX_DH_OPS {
                    dh_ops += 1;
                    let peer = &mut pair[who];
                    let _ = peer.chat.rekey_now(now, &mut peer.rng);
                }
            }
            9 => {
                let which = input.byte();
                let actions = HostileAction::all_without_data();
                let peer = &mut pair[who];
                let action = match actions.get(usize::from(which) % (actions.len() + 1)) {
                    Some(action) => action.clone(),
                    None if peer.sent.is_empty() => continue,
                    None => {
                        let earlier = &peer.sent[usize::from(input.byte()) % peer.sent.len()];
                        HostileAction::Replay {
                            data: earlier.data.clone(),
                        }
                    }
                };
                let uses_dh = matches!(
                    action,
                    HostileAction::RequestKeyWhilePending
                        | HostileAction::AcceptKeyWrongFingerprint
                        | HostileAction::AcceptKeyUnknownExchange
                        | HostileAction::CommitKeyWrongFingerprint
                );
                if uses_dh {
                    if dh_ops >= MAX_DH_OPS {
                        continue;
                    }
                    dh_ops += 1;
                }
                let _ = peer.chat.hostile(now, action, &mut peer.rng);
            }
            10 | 11 => {
                let len = usize::from(input.byte());
                let mut bytes = input.take(len);
                let peer = &mut pair[who];
                if op == 11 {
                    if let Some(fingerprint) = peer.chat.key_fingerprint() {
                        let mut wire = fingerprint.to_wire_bytes().to_vec();
                        wire.append(&mut bytes);
                        bytes = wire;
                    }
                }
                let _ = peer.chat.handle_encrypted(now, &bytes, &mut peer.rng);
            }
            _ => {
                for _ in 0..4 * MAX_IN_FLIGHT {
                    let before = pair[0].inbox.len() + pair[1].inbox.len();
                    if before == 0 {
                        break;
                    }
                    deliver_one(&mut pair, 0, now);
                    deliver_one(&mut pair, 1, now);
                    collect(&mut pair);
                }
            }
        }
        collect(&mut pair);
    }
    Outcome {
        delivered: [pair[0].delivered.len(), pair[1].delivered.len()],
        closed: [pair[0].chat.is_closed(), pair[1].chat.is_closed()],
    }
}

/// Hands the next message in flight to side `to`.
fn deliver_one(pair: &mut [Peer; 2], to: usize, now: UnixTime) {
    let peer = &mut pair[to];
    if let Some(data) = peer.inbox.pop_front() {
        let _ = peer.chat.handle_encrypted(now, &data, &mut peer.rng);
    }
}

/// Moves what each side sent onto the network and checks its events.
fn collect(pair: &mut [Peer; 2]) {
    for from in 0..2 {
        let to = 1 - from;
        while let Some(transmit) = pair[from].chat.poll_transmit() {
            pair[from].chat.handle_sent_ack(transmit.random_id);
            pair[from].sent_ids.insert(transmit.random_id);
            if pair[to].inbox.len() < MAX_IN_FLIGHT {
                pair[to].inbox.push_back(transmit.data.clone());
            }
            pair[from].sent.push(transmit);
        }
    }
    for to in 0..2 {
        let from = 1 - to;
        while let Some(event) = pair[to].chat.poll_event() {
            let (random_id, text) = match &event {
                ChatEvent::MessageReceived { random_id, message } => {
                    (*random_id, Some(message.text.clone()))
                }
                ChatEvent::ActionReceived { random_id, .. } => (*random_id, None),
                _ => continue,
            };
            let closed = pair[to].chat.is_closed();
            assert!(
                pair[from].sent_ids.contains(&random_id),
                "side {to} delivered random_id {random_id}, which the other side never sent"
            );
            if let (Some(sent), Some(got)) = (pair[from].texts.get(&random_id), &text) {
                assert_eq!(
                    sent, got,
                    "side {to} delivered another text for {random_id}"
                );
            }
            let first_time = pair[to].delivered.insert(random_id);
            assert!(
                first_time || closed,
                "side {to} delivered random_id {random_id} twice and did not abort"
            );
        }
    }
}
