//! Transports end to end: a client connection and a server connection joined by a byte pipe,
//! fed in arbitrary chunks, in every transport; then each malformed input with its error.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_mtproto::fault::Fault;
use secretchat_mtproto::transport::{
    ClientConnection, ClientEvent, EncodeError, MtProxySecret, QuickAck, ServerConnection,
    Transport, TransportError, TransportErrorCode, MAX_PAYLOAD_LEN,
};

const PLAIN: [Transport; 4] = [
    Transport::Abridged,
    Transport::Intermediate,
    Transport::PaddedIntermediate,
    Transport::Full,
];
const OBFUSCATABLE: [Transport; 3] = [
    Transport::Abridged,
    Transport::Intermediate,
    Transport::PaddedIntermediate,
];

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A packet as MTProto would send it: an unencrypted message (its length field tells padded
/// intermediate where it ends) of `words` 4-byte words of body.
fn packet(words: usize, fill: u8) -> Vec<u8> {
    secretchat_mtproto::message::unencrypted::encode(4, &vec![fill; 4 * words.max(1)]).unwrap()
}

/// Every client flavour: each plain transport, each obfuscated one, with and without a proxy
/// secret. Returns (client, server) with the server configured to match.
fn pairs(seed: u64) -> Vec<(String, ClientConnection, ServerConnection)> {
    let mut rng = rng(seed);
    let mut pairs = Vec::new();
    for transport in PLAIN {
        pairs.push((
            format!("{transport:?}"),
            ClientConnection::new(transport),
            ServerConnection::new(),
        ));
    }
    for transport in OBFUSCATABLE {
        pairs.push((
            format!("obfuscated {transport:?}"),
            ClientConnection::obfuscated(transport, Some(2), None, &mut rng).unwrap(),
            ServerConnection::new(),
        ));
        let secret = MtProxySecret([0x5c; 16]);
        pairs.push((
            format!("obfuscated {transport:?} through MTProxy"),
            ClientConnection::obfuscated(transport, Some(-2), Some(secret), &mut rng).unwrap(),
            ServerConnection::with_mtproxy_secret(secret),
        ));
    }
    pairs
}

/// Hands `bytes` to `read` in chunks of the given sizes (cycled); `read` feeds a chunk and
/// returns what could be read after it.
fn in_chunks<T>(bytes: &[u8], chunks: &[usize], mut read: impl FnMut(&[u8]) -> Vec<T>) -> Vec<T> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut sizes = chunks.iter().cycle();
    while at < bytes.len() {
        let size = (*sizes.next().unwrap()).clamp(1, bytes.len() - at);
        out.extend(read(&bytes[at..at + size]));
        at += size;
    }
    out
}

fn server_reads(server: &mut ServerConnection, bytes: &[u8], chunks: &[usize]) -> Vec<Vec<u8>> {
    let packets = in_chunks(bytes, chunks, |chunk| {
        server.feed(chunk);
        std::iter::from_fn(|| server.poll_frame().unwrap())
            .map(|frame| frame.packet().to_vec())
            .collect()
    });
    server.end_of_input().unwrap();
    packets
}

fn client_reads(client: &mut ClientConnection, bytes: &[u8], chunks: &[usize]) -> Vec<ClientEvent> {
    let events = in_chunks(bytes, chunks, |chunk| {
        client.feed(chunk);
        std::iter::from_fn(|| client.poll_event().unwrap()).collect()
    });
    client.end_of_input().unwrap();
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn packets_cross_every_transport_both_ways_in_any_chunking(
        sizes in prop::collection::vec(1usize..300, 1..6),
        chunks in prop::collection::vec(1usize..97, 1..8),
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        for (name, mut client, mut server) in pairs(seed) {
            let sent: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &w)| packet(w, i as u8)).collect();
            let mut wire = Vec::new();
            for p in &sent {
                wire.extend(client.encode(p, &mut rng).unwrap());
            }
            prop_assert_eq!(&server_reads(&mut server, &wire, &chunks), &sent, "{} client → server", name);

            let mut wire = Vec::new();
            for p in &sent {
                wire.extend(server.encode(p, &mut rng).unwrap());
            }
            let expected: Vec<ClientEvent> = sent.iter().cloned().map(ClientEvent::Packet).collect();
            prop_assert_eq!(client_reads(&mut client, &wire, &chunks), expected, "{} server → client", name);
        }
    }
}

#[test]
fn the_server_detects_each_transport_and_the_obfuscated_dc_id() {
    let mut rng = rng(1);
    for (name, mut client, mut server) in pairs(1) {
        assert_eq!(server.detected(), None);
        server.feed(&client.encode(&packet(1, 0), &mut rng).unwrap());
        assert!(server.poll_frame().unwrap().is_some(), "{name}");
        let detected = server.detected().unwrap();
        assert_eq!(
            detected.obfuscated,
            name.starts_with("obfuscated"),
            "{name}"
        );
        assert!(
            name.contains(&format!("{:?}", detected.transport)),
            "{name}"
        );
        if detected.obfuscated {
            assert_eq!(detected.dc_id.map(i16::abs), Some(2), "{name}");
        }
    }
}

#[test]
fn a_large_packet_uses_abridged_extended_length_and_crosses_intact() {
    let mut rng = rng(2);
    let big = packet(MAX_PAYLOAD_LEN / 4 - 5, 0x77);
    assert_eq!(big.len(), MAX_PAYLOAD_LEN);
    for (name, mut client, mut server) in pairs(2) {
        let wire = client.encode(&big, &mut rng).unwrap();
        assert_eq!(
            server_reads(&mut server, &wire, &[65_536]),
            vec![big.clone()],
            "{name}"
        );
    }
    let wire = ClientConnection::new(Transport::Abridged)
        .encode(&big, &mut rng)
        .unwrap();
    assert_eq!(wire[1], 0x7f, "0xef, then the 4-byte length form");
}

#[test]
fn quick_ack_requests_are_seen_by_the_server_and_its_answer_reaches_the_client() {
    let mut rng = rng(3);
    for (name, mut client, mut server) in pairs(3) {
        let full = name == "Full";
        let request = client.encode_requesting_quick_ack(&packet(3, 1), &mut rng);
        if full {
            assert_eq!(request, Err(EncodeError::QuickAckUnsupported));
            continue;
        }
        server.feed(&request.unwrap());
        let frame = server.poll_frame().unwrap().unwrap();
        assert!(frame.quick_ack_requested, "{name}");
        let ack = QuickAck::from_u32(0x1234_5678);
        let mut wire = server.encode_quick_ack(ack).unwrap();
        assert_eq!(wire.len(), 4, "{name}: a quick ack is 4 bare bytes");
        wire.extend(server.encode(&packet(1, 2), &mut rng).unwrap());
        assert_eq!(
            client_reads(&mut client, &wire, &[1]),
            vec![
                ClientEvent::QuickAck(ack),
                ClientEvent::Packet(packet(1, 2))
            ],
            "{name}"
        );
    }
}

#[test]
fn quick_ack_bytes_are_little_endian_in_intermediate_and_big_endian_in_abridged() {
    let mut rng = rng(4);
    let ack = QuickAck::from_u32(0x0102_0304);
    for (transport, expected) in [
        (Transport::Intermediate, [0x04, 0x03, 0x02, 0x81]),
        (Transport::Abridged, [0x81, 0x02, 0x03, 0x04]),
    ] {
        let mut client = ClientConnection::new(transport);
        let mut server = ServerConnection::new();
        server.feed(&client.encode(&packet(1, 0), &mut rng).unwrap());
        server.poll_frame().unwrap().unwrap();
        assert_eq!(
            server.encode_quick_ack(ack).unwrap(),
            expected,
            "{transport:?}"
        );
    }
}

#[test]
fn transport_errors_reach_the_client_as_negative_codes() {
    let mut rng = rng(5);
    for (name, mut client, mut server) in pairs(5) {
        server.feed(&client.encode(&packet(1, 0), &mut rng).unwrap());
        server.poll_frame().unwrap().unwrap();
        let mut wire = Vec::new();
        for code in [
            TransportErrorCode::AuthKeyNotFound,
            TransportErrorCode::Flood,
            TransportErrorCode::InvalidDc,
        ] {
            wire.extend(server.encode_transport_error(code).unwrap());
        }
        assert_eq!(
            client_reads(&mut client, &wire, &[3]),
            vec![
                ClientEvent::TransportError(-404),
                ClientEvent::TransportError(-429),
                ClientEvent::TransportError(-444)
            ],
            "{name}"
        );
    }
}

#[test]
fn the_server_cannot_answer_before_the_client_has_spoken() {
    let mut server = ServerConnection::new();
    assert_eq!(
        server.encode(&packet(1, 0), &mut rng(6)),
        Err(EncodeError::NotDetected)
    );
    assert_eq!(
        server.encode_transport_error(TransportErrorCode::AuthKeyNotFound),
        Err(EncodeError::NotDetected)
    );
}

#[test]
fn packets_that_are_not_whole_words_or_too_large_are_not_framed() {
    let mut client = ClientConnection::new(Transport::Intermediate);
    let mut rng = rng(7);
    assert_eq!(
        client.encode(&[1, 2, 3], &mut rng),
        Err(EncodeError::PayloadNotWords { len: 3 })
    );
    assert_eq!(
        client.encode(&[], &mut rng),
        Err(EncodeError::PayloadNotWords { len: 0 })
    );
    assert_eq!(
        client.encode(&vec![0; MAX_PAYLOAD_LEN + 4], &mut rng),
        Err(EncodeError::PayloadTooLarge {
            len: MAX_PAYLOAD_LEN + 4,
            max: MAX_PAYLOAD_LEN
        })
    );
}

/// Feeds raw bytes to a fresh server and returns its first error.
fn server_error(bytes: &[u8]) -> TransportError {
    let mut server = ServerConnection::new();
    server.feed(bytes);
    loop {
        match server.poll_frame() {
            Ok(Some(_)) => continue,
            Ok(None) => return server.end_of_input().unwrap_err(),
            Err(error) => return error,
        }
    }
}

/// A full-transport frame with the given length field, seq and payload, CRC computed.
fn full_frame(len: u32, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = len.to_le_bytes().to_vec();
    frame.extend(seq.to_le_bytes());
    frame.extend(payload);
    let crc = crc32fast::hash(&frame);
    frame.extend(crc.to_le_bytes());
    frame
}

#[test]
fn an_oversized_frame_is_refused_as_soon_as_its_length_arrives() {
    let too_large = MAX_PAYLOAD_LEN + 4;
    let expected = TransportError::FrameTooLarge {
        len: too_large,
        max: MAX_PAYLOAD_LEN,
    };
    let words = (too_large / 4) as u32;
    let [a, b, c, _] = words.to_le_bytes();
    assert_eq!(server_error(&[0xef, 0x7f, a, b, c]), expected);
    let mut intermediate = vec![0xee; 4];
    intermediate.extend((too_large as u32).to_le_bytes());
    assert_eq!(server_error(&intermediate), expected);
    let mut full = ((too_large + 12) as u32).to_le_bytes().to_vec();
    full.extend([0; 4]);
    assert_eq!(server_error(&full), expected);
}

#[test]
fn a_full_frame_with_a_bad_crc_is_refused_with_both_checksums() {
    let mut frame = full_frame(16, 0, &[1, 2, 3, 4]);
    let good = crc32fast::hash(&frame[..12]);
    frame[15] ^= 0x01;
    assert_eq!(
        server_error(&frame),
        TransportError::BadCrc {
            expected: good,
            got: good ^ 0x0100_0000
        }
    );
}

#[test]
fn a_full_frame_out_of_sequence_is_refused() {
    let mut bytes = full_frame(16, 0, &[1; 4]);
    bytes.extend(full_frame(16, 2, &[2; 4]));
    assert_eq!(
        server_error(&bytes),
        TransportError::BadSeq {
            expected: 1,
            got: 2
        }
    );
}

#[test]
fn full_lengths_below_twelve_and_empty_frames_are_refused() {
    let mut short = 8u32.to_le_bytes().to_vec();
    short.extend([0; 4]);
    assert_eq!(
        server_error(&short),
        TransportError::FullLengthTooSmall { len: 8 }
    );
    assert_eq!(
        server_error(&full_frame(12, 0, &[])),
        TransportError::EmptyFrame
    );
    assert_eq!(server_error(&[0xef, 0x00]), TransportError::EmptyFrame);
    assert_eq!(
        server_error(&[0xee, 0xee, 0xee, 0xee, 0, 0, 0, 0]),
        TransportError::EmptyFrame
    );
}

#[test]
fn intermediate_and_full_frames_must_be_whole_words_but_padded_ones_need_not() {
    let mut intermediate = vec![0xee; 4];
    intermediate.extend(6u32.to_le_bytes());
    assert_eq!(
        server_error(&intermediate),
        TransportError::FrameNotWords { len: 6 }
    );
    assert_eq!(
        server_error(&full_frame(18, 0, &[0; 6])),
        TransportError::FrameNotWords { len: 6 }
    );
    let mut padded = vec![0xdd; 4];
    padded.extend(6u32.to_le_bytes());
    padded.extend([9; 6]);
    let mut server = ServerConnection::new();
    server.feed(&padded);
    assert_eq!(server.poll_frame().unwrap().unwrap().payload, vec![9; 6]);
}

#[test]
fn input_that_ends_inside_a_frame_or_before_detection_is_truncated() {
    assert_eq!(
        server_error(&[0xee, 0xee]),
        TransportError::Truncated { have: 2, need: 4 }
    );
    assert_eq!(
        server_error(&[0x34, 0, 0, 0, 0, 0, 0, 1, 9]),
        TransportError::Truncated { have: 9, need: 64 }
    );
    let mut cut = vec![0xef, 0x02, 1, 2, 3, 4, 5];
    assert_eq!(
        server_error(&cut),
        TransportError::Truncated { have: 6, need: 9 }
    );
    cut.extend([6, 7, 8]);
    let mut server = ServerConnection::new();
    server.feed(&cut);
    assert!(server.poll_frame().unwrap().is_some());
    assert_eq!(server.end_of_input(), Ok(()));
}

#[test]
fn http_and_tls_openings_are_unsupported_not_malformed() {
    let error = server_error(b"GET / HTTP/1.1\r\n\r\n");
    assert!(matches!(error, TransportError::Unsupported { .. }));
    assert_eq!(error.fault(), Fault::Unsupported);
}

#[test]
fn an_obfuscated_header_under_a_foreign_secret_is_refused_by_its_tag() {
    let mut client = ClientConnection::obfuscated(
        Transport::Intermediate,
        None,
        Some(MtProxySecret([1; 16])),
        &mut rng(8),
    )
    .unwrap();
    let mut server = ServerConnection::with_mtproxy_secret(MtProxySecret([2; 16]));
    server.feed(&client.encode(&packet(1, 0), &mut rng(8)).unwrap());
    let error = server.poll_frame().unwrap_err();
    assert!(matches!(error, TransportError::UnknownObfuscatedTag { .. }));
    assert_eq!(error.fault(), Fault::Peer);
}

#[test]
fn after_an_error_the_connection_keeps_answering_with_it_and_ignores_new_bytes() {
    let mut server = ServerConnection::new();
    server.feed(&full_frame(8, 0, &[]));
    let error = server.poll_frame().unwrap_err();
    server.feed(&full_frame(16, 0, &[1; 4]));
    assert_eq!(server.poll_frame(), Err(error.clone()));
    assert_eq!(server.end_of_input(), Err(error));
}

#[test]
fn the_full_transport_crc_is_the_standard_crc32() {
    // The CRC-32 check value (ISO-HDLC, as zlib.crc32 in Telethon's tcpfull.py).
    assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
}
