//! A server that misbehaves: the device refuses its answers with clear errors, never a
//! panic. The "server" here is a raw TCP listener answering canned HTTP responses by
//! method name.

use std::collections::HashMap;

use secretchat_peer::client::ApiError;
use secretchat_peer::device::{Device, DeviceError, DeviceOptions};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `answers[method]` (status, body) to every `POST /api/<method>`.
async fn fake_server(answers: HashMap<&'static str, (u16, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let answers = answers.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and the body (Content-Length).
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let length = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if request.len() >= head_end + 4 + length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&request).to_string();
                let path = text.split_whitespace().nth(1).unwrap_or("/");
                let method = path.trim_start_matches("/api/");
                let (status, body) = answers
                    .get(method)
                    .cloned()
                    .unwrap_or((404, "no such thing".to_owned()));
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

fn signed_in_answers() -> HashMap<&'static str, (u16, String)> {
    HashMap::from([
        (
            "auth.signIn",
            (
                200,
                json!({"_":"auth.authorization","user":{"_":"user","id":"5","access_hash":"6","username":"alice"},"token":"t"}).to_string(),
            ),
        ),
        (
            "updates.getState",
            (
                200,
                json!({"_":"updates.state","pts":1,"qts":1,"date":0,"seq":0,"unread_count":0})
                    .to_string(),
            ),
        ),
        (
            "contacts.resolveUsername",
            (
                200,
                json!({"_":"user","id":"7","access_hash":"8","username":"bob"}).to_string(),
            ),
        ),
    ])
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_a_decode_error_naming_the_method() {
    let url = fake_server(HashMap::from([("auth.signIn", (200, "hello".to_owned()))])).await;
    let err = Device::sign_in(&url, "alice", "phone", DeviceOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeviceError::Api(ApiError::Decode { method, .. }) if method == "auth.signIn"),
        "{err:?}"
    );
    assert!(err.to_string().contains("body is not JSON"), "{err}");
}

#[tokio::test]
async fn an_answer_of_the_wrong_type_is_a_decode_error() {
    let mut answers = signed_in_answers();
    answers.insert(
        "auth.signIn",
        (200, json!({"_":"updates.state","pts":1}).to_string()),
    );
    let url = fake_server(answers).await;
    let err = Device::sign_in(&url, "alice", "phone", DeviceOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unexpected answer from the server"),
        "{err}"
    );
}

#[tokio::test]
async fn a_dh_config_whose_prime_is_composite_is_refused_before_any_request() {
    let mut answers = signed_in_answers();
    // p = 2^2047 + 7 has 2048 bits and p mod 8 = 7 (so g = 2 passes its residue check),
    // but it is divisible by 3: the primality check refuses it.
    let mut p = vec![0u8; 256];
    p[0] = 0x80;
    p[255] = 0x07;
    answers.insert(
        "messages.getDhConfig",
        (
            200,
            json!({"_":"messages.dhConfig","g":2,"p":base64(&p),"version":1,"random":base64(&[0u8; 256])}).to_string(),
        ),
    );
    let url = fake_server(answers).await;
    let mut alice = Device::sign_in(&url, "alice", "phone", DeviceOptions::default())
        .await
        .expect("sign in");
    let err = alice.request_chat("bob").await.unwrap_err();
    assert!(matches!(err, DeviceError::DhConfig(_)), "{err:?}");
    assert!(err.to_string().contains("p must be prime"), "{err}");
    assert!(alice.chat_ids().is_empty());
}

#[tokio::test]
async fn dh_config_not_modified_without_a_cached_config_is_a_protocol_error() {
    let mut answers = signed_in_answers();
    answers.insert(
        "messages.getDhConfig",
        (
            200,
            json!({"_":"messages.dhConfigNotModified","random":base64(&[0u8; 256])}).to_string(),
        ),
    );
    let url = fake_server(answers).await;
    let mut alice = Device::sign_in(&url, "alice", "phone", DeviceOptions::default())
        .await
        .expect("sign in");
    let err = alice.request_chat("bob").await.unwrap_err();
    assert!(err.to_string().contains("has no DH config cached"), "{err}");
}

#[tokio::test]
async fn an_error_body_without_rpc_error_shape_is_reported_with_its_status() {
    let url = fake_server(HashMap::from([(
        "auth.signIn",
        (500, json!({"oops": true}).to_string()),
    )]))
    .await;
    let err = Device::sign_in(&url, "alice", "phone", DeviceOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

fn base64(bytes: &[u8]) -> Value {
    use base64::Engine as _;
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}
