//! `rpc_result`: the answer to one API call.
//!
//! "A response to an RPC query is normally wrapped as follows ... Here req_msg_id is the
//! identifier of the message sent by the other party and containing an RPC query ... At the
//! same time, this response serves as acknowledgment of the other party's receipt of the
//! req_msg_id message." The result may be any boxed object, an `rpc_error`, or either of them
//! gzip-packed. (core.telegram.org/mtproto/service_messages#response-to-an-rpc-query)
//!
//! ```text
//! rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;
//! rpc_error#2144ca19 error_code:int error_message:string = RpcError;
//!
//! 01 6d 5c f3 | req_msg_id (8) | result: the rest (an object, rpc_error, or gzip_packed)
//! ```
//!
//! `Object` is "any constructor", which only the caller's layer can decode, so the result
//! stays bytes; this module only peels off the gzip and tells an error from a result.

use secretchat_common::tl::{TlRead, TlWrite};

use super::{constructor_id, decoding, gzip_packed, reader_past_id, too_short, EnvelopeError};
use crate::service::types::RpcError;

/// `rpc_result#f35c6d01`.
pub const RPC_RESULT_ID: u32 = 0xf35c6d01;

/// What an API call returned.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcAnswer {
    /// The serialized result object (boxed), already un-gzipped.
    Object(Vec<u8>),
    /// `rpc_error`: the call failed.
    Error(RpcError),
}

/// `rpc_result#f35c6d01 req_msg_id:long result:Object`.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcResult {
    pub req_msg_id: i64,
    pub answer: RpcAnswer,
}

impl RpcResult {
    /// Decodes a boxed `rpc_result` spanning all of `bytes`; a gzip-packed result may
    /// inflate to at most `max_unpacked` bytes.
    pub fn from_bytes(bytes: &[u8], max_unpacked: usize) -> Result<Self, EnvelopeError> {
        let decode = decoding("rpc_result");
        let mut reader = reader_past_id(bytes, RPC_RESULT_ID, "rpc_result")?;
        let req_msg_id = reader.read_i64().map_err(decode)?;
        let result = reader.read_rest(4).map_err(decode)?;
        let result = if constructor_id(result) == Some(gzip_packed::GZIP_PACKED_ID) {
            gzip_packed::unpack(result, max_unpacked)?
        } else {
            result.to_vec()
        };
        let answer = match constructor_id(&result) {
            Some(RpcError::CONSTRUCTOR_ID) => {
                RpcAnswer::Error(RpcError::from_bytes(&result).map_err(decoding("rpc_error"))?)
            }
            Some(_) => RpcAnswer::Object(result),
            None => return Err(too_short("rpc_result", result.len())),
        };
        Ok(Self { req_msg_id, answer })
    }

    /// The boxed `rpc_result`. A result object of at least `gzip_min_len` bytes is sent
    /// gzip-packed when that is smaller (errors never are: they are short).
    pub fn to_bytes(&self, gzip_min_len: usize) -> Vec<u8> {
        let mut buf = Vec::new();
        buf.extend_from_slice(&RPC_RESULT_ID.to_le_bytes());
        buf.extend_from_slice(&self.req_msg_id.to_le_bytes());
        match &self.answer {
            RpcAnswer::Object(object) => match gzip_packed::pack_if_smaller(object, gzip_min_len) {
                Some(packed) => buf.extend_from_slice(&packed),
                None => buf.extend_from_slice(object),
            },
            RpcAnswer::Error(error) => error.write_to(&mut buf),
        }
        buf
    }
}
