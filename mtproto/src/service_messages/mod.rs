//! # Service messages: what travels around the API calls
//!
//! Inside an encrypted MTProto message the body is one TL object. Most are API calls and
//! their results; the rest are *service messages* that run the session itself
//! (core.telegram.org/mtproto/service_messages, /mtproto/service_messages_about_messages):
//!
//! | body | from | what it does |
//! |---|---|---|
//! | `msg_container` | both | several messages in one ([`container`]) |
//! | `gzip_packed` | both | a gzipped object ([`gzip_packed`]) |
//! | `rpc_result` | server | the answer to a call, or `rpc_error` ([`rpc_result`]) |
//! | `msgs_ack` | both | "I received these msg_ids" (at most 8192) |
//! | `bad_msg_notification`, `bad_server_salt` | server | "I ignored your message", with why |
//! | `new_session_created` | server | "I started a new session for you" |
//! | `ping`, `ping_delay_disconnect` → `pong` | client → server | keep-alive; the second also arms a disconnect timer |
//! | `get_future_salts` → `future_salts` | client → server | the salts to use next ([`future_salts`]) |
//! | `destroy_session` → `destroy_session_ok/none` | client → server | forget another session |
//! | `msgs_state_req` → `msgs_state_info`, `msgs_all_info`, `msg_detailed_info`, `msg_resend_req`, `msg_resend_ans_req` | both | ask about, report on, or ask to resend messages |
//! | `rpc_drop_answer` → `rpc_answer_*` | client → server | "I no longer want that answer" |
//! | `http_wait` | client → server | long poll (HTTP transport only) |
//! | `destroy_auth_key` → `destroy_auth_key_*` | client → server | forget the key itself |
//!
//! The generated [`crate::service`] module has every one of these that a TL generator can
//! express; this module adds the envelopes it cannot (bare vectors, `Object`, gzip) and
//! [`Body`], which decodes any message body into one of the above or "something else" (an
//! API call from a client, an API object such as `updates` from the server).
//!
//! Decoding is strict and bounded: errors say what and where, never panic, and no count or
//! length is allocated before it has been checked against the bytes that remain, against
//! Telegram's limits (1024 messages per container, 8192 ids per acknowledgement or request)
//! and, for gzip, against the caller's limit on the inflated size.

pub mod container;
pub mod future_salts;
pub mod gzip_packed;
pub mod rpc_result;

pub use container::{ContainerMessage, MsgContainer, MAX_CONTAINER_MESSAGES};
pub use future_salts::FutureSalts;
pub use rpc_result::{RpcAnswer, RpcResult};

use secretchat_common::tl::{DecodeError, Reader, TlRead};

use crate::service::{enums, functions as f, types as t};

/// "Max 8192 IDs are allowed per constructor" (`msgs_ack`, `msgs_state_req`,
/// `msg_resend_req`; core.telegram.org/mtproto/service_messages_about_messages).
pub const MAX_IDS: usize = 8192;

/// The default limit on what one `gzip_packed` may inflate to: 2 MiB. The largest bodies
/// either client exchanges are `upload.getFile` results (at most 1 MiB of file data) and
/// `upload.saveFilePart` requests (at most 512 KiB).
pub const DEFAULT_MAX_UNPACKED_LEN: usize = 2 << 20;

/// Why a service message or envelope could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("{what}: {source}")]
    Decode {
        what: &'static str,
        source: DecodeError,
    },
    #[error("msg_container holds {count} messages; at most {max} are allowed")]
    TooManyMessages { count: usize, max: usize },
    #[error(
        "message {index} of the container: body length {len} at byte {at} is not a \
         positive multiple of 4"
    )]
    BadBodyLength { index: usize, len: i32, at: usize },
    #[error(
        "message {index} of the container: body length {len} at byte {at} is more than \
         the {remaining} bytes left"
    )]
    BodyOverRemaining {
        index: usize,
        len: usize,
        remaining: usize,
        at: usize,
    },
    #[error("{what} lists {count} items; at most {max} are allowed")]
    TooManyItems {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("gzip_packed does not inflate: {reason}")]
    Inflate { reason: String },
    #[error("gzip_packed inflates to more than {max} bytes")]
    InflatedTooLarge { max: usize },
    #[error("{inner} inside {outer} is not allowed")]
    Nested {
        inner: &'static str,
        outer: &'static str,
    },
}

/// A message body, decoded as far as the session layer needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Container(MsgContainer),
    /// `msg_copy` (obsolete): the one message it wraps.
    Copy(ContainerMessage),
    RpcResult(RpcResult),
    FutureSalts(FutureSalts),
    MsgsAck(t::MsgsAck),
    BadMsgNotification(t::BadMsgNotification),
    BadServerSalt(t::BadServerSalt),
    NewSessionCreated(t::NewSessionCreated),
    Ping(f::Ping),
    PingDelayDisconnect(f::PingDelayDisconnect),
    Pong(t::Pong),
    GetFutureSalts(f::GetFutureSalts),
    DestroySession(f::DestroySession),
    DestroySessionRes(enums::DestroySessionRes),
    MsgsStateReq(t::MsgsStateReq),
    MsgsStateInfo(t::MsgsStateInfo),
    MsgsAllInfo(t::MsgsAllInfo),
    MsgDetailedInfo(enums::MsgDetailedInfo),
    MsgResendReq(t::MsgResendReq),
    MsgResendAnsReq(t::MsgResendAnsReq),
    RpcDropAnswer(f::RpcDropAnswer),
    HttpWait(f::HttpWait),
    DestroyAuthKey,
    DestroyAuthKeyRes(enums::DestroyAuthKeyRes),
    /// Not a service message: an API call (from a client) or an API object such as
    /// `updates` (from the server). The bytes are the object, un-gzipped.
    Other(Vec<u8>),
}

impl Body {
    /// Decodes a message body. A `gzip_packed` body is unpacked (inflating to at most
    /// `max_unpacked` bytes) and its content decoded in its place; it may not hold another
    /// `gzip_packed` or a container.
    pub fn decode(bytes: &[u8], max_unpacked: usize) -> Result<Self, EnvelopeError> {
        let mut budget = max_unpacked;
        Self::decode_within(bytes, &mut budget)
    }

    /// [`Body::decode`] for one of several bodies sharing an inflate budget (the messages of
    /// one container): what a `gzip_packed` inflates to is taken from `budget`.
    pub fn decode_within(bytes: &[u8], budget: &mut usize) -> Result<Self, EnvelopeError> {
        let max_unpacked = *budget;
        if constructor_id(bytes) == Some(gzip_packed::GZIP_PACKED_ID) {
            let inner = gzip_packed::unpack(bytes, max_unpacked)?;
            *budget = budget.saturating_sub(inner.len());
            return match constructor_id(&inner) {
                Some(gzip_packed::GZIP_PACKED_ID) => Err(EnvelopeError::Nested {
                    inner: "gzip_packed",
                    outer: "gzip_packed",
                }),
                Some(container::MSG_CONTAINER_ID | container::MSG_COPY_ID) => {
                    Err(EnvelopeError::Nested {
                        inner: "a container",
                        outer: "gzip_packed",
                    })
                }
                _ => Self::decode_unpacked(&inner, *budget),
            };
        }
        Self::decode_unpacked(bytes, max_unpacked)
    }

    fn decode_unpacked(bytes: &[u8], max_unpacked: usize) -> Result<Self, EnvelopeError> {
        let Some(id) = constructor_id(bytes) else {
            return Err(too_short("message body", bytes.len()));
        };
        let body = match id {
            container::MSG_CONTAINER_ID => Self::Container(MsgContainer::from_bytes(bytes)?),
            container::MSG_COPY_ID => Self::Copy(container::decode_msg_copy(bytes)?),
            rpc_result::RPC_RESULT_ID => {
                Self::RpcResult(RpcResult::from_bytes(bytes, max_unpacked)?)
            }
            future_salts::FUTURE_SALTS_ID => Self::FutureSalts(FutureSalts::from_bytes(bytes)?),
            t::MsgsAck::CONSTRUCTOR_ID => {
                Self::MsgsAck(decode_ids(bytes, "msgs_ack", |m: &t::MsgsAck| &m.msg_ids)?)
            }
            t::MsgsStateReq::CONSTRUCTOR_ID => Self::MsgsStateReq(decode_ids(
                bytes,
                "msgs_state_req",
                |m: &t::MsgsStateReq| &m.msg_ids,
            )?),
            t::MsgResendReq::CONSTRUCTOR_ID => Self::MsgResendReq(decode_ids(
                bytes,
                "msg_resend_req",
                |m: &t::MsgResendReq| &m.msg_ids,
            )?),
            t::MsgResendAnsReq::CONSTRUCTOR_ID => Self::MsgResendAnsReq(decode_ids(
                bytes,
                "msg_resend_ans_req",
                |m: &t::MsgResendAnsReq| &m.msg_ids,
            )?),
            t::MsgsAllInfo::CONSTRUCTOR_ID => {
                Self::MsgsAllInfo(decode_ids(bytes, "msgs_all_info", |m: &t::MsgsAllInfo| {
                    &m.msg_ids
                })?)
            }
            t::MsgsStateInfo::CONSTRUCTOR_ID => {
                Self::MsgsStateInfo(decode(bytes, "msgs_state_info")?)
            }
            t::MsgDetailedInfo::CONSTRUCTOR_ID | t::MsgNewDetailedInfo::CONSTRUCTOR_ID => {
                Self::MsgDetailedInfo(decode(bytes, "msg_detailed_info")?)
            }
            t::BadMsgNotification::CONSTRUCTOR_ID => {
                Self::BadMsgNotification(decode(bytes, "bad_msg_notification")?)
            }
            t::BadServerSalt::CONSTRUCTOR_ID => {
                Self::BadServerSalt(decode(bytes, "bad_server_salt")?)
            }
            t::NewSessionCreated::CONSTRUCTOR_ID => {
                Self::NewSessionCreated(decode(bytes, "new_session_created")?)
            }
            f::Ping::CONSTRUCTOR_ID => Self::Ping(decode(bytes, "ping")?),
            f::PingDelayDisconnect::CONSTRUCTOR_ID => {
                Self::PingDelayDisconnect(decode(bytes, "ping_delay_disconnect")?)
            }
            t::Pong::CONSTRUCTOR_ID => Self::Pong(decode(bytes, "pong")?),
            f::GetFutureSalts::CONSTRUCTOR_ID => {
                Self::GetFutureSalts(decode(bytes, "get_future_salts")?)
            }
            f::DestroySession::CONSTRUCTOR_ID => {
                Self::DestroySession(decode(bytes, "destroy_session")?)
            }
            t::DestroySessionOk::CONSTRUCTOR_ID | t::DestroySessionNone::CONSTRUCTOR_ID => {
                Self::DestroySessionRes(decode(bytes, "destroy_session_ok/none")?)
            }
            f::RpcDropAnswer::CONSTRUCTOR_ID => {
                Self::RpcDropAnswer(decode(bytes, "rpc_drop_answer")?)
            }
            f::HttpWait::CONSTRUCTOR_ID => Self::HttpWait(decode(bytes, "http_wait")?),
            f::DestroyAuthKey::CONSTRUCTOR_ID => {
                decode::<f::DestroyAuthKey>(bytes, "destroy_auth_key")?;
                Self::DestroyAuthKey
            }
            t::DestroyAuthKeyOk::CONSTRUCTOR_ID
            | t::DestroyAuthKeyNone::CONSTRUCTOR_ID
            | t::DestroyAuthKeyFail::CONSTRUCTOR_ID => {
                Self::DestroyAuthKeyRes(decode(bytes, "destroy_auth_key_*")?)
            }
            gzip_packed::GZIP_PACKED_ID => {
                return Err(EnvelopeError::Nested {
                    inner: "gzip_packed",
                    outer: "gzip_packed",
                })
            }
            _ => Self::Other(bytes.to_vec()),
        };
        Ok(body)
    }

    /// The TL name of a service message, or `None` for [`Body::Other`].
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            Self::Container(_) => "msg_container",
            Self::Copy(_) => "msg_copy",
            Self::RpcResult(_) => "rpc_result",
            Self::FutureSalts(_) => "future_salts",
            Self::MsgsAck(_) => "msgs_ack",
            Self::BadMsgNotification(_) => "bad_msg_notification",
            Self::BadServerSalt(_) => "bad_server_salt",
            Self::NewSessionCreated(_) => "new_session_created",
            Self::Ping(_) => "ping",
            Self::PingDelayDisconnect(_) => "ping_delay_disconnect",
            Self::Pong(_) => "pong",
            Self::GetFutureSalts(_) => "get_future_salts",
            Self::DestroySession(_) => "destroy_session",
            Self::DestroySessionRes(res) => res.name(),
            Self::MsgsStateReq(_) => "msgs_state_req",
            Self::MsgsStateInfo(_) => "msgs_state_info",
            Self::MsgsAllInfo(_) => "msgs_all_info",
            Self::MsgDetailedInfo(info) => info.name(),
            Self::MsgResendReq(_) => "msg_resend_req",
            Self::MsgResendAnsReq(_) => "msg_resend_ans_req",
            Self::RpcDropAnswer(_) => "rpc_drop_answer",
            Self::HttpWait(_) => "http_wait",
            Self::DestroyAuthKey => "destroy_auth_key",
            Self::DestroyAuthKeyRes(res) => res.name(),
            Self::Other(_) => return None,
        })
    }
}

/// The constructor id at the start of a serialized object, if it has one.
pub fn constructor_id(object: &[u8]) -> Option<u32> {
    let id: [u8; 4] = object.get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(id))
}

fn decode<T: TlRead>(bytes: &[u8], what: &'static str) -> Result<T, EnvelopeError> {
    T::from_bytes(bytes).map_err(decoding(what))
}

/// `what` (an object) is shorter than a constructor id.
fn too_short(what: &'static str, len: usize) -> EnvelopeError {
    EnvelopeError::Decode {
        what,
        source: DecodeError::Truncated {
            needed: 4,
            remaining: len,
            at: 0,
        },
    }
}

/// Turns a TL decoding error inside `what` into an [`EnvelopeError`].
fn decoding(what: &'static str) -> impl Fn(DecodeError) -> EnvelopeError + Copy {
    move |source| EnvelopeError::Decode { what, source }
}

/// A reader over `bytes` past its constructor id, which must be `id` (`what` names it).
fn reader_past_id<'a>(
    bytes: &'a [u8],
    id: u32,
    what: &'static str,
) -> Result<Reader<'a>, EnvelopeError> {
    let mut reader = Reader::new(bytes);
    reader
        .expect_constructor(id, what)
        .map_err(decoding(what))?;
    Ok(reader)
}

/// Decodes a message that lists msg_ids, of which there may be at most [`MAX_IDS`].
fn decode_ids<T: TlRead>(
    bytes: &[u8],
    what: &'static str,
    ids: impl Fn(&T) -> &[i64],
) -> Result<T, EnvelopeError> {
    let message = decode::<T>(bytes, what)?;
    let count = ids(&message).len();
    if count > MAX_IDS {
        return Err(EnvelopeError::TooManyItems {
            what,
            count,
            max: MAX_IDS,
        });
    }
    Ok(message)
}
