//! The driver of the `transport_frames` fuzz target, shared with
//! `mtproto/tests/transport_fuzz_corpus.rs` (which replays `fuzz/corpus/transport_frames/`):
//! any bytes become a connection's byte stream, fed in chunks to the frame decoders.
//!
//! Input layout: `mode`, `chunk`, then the rest. `chunk % 64 + 1` is the size of each `feed`.
//!
//! * mode % 3 == 0 — the rest is what a client sends a server: detection of the transport
//!   from the first bytes (each plain tag, full, obfuscated2, HTTP, TLS), then frames.
//! * mode % 3 == 1 — `flavour`, then what a server sends a client of that flavour.
//! * mode % 3 == 2 — `flavour`, `tamper`, then packets (a length byte, then up to that many
//!   words of body each), framed by a real client of that flavour; if `tamper` is not 0 one
//!   bit of the bytes on the wire is flipped (or, for odd `tamper`, the stream is cut short).
//!
//! Flavours (`flavour % 10`): the four plain transports, then abridged, intermediate and
//! padded intermediate obfuscated, then the same three through an MTProxy secret.
//!
//! Invariants (a panic is a finding): frames are never empty or larger than the limit; after
//! an error the connection keeps answering with that same error; an untampered round trip
//! delivers exactly the packets sent, in order, and ends on a frame boundary.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use secretchat_mtproto::message::unencrypted;
use secretchat_mtproto::transport::{
    ClientConnection, ClientEvent, MtProxySecret, ServerConnection, Transport, TransportError,
    MAX_PAYLOAD_LEN,
};

/// What a run did, for the replay test to check its seeds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub packets: usize,
    pub error: Option<TransportError>,
}

const SECRET: MtProxySecret = MtProxySecret([0x5a; 16]);
/// Padded intermediate may add 15 bytes to a packet.
const MAX_FRAME: usize = MAX_PAYLOAD_LEN + 15;

pub fn run(data: &[u8]) -> Outcome {
    let [mode, chunk, rest @ ..] = data else {
        return Outcome::default();
    };
    let chunk = usize::from(chunk % 64) + 1;
    match mode % 3 {
        0 => server_reads(ServerConnection::new(), rest, chunk),
        1 => match rest.split_first() {
            Some((&flavour, rest)) => client_reads(flavour, rest, chunk),
            None => Outcome::default(),
        },
        _ => round_trip(rest, chunk),
    }
}

fn client_of(flavour: u8) -> (ClientConnection, ServerConnection) {
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(flavour));
    let obfuscatable = [
        Transport::Abridged,
        Transport::Intermediate,
        Transport::PaddedIntermediate,
    ];
    match flavour % 10 {
        n @ 0..=3 => {
            let transport = [
                Transport::Abridged,
                Transport::Intermediate,
                Transport::PaddedIntermediate,
                Transport::Full,
            ][usize::from(n)];
            (ClientConnection::new(transport), ServerConnection::new())
        }
        n @ 4..=6 => (
            ClientConnection::obfuscated(obfuscatable[usize::from(n - 4)], Some(2), None, &mut rng)
                .expect("these three can be obfuscated"),
            ServerConnection::new(),
        ),
        n => (
            ClientConnection::obfuscated(
                obfuscatable[usize::from(n - 7)],
                Some(-2),
                Some(SECRET),
                &mut rng,
            )
            .expect("these three can be obfuscated"),
            ServerConnection::with_mtproxy_secret(SECRET),
        ),
    }
}

/// Feeds `bytes` in chunks and collects the frames, checking the invariants.
fn server_collect(
    server: &mut ServerConnection,
    bytes: &[u8],
    chunk: usize,
) -> (Vec<Vec<u8>>, Option<TransportError>) {
    let mut packets = Vec::new();
    for piece in bytes.chunks(chunk) {
        server.feed(piece);
        loop {
            match server.poll_frame() {
                Ok(Some(frame)) => {
                    assert!(!frame.payload.is_empty() && frame.payload.len() <= MAX_FRAME);
                    assert!(frame.packet().len() <= frame.payload.len());
                    packets.push(frame.packet().to_vec());
                }
                Ok(None) => break,
                Err(error) => {
                    assert_eq!(server.poll_frame(), Err(error.clone()), "errors are final");
                    return (packets, Some(error));
                }
            }
        }
    }
    (packets, server.end_of_input().err())
}

fn server_reads(mut server: ServerConnection, bytes: &[u8], chunk: usize) -> Outcome {
    let (packets, error) = server_collect(&mut server, bytes, chunk);
    Outcome {
        packets: packets.len(),
        error,
    }
}

fn client_reads(flavour: u8, bytes: &[u8], chunk: usize) -> Outcome {
    let (mut client, _) = client_of(flavour);
    let mut packets = 0;
    for piece in bytes.chunks(chunk) {
        client.feed(piece);
        loop {
            match client.poll_event() {
                Ok(Some(ClientEvent::Packet(packet))) => {
                    assert!(!packet.is_empty() && packet.len() <= MAX_FRAME);
                    packets += 1;
                }
                Ok(Some(_)) => packets += 1,
                Ok(None) => break,
                Err(error) => {
                    assert_eq!(client.poll_event(), Err(error.clone()), "errors are final");
                    return Outcome {
                        packets,
                        error: Some(error),
                    };
                }
            }
        }
    }
    Outcome {
        packets,
        error: client.end_of_input().err(),
    }
}

fn round_trip(rest: &[u8], chunk: usize) -> Outcome {
    let [flavour, tamper, body @ ..] = rest else {
        return Outcome::default();
    };
    let mut body: &[u8] = body;
    let (mut client, mut server) = client_of(*flavour);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut sent, mut wire) = (Vec::new(), Vec::new());
    while let [words, tail @ ..] = body {
        let take = (usize::from(words % 32) + 1) * 4;
        let (bytes, tail) = tail.split_at(take.min(tail.len()));
        body = tail;
        let mut message = bytes.to_vec();
        message.resize(take, 0);
        let packet = unencrypted::encode(i64::from(*words) + 1, &message).expect("whole words");
        wire.extend(
            client
                .encode(&packet, &mut rng)
                .expect("a packet within the limits"),
        );
        sent.push(packet);
    }
    if *tamper != 0 && !wire.is_empty() {
        let at = usize::from(*tamper) * 7919 % wire.len();
        if tamper % 2 == 1 {
            wire.truncate(at);
        } else {
            wire[at] ^= 1 << (tamper % 8);
        }
    }
    let (received, error) = server_collect(&mut server, &wire, chunk);
    if *tamper == 0 {
        assert_eq!(error, None, "an untampered stream is read without error");
        assert_eq!(
            received, sent,
            "an untampered stream delivers what was sent"
        );
    }
    Outcome {
        packets: received.len(),
        error,
    }
}
