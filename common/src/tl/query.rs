//! `!X`: the query inside a generic wrapper, kept as raw bytes.
//!
//! Telegram's API wraps a call in generic functions that change how it is run, not what it
//! is (core.telegram.org/api/invoking):
//!
//! ```text
//! invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;
//! initConnection#c1cd5ea9 {X:Type} flags:# api_id:int ... query:!X = X;
//! ```
//!
//! `query:!X` is any function returning `X`, serialized boxed (constructor id first). The
//! wrapper cannot know which schema the inner call belongs to — the layer it names decides
//! that — so the generated wrappers keep it as bytes, and whoever unwraps decodes it with
//! the right schema. `!X` is always the last field of a wrapper and nothing follows a
//! wrapper inside a message, so on decoding the query is **the rest of the input** (at least
//! a constructor id).

use super::decode::{DecodeError, Reader, TlRead};
use super::encode::TlWrite;
use super::json::{JsonError, TlJson};

/// The serialized inner query of a generic wrapper (boxed: its constructor id first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawQuery(pub Vec<u8>);

impl RawQuery {
    /// The inner query's constructor id (`None` if the bytes are shorter than an id, which
    /// a decoded `RawQuery` never is).
    pub fn constructor_id(&self) -> Option<u32> {
        let id: [u8; 4] = self.0.get(..4)?.try_into().ok()?;
        Some(u32::from_le_bytes(id))
    }
}

/// Writes the query bytes as they are.
impl TlWrite for RawQuery {
    fn write_to(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.0);
    }
}

/// Takes everything left in the input, which must hold at least a constructor id.
impl TlRead for RawQuery {
    const MIN_WIRE_SIZE: usize = 4;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader
            .read_rest(Self::MIN_WIRE_SIZE)
            .map(|rest| Self(rest.to_vec()))
    }
}

/// In JSON the query is its bytes, as `bytes` are (base64 out; base64 or `{"$hex"}` in).
impl TlJson for RawQuery {
    fn write_json<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.write_json(serializer)
    }

    fn from_json(value: &serde_json::Value) -> Result<Self, JsonError> {
        Vec::<u8>::from_json(value).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_query_takes_the_rest_of_the_input() {
        let bytes = [1, 0, 0, 0, 0x6b, 0x18, 0xf9, 0xc4, 9, 9];
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.read_i32(), Ok(1));
        let query = RawQuery::read_from(&mut reader).unwrap();
        assert_eq!(query.0, bytes[4..]);
        assert_eq!(query.constructor_id(), Some(0xc4f9186b));
        assert_eq!(reader.finish(), Ok(()));
        assert_eq!(query.to_bytes(), bytes[4..]);
    }

    #[test]
    fn a_raw_query_shorter_than_a_constructor_id_is_truncated() {
        let err = RawQuery::from_bytes(&[1, 2, 3]).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                needed: 4,
                remaining: 3,
                at: 0
            }
        );
    }
}
