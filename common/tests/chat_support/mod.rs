//! The in-memory pair (quinn-proto's test pair): two chats joined by a network with a
//! virtual clock that can drop, duplicate, reorder, delay and tamper.

#![allow(dead_code)]

use std::collections::VecDeque;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{
    AcceptedChat, ChatConfig, ChatEvent, DhParams, Layer, RequestedChat, SecretChat, Transmit,
    UnixTime,
};
use secretchat_common::Side;

/// What the network does to messages, per direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Probability of losing a message.
    pub drop: f64,
    /// Probability of delivering a message twice.
    pub duplicate: f64,
    /// Probability of putting a message ahead of others already in flight.
    pub reorder: f64,
}

/// A message on the wire.
#[derive(Debug, Clone)]
pub struct Packet {
    pub transmit: Transmit,
}

pub struct Pair {
    pub a: SecretChat,
    pub b: SecretChat,
    pub now: UnixTime,
    pub rng_a: ChaCha20Rng,
    pub rng_b: ChaCha20Rng,
    pub net: ChaCha20Rng,
    pub faults: Faults,
    /// In flight from A to B, and from B to A.
    pub to_b: VecDeque<Packet>,
    pub to_a: VecDeque<Packet>,
    pub events_a: Vec<ChatEvent>,
    pub events_b: Vec<ChatEvent>,
    /// Everything A and B ever handed to the network, in order.
    pub sent_by_a: Vec<Transmit>,
    pub sent_by_b: Vec<Transmit>,
}

pub const START: UnixTime = UnixTime(1_700_000_000);

pub fn config(layer: i32) -> ChatConfig {
    ChatConfig {
        own_layer: Layer(layer),
        ..ChatConfig::default()
    }
}

impl Pair {
    /// A chat created by A (config_a) and accepted by B (config_b), handshake done.
    pub fn new(config_a: ChatConfig, config_b: ChatConfig, seed: u64) -> Pair {
        let mut rng_a = ChaCha20Rng::seed_from_u64(seed);
        let mut rng_b = ChaCha20Rng::seed_from_u64(seed.wrapping_add(1));
        let (mut a, request) =
            SecretChat::request(config_a, DhParams::telegram(), &[], START, &mut rng_a).unwrap();
        let mut b = SecretChat::from_requested(
            config_b,
            DhParams::telegram(),
            RequestedChat {
                id: request.random_id,
                access_hash: 77,
                g_a: request.g_a,
            },
            START,
        )
        .unwrap();
        let acceptance = b.accept(START, &[], &mut rng_b).unwrap();
        a.handle_accepted(
            START,
            AcceptedChat {
                id: request.random_id,
                access_hash: 77,
                g_a_or_b: acceptance.g_b,
                key_fingerprint: acceptance.key_fingerprint,
            },
            &mut rng_a,
        )
        .unwrap();
        let mut pair = Pair {
            a,
            b,
            now: START,
            rng_a,
            rng_b,
            net: ChaCha20Rng::seed_from_u64(seed ^ 0x5eed),
            faults: Faults::default(),
            to_b: VecDeque::new(),
            to_a: VecDeque::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            sent_by_a: Vec::new(),
            sent_by_b: Vec::new(),
        };
        pair.collect();
        pair
    }

    /// The pair with the roles swapped when `b_creates` (so either config can be the creator).
    pub fn chat(&mut self, side: Side) -> &mut SecretChat {
        match side {
            Side::Creator => &mut self.a,
            Side::Participant => &mut self.b,
        }
    }

    pub fn rng(&mut self, side: Side) -> &mut ChaCha20Rng {
        match side {
            Side::Creator => &mut self.rng_a,
            Side::Participant => &mut self.rng_b,
        }
    }

    /// Moves what both chats want to send onto the network (applying the faults), and
    /// their events into the logs.
    pub fn collect(&mut self) {
        while let Some(transmit) = self.a.poll_transmit() {
            self.a.handle_sent_ack(transmit.random_id);
            self.sent_by_a.push(transmit.clone());
            let faults = self.faults;
            enqueue(&mut self.net, faults, &mut self.to_b, transmit);
        }
        while let Some(transmit) = self.b.poll_transmit() {
            self.b.handle_sent_ack(transmit.random_id);
            self.sent_by_b.push(transmit.clone());
            let faults = self.faults;
            enqueue(&mut self.net, faults, &mut self.to_a, transmit);
        }
        while let Some(event) = self.a.poll_event() {
            self.events_a.push(event);
        }
        while let Some(event) = self.b.poll_event() {
            self.events_b.push(event);
        }
    }

    /// Delivers one message to B (if any). Returns whether one was delivered.
    pub fn deliver_one_to_b(&mut self) -> bool {
        let Some(packet) = self.to_b.pop_front() else {
            return false;
        };
        let _ = self
            .b
            .handle_encrypted(self.now, &packet.transmit.data, &mut self.rng_b);
        self.collect();
        true
    }

    pub fn deliver_one_to_a(&mut self) -> bool {
        let Some(packet) = self.to_a.pop_front() else {
            return false;
        };
        let _ = self
            .a
            .handle_encrypted(self.now, &packet.transmit.data, &mut self.rng_a);
        self.collect();
        true
    }

    /// Delivers everything until the network is quiet (alternating directions).
    pub fn drive(&mut self) {
        self.collect();
        for _ in 0..100_000 {
            let to_b = self.deliver_one_to_b();
            let to_a = self.deliver_one_to_a();
            if !to_b && !to_a {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    /// Advances the virtual clock and fires both chats' timeouts that are due.
    pub fn advance(&mut self, seconds: u64) {
        self.now = self.now.plus_seconds(seconds);
        for side in [Side::Creator, Side::Participant] {
            let now = self.now;
            let due = self.chat(side).poll_timeout().is_some_and(|at| at <= now);
            if due {
                let (chat, rng) = match side {
                    Side::Creator => (&mut self.a, &mut self.rng_a),
                    Side::Participant => (&mut self.b, &mut self.rng_b),
                };
                let _ = chat.handle_timeout(now, rng);
            }
        }
        self.collect();
    }

    /// Drives with the faults off until both sides have nothing left to resend.
    pub fn settle(&mut self) {
        let faults = std::mem::take(&mut self.faults);
        for _ in 0..20 {
            self.drive();
            self.advance(11);
            self.drive();
        }
        self.faults = faults;
    }

    /// Texts received by A / B, in order.
    pub fn texts_received(&self, side: Side) -> Vec<String> {
        let events = match side {
            Side::Creator => &self.events_a,
            Side::Participant => &self.events_b,
        };
        events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::MessageReceived { message, .. } => Some(message.text.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn events(&self, side: Side) -> &[ChatEvent] {
        match side {
            Side::Creator => &self.events_a,
            Side::Participant => &self.events_b,
        }
    }

    /// Sends a text from `side` and moves it to the network.
    pub fn send_text(&mut self, side: Side, text: &str) -> i64 {
        let now = self.now;
        let (chat, rng) = match side {
            Side::Creator => (&mut self.a, &mut self.rng_a),
            Side::Participant => (&mut self.b, &mut self.rng_b),
        };
        let id = chat.send_text(now, text, 0, rng).unwrap();
        self.collect();
        id
    }
}

fn enqueue(
    net: &mut ChaCha20Rng,
    faults: Faults,
    queue: &mut VecDeque<Packet>,
    transmit: Transmit,
) {
    if net.gen_bool(faults.drop) {
        return;
    }
    let copies = if net.gen_bool(faults.duplicate) { 2 } else { 1 };
    for _ in 0..copies {
        let packet = Packet {
            transmit: transmit.clone(),
        };
        if !queue.is_empty() && net.gen_bool(faults.reorder) {
            let at = (net.next_u32() as usize) % queue.len();
            queue.insert(at, packet);
        } else {
            queue.push_back(packet);
        }
    }
}

/// The key a chat sends with, read from its saved state (which includes keys by design).
pub fn current_key(chat: &SecretChat) -> secretchat_common::ChatKey {
    let state = serde_json::to_value(chat).unwrap();
    let hex_key = state["keys"]["current"].as_str().unwrap();
    secretchat_common::ChatKey::from_bytes(&hex::decode(hex_key).unwrap()).unwrap()
}

/// Opens a message `sender` sealed, and decodes it.
pub fn open_as(
    sender: &SecretChat,
    version: secretchat_common::envelope::Version,
    data: &[u8],
) -> secretchat_common::chat::codec::Inbound {
    use secretchat_common::{chat::codec, envelope};
    let opened = envelope::open(&current_key(sender), version, sender.side(), data).unwrap();
    codec::decode(opened.tl()).unwrap()
}

/// The random_id and payload of a decoded message (panics if it did not decode).
pub fn payload_of(
    inbound: &secretchat_common::chat::codec::Inbound,
) -> (i64, &secretchat_common::chat::Payload) {
    match &inbound.content {
        secretchat_common::chat::codec::Content::Payload { random_id, payload } => {
            (*random_id, payload)
        }
        other => panic!("expected a payload, got {other:?}"),
    }
}

/// Seals a message as `sender` would, with chosen numbers and version.
pub fn craft(
    sender: &SecretChat,
    version: secretchat_common::envelope::Version,
    wrapper: Option<secretchat_common::chat::codec::Wrapper>,
    random_id: i64,
    payload: &secretchat_common::chat::Payload,
) -> Vec<u8> {
    use secretchat_common::{chat::codec, envelope};
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let tl = codec::encode(
        codec::Outbound {
            wrapper,
            random_id,
            payload,
        },
        &mut rng,
    )
    .unwrap();
    envelope::seal(&current_key(sender), version, sender.side(), &tl, &mut rng).unwrap()
}
