//! # The HTTP/JSON client of the mock server's API
//!
//! Every Telegram method is `POST /api/<method>` with the method's parameters as a JSON
//! object, and the answer is the TL result in its JSON form (DESIGN.md, "The HTTP/JSON
//! API"). [`ApiClient::call`] takes a generated function type from
//! [`secretchat_common::tl::api::functions`], writes it with [`TlJson::to_json`], and reads
//! the answer into the function's result type — no TL shape is written by hand here:
//!
//! ```text
//!   functions::MessagesSendEncrypted{peer, random_id, data}   (ApiFunction: NAME, Result)
//!        │ to_json                                             POST /api/messages.sendEncrypted
//!        ▼                                                     Authorization: Bearer <token>
//!   {"_":"messages.sendEncrypted","peer":{…},"random_id":"…","data":"base64…"}
//!        │                              200 → Result::from_json  (messages.sentEncryptedMessage)
//!        └───────────────────────────── 4xx → ApiError::Rpc{code, message, detail}
//! ```
//!
//! With `--web` a client is [`ApiClient::traced`]: every call is recorded as it leaves
//! (the JSON exactly as sent) and as its answer comes back, in a [`Trace`] the web view
//! draws — this is the one place every call passes, so nothing is missed.
//!
//! Errors keep Telegram's shape: [`ApiError::Rpc`] carries the `error_message` string
//! (`ENCRYPTION_DECLINED`, …) so a scenario can expect it verbatim; a server that cannot
//! be reached is [`ApiError::Transport`], and an answer that is not what the method
//! returns is [`ApiError::Decode`].

use std::time::Duration;

use secretchat_common::tl::api::{enums, functions};
use secretchat_common::tl::TlJson;
use serde_json::Value;

use crate::web::{Lane, Trace};

/// How long to wait for the TCP connection to the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long any call may take beyond its own long-poll timeout.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A generated TL function served as `POST /api/<NAME>`, with the type it answers.
pub trait ApiFunction: TlJson {
    /// The full method name, namespace included (`messages.sendEncrypted`).
    const NAME: &'static str;
    /// What the method returns (`Bool` is `bool`, `Vector<long>` is `Vec<i64>`).
    type Result: TlJson;
}

macro_rules! api_functions {
    ($($function:ident => $result:ty,)*) => {
        $(
            impl ApiFunction for functions::$function {
                const NAME: &'static str = functions::$function::NAME;
                type Result = $result;
            }
        )*
    };
}

api_functions! {
    AuthSignIn => enums::AuthAuthorization,
    AuthLogOut => bool,
    ContactsResolveUsername => enums::User,
    MessagesGetDhConfig => enums::MessagesDhConfig,
    MessagesRequestEncryption => enums::EncryptedChat,
    MessagesAcceptEncryption => enums::EncryptedChat,
    MessagesDiscardEncryption => bool,
    MessagesSetEncryptedTyping => bool,
    MessagesReadEncryptedHistory => bool,
    MessagesSendEncrypted => enums::MessagesSentEncryptedMessage,
    MessagesSendEncryptedFile => enums::MessagesSentEncryptedMessage,
    MessagesSendEncryptedService => enums::MessagesSentEncryptedMessage,
    MessagesReceivedQueue => Vec<i64>,
    MessagesReportEncryptedSpam => bool,
    MessagesUploadEncryptedFile => enums::EncryptedFile,
    UpdatesGetState => enums::UpdatesState,
    UpdatesGetDifference => enums::UpdatesDifference,
    UploadSaveFilePart => bool,
    UploadSaveBigFilePart => bool,
    UploadGetFile => enums::UploadFile,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The server answered with a Telegram-shaped `rpc_error`.
    #[error("{method}: {code} {message}{}", detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rpc {
        method: String,
        /// `error_code`, also the HTTP status.
        code: u16,
        /// Telegram's error string, e.g. `ENCRYPTION_DECLINED`.
        message: String,
        /// The mock's sentence saying what was wrong, when it gave one.
        detail: Option<String>,
    },
    /// The server could not be reached, or the connection broke.
    #[error("{method}: cannot reach the server at {url}: {reason}")]
    Transport {
        method: String,
        url: String,
        reason: String,
    },
    /// The answer was not what the method returns.
    #[error("{method}: unexpected answer from the server: {reason}")]
    Decode { method: String, reason: String },
    /// The base URL given is not one this client can use.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
}

impl ApiError {
    /// Telegram's error string when the server answered with one (`CHAT_ID_INVALID`, …).
    pub fn rpc_message(&self) -> Option<&str> {
        match self {
            ApiError::Rpc { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// The one HTTP client of the API: a base URL and, once signed in, the bearer token.
/// Cloning is cheap (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    /// Where calls are recorded (`--web`), and as which device.
    trace: Option<(Trace, Lane)>,
}

impl ApiClient {
    /// A client of the server at `base_url` (`http://127.0.0.1:8080`; a trailing `/` or
    /// `/api` is accepted). Only plain `http://` is supported: the mock serves no TLS.
    pub fn new(base_url: &str) -> Result<Self, ApiError> {
        let base = normalize_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|err| ApiError::InvalidUrl {
                url: base_url.to_owned(),
                reason: format!("cannot build the HTTP client: {err}"),
            })?;
        Ok(Self {
            http,
            base,
            token: None,
            trace: None,
        })
    }

    /// The same client recording every API call and its answer in `trace`, on `lane`.
    pub fn traced(mut self, trace: Trace, lane: Lane) -> Self {
        self.trace = Some((trace, lane));
        self
    }

    /// The same client acting as the device whose token this is.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The base URL, without a trailing slash (`http://127.0.0.1:8080`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Calls a method and reads its answer.
    pub async fn call<F: ApiFunction>(&self, function: &F) -> Result<F::Result, ApiError> {
        self.call_with(function, &[], Duration::ZERO).await
    }

    /// Calls a method with extra top-level fields the mock accepts beside the TL ones (the
    /// only one today is `timeout` of `updates.getDifference`); `long_poll` is added to the
    /// request's own timeout.
    pub async fn call_with<F: ApiFunction>(
        &self,
        function: &F,
        extra: &[(&str, Value)],
        long_poll: Duration,
    ) -> Result<F::Result, ApiError> {
        let mut body = function.to_json();
        if let Value::Object(object) = &mut body {
            for (key, value) in extra {
                object.insert((*key).to_owned(), value.clone());
            }
        }
        let answer = self.call_json_timeout(F::NAME, &body, long_poll).await?;
        F::Result::from_json(&answer).map_err(|err| ApiError::Decode {
            method: F::NAME.to_owned(),
            reason: err.to_string(),
        })
    }

    /// Calls `method` with a raw JSON body and returns the raw JSON answer: for callers
    /// that must send what the generated types cannot express (a misbehaving client).
    pub async fn call_json(&self, method: &str, body: &Value) -> Result<Value, ApiError> {
        self.call_json_timeout(method, body, Duration::ZERO).await
    }

    async fn call_json_timeout(
        &self,
        method: &str,
        body: &Value,
        long_poll: Duration,
    ) -> Result<Value, ApiError> {
        let path = format!("/api/{method}");
        let Some((trace, lane)) = &self.trace else {
            return self.request(method, &path, Some(body), long_poll).await;
        };
        let call = trace.call(*lane, method, body);
        let answer = self.request(method, &path, Some(body), long_poll).await;
        trace.answer(
            *lane,
            call,
            method,
            answer.as_ref().map_err(ApiError::to_string),
        );
        answer
    }

    /// `GET` (no body) or `POST` (a JSON body) of any path under the base URL, answered
    /// with JSON or a Telegram-shaped error: the one place HTTP is spoken. `what` names the
    /// call in errors. The admin client ([`crate::embedded::AdminClient`]) uses it too.
    pub async fn request(
        &self,
        what: &str,
        path: &str,
        body: Option<&Value>,
        long_poll: Duration,
    ) -> Result<Value, ApiError> {
        let method = what;
        let url = format!("{}{path}", self.base);
        let mut request = match body {
            Some(body) => self.http.post(&url).json(body),
            None => self.http.get(&url),
        }
        .timeout(CALL_TIMEOUT + long_poll);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let transport = |err: reqwest::Error| ApiError::Transport {
            method: method.to_owned(),
            url: url.clone(),
            reason: error_chain(&err),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|err| ApiError::Decode {
            method: method.to_owned(),
            reason: format!(
                "HTTP {status}, body is not JSON ({err}): {}",
                String::from_utf8_lossy(bytes.get(..200).unwrap_or(&bytes))
            ),
        })?;
        if status.is_success() {
            return Ok(value);
        }
        if value.get("_").and_then(Value::as_str) == Some("rpc_error") {
            let code = value
                .get("error_code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(status.as_u16());
            let message = value
                .get("error_message")
                .and_then(Value::as_str)
                .unwrap_or("(no error_message)")
                .to_owned();
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .map(str::to_owned);
            return Err(ApiError::Rpc {
                method: method.to_owned(),
                code,
                message,
                detail,
            });
        }
        Err(ApiError::Decode {
            method: method.to_owned(),
            reason: format!("HTTP {status} without an rpc_error body: {value}"),
        })
    }
}

/// `http://host:port[/][api[/]]` → `http://host:port`.
fn normalize_base_url(url: &str) -> Result<String, ApiError> {
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = url.trim();
    let Some(rest) = trimmed.strip_prefix("http://") else {
        return Err(invalid(
            "expected http://HOST:PORT (the mock server speaks plain HTTP)",
        ));
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix("/api").unwrap_or(rest);
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(invalid("no host after http://"));
    }
    Ok(format!("http://{rest}"))
}

/// An error with its sources, on one line ("error sending request: connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_loses_its_trailing_slash_and_api_suffix() {
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/api/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_base_url("http://localhost:1/").unwrap(),
            "http://localhost:1"
        );
    }

    #[test]
    fn a_url_that_is_not_plain_http_is_refused_with_the_reason() {
        let err = normalize_base_url("https://example.invalid").unwrap_err();
        assert!(err.to_string().contains("plain HTTP"), "{err}");
        assert!(normalize_base_url("http://").is_err());
    }
}
