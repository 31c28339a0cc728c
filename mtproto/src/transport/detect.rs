//! Telling the transport from the first bytes of a connection (the table and the reasoning
//! are in the docs of [`super`]).

use super::obfuscated2::HEADER_LEN as OBFUSCATED_HEADER_LEN;
use super::{Transport, TransportError};

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opening {
    /// A plain framing, after a tag of `tag_len` bytes (0 for full, which has none).
    Plain {
        transport: Transport,
        tag_len: usize,
    },
    /// 64 bytes of obfuscated2 header.
    Obfuscated2,
}

/// `Ok(None)` while the bytes so far fit more than one answer; never reads past 8 bytes.
///
/// The refused first ints are exactly the ones tdlib's obfuscated2 headers avoid, so no
/// header of tdlib is ever refused (Telethon avoids fewer of them; one of its headers in
/// 2^30 would start like HTTP).
pub(super) fn opening(first: &[u8]) -> Result<Option<Opening>, TransportError> {
    if first.first() == Some(&0xef) {
        return Ok(Some(Opening::Plain {
            transport: Transport::Abridged,
            tag_len: 1,
        }));
    }
    let Some(first_int) = first.get(..4) else {
        return Ok(None);
    };
    match first_int {
        [0xee, 0xee, 0xee, 0xee] => {
            return Ok(Some(Opening::Plain {
                transport: Transport::Intermediate,
                tag_len: 4,
            }))
        }
        [0xdd, 0xdd, 0xdd, 0xdd] => {
            return Ok(Some(Opening::Plain {
                transport: Transport::PaddedIntermediate,
                tag_len: 4,
            }))
        }
        b"POST" | b"GET " | b"HEAD" | b"OPTI" => {
            return Err(TransportError::Unsupported {
                what: "an HTTP request (the HTTP transport)",
            })
        }
        [0x16, 0x03, 0x01, 0x02] => {
            return Err(TransportError::Unsupported {
                what: "a TLS ClientHello (fake-TLS MTProxy)",
            })
        }
        _ => {}
    }
    match first.get(4..8) {
        None => Ok(None),
        Some([0, 0, 0, 0]) => Ok(Some(Opening::Plain {
            transport: Transport::Full,
            tag_len: 0,
        })),
        Some(_) => Ok(Some(Opening::Obfuscated2)),
    }
}

/// How many bytes [`opening`] wants before it can answer, for a truncation error.
pub(super) fn bytes_needed(first: &[u8]) -> usize {
    match first.len() {
        0 => 1,
        1..=3 => 4,
        4..=7 => 8,
        _ => OBFUSCATED_HEADER_LEN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(transport: Transport, tag_len: usize) -> Result<Option<Opening>, TransportError> {
        Ok(Some(Opening::Plain { transport, tag_len }))
    }

    #[test]
    fn each_tag_is_recognised_from_as_few_bytes_as_it_takes() {
        assert_eq!(opening(&[0xef]), plain(Transport::Abridged, 1));
        assert_eq!(opening(&[0xee, 0xee, 0xee]), Ok(None));
        assert_eq!(opening(&[0xee; 4]), plain(Transport::Intermediate, 4));
        assert_eq!(opening(&[0xdd; 4]), plain(Transport::PaddedIntermediate, 4));
    }

    #[test]
    fn zero_bytes_four_to_eight_mean_full_and_anything_else_obfuscated2() {
        assert_eq!(opening(&[0x34, 0, 0, 0, 0, 0, 0]), Ok(None));
        assert_eq!(
            opening(&[0x34, 0, 0, 0, 0, 0, 0, 0]),
            plain(Transport::Full, 0)
        );
        assert_eq!(
            opening(&[0x34, 0, 0, 0, 0, 0, 0, 1]),
            Ok(Some(Opening::Obfuscated2))
        );
    }

    #[test]
    fn http_and_tls_are_refused_as_unsupported() {
        assert!(matches!(
            opening(b"POST /api HTTP/1.1"),
            Err(TransportError::Unsupported { .. })
        ));
        assert!(matches!(
            opening(&[0x16, 0x03, 0x01, 0x02, 0x00]),
            Err(TransportError::Unsupported { .. })
        ));
    }
}
