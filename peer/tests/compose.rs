//! What `docker compose up` does, without Docker: the server binary and two
//! `secretchat-peer actor` processes of the demo scenario, with the same commands,
//! arguments and environment variables as `docker-compose.yml`, as separate processes on
//! loopback ports. Both actors must succeed, and their logs must show the conversation.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The demo scenario, as the image holds it at `/scenarios/...`.
const SCENARIO: &str = "demo_alice_and_bob_chat.toml";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compose_file() -> String {
    std::fs::read_to_string(repo().join("docker-compose.yml"))
        .expect("docker-compose.yml is readable")
}

/// The server binary beside the peer binary in the target directory; built if missing
/// (`cargo test -p secretchat-peer` alone does not build other packages' binaries).
fn server_binary() -> PathBuf {
    let peer = PathBuf::from(env!("CARGO_BIN_EXE_secretchat-peer"));
    let dir = peer.parent().expect("the binary lives in a directory");
    let server = dir.join(format!("secretchat-server{}", std::env::consts::EXE_SUFFIX));
    if !server.exists() {
        let target_dir = dir
            .parent()
            .expect("profile directory inside the target directory");
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-p",
                "secretchat-server",
                "--bin",
                "secretchat-server",
                "--target-dir",
            ])
            .arg(target_dir)
            .current_dir(repo())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building secretchat-server failed");
    }
    server
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Kills the server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for every process; at the deadline kills those still running. Outputs in order,
/// with whether each finished in time.
fn wait_all(children: Vec<Child>, deadline: Duration) -> Vec<(Output, bool)> {
    let started = Instant::now();
    let mut children: Vec<(Child, Option<bool>)> =
        children.into_iter().map(|c| (c, None)).collect();
    while children.iter().any(|(_, done)| done.is_none()) {
        for (child, done) in children.iter_mut().filter(|(_, done)| done.is_none()) {
            if child
                .try_wait()
                .expect("the process can be waited for")
                .is_some()
            {
                *done = Some(true);
            } else if started.elapsed() > deadline {
                let _ = child.kill();
                *done = Some(false);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    children
        .into_iter()
        .map(|(child, done)| {
            (
                child.wait_with_output().expect("output of the process"),
                done == Some(true),
            )
        })
        .collect()
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
    let (port, admin_port) = (free_port(), free_port());
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
            .env("SECRETCHAT_SEED", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts"),
    );

    let outputs = wait_all(vec![alice, bob], Duration::from_secs(90));
    let log = |output: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
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
