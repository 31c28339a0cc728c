//! Obfuscated2: a random-looking 64-byte header and AES-256-CTR over everything after it, so
//! that nothing on the wire says "MTProto" (core.telegram.org/mtproto/mtproto-transports#transport-obfuscation).
//!
//! ```text
//! client:  h = 64 random bytes, with h[56..60] = tag (efefefef abridged, eeeeeeee
//!          intermediate, dddddddd padded), h[60..62] = DC id (tdlib; optional)
//!          client→server key, iv = h[8..40], h[40..56]
//!          server→client key, iv = r[8..40], r[40..56], where r = reverse(h)
//!                                  (= the first 32 and next 16 bytes of reverse(h[8..56]))
//!          with an MTProxy secret s: each key becomes SHA256(key + s)
//!          sends h[0..56] + encrypt(h)[56..64], then encrypted frames
//! server:  runs the client→server decryptor over all 64 header bytes (the counter keeps
//!          running into the data) and reads the tag and DC id from the decrypted bytes
//! ```
//!
//! AES-CTR here is OpenSSL's: the 16-byte IV is a big-endian 128-bit counter (tdlib
//! `AesCtrState`, Telethon `AESModeCTR`). The inner framing is one of abridged,
//! intermediate or padded intermediate; the DC id is not validated (Telethon leaves it random).

use aes::cipher::{KeyIvInit, StreamCipher};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Transport, TransportError};

/// Bytes of the header.
pub const HEADER_LEN: usize = 64;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// An MTProxy secret: 16 bytes, shared by the proxy and its clients out of band (the 17-byte
/// `dd…` form of proxy links is this secret after a byte that only selects padded
/// intermediate).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MtProxySecret(pub [u8; 16]);

impl std::fmt::Debug for MtProxySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MtProxySecret(<redacted>)")
    }
}

/// The two running ciphers of one obfuscated2 connection, seen from one end.
pub struct Ciphers {
    /// Applied to bytes this end receives.
    inbound: Aes256Ctr,
    /// Applied to bytes this end sends.
    outbound: Aes256Ctr,
}

impl std::fmt::Debug for Ciphers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("obfuscated2::Ciphers(<redacted>)")
    }
}

impl Ciphers {
    pub fn decrypt(&mut self, bytes: &mut [u8]) {
        self.inbound.apply_keystream(bytes);
    }

    pub fn encrypt(&mut self, bytes: &mut [u8]) {
        self.outbound.apply_keystream(bytes);
    }
}

/// What the server read from a client's header.
#[derive(Debug)]
pub struct Accepted {
    pub ciphers: Ciphers,
    pub transport: Transport,
    pub dc_id: i16,
}

/// The server's side: the ciphers and the inner framing from the client's 64 header bytes.
pub fn accept(
    header: &[u8; HEADER_LEN],
    secret: Option<&MtProxySecret>,
) -> Result<Accepted, TransportError> {
    let (client_to_server, server_to_client) = directions(header, secret);
    let mut ciphers = Ciphers {
        inbound: client_to_server,
        outbound: server_to_client,
    };
    let mut plain = *header;
    ciphers.decrypt(&mut plain);
    let tag = [plain[56], plain[57], plain[58], plain[59]];
    let transport = transport_of_tag(tag).ok_or(TransportError::UnknownObfuscatedTag { tag })?;
    let dc_id = i16::from_le_bytes([plain[60], plain[61]]);
    Ok(Accepted {
        ciphers,
        transport,
        dc_id,
    })
}

/// The client's side: a fresh header to send first, and the ciphers (whose outbound one has
/// already run over the header).
///
/// `transport` must be abridged, intermediate or padded intermediate (the full transport has
/// no tag); `None` otherwise.
pub fn connect(
    transport: Transport,
    dc_id: Option<i16>,
    secret: Option<&MtProxySecret>,
    rng: &mut impl RngCore,
) -> Option<([u8; HEADER_LEN], Ciphers)> {
    let tag = tag_of_transport(transport)?;
    let mut header = [0u8; HEADER_LEN];
    loop {
        rng.fill_bytes(&mut header);
        if !could_be_mistaken(&header) {
            break;
        }
    }
    header[56..60].copy_from_slice(&tag);
    if let Some(dc_id) = dc_id {
        header[60..62].copy_from_slice(&dc_id.to_le_bytes());
    }
    let (client_to_server, server_to_client) = directions(&header, secret);
    let mut ciphers = Ciphers {
        inbound: server_to_client,
        outbound: client_to_server,
    };
    let mut encrypted = header;
    ciphers.encrypt(&mut encrypted);
    header[56..].copy_from_slice(&encrypted[56..]);
    Some((header, ciphers))
}

/// Would the server read this header as another transport (the module docs of
/// [`super`] list the rules)? Clients draw again until it would not.
pub fn could_be_mistaken(header: &[u8; HEADER_LEN]) -> bool {
    const RESERVED_FIRST_INTS: [[u8; 4]; 7] = [
        *b"HEAD",
        *b"POST",
        *b"GET ",
        *b"OPTI",
        [0x16, 0x03, 0x01, 0x02],
        [0xdd; 4],
        [0xee; 4],
    ];
    let first = [header[0], header[1], header[2], header[3]];
    header[0] == 0xef || RESERVED_FIRST_INTS.contains(&first) || header[4..8] == [0; 4]
}

/// (client→server, server→client) ciphers of a header.
fn directions(header: &[u8; HEADER_LEN], secret: Option<&MtProxySecret>) -> (Aes256Ctr, Aes256Ctr) {
    // client→server key, iv = h[8..40], h[40..56]
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&header[8..40]);
    iv.copy_from_slice(&header[40..56]);
    let client_to_server = cipher(key, iv, secret);
    // server→client key, iv = reverse(h[8..56])[0..32], [32..48]
    let mut reversed = [0u8; 48];
    reversed.copy_from_slice(&header[8..56]);
    reversed.reverse();
    key.copy_from_slice(&reversed[..32]);
    iv.copy_from_slice(&reversed[32..]);
    let server_to_client = cipher(key, iv, secret);
    (client_to_server, server_to_client)
}

/// AES-256-CTR with the key of [`proxy_key`].
fn cipher(key: [u8; 32], iv: [u8; 16], secret: Option<&MtProxySecret>) -> Aes256Ctr {
    Aes256Ctr::new(&proxy_key(key, secret).into(), &iv.into())
}

/// `key := SHA256(key + secret)` with an MTProxy secret; the key itself without one.
fn proxy_key(key: [u8; 32], secret: Option<&MtProxySecret>) -> [u8; 32] {
    match secret {
        Some(secret) => Sha256::new()
            .chain_update(key)
            .chain_update(secret.0)
            .finalize()
            .into(),
        None => key,
    }
}

fn transport_of_tag(tag: [u8; 4]) -> Option<Transport> {
    match tag {
        [0xef, 0xef, 0xef, 0xef] => Some(Transport::Abridged),
        [0xee, 0xee, 0xee, 0xee] => Some(Transport::Intermediate),
        [0xdd, 0xdd, 0xdd, 0xdd] => Some(Transport::PaddedIntermediate),
        _ => None,
    }
}

fn tag_of_transport(transport: Transport) -> Option<[u8; 4]> {
    match transport {
        Transport::Abridged => Some([0xef; 4]),
        Transport::Intermediate => Some([0xee; 4]),
        Transport::PaddedIntermediate => Some([0xdd; 4]),
        Transport::Full => None,
    }
}

#[cfg(test)]
mod tests {
    //! Known answers from mtcute's obfuscation tests (mtcute/mtcute,
    //! packages/core/src/network/transports/obfuscated.test.ts).
    use super::*;

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// An RNG that only ever yields 0xff, as mtcute's `'ff'.repeat(64)` random source.
    struct AllOnes;

    impl RngCore for AllOnes {
        fn next_u32(&mut self) -> u32 {
            u32::MAX
        }
        fn next_u64(&mut self) -> u64 {
            u64::MAX
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0xff);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            dest.fill(0xff);
            Ok(())
        }
    }

    fn keystream(key: [u8; 32], iv: [u8; 16]) -> [u8; 32] {
        let mut stream = [0u8; 32];
        Aes256Ctr::new(&key.into(), &iv.into()).apply_keystream(&mut stream);
        stream
    }

    #[test]
    fn all_ones_header_for_intermediate_matches_mtcute() {
        let (header, _) = connect(Transport::Intermediate, None, None, &mut AllOnes).unwrap();
        assert_eq!(header[..56], [0xff; 56]);
        assert_eq!(hex::encode(&header[56..]), "fce8ab2203db2bff");
    }

    #[test]
    fn all_ones_header_through_a_zero_secret_proxy_for_dc_1_matches_mtcute() {
        let secret = MtProxySecret([0; 16]);
        let (header, _) = connect(
            Transport::Intermediate,
            Some(1),
            Some(&secret),
            &mut AllOnes,
        )
        .unwrap();
        assert_eq!(hex::encode(&header[56..]), "ecec4cbda8bb188b");
        let (media_header, _) = connect(
            Transport::Intermediate,
            Some(-1),
            Some(&secret),
            &mut AllOnes,
        )
        .unwrap();
        assert_eq!(hex::encode(&media_header[56..]), "ecec4cbd5644188b");
    }

    #[test]
    fn server_to_client_key_and_iv_are_the_reversed_header_as_in_mtcute() {
        let mut header = [0x42u8; 64];
        header[8..40].copy_from_slice(&unhex::<32>(
            "10b6b4ad6d56ef5df9453f88e6ee6adb6e0544ba635dc6a8a990c9b8b980c343",
        ));
        header[40..56].copy_from_slice(&unhex::<16>("936b33fa7f97bae025102532233abb26"));
        let (mut client_to_server, mut server_to_client) = directions(&header, None);
        let mut got = [0u8; 32];
        client_to_server.apply_keystream(&mut got);
        assert_eq!(
            got,
            keystream(
                unhex("10b6b4ad6d56ef5df9453f88e6ee6adb6e0544ba635dc6a8a990c9b8b980c343"),
                unhex("936b33fa7f97bae025102532233abb26"),
            )
        );
        let mut got = [0u8; 32];
        server_to_client.apply_keystream(&mut got);
        assert_eq!(
            got,
            keystream(
                unhex("26bb3a2332251025e0ba977ffa336b9343c380b9b8c990a9a8c65d63ba44056e"),
                unhex("db6aeee6883f45f95def566dadb4b610"),
            )
        );
    }

    #[test]
    fn proxy_keys_are_sha256_of_key_and_secret_as_in_mtcute() {
        let secret = MtProxySecret(unhex("00112233445566778899aabbccddeeff"));
        assert_eq!(
            hex::encode(proxy_key(
                unhex("10b6b4ad6d56ef5df9453f88e6ee6adb6e0544ba635dc6a8a990c9b8b980c343"),
                Some(&secret)
            )),
            "dd03188944590983e28dad14d97d0952389d118af4ffcbdb28d56a6a612ef7a6"
        );
        assert_eq!(
            hex::encode(proxy_key(
                unhex("26bb3a2332251025e0ba977ffa336b9343c380b9b8c990a9a8c65d63ba44056e"),
                Some(&secret)
            )),
            "413b8e08021fbb08a2962b6d7187194fe46565c6b329d3bbdfcffd4870c16119"
        );
    }

    #[test]
    fn server_accepts_the_header_a_client_makes_and_both_ciphers_agree() {
        let secret = MtProxySecret([7; 16]);
        let (header, mut client) = connect(
            Transport::PaddedIntermediate,
            Some(2),
            Some(&secret),
            &mut AllOnes,
        )
        .unwrap();
        let mut server = accept(&header, Some(&secret)).unwrap();
        assert_eq!(server.transport, Transport::PaddedIntermediate);
        assert_eq!(server.dc_id, 2);
        let mut bytes = *b"hello, server";
        client.encrypt(&mut bytes);
        server.ciphers.decrypt(&mut bytes);
        assert_eq!(&bytes, b"hello, server");
        let mut bytes = *b"hello, client";
        server.ciphers.encrypt(&mut bytes);
        client.decrypt(&mut bytes);
        assert_eq!(&bytes, b"hello, client");
    }

    #[test]
    fn a_header_under_another_secret_names_no_transport() {
        let (header, _) = connect(
            Transport::Abridged,
            None,
            Some(&MtProxySecret([1; 16])),
            &mut AllOnes,
        )
        .unwrap();
        assert!(matches!(
            accept(&header, Some(&MtProxySecret([2; 16]))),
            Err(TransportError::UnknownObfuscatedTag { .. })
        ));
    }

    #[test]
    fn the_full_transport_cannot_be_obfuscated() {
        assert!(connect(Transport::Full, None, None, &mut AllOnes).is_none());
    }

    #[test]
    fn headers_that_look_like_other_transports_are_flagged() {
        let mut header = [0x42u8; 64];
        assert!(!could_be_mistaken(&header));
        header[0] = 0xef;
        assert!(could_be_mistaken(&header));
        header[..4].copy_from_slice(b"POST");
        assert!(could_be_mistaken(&header));
        header[..4].copy_from_slice(&[1, 2, 3, 4]);
        header[4..8].fill(0);
        assert!(could_be_mistaken(&header));
    }
}
