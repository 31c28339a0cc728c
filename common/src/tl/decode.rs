//! Strict TL decoding: bytes in, a typed value or a [`DecodeError`] that says where and why.
//!
//! TL is little-endian and 4-byte aligned (SPEC §2.1, schema header): `int` is 4 bytes,
//! `long` and `double` 8, a boxed value starts with its 4-byte constructor id, a `Vector`
//! is the id `0x1cb5c415`, an `int` count, then the items. `bytes` and `string` share one
//! encoding:
//!
//! ```text
//! length < 254:  [len] data... zero padding to a multiple of 4
//! otherwise:     [0xfe] [len: 3 bytes LE] data... zero padding to a multiple of 4
//! ```
//!
//! Choices this decoder makes, and why:
//!
//! * **Strict about structure.** Every byte must be accounted for: an unknown constructor,
//!   a length or vector count beyond what remains, missing padding, invalid UTF-8 in a
//!   `string`, or bytes left over after the object are errors. Everything here is peer
//!   data after decryption, so it never panics and never allocates a size it has not first
//!   checked against the bytes that remain.
//! * **Lenient about values that carry no meaning.** The padding after `bytes` must be
//!   present, but its value is not checked (the spec says zero; a peer that pads with
//!   garbage has not changed the message). The long length form is accepted even for short
//!   lengths, and unknown `flags` bits are ignored: a newer peer may set a `flags.N?true`
//!   bit this schema does not know, and that bit changes no constructor id.
//! * **Bounded nesting.** Objects may nest at most [`MAX_DEPTH`] deep, so hostile input
//!   cannot exhaust the stack.

pub use super::annotate::{Mark, Marked};

/// The boxed `Vector` constructor id.
pub const VECTOR_ID: u32 = 0x1cb5c415;
/// `boolTrue` and `boolFalse`: the two constructors of `Bool`.
pub const BOOL_TRUE_ID: u32 = 0x997275b5;
pub const BOOL_FALSE_ID: u32 = 0xbc799737;
/// How deep objects and vectors may nest.
pub const MAX_DEPTH: usize = 64;
/// The longest `bytes`/`string` TL can carry (a 3-byte length).
pub const MAX_BYTES_LEN: usize = 0x00ff_ffff;

/// Why bytes could not be decoded. Positions (`at`) are byte offsets into the input.
///
/// Every variant means the input is malformed; a secret-chat receiver treats it as a
/// message that does not decrypt to a valid payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown constructor #{id:08x} at byte {at}, expected {expected}")]
    UnknownConstructor {
        id: u32,
        expected: &'static str,
        at: usize,
    },
    #[error("input ends early at byte {at}: {needed} bytes needed, {remaining} left")]
    Truncated {
        needed: usize,
        remaining: usize,
        at: usize,
    },
    #[error("length {len} at byte {at} is more than the {remaining} bytes left")]
    LengthOverRemaining {
        len: usize,
        remaining: usize,
        at: usize,
    },
    #[error(
        "vector count {count} at byte {at} cannot fit in the {remaining} bytes left \
         (an item takes at least {min_item_size})"
    )]
    VectorCountOverRemaining {
        count: u32,
        min_item_size: usize,
        remaining: usize,
        at: usize,
    },
    #[error("length prefix 0xff at byte {at} is not a TL length")]
    InvalidLengthPrefix { at: usize },
    #[error("string at byte {at} is not valid UTF-8")]
    InvalidUtf8 { at: usize },
    #[error("{count} bytes left over after the object ended at byte {at}")]
    TrailingBytes { count: usize, at: usize },
    #[error("objects nested deeper than {limit} levels at byte {at}")]
    TooDeep { limit: usize, at: usize },
}

/// A cursor over TL bytes.
///
/// An *annotating* reader ([`Reader::annotating`], used by [`crate::tl::annotate`]) also
/// notes where each constructor id, field, vector count and vector item lies; the
/// generated decoders name every field through [`Reader::field`], so the one decoder
/// serves both. A plain reader notes nothing and pays one branch per field.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    position: usize,
    depth: usize,
    /// The spans seen so far, parents before their children; `None` when not annotating.
    marks: Option<Vec<Mark>>,
    /// How many marked spans enclose the position.
    mark_depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            position: 0,
            depth: 0,
            marks: None,
            mark_depth: 0,
        }
    }

    /// A reader that notes the span of everything it reads ([`Reader::into_marks`]).
    pub fn annotating(input: &'a [u8]) -> Self {
        Self {
            marks: Some(Vec::new()),
            ..Self::new(input)
        }
    }

    /// The spans noted so far (empty for a reader that is not annotating).
    pub fn into_marks(self) -> Vec<Mark> {
        self.marks.unwrap_or_default()
    }

    /// Reads one field named `name` (the schema's name) with `read`, noting its span when
    /// annotating — also when `read` fails, so the spans show how far decoding got.
    pub fn field<T>(
        &mut self,
        name: &'static str,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        self.marked(Marked::Field(name), read)
    }

    fn marked<T>(
        &mut self,
        what: Marked,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let Some(marks) = self.marks.as_mut() else {
            return read(self);
        };
        let index = marks.len();
        marks.push(Mark {
            start: self.position,
            end: self.position,
            depth: self.mark_depth,
            what,
        });
        self.mark_depth += 1;
        let result = read(self);
        self.mark_depth -= 1;
        let end = self.position;
        if let Some(mark) = self.marks.as_mut().and_then(|marks| marks.get_mut(index)) {
            mark.end = end;
        }
        result
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.input.len() - self.position
    }

    /// Ends decoding: everything must have been consumed.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes {
                count,
                at: self.position,
            }),
        }
    }

    fn take(&mut self, needed: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if needed > remaining {
            return Err(DecodeError::Truncated {
                needed,
                remaining,
                at: self.position,
            });
        }
        let start = self.position;
        self.position += needed;
        Ok(&self.input[start..self.position])
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        self.take_array().map(u32::from_le_bytes)
    }

    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.take_array().map(i32::from_le_bytes)
    }

    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.take_array().map(i64::from_le_bytes)
    }

    pub fn read_f64(&mut self) -> Result<f64, DecodeError> {
        self.take_array().map(f64::from_le_bytes)
    }

    /// Reads a constructor id, returning it with the position it was read at.
    pub fn read_constructor_id(&mut self) -> Result<(u32, usize), DecodeError> {
        let at = self.position;
        let id = self.read_u32()?;
        if let Some(marks) = self.marks.as_mut() {
            marks.push(Mark {
                start: at,
                end: self.position,
                depth: self.mark_depth,
                what: Marked::ConstructorId(id),
            });
        }
        Ok((id, at))
    }

    /// Reads a constructor id that must be `id`; `expected` names it in the error.
    pub fn expect_constructor(
        &mut self,
        id: u32,
        expected: &'static str,
    ) -> Result<(), DecodeError> {
        match self.read_constructor_id()? {
            (got, _) if got == id => Ok(()),
            (got, at) => Err(DecodeError::UnknownConstructor {
                id: got,
                expected,
                at,
            }),
        }
    }

    /// Reads a TL `bytes`/`string` body (length prefix, data, padding) and returns the data.
    pub fn read_tl_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let at = self.position;
        let [first] = self.take_array::<1>()?;
        let (len, header) = match first {
            0..=253 => (usize::from(first), 1),
            254 => {
                let [a, b, c] = self.take_array::<3>()?;
                (u32::from_le_bytes([a, b, c, 0]) as usize, 4)
            }
            255 => return Err(DecodeError::InvalidLengthPrefix { at }),
        };
        let remaining = self.remaining();
        if len > remaining {
            return Err(DecodeError::LengthOverRemaining { len, remaining, at });
        }
        let data = self.take(len)?;
        // Padding: present (checked by `take`), value not inspected (see the module comment).
        let padding = (4 - (header + len) % 4) % 4;
        self.take(padding)?;
        Ok(data)
    }

    /// Reads `len` raw bytes, with no length prefix (the hand-parsed MTProto envelopes frame
    /// their bodies themselves).
    pub fn read_raw(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        self.take(len)
    }

    /// Takes every byte left, which must be at least `at_least` (the inner query of a
    /// generic wrapper, see [`super::RawQuery`]).
    pub fn read_rest(&mut self, at_least: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if remaining < at_least {
            return Err(DecodeError::Truncated {
                needed: at_least,
                remaining,
                at: self.position,
            });
        }
        self.take(remaining)
    }

    /// Reads a vector count and checks that `count` items of at least `min_item_size`
    /// bytes each can fit in what remains, so the caller may allocate `count` items.
    pub fn read_vector_count(&mut self, min_item_size: usize) -> Result<usize, DecodeError> {
        let at = self.position;
        // On the wire the count is an `int`; a negative one reads as a huge u32 and fails.
        let count = self.marked(Marked::VectorCount, Self::read_u32)?;
        let remaining = self.remaining();
        let fits = remaining / min_item_size.max(1);
        match usize::try_from(count) {
            Ok(items) if items <= fits => Ok(items),
            _ => Err(DecodeError::VectorCountOverRemaining {
                count,
                min_item_size,
                remaining,
                at,
            }),
        }
    }

    /// Runs `read` one nesting level deeper, failing past [`MAX_DEPTH`].
    pub fn nested<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(DecodeError::TooDeep {
                limit: MAX_DEPTH,
                at: self.position,
            });
        }
        self.depth += 1;
        let result = read(self);
        self.depth -= 1;
        result
    }
}

/// A value that can be read from TL bytes.
pub trait TlRead: Sized {
    /// The fewest bytes one value can take on the wire; bounds vector counts before
    /// anything is allocated.
    const MIN_WIRE_SIZE: usize;

    /// Reads one value (boxed, with its constructor id, for objects).
    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Reads one value that must span all of `bytes`: trailing bytes are an error.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let value = Self::read_from(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }
}

impl TlRead for i32 {
    const MIN_WIRE_SIZE: usize = 4;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.read_i32()
    }
}

impl TlRead for i64 {
    const MIN_WIRE_SIZE: usize = 8;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.read_i64()
    }
}

impl TlRead for f64 {
    const MIN_WIRE_SIZE: usize = 8;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.read_f64()
    }
}

/// `Bool`: boolTrue or boolFalse.
impl TlRead for bool {
    const MIN_WIRE_SIZE: usize = 4;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.read_constructor_id()? {
            (BOOL_TRUE_ID, _) => Ok(true),
            (BOOL_FALSE_ID, _) => Ok(false),
            (id, at) => Err(DecodeError::UnknownConstructor {
                id,
                expected: "Bool",
                at,
            }),
        }
    }
}

/// `int128` and `int256`: 16 and 32 raw bytes, no length prefix. Kept as bytes, never as
/// numbers: nonces and hashes are compared and echoed, and Telethon reads them as signed
/// little-endian integers where others read unsigned ones, so only the bytes are common.
impl<const N: usize> TlRead for [u8; N] {
    const MIN_WIRE_SIZE: usize = N;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.take_array()
    }
}

/// A field whose type can contain the object holding it (`inputPeerUserFromMessage` has a
/// `peer:InputPeer`) is a `Box` in Rust; on the wire it is the value itself.
impl<T: TlRead> TlRead for Box<T> {
    const MIN_WIRE_SIZE: usize = T::MIN_WIRE_SIZE;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        T::read_from(reader).map(Box::new)
    }
}

/// TL `bytes`.
impl TlRead for Vec<u8> {
    const MIN_WIRE_SIZE: usize = 4;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.read_tl_bytes().map(<[u8]>::to_vec)
    }
}

/// TL `string`: `bytes` that must be UTF-8.
impl TlRead for String {
    const MIN_WIRE_SIZE: usize = 4;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.position();
        let data = reader.read_tl_bytes()?;
        std::str::from_utf8(data)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 { at })
    }
}

/// `Vector<T>`: the boxed vector id, a count, then the items (bare for `int`/`long`/...,
/// boxed for object types, as each `T` reads itself).
impl<T: TlRead> TlRead for Vec<T> {
    const MIN_WIRE_SIZE: usize = 8;

    fn read_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.nested(|reader| {
            reader.expect_constructor(VECTOR_ID, "Vector")?;
            let count = reader.read_vector_count(T::MIN_WIRE_SIZE)?;
            let mut items = Vec::with_capacity(count);
            for index in 0..count {
                items.push(reader.marked(Marked::Item(index), T::read_from)?);
            }
            Ok(items)
        })
    }
}
