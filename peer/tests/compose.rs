//! What `docker compose up` does, without Docker: the server binary and two
//! `secretchat-peer actor` processes of the demo scenario, with the same commands,
//! arguments and environment variables as `docker-compose.yml`, as separate processes on
//! loopback ports. Both actors must succeed, and their logs must show the conversation.

mod scenario_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use scenario_support::{free_port, log, repo, server_binary, wait_all, Running};

/// The demo scenario, as the image holds it at `/scenarios/...`.
const SCENARIO: &str = "demo_alice_and_bob_chat.toml";

fn compose_file() -> String {
    std::fs::read_to_string(repo().join("docker-compose.yml"))
        .expect("docker-compose.yml is readable")
}

#[test]
fn the_compose_file_runs_the_demo_with_these_commands() {
    // The test below runs what these lines say; if they change, change it too.
    let compose = compose_file();
    for line in [
        r#"command: ["secretchat-server"]"#,
        r#"SECRETCHAT_BIND: "0.0.0.0""#,
        r#"SECRETCHAT_PORT: "8080""#,
        r#"SECRETCHAT_ADMIN_PORT: "8081""#,
        r#"SECRETCHAT_MTPROTO_PORT: "8443""#,
        r#"SECRETCHAT_SEED: "1""#,
        r#"command: ["secretchat-peer", "actor", "--scenario", "/scenarios/demo_alice_and_bob_chat.toml", "--as", "alice"]"#,
        r#"command: ["secretchat-peer", "actor", "--scenario", "/scenarios/demo_alice_and_bob_chat.toml", "--as", "bob"]"#,
        r#"SECRETCHAT_SERVER: "http://server:8080""#,
        r#"SECRETCHAT_WAIT_FOR_SERVER: "30s""#,
    ] {
        assert!(
            compose.contains(line),
            "docker-compose.yml no longer says {line}"
        );
    }
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains("COPY scenarios /scenarios"),
        "the image must hold the scenarios"
    );
    assert!(repo().join("scenarios").join(SCENARIO).exists());
}

#[test]
fn compose_up_server_and_two_actors_hold_the_demo_conversation() {
    let (port, admin_port, mtproto_port) = (free_port(), free_port(), free_port());
    let server_url = format!("http://127.0.0.1:{port}");
    let scenario = repo().join("scenarios").join(SCENARIO);

    // The actors start first, as compose may start them before the server listens: they
    // must wait for it (SECRETCHAT_WAIT_FOR_SERVER).
    let actor = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
            .args(["actor", "--scenario"])
            .arg(&scenario)
            .args(["--as", name])
            .env("SECRETCHAT_SERVER", &server_url)
            .env("SECRETCHAT_WAIT_FOR_SERVER", "30s")
            .env("SECRETCHAT_SEED", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the actor starts")
    };
    let alice = actor("alice");
    let bob = actor("bob");
    std::thread::sleep(Duration::from_millis(300));

    // Loopback instead of 0.0.0.0: tests never listen beyond the machine.
    let _server = Running(
        Command::new(server_binary())
            .env("SECRETCHAT_BIND", "127.0.0.1")
            .env("SECRETCHAT_PORT", port.to_string())
            .env("SECRETCHAT_ADMIN_PORT", admin_port.to_string())
            .env("SECRETCHAT_MTPROTO_PORT", mtproto_port.to_string())
            .env("SECRETCHAT_SEED", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts"),
    );

    let outputs = wait_all(vec![alice, bob], Duration::from_secs(90));
    let (alice_log, bob_log) = (log(&outputs[0].0), log(&outputs[1].0));
    let both = format!("alice's log:\n{alice_log}\nbob's log:\n{bob_log}");
    assert!(
        outputs[0].1 && outputs[1].1,
        "an actor did not finish within 90s\n{both}"
    );
    assert!(outputs[0].0.status.success(), "alice failed\n{both}");
    assert!(outputs[1].0.status.success(), "bob failed\n{both}");

    // The conversation, as each container's log shows it.
    assert!(
        alice_log.contains("waiting for the server at"),
        "{alice_log}"
    );
    assert!(
        bob_log.contains("bob ← message \"Hello Bob! This is end-to-end encrypted.\" (main)"),
        "{bob_log}"
    );
    assert!(
        alice_log
            .contains("alice ← message \"Hi Alice, the server only ever saw ciphertext.\" (main)"),
        "{alice_log}"
    );
    assert!(
        bob_log.contains("ok    bob expects file picture in main"),
        "{bob_log}"
    );
    assert!(alice_log.ends_with("1 passed, 0 failed\n"), "{alice_log}");
    assert!(bob_log.ends_with("1 passed, 0 failed\n"), "{bob_log}");
}
