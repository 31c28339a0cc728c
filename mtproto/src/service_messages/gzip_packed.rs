//! `gzip_packed`: one serialized object, gzipped.
//!
//! "Used to replace any other object (or rather, a serialization thereof) with its archived
//! (gzipped) representation ... supported in the body of an RPC response (i.e., as result in
//! rpc_result) ... In addition, it may be used to transmit non-service messages (i. e. RPC
//! queries) from client to server." (core.telegram.org/mtproto/service_messages#packed-object)
//!
//! ```text
//! gzip_packed#3072cfa1 packed_data:bytes = Object;     // packed_data: a gzip stream (RFC 1952)
//! ```
//!
//! Telethon gzips every content-related body over 512 bytes when that makes it smaller
//! (telethon/tl/core/gzippacked.py), and both clients read gzipped `rpc_result`s; Pyrogram
//! never packs a request. Inflating is **bounded**: the caller gives the largest output it
//! accepts and a decompression bomb fails with [`EnvelopeError::InflatedTooLarge`] after at
//! most that many bytes, instead of allocating whatever the stream claims.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use secretchat_common::tl::decode::MAX_BYTES_LEN;
use secretchat_common::tl::encode::write_tl_bytes;

use super::{decoding, reader_past_id, EnvelopeError};

/// `gzip_packed#3072cfa1`.
pub const GZIP_PACKED_ID: u32 = 0x3072cfa1;

/// The boxed `gzip_packed` of `body`, or `None` if even the compressed stream is longer than
/// TL `bytes` can carry (16 MiB − 1).
pub fn pack(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    encoder.write_all(body).ok()?;
    let stream = encoder.finish().ok()?;
    if stream.len() > MAX_BYTES_LEN {
        return None;
    }
    let mut packed = Vec::with_capacity(stream.len() + 8);
    packed.extend_from_slice(&GZIP_PACKED_ID.to_le_bytes());
    write_tl_bytes(&stream, &mut packed);
    Some(packed)
}

/// `body` gzip-packed if it is at least `min_len` bytes long and packing makes it smaller
/// (the rule Telethon applies to its requests with `min_len` = 512), else `None`.
pub fn pack_if_smaller(body: &[u8], min_len: usize) -> Option<Vec<u8>> {
    if body.len() < min_len {
        return None;
    }
    pack(body).filter(|packed| packed.len() < body.len())
}

/// Unpacks a boxed `gzip_packed` spanning all of `bytes` into the object it carries, which
/// may be at most `max_len` bytes.
pub fn unpack(bytes: &[u8], max_len: usize) -> Result<Vec<u8>, EnvelopeError> {
    let decode = decoding("gzip_packed");
    let mut reader = reader_past_id(bytes, GZIP_PACKED_ID, "gzip_packed")?;
    let stream = reader.read_tl_bytes().map_err(decode)?;
    reader.finish().map_err(decode)?;
    inflate(stream, max_len)
}

/// Inflates a gzip stream, refusing to produce more than `max_len` bytes.
pub fn inflate(stream: &[u8], max_len: usize) -> Result<Vec<u8>, EnvelopeError> {
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    GzDecoder::new(stream)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|err| EnvelopeError::Inflate {
            reason: err.to_string(),
        })?;
    if out.len() > max_len {
        return Err(EnvelopeError::InflatedTooLarge { max: max_len });
    }
    Ok(out)
}
