//! The dashboard on the admin listener (`/ui`): who gets in, with what, and what its live
//! stream sends. The page itself, in a real browser, is tested by the `browser` suite of
//! `tests/`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use secretchat_server::admin::ui::{view_key, COOKIE};
use support::{Lab, ADMIN_TOKEN};
use tower::ServiceExt;

const DEADLINE: Duration = Duration::from_secs(20);

async fn get(lab: &Lab, path: &str, cookie: Option<&str>) -> axum::response::Response {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("other=1; {COOKIE}={cookie}"));
    }
    lab.admin()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible router")
}

#[tokio::test]
async fn the_link_with_the_view_key_sets_a_strict_http_only_cookie_and_drops_the_key_from_the_address(
) {
    let lab = Lab::new();
    let key = view_key(ADMIN_TOKEN);
    let response = get(&lab, &format!("/ui?key={key}"), None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/ui");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("{COOKIE}={key};")), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    let page = get(&lab, "/ui", Some(&key)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("server dashboard"));
}

#[tokio::test]
async fn without_the_view_key_the_dashboard_and_its_data_stay_closed() {
    let lab = Lab::new();
    for (path, cookie) in [
        ("/ui", None),
        ("/ui?key=00", None),
        ("/ui/state", None),
        ("/ui/stream", None),
        ("/ui/events?since=0", Some("wrong")),
    ] {
        let response = get(&lab, path, cookie).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn the_admin_token_is_not_a_view_key_and_the_view_key_is_not_an_admin_token() {
    let lab = Lab::new();
    let response = get(&lab, &format!("/ui?key={ADMIN_TOKEN}"), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = get(&lab, "/admin/state", Some(&view_key(ADMIN_TOKEN))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = lab
        .admin_call("GET", "/admin/state", None, Some(&view_key(ADMIN_TOKEN)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_state_route_shows_the_admin_state_with_rules_modes_and_files() {
    let lab = Lab::new();
    lab.sign_in("alice", "phone").await;
    let response = get(&lab, "/ui/state", Some(&view_key(ADMIN_TOKEN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let state: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(state["server"]["users"][0]["username"], "alice");
    assert_eq!(
        state["server"]["users"][0]["devices"][0]["queued_messages"],
        0
    );
    assert_eq!(state["faults"]["rules"], serde_json::json!([]));
    assert_eq!(state["hostile"]["modes"], serde_json::json!([]));
    assert_eq!(state["files"], serde_json::json!([]));
}

#[tokio::test]
async fn the_stream_sends_the_state_then_each_new_event_as_it_is_logged() {
    let lab = Lab::new();
    lab.sign_in("alice", "phone").await;
    let response = get(&lab, "/ui/stream", Some(&view_key(ADMIN_TOKEN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut text = String::new();
    let mut signed_in_bob = false;
    let deadline = Instant::now() + DEADLINE;
    while !(text.contains("event: state") && text.contains("\"device_name\":\"laptop\"")) {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, body.frame())
            .await
            .unwrap_or_else(|_| panic!("no state and sign-in event within {DEADLINE:?}: {text}"))
            .expect("the stream stays open")
            .expect("a frame");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        if !signed_in_bob && text.contains("\"device_name\":\"phone\"") {
            // The backlog came; a sign-in now must arrive as a new event.
            lab.sign_in("bob", "laptop").await;
            signed_in_bob = true;
        }
    }
    assert!(text.contains("event: events"), "{text}");
}

/// The binary's log line, opened as it is, lets a browser in.
#[tokio::test]
async fn the_server_log_prints_a_dashboard_link_that_opens_as_it_is() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretchat-server"))
        .args(["--port", "0", "--admin-port", "0", "--mtproto-port", "0"])
        .env("RUST_LOG", "info")
        .env_remove("SECRETCHAT_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("dashboard: ") {
                let _ = tx.send(line[at + "dashboard: ".len()..].trim().to_owned());
                return;
            }
        }
    });
    let link = rx.recv_timeout(DEADLINE);
    let outcome = match &link {
        Ok(link) => {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            client.get(link).send().await.map(|r| r.status())
        }
        Err(_) => Ok(reqwest::StatusCode::IM_A_TEAPOT),
    };
    let _ = child.kill();
    let _ = child.wait();
    let link = link.expect("the log names the dashboard");
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    assert!(link.contains("/ui?key="), "{link}");
    assert_eq!(outcome.expect("the link answers").as_u16(), 303);
}
