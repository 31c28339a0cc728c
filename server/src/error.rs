//! # Errors, Telegram-shaped
//!
//! Telegram answers a failed call with `rpc_error#2144ca19 error_code:int
//! error_message:string`. Over HTTP the mock sends the same object as JSON, with the HTTP
//! status equal to `error_code`, plus one field of its own, `detail`, a sentence for the
//! human reading the log:
//!
//! ```json
//! {"_":"rpc_error","error_code":400,"error_message":"ENCRYPTION_ID_INVALID",
//!  "detail":"no secret chat 7 is visible to this device"}
//! ```
//!
//! `error_message` is Telegram's own string wherever Telegram has one (the tables in
//! `errors.md`). The few the mock had to invent are marked *invented* below and listed in
//! `docs/server.md`. Every handler returns this one type; [`IntoResponse`] is the one
//! place that turns it into HTTP. A failed call changes nothing on the server.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Every way a call to the mock can fail.
///
/// [`ErrorKind`] is the same list without the details: what a method declares it may
/// answer (the OpenAPI document's error responses) and what fixes the code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(ErrorKind), derive(Hash, strum::VariantArray))]
pub enum RpcError {
    // ---- the request itself -------------------------------------------------------------
    /// No such method under `/api/`.
    #[error("there is no method {method:?}")]
    InputMethodInvalid { method: String },
    /// *Invented string* (Telegram-style): the body is not valid JSON for the method —
    /// malformed JSON, a wrong type, a missing or unknown field, bad base64.
    #[error("{detail}")]
    InputRequestInvalid { detail: String },
    /// The body is larger than `--max-body-bytes`. Telegram's string; the mock answers
    /// with HTTP 413 rather than Telegram's 400 so that HTTP tooling understands it.
    #[error("the request body exceeds the limit of {limit} bytes")]
    InputRequestTooLong { limit: usize },
    /// No bearer token, or one that stands for no signed-in device.
    #[error("missing or unknown bearer token")]
    AuthKeyUnregistered,
    /// *Invented*: the admin surface was called without its token.
    #[error("missing or wrong admin token")]
    AdminTokenInvalid,
    /// *Invented*: an admin route named a fault rule, hostile mode or intercepted chat
    /// that does not exist. HTTP 404, so tools tell it from a malformed request.
    #[error("there is no {what} {id}")]
    AdminObjectMissing { what: &'static str, id: i64 },

    // ---- sign-in and users (the mock's inventions) ---------------------------------------
    /// A username or device name outside `[A-Za-z0-9_]{1,32}` (Telegram's string).
    #[error("{what} {got:?} must be 1 to 32 characters from A-Z, a-z, 0-9 and _")]
    UsernameInvalid { what: &'static str, got: String },
    /// `contacts.resolveUsername` for a user that never signed in (Telegram's string).
    #[error("no user is called {username:?}")]
    UsernameNotOccupied { username: String },
    /// *Invented*: a new device would exceed `--max-devices-per-user`.
    #[error("user already has the maximum of {max} devices")]
    DevicesTooMany { max: usize },

    // ---- getDhConfig ---------------------------------------------------------------------
    #[error("random_length {got} is outside 0..={max}")]
    RandomLengthInvalid { got: i32, max: usize },

    // ---- the key exchange ----------------------------------------------------------------
    #[error("g_a fails the range checks 1 < g_a < p-1 and 2^1984 <= g_a <= p - 2^1984")]
    DhGaInvalid,
    /// Not in Telegram's documentation: a third-party server's string, used for a g_b that
    /// fails the same checks as g_a.
    #[error("g_b fails the range checks 1 < g_b < p-1 and 2^1984 <= g_b <= p - 2^1984")]
    DhGbInvalid,
    #[error("no user {user_id} with that access_hash is visible to this user")]
    UserIdInvalid { user_id: i64 },
    /// A second `messages.requestEncryption` with the id of a live chat that is not this
    /// device's identical earlier request.
    #[error("random_id {random_id} is already the id of a live secret chat")]
    RandomIdDuplicate { random_id: i64 },
    #[error("random_id 0 cannot be a secret chat id")]
    RandomIdInvalid,
    #[error("chat_id is 0")]
    ChatIdEmpty,
    #[error("no secret chat {chat_id} with that access_hash is usable by this device")]
    ChatIdInvalid { chat_id: i32 },
    #[error("secret chat {chat_id} was already accepted")]
    EncryptionAlreadyAccepted { chat_id: i32 },
    #[error("secret chat {chat_id} was already discarded")]
    EncryptionAlreadyDeclined { chat_id: i32 },
    #[error("no secret chat {chat_id} is visible to this device")]
    EncryptionIdInvalid { chat_id: i32 },
    #[error("secret chat {chat_id} was discarded")]
    EncryptionDeclined { chat_id: i32 },

    // ---- sending -------------------------------------------------------------------------
    /// The blob cannot be `key_fingerprint ‖ msg_key ‖ ciphertext`: shorter than 8 + 16 + 16
    /// bytes or a ciphertext that is not whole AES blocks. (The server never decrypts; this
    /// is only a length check.)
    #[error("data of {len} bytes is not key_fingerprint(8) + msg_key(16) + a whole number of 16-byte blocks")]
    DataInvalid { len: usize },
    #[error("data of {len} bytes exceeds the limit of {max}")]
    DataTooLong { len: usize, max: usize },
    /// *Invented*: the receiving device already holds `--max-queue-len` unacknowledged
    /// messages. Nothing was queued; retry after the receiver catches up.
    #[error("the receiving device has {max} unacknowledged messages queued")]
    PeerQueueFull { max: usize },

    // ---- files ---------------------------------------------------------------------------
    /// Telegram's own spelling (sic).
    #[error("no uploaded parts or stored file match file id {id}")]
    FileEmtpy { id: i64 },
    #[error("{detail}")]
    FilePartsInvalid { detail: String },
    #[error("part {part} was never uploaded")]
    FilePartMissing { part: i32 },
    #[error("md5_checksum does not match the uploaded bytes")]
    Md5ChecksumInvalid,
    #[error("the part is empty")]
    FilePartEmpty,
    #[error("part number {part} is outside 0..{max}")]
    FilePartInvalid { part: i32, max: i32 },
    #[error("a part of {len} bytes exceeds 524288")]
    FilePartTooBig { len: usize },
    #[error("part size {len} must be a multiple of 1024 that divides 524288")]
    FilePartSizeInvalid { len: usize },
    #[error("part size {len} differs from the file's part size {part_size}")]
    FilePartSizeChanged { len: usize, part_size: usize },
    #[error("no encrypted file with that id and access_hash")]
    FileIdInvalid,
    #[error("limit {limit} must be positive, a multiple of 4096 dividing 1048576, and stay within one 1 MiB block from offset")]
    LimitInvalid { limit: i32 },
    #[error("offset {offset} must be a non-negative multiple of 4096")]
    OffsetInvalid { offset: i64 },

    // ---- updates -------------------------------------------------------------------------
    #[error("max_qts {max_qts} is outside 1..={qts}")]
    MaxQtsInvalid { max_qts: i32, qts: i32 },
    #[error("max_date {max_date} is in the future (now {now})")]
    MaxDateInvalid { max_date: i32, now: i32 },
    /// `pts` or `qts` ahead of anything this device was given (e.g. after a reset): the
    /// client must call `updates.getState`.
    #[error("{field} {got} is ahead of this device's {field} {current}")]
    PersistentTimestampInvalid {
        field: &'static str,
        got: i32,
        current: i32,
    },

    // ---- the MTProto door -----------------------------------------------------------------
    /// `invokeWithLayer` named a layer whose schema the door does not have (Telegram's
    /// string).
    #[error("layer {layer} is not served; the door speaks layers {served}")]
    ConnectionLayerInvalid { layer: i32, served: &'static str },
    /// Sign-in by phone: not a phone number.
    #[error("{phone:?} is not a phone number of 7 to 15 digits")]
    PhoneNumberInvalid { phone: String },
    /// `auth.signUp` for a phone that has an account.
    #[error("phone {phone} has an account already: sign in")]
    PhoneNumberOccupied { phone: String },
    #[error("no phone_code was given")]
    PhoneCodeEmpty,
    #[error("wrong code for {phone}")]
    PhoneCodeInvalid { phone: String },
    #[error("no phone_code_hash was given")]
    PhoneCodeHashEmpty,
    /// The phone_code_hash is not the one auth.sendCode gave for this phone.
    #[error("phone_code_hash is not the one auth.sendCode gave for {phone}")]
    PhoneCodeExpired { phone: String },
    #[error("first_name must be 1 to 64 characters")]
    FirstnameInvalid,
    #[error("username {username:?} belongs to another user")]
    UsernameOccupied { username: String },
    #[error("the username is {username:?} already")]
    UsernameNotModified { username: String },

    /// `auth.bindTempAuthKey`: the binding message does not check out under the permanent
    /// key (unknown key, bad msg_key, fields that do not repeat the call's).
    #[error("{detail}")]
    EncryptedMessageInvalid { detail: String },
    /// `auth.bindTempAuthKey` sent under a permanent key.
    #[error("auth.bindTempAuthKey must be sent under a temporary auth key")]
    TempAuthKeyEmpty,
    /// `auth.bindTempAuthKey` for a temporary key bound already.
    #[error("this temporary key is bound already")]
    TempAuthKeyAlreadyBound,

    // ---- the fault engine ----------------------------------------------------------------
    /// *Injected* by a fault rule's `error` action (`docs/faults.md`): the code and
    /// message the test operator chose, e.g. `420 FLOOD_WAIT_5` or `500 INTERNAL`.
    #[error("injected by fault rule {rule}")]
    Injected {
        rule: u64,
        code: u16,
        message: String,
    },
}

impl RpcError {
    /// Which error this is, without its details.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from(self)
    }

    /// The `error_code`, which is also the HTTP status.
    pub fn error_code(&self) -> u16 {
        match self {
            RpcError::Injected { code, .. } => *code,
            _ => self.kind().error_code(),
        }
    }

    /// The `error_message`: Telegram's upper-case string.
    pub fn error_message(&self) -> Cow<'static, str> {
        match self {
            RpcError::FilePartMissing { part } => Cow::Owned(format!("FILE_PART_{part}_MISSING")),
            RpcError::Injected { message, .. } => Cow::Owned(message.clone()),
            _ => Cow::Borrowed(self.kind().error_message()),
        }
    }

    /// A malformed-request error carrying a human explanation.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        RpcError::InputRequestInvalid {
            detail: detail.into(),
        }
    }

    /// The JSON body: `{"_":"rpc_error","error_code":…,"error_message":…,"detail":…}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "_": "rpc_error",
            "error_code": self.error_code(),
            "error_message": self.error_message(),
            "detail": self.to_string(),
        })
    }
}

impl ErrorKind {
    /// The `error_code` (an injected error's is chosen by its rule; 500 stands for "any").
    pub fn error_code(self) -> u16 {
        match self {
            ErrorKind::InputRequestTooLong => 413,
            ErrorKind::AuthKeyUnregistered | ErrorKind::AdminTokenInvalid => 401,
            ErrorKind::AdminObjectMissing => 404,
            ErrorKind::Injected => 500,
            _ => 400,
        }
    }

    /// The `error_message`. Two are templates: `FILE_PART_X_MISSING` (X is the part
    /// number, as Telegram's documentation writes it) and `INJECTED` (whatever the fault
    /// rule chose).
    pub fn error_message(self) -> &'static str {
        match self {
            ErrorKind::InputMethodInvalid => "INPUT_METHOD_INVALID",
            ErrorKind::InputRequestInvalid => "INPUT_REQUEST_INVALID",
            ErrorKind::InputRequestTooLong => "INPUT_REQUEST_TOO_LONG",
            ErrorKind::AuthKeyUnregistered => "AUTH_KEY_UNREGISTERED",
            ErrorKind::AdminTokenInvalid => "ADMIN_TOKEN_INVALID",
            ErrorKind::AdminObjectMissing => "ADMIN_OBJECT_MISSING",
            ErrorKind::UsernameInvalid => "USERNAME_INVALID",
            ErrorKind::UsernameNotOccupied => "USERNAME_NOT_OCCUPIED",
            ErrorKind::DevicesTooMany => "DEVICES_TOO_MANY",
            ErrorKind::RandomLengthInvalid => "RANDOM_LENGTH_INVALID",
            ErrorKind::DhGaInvalid => "DH_G_A_INVALID",
            ErrorKind::DhGbInvalid => "DH_G_B_INVALID",
            ErrorKind::UserIdInvalid => "USER_ID_INVALID",
            ErrorKind::RandomIdDuplicate => "RANDOM_ID_DUPLICATE",
            ErrorKind::RandomIdInvalid => "RANDOM_ID_INVALID",
            ErrorKind::ChatIdEmpty => "CHAT_ID_EMPTY",
            ErrorKind::ChatIdInvalid => "CHAT_ID_INVALID",
            ErrorKind::EncryptionAlreadyAccepted => "ENCRYPTION_ALREADY_ACCEPTED",
            ErrorKind::EncryptionAlreadyDeclined => "ENCRYPTION_ALREADY_DECLINED",
            ErrorKind::EncryptionIdInvalid => "ENCRYPTION_ID_INVALID",
            ErrorKind::EncryptionDeclined => "ENCRYPTION_DECLINED",
            ErrorKind::DataInvalid => "DATA_INVALID",
            ErrorKind::DataTooLong => "DATA_TOO_LONG",
            ErrorKind::PeerQueueFull => "PEER_QUEUE_FULL",
            ErrorKind::FileEmtpy => "FILE_EMTPY",
            ErrorKind::FilePartsInvalid => "FILE_PARTS_INVALID",
            ErrorKind::FilePartMissing => "FILE_PART_X_MISSING",
            ErrorKind::Md5ChecksumInvalid => "MD5_CHECKSUM_INVALID",
            ErrorKind::FilePartEmpty => "FILE_PART_EMPTY",
            ErrorKind::FilePartInvalid => "FILE_PART_INVALID",
            ErrorKind::FilePartTooBig => "FILE_PART_TOO_BIG",
            ErrorKind::FilePartSizeInvalid => "FILE_PART_SIZE_INVALID",
            ErrorKind::FilePartSizeChanged => "FILE_PART_SIZE_CHANGED",
            ErrorKind::FileIdInvalid => "FILE_ID_INVALID",
            ErrorKind::LimitInvalid => "LIMIT_INVALID",
            ErrorKind::OffsetInvalid => "OFFSET_INVALID",
            ErrorKind::MaxQtsInvalid => "MAX_QTS_INVALID",
            ErrorKind::MaxDateInvalid => "MAX_DATE_INVALID",
            ErrorKind::PersistentTimestampInvalid => "PERSISTENT_TIMESTAMP_INVALID",
            ErrorKind::ConnectionLayerInvalid => "CONNECTION_LAYER_INVALID",
            ErrorKind::PhoneNumberInvalid => "PHONE_NUMBER_INVALID",
            ErrorKind::PhoneNumberOccupied => "PHONE_NUMBER_OCCUPIED",
            ErrorKind::PhoneCodeEmpty => "PHONE_CODE_EMPTY",
            ErrorKind::PhoneCodeInvalid => "PHONE_CODE_INVALID",
            ErrorKind::PhoneCodeHashEmpty => "PHONE_CODE_HASH_EMPTY",
            ErrorKind::PhoneCodeExpired => "PHONE_CODE_EXPIRED",
            ErrorKind::FirstnameInvalid => "FIRSTNAME_INVALID",
            ErrorKind::UsernameOccupied => "USERNAME_OCCUPIED",
            ErrorKind::UsernameNotModified => "USERNAME_NOT_MODIFIED",
            ErrorKind::EncryptedMessageInvalid => "ENCRYPTED_MESSAGE_INVALID",
            ErrorKind::TempAuthKeyEmpty => "TEMP_AUTH_KEY_EMPTY",
            ErrorKind::TempAuthKeyAlreadyBound => "TEMP_AUTH_KEY_ALREADY_BOUND",
            ErrorKind::Injected => "INJECTED",
        }
    }
}

impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        tracing::debug!(error_message = %self.error_message(), detail = %self, "rpc_error");
        (status, axum::Json(self.to_json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_an_rpc_error_with_code_message_and_detail() {
        let body = RpcError::EncryptionDeclined { chat_id: 7 }.to_json();
        assert_eq!(
            body,
            serde_json::json!({
                "_": "rpc_error",
                "error_code": 400,
                "error_message": "ENCRYPTION_DECLINED",
                "detail": "secret chat 7 was discarded",
            })
        );
    }

    #[test]
    fn missing_part_names_the_part_in_the_message() {
        assert_eq!(
            RpcError::FilePartMissing { part: 3 }.error_message(),
            "FILE_PART_3_MISSING"
        );
    }

    #[test]
    fn http_status_equals_error_code() {
        let response = RpcError::AuthKeyUnregistered.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = RpcError::InputRequestTooLong { limit: 1 }.into_response();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
