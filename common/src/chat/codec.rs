//! Payload ⇄ TL bytes at a given layer (SPEC §2.1, §5).
//!
//! TEMPORARY: until the TL codec lands on main this module serializes with JSON so the state
//! machine can be exercised; the interface is the one the TL mapping will keep.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::layer::Layer;
use super::payload::{Action, Payload};
use crate::seq_no::WireSeqNo;

/// How many `random_bytes` we put in a message (the spec asks for at least 15).
pub const RANDOM_BYTES_LEN: usize = 16;
/// Fewer random bytes than this and the message is ignored (SPEC §2.1).
pub const MIN_RANDOM_BYTES: usize = 15;

/// The `decryptedMessageLayer` fields around a wrapped message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapper {
    pub layer: Layer,
    pub in_seq_no: WireSeqNo,
    pub out_seq_no: WireSeqNo,
}

/// A message to encode.
#[derive(Debug, Clone, Copy)]
pub struct Outbound<'a> {
    /// `None` sends the bare layer-8 form.
    pub wrapper: Option<Wrapper>,
    pub random_id: i64,
    pub payload: &'a Payload,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub wrapper: Option<Wrapper>,
    pub random_bytes_len: usize,
    pub random_id: i64,
    pub payload: Payload,
}

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The payload has no constructor at this layer (e.g. Typing to a layer-8 peer).
    #[error("{what} does not exist at {layer}")]
    NotAtLayer { what: &'static str, layer: Layer },
    /// The bytes are not a message.
    #[error("{0}")]
    Malformed(String),
}

#[derive(Serialize, Deserialize)]
struct JsonForm {
    wrapper: Option<Wrapper>,
    random_bytes: Vec<u8>,
    random_id: i64,
    payload: Payload,
}

/// Encodes a message in the form its layer calls for.
pub fn encode(out: Outbound<'_>, rng: &mut impl RngCore) -> Result<Vec<u8>, CodecError> {
    let layer = out.wrapper.map_or(Layer::BASE, |w| w.layer);
    let bare_notify = matches!(out.payload, Payload::Service(Action::NotifyLayer { .. }));
    if out.payload.introduced_in() > layer && !(out.wrapper.is_none() && bare_notify) {
        return Err(CodecError::NotAtLayer {
            what: "this action",
            layer,
        });
    }
    let mut random_bytes = vec![0u8; RANDOM_BYTES_LEN];
    rng.fill_bytes(&mut random_bytes);
    let form = JsonForm {
        wrapper: out.wrapper,
        random_bytes,
        random_id: out.random_id,
        payload: out.payload.clone(),
    };
    let mut bytes = serde_json::to_vec(&form).map_err(|e| CodecError::Malformed(e.to_string()))?;
    while bytes.len() % 4 != 0 {
        bytes.push(b' ');
    }
    Ok(bytes)
}

/// Decodes a wrapped or bare message.
pub fn decode(bytes: &[u8]) -> Result<Inbound, CodecError> {
    let form: JsonForm =
        serde_json::from_slice(bytes).map_err(|e| CodecError::Malformed(e.to_string()))?;
    Ok(Inbound {
        wrapper: form.wrapper,
        random_bytes_len: form.random_bytes.len(),
        random_id: form.random_id,
        payload: form.payload,
    })
}
