//! The OpenAPI documents against the routers they describe: every route a document lists
//! exists and is guarded as documented, every example is a valid call, and the examples
//! run in order against a fresh server answer what the document promises. (The suite in
//! `tests/openapi/` runs schemathesis, the validator and a generated client on top.)

mod support;

use axum::body::Body;
use axum::http::Request;
use secretchat_server::methods::{self, METHOD_DOCS};
use secretchat_server::openapi::client::may_answer;
use serde_json::Value;
use support::Lab;

async fn client_document(lab: &Lab) -> Value {
    let (status, document) = Lab::send(
        lab.app(),
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    document
}

#[tokio::test]
async fn every_route_in_the_openapi_document_exists_and_is_guarded_as_documented() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    let document = client_document(&lab).await;
    assert_eq!(document["openapi"], "3.0.3");
    let paths = document["paths"].as_object().expect("paths");
    // Every method, the event stream and the MTProto door's public key.
    assert_eq!(paths.len(), methods::METHOD_LINES.len() + 2);
    for (path, item) in paths {
        let (verb, operation) = item.as_object().unwrap().iter().next().unwrap();
        let secured = operation.get("security").is_some();
        assert_eq!(
            operation["responses"].get("401").is_some(),
            secured,
            "{path}: a 401 is documented exactly where a token is needed"
        );
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
            // With a token, an empty body reaches the method: a TL answer or a TL error
            // the document lists for that status.
            let (status, body) = Lab::send(lab.app(), request(Some(&alice.token))).await;
            let documented = &operation["responses"][status.as_str()];
            assert!(documented.is_object(), "{path}: {status} is not documented");
            if let Some(message) = body["error_message"].as_str() {
                let method = path.trim_start_matches("/api/");
                assert!(may_answer(method, message), "{path}: {message}");
            }
        }
    }
}

#[tokio::test]
async fn every_example_is_a_valid_call_and_answers_as_documented_on_a_fresh_server() {
    let lab = Lab::new();
    let document = client_document(&lab).await;
    // The examples in document order, by alice once the first one signed her in.
    let mut alice = None;
    for (method, doc) in METHOD_DOCS {
        let operation = &document["paths"][format!("/api/{method}")]["post"];
        let example = &operation["requestBody"]["content"]["application/json"]["example"];
        assert_eq!(
            example,
            &serde_json::from_str::<Value>(doc.example).unwrap()
        );
        if *method == "auth.logOut" {
            continue; // would end alice's session; the logout contract test covers it
        }
        let (status, answer) = lab.call(alice.as_ref(), method, example.clone()).await;
        if *method == "auth.signIn" {
            assert_eq!(status, 200, "{answer}");
            alice = Some(support::Dev {
                token: answer["token"].as_str().unwrap().into(),
                user_id: answer["user"]["id"].as_str().unwrap().into(),
            });
            continue;
        }
        assert!(
            operation["responses"][status.as_str()].is_object(),
            "{method}: {status} {answer}"
        );
        if let Some(message) = answer["error_message"].as_str() {
            assert_ne!(
                message, "INPUT_REQUEST_INVALID",
                "{method}: the example is malformed: {answer}"
            );
            assert!(may_answer(method, message), "{method}: {answer}");
        }
    }
}

#[tokio::test]
async fn the_examples_that_need_no_chat_succeed_on_a_fresh_server() {
    let lab = Lab::new();
    let alice = lab.sign_in("alice", "phone").await;
    for method in [
        "contacts.resolveUsername",
        "messages.getDhConfig",
        "messages.receivedQueue",
        "updates.getState",
        "updates.getDifference",
        "upload.saveFilePart",
        "upload.saveBigFilePart",
    ] {
        let doc = methods::method_doc(method).expect("served");
        let example: Value = serde_json::from_str(doc.example).unwrap();
        lab.ok(&alice, method, example).await;
    }
}

#[tokio::test]
async fn every_admin_route_in_its_document_exists_and_needs_the_admin_token() {
    let lab = Lab::new();
    let (status, document) = lab
        .admin_call("GET", "/admin/openapi.json", None, None)
        .await;
    assert_eq!(status, 200, "the admin document needs no token");
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.len() >= 10);
    for (path, item) in paths {
        for (verb, operation) in item.as_object().expect("operations") {
            assert_eq!(operation["security"][0]["bearer"], serde_json::json!([]));
            let path = path.replace("{id}", "1");
            let verb = verb.to_uppercase();
            let (status, body) = lab.admin_call(&verb, &path, None, None).await;
            assert_eq!(status, 401, "{verb} {path}: {body}");
            let (status, body) = lab
                .admin_call(&verb, &path, None, Some(support::ADMIN_TOKEN))
                .await;
            assert_ne!(
                body["error_message"], "INPUT_METHOD_INVALID",
                "{verb} {path}"
            );
            assert!(
                operation["responses"][status.as_str()].is_object(),
                "{verb} {path}: {status} {body} is not documented"
            );
        }
    }
}

#[tokio::test]
async fn admin_bodies_are_refused_where_serde_alone_would_let_them_through() {
    let lab = Lab::new();
    let token = Some(support::ADMIN_TOKEN);
    for (path, body) in [
        // An unknown field beside the tag of a unit variant.
        (
            "/admin/faults",
            serde_json::json!({"action": {"type": "reflect", "typo": 1}}),
        ),
        // A variant's index instead of its name.
        ("/admin/faults", serde_json::json!({"action": {"type": 0}})),
        // A struct given as an array of its fields.
        (
            "/admin/faults",
            serde_json::json!({"match": [null], "action": {"type": "drop"}}),
        ),
        // An unknown field in a range.
        (
            "/admin/faults",
            serde_json::json!({"match": {"nth": {"from": 1, "to": 2, "x": 0}}, "action": {"type": "drop"}}),
        ),
        (
            "/admin/hostile",
            serde_json::json!({"chat_id": 1, "mode": {"type": "padding_malleability", "variant": 0}}),
        ),
        (
            "/admin/hostile",
            serde_json::json!({"chat_id": 1, "mode": {"type": "mitm", "typo": 1}}),
        ),
    ] {
        let (status, answer) = lab
            .admin_call("POST", path, Some(body.clone()), token)
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error_message"], "INPUT_REQUEST_INVALID", "{body}");
    }
    let (status, answer) = lab
        .admin_call(
            "POST",
            "/admin/faults",
            Some(serde_json::json!({"match": {"nth": {"from": 1, "to": 2}, "chat_id": null}, "action": {"type": "reflect"}})),
            token,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn admin_routes_naming_nothing_answer_404_admin_object_missing() {
    let lab = Lab::new();
    let token = Some(support::ADMIN_TOKEN);
    for (verb, path) in [
        ("DELETE", "/admin/faults/7"),
        ("POST", "/admin/faults/7/release"),
        ("DELETE", "/admin/hostile/7"),
        ("GET", "/admin/hostile/mitm?chat_id=7"),
    ] {
        let (status, answer) = lab.admin_call(verb, path, None, token).await;
        assert_eq!(status, 404, "{verb} {path}: {answer}");
        assert_eq!(answer["error_message"], "ADMIN_OBJECT_MISSING");
    }
}
