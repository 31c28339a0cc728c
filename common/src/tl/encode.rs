//! TL encoding: a typed value out as bytes, in exactly the canonical form.
//!
//! The mirror of [`super::decode`]: little-endian numbers, constructor ids before boxed
//! values, the shortest length form for `bytes`/`string` with zero padding to a multiple
//! of 4, and `flags` computed from which optional fields are present (the generated code
//! does that; a `flags` value is never stored).

use super::decode::{BOOL_FALSE_ID, BOOL_TRUE_ID, MAX_BYTES_LEN, VECTOR_ID};

/// A value that can be written as TL bytes.
pub trait TlWrite {
    /// Appends the value (boxed, with its constructor id, for objects) to `buf`.
    fn write_to(&self, buf: &mut Vec<u8>);

    /// The value as a fresh byte vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.write_to(&mut buf);
        buf
    }
}

/// Constructor ids and `flags` masks.
impl TlWrite for u32 {
    fn write_to(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
}

impl TlWrite for i32 {
    fn write_to(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
}

impl TlWrite for i64 {
    fn write_to(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
}

impl TlWrite for f64 {
    fn write_to(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
}

/// `Bool`: boolTrue or boolFalse.
impl TlWrite for bool {
    fn write_to(&self, buf: &mut Vec<u8>) {
        let id = if *self { BOOL_TRUE_ID } else { BOOL_FALSE_ID };
        id.write_to(buf);
    }
}

/// `int128` and `int256`: the raw bytes.
impl<const N: usize> TlWrite for [u8; N] {
    fn write_to(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self);
    }
}

/// A recursive field: the value itself.
impl<T: TlWrite> TlWrite for Box<T> {
    fn write_to(&self, buf: &mut Vec<u8>) {
        T::write_to(self, buf);
    }
}

/// TL `bytes`.
///
/// # Panics
///
/// If the data is longer than [`MAX_BYTES_LEN`] (16 MiB − 1), which TL cannot express.
/// Decoded values and values read from JSON never are; only a caller building one by hand can.
impl TlWrite for Vec<u8> {
    fn write_to(&self, buf: &mut Vec<u8>) {
        write_tl_bytes(self, buf);
    }
}

/// TL `string` (same encoding as `bytes`; see the panic note there).
impl TlWrite for String {
    fn write_to(&self, buf: &mut Vec<u8>) {
        write_tl_bytes(self.as_bytes(), buf);
    }
}

/// `Vector<T>`: the boxed vector id, the count, the items.
impl<T: TlWrite> TlWrite for Vec<T> {
    fn write_to(&self, buf: &mut Vec<u8>) {
        VECTOR_ID.write_to(buf);
        // The count fits: each item takes at least one byte and TL messages are far
        // smaller than 2^31 bytes.
        (self.len() as u32).write_to(buf);
        for item in self {
            item.write_to(buf);
        }
    }
}

/// Writes `data` in the TL `bytes`/`string` encoding.
///
/// ```text
/// length < 254:  [len] data... zero padding to a multiple of 4
/// otherwise:     [0xfe] [len: 3 bytes LE] data... zero padding to a multiple of 4
/// ```
pub fn write_tl_bytes(data: &[u8], buf: &mut Vec<u8>) {
    let len = data.len();
    assert!(
        len <= MAX_BYTES_LEN,
        "TL bytes/string of {len} bytes exceed the {MAX_BYTES_LEN}-byte maximum"
    );
    let header = if len < 254 {
        buf.push(len as u8);
        1
    } else {
        let [a, b, c, _] = (len as u32).to_le_bytes();
        buf.extend_from_slice(&[254, a, b, c]);
        4
    };
    buf.extend_from_slice(data);
    let padding = (4 - (header + len) % 4) % 4;
    buf.extend(std::iter::repeat_n(0u8, padding));
}
