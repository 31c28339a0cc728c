//! The OpenAPI document lists every client route, and every route it lists exists: each
//! is called through the router and must answer something other than
//! `INPUT_METHOD_INVALID` (and, without a token, `AUTH_KEY_UNREGISTERED` where the
//! document says a token is needed).

mod support;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use support::Lab;

#[tokio::test]
async fn every_route_in_the_openapi_document_exists_and_is_guarded_as_documented() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let (status, document) = Lab::send(
        lab.app(),
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.0.3");
    let paths = document["paths"].as_object().expect("paths");
    assert_eq!(
        paths.len(),
        secretchat_server::methods::METHOD_LINES.len() + 1
    );
    for (path, item) in paths {
        let (verb, operation) = item.as_object().unwrap().iter().next().unwrap();
        let secured = operation.get("security").is_some();
        if verb == "post" {
            assert_eq!(
                operation["responses"]["default"]["$ref"], "#/components/responses/InjectedError",
                "{path}: an injected fault may answer any code"
            );
        }
        let request = |token: Option<&str>| {
            let mut builder = Request::builder()
                .method(verb.to_uppercase().as_str())
                .uri(path);
            if let Some(token) = token {
                builder = builder.header("authorization", format!("Bearer {token}"));
            }
            builder.body(Body::from("{}")).unwrap()
        };
        let (status, body) = Lab::send(lab.app(), request(None)).await;
        assert_ne!(
            body["error_message"], "INPUT_METHOD_INVALID",
            "{path} is not routed"
        );
        if secured {
            assert_eq!(status, 401, "{path} answered {body} without a token");
            assert_eq!(body["error_message"], "AUTH_KEY_UNREGISTERED");
        }
        if verb == "post" {
            // With a token, an empty body reaches the method: a TL answer or a TL error.
            let (_, body) = Lab::send(lab.app(), request(Some(&alice.token))).await;
            assert_ne!(body, Value::Null, "{path} answered no JSON");
            assert_ne!(body["error_message"], "INPUT_METHOD_INVALID");
        }
        if let Some(line) = operation.get("description").and_then(Value::as_str) {
            if verb == "post" {
                assert!(line.contains('#'), "{path} has no TL line: {line}");
            }
        }
    }
}

#[tokio::test]
async fn every_routed_method_carries_its_generated_tl_line() {
    for (method, line) in secretchat_server::methods::METHOD_LINES {
        assert!(line.starts_with(&format!("{method}#")), "{method}: {line}");
    }
}
