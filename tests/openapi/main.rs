//! # The OpenAPI documents against the tools people point at them
//!
//! Each test starts the server in-process on ephemeral ports (client API and admin
//! listener), then runs a real tool from the pinned venv (`secretchat_e2e::python()`):
//!
//! * schemathesis over every operation of the client document (with a signed-in device's
//!   token) and of the admin document (with the admin token): every check on, a fixed
//!   seed, a bounded number of examples; the run must end with no failure and no error.
//!   The settings and the reasons for them are in `client.toml` and `admin.toml`, the
//!   hooks (bearer token, `auth.logOut` on a token of its own, the check that a valid body
//!   is never refused as malformed) in `hooks.py`;
//! * openapi-spec-validator on both documents;
//! * openapi-python-client: a client generated from the client document signs in and
//!   calls `messages.getDhConfig` (`client_smoke.py`).
//!
//! Everything generated (documents, the client, reports) goes under `target/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The seed of every schemathesis run: a failure reproduces with the same command.
const SEED: &str = "20240601";
/// Examples per operation and phase: enough to reach every documented error of the
/// client API in a few minutes on two cores.
const MAX_EXAMPLES: &str = "150";
const ADMIN_TOKEN: &str = "openapi-suite-admin-token";

/// The suite's folder (hooks, settings, scripts).
fn here() -> PathBuf {
    secretchat_e2e::repo_root().join("tests/openapi")
}

/// A scratch folder under `target/` for what a test generates.
fn scratch(name: &str) -> PathBuf {
    secretchat_e2e::scratch_dir(env!("CARGO_TARGET_TMPDIR"), "openapi", name)
}

/// A program installed in the venv, next to its Python.
fn venv_program(name: &str) -> PathBuf {
    secretchat_e2e::python().with_file_name(name)
}

/// The server on two ephemeral ports; it stops when the test's runtime ends.
struct Running {
    client: String,
    admin: String,
}

async fn start() -> Running {
    let mut config = ServerConfig::for_tests();
    config.admin_token = Some(ADMIN_TOKEN.to_owned());
    // The document says what the running server does: a generated `timeout` is shortened
    // to 0 seconds here, so no fuzzed long-poll holds the run.
    config.limits.max_poll_timeout = 0;
    let state = Arc::new(Server::new(&config).expect("config"));
    let client = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let running = Running {
        client: format!("http://{}", client.local_addr().expect("addr")),
        admin: format!("http://{}", admin.local_addr().expect("addr")),
    };
    let forever = std::future::pending::<()>;
    tokio::spawn(secretchat_server::serve(
        client,
        secretchat_server::app(Arc::clone(&state)),
        forever(),
    ));
    tokio::spawn(secretchat_server::serve(
        admin,
        secretchat_server::admin_app(state),
        forever(),
    ));
    running
}

async fn sign_in(client_url: &str, username: &str) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("{client_url}/api/auth.signIn"))
        .json(&json!({"username": username, "device": "schemathesis"}))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("sign-in answer");
    assert_eq!(answer["_"], "auth.authorization", "{answer}");
    answer
}

async fn fetch_document(url: &str) -> Value {
    let response = reqwest::get(url).await.expect("fetch the document");
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.expect("the document is JSON")
}

/// Runs a command off the runtime's threads (the server keeps serving meanwhile).
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .expect("the command starts")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// schemathesis over one document: every check, fixed seed, bounded examples.
async fn schemathesis(
    document_url: &str,
    settings: &str,
    token: &str,
    client_url: &str,
    workdir: &Path,
) -> String {
    let mut command = Command::new(venv_program("schemathesis"));
    command
        // Its caches (.schemathesis/, .hypothesis/) land in the working folder: a fresh one
        // under target/, so no run replays another's and nothing is written to the tree.
        .current_dir(workdir)
        .env("PYTHONPATH", here())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("SECRETCHAT_TOKEN", token)
        .env("SECRETCHAT_CLIENT_URL", client_url)
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(here().join(settings))
        .args(["run", document_url])
        .args([
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
        ])
        .args(["--generation-database", "none", "--workers", "1"])
        // The event stream never ends by design (it is checked below, by hand).
        .args(["--exclude-operation-id", "updates.stream"])
        .args(["--report", "junit", "--report-dir", "report"]);
    let output = run(command).await;
    let text = text(&output);
    assert!(
        output.status.success(),
        "schemathesis found failures or errors ({}):\n{text}",
        output.status
    );
    text
}

/// The figures of a run: the summary's operations and test-case lines.
fn figures(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let mut figures = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("Selected:")
            || line.trim_start().starts_with("Tested:")
            || line.contains("generated,")
        {
            figures.push(line.trim());
        }
        if line.trim() == "Test cases:" {
            if let Some(next) = lines.get(at + 1) {
                figures.push(next.trim());
            }
        }
    }
    figures.dedup();
    figures.join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_the_client_api() {
    let server = start().await;
    let token = sign_in(&server.client, "schemathesis_main").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let output = schemathesis(
        &format!("{}/openapi.json", server.client),
        "client.toml",
        &token,
        &server.client,
        &scratch("client-run"),
    )
    .await;
    assert!(output.contains("Tested: 21"), "{output}");
    eprintln!("client API: {}", figures(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_the_admin_surface() {
    let server = start().await;
    let output = schemathesis(
        &format!("{}/admin/openapi.json", server.admin),
        "admin.toml",
        ADMIN_TOKEN,
        &server.client,
        &scratch("admin-run"),
    )
    .await;
    eprintln!("admin surface: {}", figures(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_answers_as_documented() {
    let server = start().await;
    let document = fetch_document(&format!("{}/openapi.json", server.client)).await;
    let operation = &document["paths"]["/api/updates.stream"]["get"];
    assert!(operation["responses"]["200"]["content"]
        .get("text/event-stream")
        .is_some());
    let url = format!("{}/api/updates.stream", server.client);
    let refused = reqwest::get(&url).await.expect("stream without a token");
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.expect("rpc_error");
    assert_eq!(body["error_message"], "AUTH_KEY_UNREGISTERED");
    let token = sign_in(&server.client, "streamer").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let stream = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers()["content-type"].to_str().ok(),
        Some("text/event-stream")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_documents_validate_and_a_generated_python_client_signs_in_and_gets_the_dh_config() {
    let server = start().await;
    let dir = scratch("python-client");
    for (name, url) in [
        ("client.json", format!("{}/openapi.json", server.client)),
        ("admin.json", format!("{}/admin/openapi.json", server.admin)),
    ] {
        let document = fetch_document(&url).await;
        let path = dir.join(name);
        std::fs::write(&path, document.to_string()).expect("write the document");
        let mut validate = Command::new(secretchat_e2e::python());
        validate.args(["-m", "openapi_spec_validator"]).arg(&path);
        let output = run(validate).await;
        assert!(output.status.success(), "{name}: {}", text(&output));
    }

    let mut generate = Command::new(venv_program("openapi-python-client"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let venv_bin = secretchat_e2e::python().parent().expect("the venv's bin/");
    let mut paths = vec![venv_bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    generate
        .current_dir(&dir)
        // The generator formats its output with ruff, which the venv has.
        .env("PATH", std::env::join_paths(paths).expect("PATH"))
        .args(["generate", "--path", "client.json", "--meta", "none"])
        .arg("--config")
        .arg(here().join("python-client.yaml"))
        .args(["--output-path", "secretchat_client", "--overwrite"]);
    let output = run(generate).await;
    assert!(output.status.success(), "{}", text(&output));

    let mut smoke = Command::new(secretchat_e2e::python());
    smoke
        .env("PYTHONPATH", &dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(here().join("client_smoke.py"))
        .arg(&server.client);
    let output = run(smoke).await;
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let answer: Value = serde_json::from_str(said.trim()).expect("the script prints JSON");
    assert_eq!(answer["user"], "pyclient");
    assert_eq!(answer["dh"], "messages.dhConfig");
    assert_eq!(answer["g"], 3);
    assert_eq!(answer["p_bytes"], 256);
    assert_eq!(answer["random_bytes"], 32);
}
