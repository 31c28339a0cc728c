//! `load` end to end, small: every chat shakes hands and every message arrives.

use secretchat_peer::load::{run, LoadOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_load_run_delivers_every_message_and_reports_its_figures() {
    let report = run(LoadOptions {
        chats: 6,
        messages: 15,
        server: None,
        admin: None,
        concurrency: 3,
        seed: 2,
        progress: false,
    })
    .await
    .expect("load run");
    assert_eq!(report.chats, 6);
    assert_eq!(report.messages_delivered, 6 * 15 * 2);
    assert!(report.latency_p50 <= report.latency_p99);
    assert!(report.latency_p99 <= report.latency_max);
    assert!(report.handshakes_per_second() > 0.0);
    assert!(report.memory.is_some_and(|(bytes, _)| bytes > 0));
    let lines = report.lines().join("\n");
    assert!(lines.contains("handshakes    6 in"), "{lines}");
    assert!(
        lines.contains("messages      180 (15 each way per chat)"),
        "{lines}"
    );
}

#[test]
fn the_load_command_refuses_zero_chats_clearly() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .args(["load", "--chats", "0", "--no-progress"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--chats and --concurrency must be at least 1"),
        "{stderr}"
    );
}
