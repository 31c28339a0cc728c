//! Fuzz target: any bytes as the body of any client API method, through the whole router
//! (token check, JSON parsing into the generated TL function type, the method itself).
//! The first byte picks the method; the rest is the body. The server must answer every
//! input with a TL result or a Telegram-shaped `rpc_error` — never panic, never a 5xx.
//!
//! The caller is a signed-in device with an accepted secret chat (id 1), so bodies that
//! name it reach deep into the methods.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use libfuzzer_sys::fuzz_target;
use secretchat_server::config::Config;
use secretchat_server::methods::METHOD_LINES;
use secretchat_server::state::Server;
use tower::ServiceExt;

struct Lab {
    runtime: tokio::runtime::Runtime,
    app: Router,
    token: String,
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let app = secretchat_server::app(Arc::new(Server::new(&Config::for_tests()).expect("config")));
        let sign_in = |name: &str| {
            let body = format!(r#"{{"username":"{name}","device":"d"}}"#);
            let answer = runtime.block_on(send(&app, None, "auth.signIn", body.into_bytes()));
            answer["token"].as_str().expect("token").to_owned()
        };
        let token = sign_in("alice");
        sign_in("bob");
        Lab { runtime, app, token }
    })
}

async fn send(app: &Router, token: Option<&str>, method: &str, body: Vec<u8>) -> serde_json::Value {
    let mut request = Request::post(format!("/api/{method}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).expect("request"))
        .await
        .expect("infallible");
    assert!(
        !response.status().is_server_error(),
        "{method} answered {}",
        response.status()
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("every answer is JSON");
    value
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let lab = lab();
    let (method, _) = METHOD_LINES[usize::from(pick) % METHOD_LINES.len()];
    // Logging out or long-polling would end or stall the run: those two get a fixed body.
    let body = match method {
        "auth.logOut" => return,
        "updates.getDifference" => {
            let mut value: serde_json::Value =
                serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
            if let Some(object) = value.as_object_mut() {
                object.remove("timeout");
            }
            value.to_string().into_bytes()
        }
        _ => body.to_vec(),
    };
    let answer = lab
        .runtime
        .block_on(send(&lab.app, Some(&lab.token), method, body));
    if answer["_"] == "rpc_error" {
        assert!(answer["error_message"].as_str().is_some_and(|m| !m.is_empty()));
    }
});
