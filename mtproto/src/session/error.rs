//! Why the server did not process a client message, and what it told the client.
//!
//! "In certain cases, a server may notify a client that its incoming message was ignored for
//! whatever reason. Note that such a notification cannot be generated unless a message is
//! correctly decoded by the server." (core.telegram.org/mtproto/service_messages_about_messages)
//! The codes are grouped by `error_code >> 4`: 1x msg_id, 2x seq_no, 3x salt, 4x container.
//! Some refusals have no notification: a duplicate is simply ignored (or answered again), a
//! service message that does not decode is dropped, and a call whose wrappers do not decode
//! is answered with `rpc_error` 400 `INPUT_FETCH_FAIL`.

use super::invocation::InvocationError;
use super::msg_id::MsgIdRule;
use super::seq_no::SeqNoRule;
use crate::service_messages::EnvelopeError;

/// A client message the session refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("msg_id {msg_id:#x} is not divisible by 4")]
    MsgIdNotDivisibleBy4 { msg_id: i64 },
    #[error("msg_id {msg_id:#x} is too far behind the server's clock")]
    MsgIdTooLow { msg_id: i64 },
    #[error("msg_id {msg_id:#x} is too far ahead of the server's clock")]
    MsgIdTooHigh { msg_id: i64 },
    #[error("container msg_id {msg_id:#x} was already used by a message")]
    ContainerMsgIdReused { msg_id: i64 },
    #[error("msg_id {msg_id:#x} is below the ones the session still remembers")]
    MsgIdTooOld { msg_id: i64 },
    #[error("seq_no {seq_no} is too low for its msg_id")]
    SeqNoTooLow { seq_no: i32 },
    #[error("seq_no {seq_no} is too high for its msg_id")]
    SeqNoTooHigh { seq_no: i32 },
    #[error("seq_no {seq_no} is odd, but {body} is not content-related")]
    EvenSeqNoExpected { seq_no: i32, body: &'static str },
    #[error("seq_no {seq_no} is even, but an API call is content-related")]
    OddSeqNoExpected { seq_no: i32 },
    #[error("server salt {salt:#x} is not valid now")]
    BadServerSalt { salt: i64 },
    #[error("invalid container: {0}")]
    InvalidContainer(ContainerError),
    #[error("msg_id {msg_id:#x} was already received")]
    Duplicate { msg_id: i64 },
    #[error("undecodable message: {0}")]
    Malformed(EnvelopeError),
    #[error("undecodable call wrappers: {0}")]
    MalformedCall(InvocationError),
    #[error("{name} is sent by servers, not clients")]
    UnexpectedFromClient { name: &'static str },
}

/// What is wrong with a container as a whole (error 64).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    #[error("{0}")]
    Envelope(EnvelopeError),
    #[error("message {inner:#x} is not below the container's msg_id {container:#x}")]
    InnerMsgIdNotBelow { inner: i64, container: i64 },
    #[error("message {index} is itself a container")]
    Nested { index: usize },
}

impl InboundError {
    /// The `bad_msg_notification` (or, for 48, `bad_server_salt`) error_code the client is
    /// sent, if any.
    pub fn error_code(&self) -> Option<i32> {
        Some(match self {
            Self::MsgIdTooLow { .. } => 16,
            Self::MsgIdTooHigh { .. } => 17,
            Self::MsgIdNotDivisibleBy4 { .. } => 18,
            Self::ContainerMsgIdReused { .. } => 19,
            Self::MsgIdTooOld { .. } => 20,
            Self::SeqNoTooLow { .. } => 32,
            Self::SeqNoTooHigh { .. } => 33,
            Self::EvenSeqNoExpected { .. } => 34,
            Self::OddSeqNoExpected { .. } => 35,
            Self::BadServerSalt { .. } => 48,
            Self::InvalidContainer(_) => 64,
            Self::Duplicate { .. }
            | Self::Malformed(_)
            | Self::MalformedCall(_)
            | Self::UnexpectedFromClient { .. } => return None,
        })
    }

    pub(crate) fn from_msg_id_rule(rule: MsgIdRule, msg_id: i64) -> Self {
        match rule {
            MsgIdRule::NotDivisibleBy4 => Self::MsgIdNotDivisibleBy4 { msg_id },
            MsgIdRule::TooLow => Self::MsgIdTooLow { msg_id },
            MsgIdRule::TooHigh => Self::MsgIdTooHigh { msg_id },
        }
    }

    pub(crate) fn from_seq_no_rule(rule: SeqNoRule, seq_no: i32, body: &'static str) -> Self {
        match rule {
            SeqNoRule::TooLow => Self::SeqNoTooLow { seq_no },
            SeqNoRule::TooHigh => Self::SeqNoTooHigh { seq_no },
            SeqNoRule::EvenExpected => Self::EvenSeqNoExpected { seq_no, body },
            SeqNoRule::OddExpected => Self::OddSeqNoExpected { seq_no },
        }
    }
}
