//! Shared by the scenario tests that run real processes: the repository's paths, the
//! server binary, free loopback ports, and waiting for processes with a deadline.

#![allow(dead_code)] // each test file uses its own part

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn scenario(name: &str) -> PathBuf {
    repo().join("scenarios").join(name)
}

/// The server binary beside the peer binary in the target directory; built if missing
/// (`cargo test -p secretchat-peer` alone does not build other packages' binaries).
pub fn server_binary() -> PathBuf {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// A process killed when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `secretchat-server` on loopback: its API and admin URLs and admin token.
pub struct Server {
    pub url: String,
    pub admin_url: String,
    pub admin_token: String,
    _process: Running,
}

/// Starts the server binary with its environment variables, on free loopback ports.
pub fn start_server() -> Server {
    let (port, admin_port) = (free_port(), free_port());
    let admin_token = "scenario-test-admin-token".to_owned();
    let process = Command::new(server_binary())
        .env("SECRETCHAT_BIND", "127.0.0.1")
        .env("SECRETCHAT_PORT", port.to_string())
        .env("SECRETCHAT_ADMIN_PORT", admin_port.to_string())
        .env("SECRETCHAT_MTPROTO_PORT", "0")
        .env("SECRETCHAT_ADMIN_TOKEN", &admin_token)
        .env("SECRETCHAT_SEED", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let process = Running(process);
    // Ready when both listeners accept connections.
    let started = Instant::now();
    for p in [port, admin_port] {
        while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the server did not listen on {p} within 20s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Server {
        url: format!("http://127.0.0.1:{port}"),
        admin_url: format!("http://127.0.0.1:{admin_port}"),
        admin_token,
        _process: process,
    }
}

/// Waits for every process; at the deadline kills those still running. Outputs in order,
/// with whether each finished in time.
pub fn wait_all(children: Vec<Child>, deadline: Duration) -> Vec<(Output, bool)> {
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

/// stdout and stderr of a process, as one text.
pub fn log(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
