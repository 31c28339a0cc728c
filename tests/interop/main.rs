//! # Telethon and Pyrogram, unmodified, against the MTProto door
//!
//! Each test starts the server in-process — the client API, the admin listener and the
//! MTProto door, each on an ephemeral port of its own, over one shared state — and runs one
//! pytest file of this folder with the pinned venv (`secretchat_e2e::python()`). The Python
//! side (`harness.py`) does only what a user of each client does to reach this server: the
//! address and the RSA public key from `GET /mtproto/public-key`; the workarounds for the
//! clients' own bugs are listed in `README.md`. The secret-chat files also run the reference
//! peer as a process — `secretchat-peer bot` and `actor` on the HTTP door, beside the Python
//! clients on the MTProto door — from the binary [`peer_binary`] builds.
//!
//! A test fails with pytest's whole output when any Python test fails or is skipped, and
//! when pytest outlives its deadline (the Python tests have deadlines of their own; this one
//! catches a hung interpreter).

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use tokio::net::TcpListener;

/// Longest a pytest file may run (each Python test has its own, shorter deadline).
const PYTEST_DEADLINE: Duration = Duration::from_secs(180);

/// The suite's folder.
fn here() -> PathBuf {
    secretchat_e2e::repo_root().join("tests/interop")
}

/// A scratch folder under `target/` for one run's output and temporary files.
fn scratch(name: &str) -> PathBuf {
    secretchat_e2e::scratch_dir(env!("CARGO_TARGET_TMPDIR"), "interop", name)
}

/// The `secretchat-peer` binary of this checkout, for the tests that run the reference peer
/// as a process (`bot`, `actor`) beside the Python clients: built by cargo into the target
/// directory this test runs from (a no-op when it is up to date — `cargo test --workspace`
/// has built it already; `cargo test -p secretchat-e2e` has not, and a dev-dependency brings
/// only the library).
fn peer_binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        // target/<profile>/deps/interop-<hash>
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("the test binary lives in <target>/<profile>/deps");
        let target_dir = profile_dir.parent().expect("a target directory");
        let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "secretchat-peer",
                "--bin",
                "secretchat-peer",
            ])
            .args(["--profile", profile, "--target-dir"])
            .arg(target_dir)
            .current_dir(secretchat_e2e::repo_root())
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building secretchat-peer failed ({status})"
        );
        profile_dir.join(format!("secretchat-peer{}", std::env::consts::EXE_SUFFIX))
    })
}

/// The server's three listeners; it stops when the test's runtime ends.
struct Running {
    http: String,
    admin: String,
    admin_token: String,
    mtproto: SocketAddr,
}

async fn start() -> Running {
    let config = ServerConfig::for_tests();
    let admin_token = config
        .admin_token
        .clone()
        .expect("the test configuration has an admin token");
    let state = Arc::new(Server::new(&config).expect("config"));
    let bind = || TcpListener::bind("127.0.0.1:0");
    let (http, admin, door) = (
        bind().await.expect("bind"),
        bind().await.expect("bind"),
        bind().await.expect("bind"),
    );
    let running = Running {
        http: format!("http://{}", http.local_addr().expect("addr")),
        admin: format!("http://{}", admin.local_addr().expect("addr")),
        admin_token,
        mtproto: door.local_addr().expect("addr"),
    };
    let forever = std::future::pending::<()>;
    tokio::spawn(secretchat_server::serve(
        http,
        secretchat_server::app(Arc::clone(&state)),
        forever(),
    ));
    tokio::spawn(secretchat_server::serve(
        admin,
        secretchat_server::admin_app(Arc::clone(&state)),
        forever(),
    ));
    tokio::spawn(async move {
        if let Err(err) = secretchat_server::mtproto::serve(door, state, forever()).await {
            eprintln!("the MTProto door stopped: {err}");
        }
    });
    running
}

/// What pytest said and how it ended.
struct Pytest {
    status: Option<ExitStatus>,
    output: String,
}

/// Runs pytest over one file of this folder against `server`, off the runtime's threads
/// (the server keeps serving meanwhile), killing it at [`PYTEST_DEADLINE`].
async fn pytest(file: &str, server: &Running) -> Pytest {
    let dir = scratch(file.trim_end_matches(".py"));
    let log = dir.join("pytest-output.txt");
    let mut command = Command::new(secretchat_e2e::python());
    command
        .current_dir(here())
        .env("SECRETCHAT_HTTP_URL", &server.http)
        .env("SECRETCHAT_ADMIN_URL", &server.admin)
        .env("SECRETCHAT_ADMIN_TOKEN", &server.admin_token)
        .env("SECRETCHAT_MTPROTO_HOST", server.mtproto.ip().to_string())
        .env("SECRETCHAT_MTPROTO_PORT", server.mtproto.port().to_string())
        .env("SECRETCHAT_PEER_BIN", peer_binary())
        // Only pytest itself: plugins other packages of the venv register (hypothesis,
        // schemathesis) are not this suite's.
        .env("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_COLOR", "1")
        .args(["-m", "pytest", file])
        .args(["-p", "no:cacheprovider", "-q", "-rfEs", "--tb=short"])
        .args(["--log-level=INFO", "-o", "faulthandler_timeout=120"])
        .arg(format!("--basetemp={}", dir.join("tmp").display()))
        .stdin(Stdio::null())
        .stdout(File::create(&log).expect("create the output file"))
        .stderr(File::create(dir.join("pytest-stderr.txt")).expect("create the output file"));
    let status = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("pytest starts");
        let deadline = Instant::now() + PYTEST_DEADLINE;
        loop {
            if let Some(status) = child.try_wait().expect("wait for pytest") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .expect("the pytest thread");
    let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    Pytest {
        status,
        output: read(log) + &read(dir.join("pytest-stderr.txt")),
    }
}

/// Starts a server, runs one pytest file against it, and fails with pytest's output unless
/// every Python test in it ran and passed (a skip counts as a failure: nothing here is
/// optional; so does a test deselected through `PYTEST_ADDOPTS`, which is otherwise welcome
/// for debugging, e.g. `-o log_cli=true --log-cli-level=DEBUG`).
async fn run_file(file: &str) {
    let server = start().await;
    let run = pytest(file, &server).await;
    let summary = run
        .output
        .lines()
        .rev()
        .find(|line| line.contains(" in ") && (line.contains("passed") || line.contains("failed")))
        .unwrap_or("no summary line")
        .trim()
        .to_owned();
    match run.status {
        None => panic!(
            "pytest {file} ran past {}s and was stopped:\n{}",
            PYTEST_DEADLINE.as_secs(),
            run.output
        ),
        Some(status) => assert!(
            status.success() && !summary.contains("skipped") && !summary.contains("deselected"),
            "pytest {file}: {summary} ({status})\n{}",
            run.output
        ),
    }
    eprintln!("{file}: {summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_key_document_matches_what_both_clients_compute_from_the_key() {
    run_file("test_public_key.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telethon_signs_in_on_every_transport_reuses_its_session_and_resolves_usernames() {
    run_file("test_telethon.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyrogram_signs_in_restarts_from_its_session_string_and_resolves_usernames() {
    run_file("test_pyrogram.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_set_in_one_client_resolve_in_the_other() {
    run_file("test_across_clients.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_chats_run_through_the_door_with_both_plugins_the_bot_and_a_man_in_the_middle() {
    run_file("test_secret_chats.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_push_and_an_offline_spell_are_healed_by_the_clients_own_get_difference() {
    run_file("test_secret_faults.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attack_pack_judges_a_real_plugin_signed_in_over_mtproto() {
    run_file("test_attack_verdict.py").await;
}
