//! # The request handling the `server_request` and `door_query` fuzz targets drive
//!
//! `fuzz/fuzz_targets/server_request.rs` and the stable replay test
//! `server/tests/fuzz_corpus.rs` both call [`handle_arbitrary_request`], so every input
//! the fuzzer found (a file under `fuzz/corpus/server_request/`) is replayed by
//! `cargo test` exactly as the fuzzer ran it; `door_query` does the same with
//! [`handle_arbitrary_query`] (below).
//!
//! The input's first byte picks the method (modulo the number of methods); the rest is
//! the body, sent through the whole router (token check, JSON parsing into the generated
//! TL function type, the method itself) as a signed-in device, alice, who has an accepted
//! secret chat with bob (chat id 1; with the test seed its access_hash is fixed, so corpus
//! bodies can name it). The property: every input is answered with JSON — a TL result or
//! a Telegram-shaped `rpc_error` with a non-empty `error_message` — never a panic, never a
//! 5xx.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use secretchat_common::dh::{public_value, CheckedConfig, Exponent};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::config::ServerConfig;
use crate::methods::METHOD_LINES;
use crate::state::Server;

/// The fuzzing lab: one server, its runtime, alice's token, the chat's inputEncryptedChat.
pub struct Lab {
    runtime: tokio::runtime::Runtime,
    app: Router,
    pub token: String,
    pub chat: Value,
}

/// What a lab could not do while being set up, or a broken property.
pub type Failure = String;

async fn send(
    app: &Router,
    token: Option<&str>,
    method: &str,
    body: Vec<u8>,
) -> Result<Value, Failure> {
    let mut request = Request::post(format!("/api/{method}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Body::from(body))
        .map_err(|err| format!("{method}: cannot build the request: {err}"))?;
    let response = app
        .clone()
        .oneshot(request)
        .await
        .map_err(|err| format!("{method}: {err}"))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(format!("{method} answered {status}"));
    }
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|err| format!("{method}: cannot read the answer: {err}"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|err| format!("{method} answered something that is not JSON: {err}"))?;
    if value["_"] == "rpc_error" && value["error_message"].as_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{method} answered an rpc_error without a message: {value}"
        ));
    }
    Ok(value)
}

fn public(seed: u8) -> Result<String, Failure> {
    let mut exponent = [0x5au8; 256];
    exponent[0] = seed;
    let exponent = Exponent::from_be_bytes(&exponent).map_err(|e| e.to_string())?;
    let g_x = public_value(&CheckedConfig::telegram_default(), &exponent);
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::STANDARD.encode(g_x))
}

impl Lab {
    /// A server with alice and bob signed in and chat 1 between them accepted.
    pub fn new() -> Result<Self, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("cannot build a runtime: {err}"))?;
        let server = Server::new(&ServerConfig::for_tests()).map_err(|err| err.to_string())?;
        let app = crate::app(Arc::new(server));
        let (token, chat) = runtime.block_on(async {
            let sign_in = |name: &'static str| {
                let app = app.clone();
                async move {
                    let body = json!({"username": name, "device": "d"}).to_string();
                    let answer = send(&app, None, "auth.signIn", body.into_bytes()).await?;
                    answer["token"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("sign-in answered {answer}"))
                }
            };
            let alice = sign_in("alice").await?;
            let bob = sign_in("bob").await?;
            let call = |token: String, method: &'static str, body: Value| {
                let app = app.clone();
                async move { send(&app, Some(&token), method, body.to_string().into_bytes()).await }
            };
            let user = call(alice.clone(), "contacts.resolveUsername", json!({"username": "bob"})).await?;
            let waiting = call(
                alice.clone(),
                "messages.requestEncryption",
                json!({"user_id": {"_": "inputUser", "user_id": user["id"], "access_hash": user["access_hash"]},
                       "random_id": 1, "g_a": public(1)?}),
            )
            .await?;
            let diff = call(bob.clone(), "updates.getDifference", json!({"pts": 0, "qts": 0, "date": 0})).await?;
            let requested = diff["other_updates"]
                .as_array()
                .and_then(|u| u.first())
                .ok_or_else(|| format!("bob was not told of the request: {diff}"))?;
            let bob_peer = json!({"_": "inputEncryptedChat", "chat_id": 1,
                                  "access_hash": requested["chat"]["access_hash"]});
            call(
                bob,
                "messages.acceptEncryption",
                json!({"peer": bob_peer, "g_b": public(2)?, "key_fingerprint": "1"}),
            )
            .await?;
            let chat = json!({"_": "inputEncryptedChat", "chat_id": 1,
                              "access_hash": waiting["access_hash"]});
            Ok::<_, Failure>((alice, chat))
        })?;
        Ok(Self {
            runtime,
            app,
            token,
            chat,
        })
    }

    /// The process-wide lab (the fuzzer calls the target millions of times).
    pub fn shared() -> Result<&'static Lab, Failure> {
        static LAB: OnceLock<Result<Lab, Failure>> = OnceLock::new();
        LAB.get_or_init(Lab::new).as_ref().map_err(Clone::clone)
    }

    /// One input: the first byte picks the method, the rest is the body. Answers the
    /// server's answer (`Null` for an input that is skipped).
    pub fn handle(&self, data: &[u8]) -> Result<Value, Failure> {
        let Some((&pick, body)) = data.split_first() else {
            return Ok(Value::Null);
        };
        let Some((method, _)) = METHOD_LINES.get(usize::from(pick) % METHOD_LINES.len()) else {
            return Ok(Value::Null);
        };
        // Logging out or long-polling would end or stall the run: the first is skipped,
        // the second loses its `timeout`.
        let body = match *method {
            "auth.logOut" => return Ok(Value::Null),
            "updates.getDifference" => {
                let mut value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                if let Some(object) = value.as_object_mut() {
                    object.remove("timeout");
                }
                value.to_string().into_bytes()
            }
            _ => body.to_vec(),
        };
        self.runtime
            .block_on(send(&self.app, Some(&self.token), method, body))
    }
}

/// The fuzz target's body: runs one input against the shared lab.
pub fn handle_arbitrary_request(data: &[u8]) -> Result<(), Failure> {
    Lab::shared()?.handle(data).map(|_| ())
}

/// The input that sends `body` (JSON) to `method`: for writing corpus seeds.
pub fn input_for(method: &str, body: &Value) -> Option<Vec<u8>> {
    let index = METHOD_LINES.iter().position(|(name, _)| *name == method)?;
    let mut input = vec![u8::try_from(index).ok()?];
    input.extend_from_slice(body.to_string().as_bytes());
    Some(input)
}

/// The `door_query` target: any bytes as an API query of the MTProto door, decoded at a
/// layer and run ([`crate::mtproto::api::handle`]). The first byte picks the layer (bit 0:
/// 229 or 158) and whether the caller is alice's device (bit 1) or an auth key not signed in;
/// the rest is the query. The property: no panic; a result is a boxed TL object (at least
/// a constructor id), an error has a code of 300..=599 and a message. `auth.logOut` is
/// skipped (it would end alice's device for every later input).
pub fn handle_arbitrary_query(data: &[u8]) -> Result<(), Failure> {
    use crate::mtproto::api::{self, ApiAnswer, ApiCall};
    const LOG_OUT: [u8; 4] = 0x3e72ba19u32.to_le_bytes();
    let Some((&pick, query)) = data.split_first() else {
        return Ok(());
    };
    if query.starts_with(&LOG_OUT) {
        return Ok(());
    }
    let lab = DoorLab::shared()?;
    let device = (pick & 2 != 0)
        .then(|| lab.server.directory.authenticate(&lab.token))
        .flatten();
    let answer = api::handle(ApiCall {
        server: &lab.server,
        layer: if pick & 1 == 0 { 229 } else { 158 },
        client: None,
        device,
        query,
    });
    match answer {
        ApiAnswer::Result(result)
        | ApiAnswer::SignedIn { result, .. }
        | ApiAnswer::LoggedOut { result } => {
            if result.len() < 4 {
                return Err(format!("a result of {} bytes", result.len()));
            }
        }
        ApiAnswer::Error(error) => {
            if !(300..600).contains(&error.error_code()) || error.error_message().is_empty() {
                return Err(format!("a malformed error: {error:?}"));
            }
        }
    }
    Ok(())
}

/// The `door_query` lab: a server with alice signed in (HTTP; to the API a device is a
/// device, whichever door made it).
struct DoorLab {
    server: Server,
    token: String,
}

impl DoorLab {
    fn shared() -> Result<&'static DoorLab, Failure> {
        static LAB: OnceLock<Result<DoorLab, Failure>> = OnceLock::new();
        LAB.get_or_init(|| {
            let server = Server::new(&ServerConfig::for_tests()).map_err(|err| err.to_string())?;
            let signed_in = server
                .directory
                .sign_in("alice", "d", 10, server.fresh())
                .map_err(|err| err.to_string())?;
            Ok(DoorLab {
                server,
                token: signed_in.token,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }
}
