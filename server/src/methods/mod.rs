//! # The methods: one file each, all the same shape
//!
//! Every Telegram method the mock serves is `POST /api/<method>` and lives in the file
//! named after it. Each file has the same three steps (the mini-redis rhythm):
//!
//! 1. **parse** — done by the extractors: [`Caller`] for the device, [`Call<F>`] for the
//!    body as the generated TL function type `F`;
//! 2. **apply** — a plain function
//!    `apply(&Server, &DeviceRecord, F) -> Result<answer, RpcError>` that checks everything
//!    *before* changing anything, so a failed call changes nothing;
//! 3. **answer** — the TL result's `to_json()`.
//!
//! The mock's own calls (`auth.signIn`, `auth.logOut`, `contacts.resolveUsername`) are
//! inventions, declared in `common/tl/mock_api.tl`. `GET /api/updates.stream` (server-sent
//! events) is in [`updates_stream`]. Around every call, [`answer_hook`] lets the fault
//! engine answer instead or rewrite the answer.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use dashmap::mapref::one::RefMut;
use secretchat_common::tl::api::{enums, functions};
use secretchat_common::tl::json::AsJson;
use secretchat_common::tl::TlJson;

use crate::chats::{ChatRecord, Role};
use crate::device::DeviceRecord;
use crate::error::{ErrorKind, RpcError};
use crate::extract::Method;
use crate::state::{AppState, Server};

pub mod answer_hook;
pub mod auth_log_out;
pub mod auth_sign_in;
pub mod contacts_resolve_username;
pub mod input_file;
pub mod messages_accept_encryption;
pub mod messages_discard_encryption;
pub mod messages_get_dh_config;
pub mod messages_read_encrypted_history;
pub mod messages_received_queue;
pub mod messages_report_encrypted_spam;
pub mod messages_request_encryption;
pub mod messages_send_encrypted;
pub mod messages_send_encrypted_file;
pub mod messages_send_encrypted_service;
pub mod messages_set_encrypted_typing;
pub mod messages_upload_encrypted_file;
pub mod relay;
pub mod updates_get_difference;
pub mod updates_get_state;
pub mod updates_stream;
pub mod upload_get_file;
pub mod upload_save_big_file_part;
pub mod upload_save_file_part;

pub use crate::extract::{Call, Caller};

/// Implements [`Method`] for each served function and lists them in [`METHOD_LINES`] and
/// [`METHOD_DOCS`] (each module's [`MethodDoc`]); the ones marked `[device]` — a device's
/// call with a plain `apply(server, device, call)` — are also run by [`apply_json`].
macro_rules! methods {
    ($($ty:ident => $module:ident $([$device:ident])?),* $(,)?) => {
        $(impl Method for functions::$ty {
            const NAME: &'static str = functions::$ty::NAME;
        })*

        /// Every `POST /api/<method>` route as (method name, TL line): the router's and
        /// the OpenAPI document's list.
        pub const METHOD_LINES: &[(&str, &str)] = &[
            $((functions::$ty::NAME, functions::$ty::TL_LINE)),*
        ];

        /// What the OpenAPI document says of each method beyond its TL line, in the order
        /// of [`METHOD_LINES`].
        pub const METHOD_DOCS: &[(&str, &MethodDoc)] = &[
            $((functions::$ty::NAME, &$module::DOC)),*
        ];

        /// The methods [`apply_json`] runs.
        pub fn device_method_names() -> impl Iterator<Item = &'static str> {
            [$($({ stringify!($device); functions::$ty::NAME },)?)*].into_iter()
        }

        /// **The other doors' way in**: runs the method called `method` for `device`, with
        /// its fields as the HTTP door's JSON (`"_"` may be left out), and answers the
        /// result as JSON — the same parse and the same `apply` as `POST /api/<method>`.
        /// `None` for a method that is not one of the device methods (sign-in, log-out and
        /// finding users belong to each door; `updates.getDifference` has
        /// [`updates_get_difference::apply`] for its long-poll).
        pub fn apply_json(
            server: &Server,
            device: &DeviceRecord,
            method: &str,
            fields: serde_json::Map<String, serde_json::Value>,
        ) -> Option<Result<serde_json::Value, RpcError>> {
            $($(
                stringify!($device);
                if method == functions::$ty::NAME {
                    return Some(
                        crate::extract::parse_call::<functions::$ty>(fields)
                            .and_then(|call| $module::apply(server, device, call))
                            .map(|answer| serde_json::to_value(AsJson(&answer)).unwrap_or_default()),
                    );
                }
            )?)*
            None
        }
    };
}

methods!(
    AuthSignIn => auth_sign_in,
    AuthLogOut => auth_log_out,
    ContactsResolveUsername => contacts_resolve_username,
    MessagesGetDhConfig => messages_get_dh_config [device],
    MessagesRequestEncryption => messages_request_encryption [device],
    MessagesAcceptEncryption => messages_accept_encryption [device],
    MessagesDiscardEncryption => messages_discard_encryption [device],
    MessagesSendEncrypted => messages_send_encrypted [device],
    MessagesSendEncryptedService => messages_send_encrypted_service [device],
    MessagesSendEncryptedFile => messages_send_encrypted_file [device],
    MessagesUploadEncryptedFile => messages_upload_encrypted_file [device],
    MessagesReadEncryptedHistory => messages_read_encrypted_history [device],
    MessagesSetEncryptedTyping => messages_set_encrypted_typing [device],
    MessagesReportEncryptedSpam => messages_report_encrypted_spam [device],
    MessagesReceivedQueue => messages_received_queue [device],
    UpdatesGetState => updates_get_state [device],
    UpdatesGetDifference => updates_get_difference,
    UploadSaveFilePart => upload_save_file_part [device],
    UploadSaveBigFilePart => upload_save_big_file_part [device],
    UploadGetFile => upload_get_file [device],
);

/// The group a method is listed under in the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Sign-in, log-out, finding users (the mock's inventions).
    Auth,
    /// The key exchange and the chat's messages.
    SecretChats,
    /// Update queues: state, difference, acknowledgement, the event stream.
    Updates,
    /// Uploads, encrypted files, downloads.
    Files,
}

/// What a method's file declares about it for the OpenAPI document.
#[derive(Debug)]
pub struct MethodDoc {
    pub tag: Tag,
    /// One line for a reader.
    pub summary: &'static str,
    /// The errors of its `apply` (and of the helpers it calls), beyond the ones every
    /// method can answer (`INPUT_REQUEST_INVALID`, `INPUT_REQUEST_TOO_LONG`, and
    /// `AUTH_KEY_UNREGISTERED` where a token is needed). The contract tests check that
    /// every error they see a method answer is declared here.
    pub errors: &'static [&'static [ErrorKind]],
    /// A request body that works against a fresh server once the examples before it ran
    /// (alice signed in; state-dependent calls answer their documented error).
    pub example: &'static str,
}

impl MethodDoc {
    /// The declared errors, flattened.
    pub fn error_kinds(&self) -> impl Iterator<Item = ErrorKind> + '_ {
        self.errors.iter().flat_map(|list| list.iter().copied())
    }
}

/// The document of a served method.
pub fn method_doc(method: &str) -> Option<&'static MethodDoc> {
    METHOD_DOCS
        .iter()
        .find(|(name, _)| *name == method)
        .map(|(_, doc)| *doc)
}

/// The names of every `POST /api/<method>` route.
pub fn methods() -> impl Iterator<Item = &'static str> {
    METHOD_LINES.iter().map(|(name, _)| *name)
}

/// The TL line of a served method.
pub fn tl_line(method: &str) -> Option<&'static str> {
    METHOD_LINES
        .iter()
        .find(|(name, _)| *name == method)
        .map(|(_, line)| *line)
}

/// The client API's routes (without fallback and body limit, added by [`crate::app`]).
pub fn routes() -> Router<AppState> {
    fn path(name: &str) -> String {
        format!("/api/{name}")
    }
    Router::new()
        .route(
            &path(functions::AuthSignIn::NAME),
            post(auth_sign_in::handle),
        )
        .route(
            &path(functions::AuthLogOut::NAME),
            post(auth_log_out::handle),
        )
        .route(
            &path(functions::ContactsResolveUsername::NAME),
            post(contacts_resolve_username::handle),
        )
        .route(
            &path(functions::MessagesGetDhConfig::NAME),
            post(messages_get_dh_config::handle),
        )
        .route(
            &path(functions::MessagesRequestEncryption::NAME),
            post(messages_request_encryption::handle),
        )
        .route(
            &path(functions::MessagesAcceptEncryption::NAME),
            post(messages_accept_encryption::handle),
        )
        .route(
            &path(functions::MessagesDiscardEncryption::NAME),
            post(messages_discard_encryption::handle),
        )
        .route(
            &path(functions::MessagesSendEncrypted::NAME),
            post(messages_send_encrypted::handle),
        )
        .route(
            &path(functions::MessagesSendEncryptedService::NAME),
            post(messages_send_encrypted_service::handle),
        )
        .route(
            &path(functions::MessagesSendEncryptedFile::NAME),
            post(messages_send_encrypted_file::handle),
        )
        .route(
            &path(functions::MessagesUploadEncryptedFile::NAME),
            post(messages_upload_encrypted_file::handle),
        )
        .route(
            &path(functions::MessagesReadEncryptedHistory::NAME),
            post(messages_read_encrypted_history::handle),
        )
        .route(
            &path(functions::MessagesSetEncryptedTyping::NAME),
            post(messages_set_encrypted_typing::handle),
        )
        .route(
            &path(functions::MessagesReportEncryptedSpam::NAME),
            post(messages_report_encrypted_spam::handle),
        )
        .route(
            &path(functions::MessagesReceivedQueue::NAME),
            post(messages_received_queue::handle),
        )
        .route(
            &path(functions::UpdatesGetState::NAME),
            post(updates_get_state::handle),
        )
        .route(
            &path(functions::UpdatesGetDifference::NAME),
            post(updates_get_difference::handle),
        )
        .route(
            &path(functions::UploadSaveFilePart::NAME),
            post(upload_save_file_part::handle),
        )
        .route(
            &path(functions::UploadSaveBigFilePart::NAME),
            post(upload_save_big_file_part::handle),
        )
        .route(
            &path(functions::UploadGetFile::NAME),
            post(upload_get_file::handle),
        )
        .route(updates_stream::PATH, get(updates_stream::handle))
}

/// A TL answer as the JSON response body.
pub fn answer(value: &impl TlJson) -> Response {
    json_response(&AsJson(value), 256)
}

/// A JSON body serialized into a buffer of `size_hint` bytes to start with, so a large
/// answer (a difference carrying many messages) is not copied over and over as it grows.
pub fn json_response(value: &impl serde::Serialize, size_hint: usize) -> Response {
    let mut body = Vec::with_capacity(size_hint);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        // Serializing TL values to memory cannot fail; answer something sane regardless.
        Err(err) => {
            RpcError::bad_request(format!("cannot serialize the answer: {err}")).into_response()
        }
    }
}

/// The chat an `inputEncryptedChat` names, locked for this call, and the caller's role in
/// it; `CHAT_ID_INVALID` if there is no such chat, the device is not a side of it, or the
/// access_hash is not the one its side was given.
pub fn chat_for<'a>(
    server: &'a Server,
    device: &DeviceRecord,
    peer: &enums::InputEncryptedChat,
) -> Result<(RefMut<'a, i32, ChatRecord>, Role), RpcError> {
    let enums::InputEncryptedChat::InputEncryptedChat(peer) = peer;
    let invalid = RpcError::ChatIdInvalid {
        chat_id: peer.chat_id,
    };
    let chat = server.chats.get_mut(&peer.chat_id).ok_or(invalid.clone())?;
    let role = server
        .role_in(&chat, device, peer.access_hash)
        .ok_or(invalid)?;
    Ok((chat, role))
}
