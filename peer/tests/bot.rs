//! The bot as a counterpart: it runs in a task against an embedded server, and a real
//! Device talks to it.

mod peer_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use peer_support::{device, expect_event, expect_text, server};
use secretchat_peer::device::{DeviceOptions, PeerEvent};
use secretchat_peer::files::sha256_hex;
use tokio::sync::oneshot;

#[tokio::test]
async fn the_bot_accepts_echoes_text_and_files_survives_a_rekey_and_stops_gracefully() {
    let server = server().await;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (stop, stopped) = oneshot::channel::<()>();
    let bot = {
        let url = server.url.clone();
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            secretchat_peer::bot::run(
                &url,
                "echo_bot",
                DeviceOptions {
                    seed: Some(5),
                    ..DeviceOptions::default()
                },
                async {
                    let _ = stopped.await;
                },
                move |line| log.lock().unwrap().push(line.to_owned()),
            )
            .await
        })
    };
    // Wait until the bot has signed in.
    let start = std::time::Instant::now();
    while log.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < peer_support::DEADLINE,
            "the bot never signed in"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut carol = device(&server, "carol", "phone", 81).await;
    let chat_id = carol.request_chat("echo_bot").await.expect("request");
    expect_event(&mut carol, "ChatEstablished", |e| {
        matches!(e, PeerEvent::ChatEstablished { .. })
    })
    .await;

    carol.send_text(chat_id, "ping", 0).await.expect("send");
    expect_text(&mut carol, chat_id, "ping").await;

    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    carol
        .send_file(chat_id, &bytes, "echo.bin", "application/octet-stream")
        .await
        .expect("send file");
    let echoed = expect_event(&mut carol, "the file echoed", |e| {
        matches!(e, PeerEvent::FileReceived { .. })
    })
    .await;
    assert!(
        matches!(&echoed, PeerEvent::FileReceived { sha256, len: 70_000, file_name, .. }
            if *sha256 == sha256_hex(&bytes) && file_name == "echo.bin"),
        "{echoed}"
    );

    let before = carol.key_fingerprint(chat_id);
    carol.rekey(chat_id).await.expect("rekey");
    expect_event(&mut carol, "KeyChanged", |e| {
        matches!(e, PeerEvent::KeyChanged { .. })
    })
    .await;
    assert_ne!(carol.key_fingerprint(chat_id), before);
    carol
        .send_text(chat_id, "after the re-key", 0)
        .await
        .expect("send");
    expect_text(&mut carol, chat_id, "after the re-key").await;

    stop.send(()).expect("the bot is running");
    let stats = tokio::time::timeout(peer_support::DEADLINE, bot)
        .await
        .expect("the bot stops promptly")
        .expect("bot task")
        .expect("bot run");
    assert_eq!(stats.chats_accepted, 1);
    assert_eq!(stats.texts_echoed, 2);
    assert_eq!(stats.files_echoed, 1);
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter().any(|l| l.starts_with("chat_requested chat=")),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l.starts_with("file_received chat=")),
        "{log:#?}"
    );
    assert!(
        log.last()
            .unwrap()
            .starts_with("stopping: 1 chats accepted"),
        "{log:#?}"
    );
    server.shut_down().await;
}

#[tokio::test]
async fn a_bot_pointed_at_nothing_fails_with_a_clear_error() {
    let err = secretchat_peer::bot::run(
        "http://127.0.0.1:1",
        "echo_bot",
        DeviceOptions::default(),
        std::future::pending(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot reach the server"), "{err}");
}

#[tokio::test]
async fn the_bot_binary_echoes_and_exits_cleanly_on_ctrl_c() {
    let server = server().await;
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .args([
            "bot",
            "--server",
            &server.url,
            "--user",
            "proc_bot",
            "--seed",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the bot");
    let mut dave = device(&server, "dave", "phone", 101).await;
    // The bot may not have signed in yet: ask until the username exists.
    let start = std::time::Instant::now();
    let chat_id = loop {
        match dave.request_chat("proc_bot").await {
            Ok(chat_id) => break chat_id,
            Err(err) if err.rpc_message() == Some("USERNAME_NOT_OCCUPIED") => {
                assert!(
                    start.elapsed() < peer_support::DEADLINE,
                    "the bot never signed in"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("request: {err}"),
        }
    };
    expect_event(&mut dave, "ChatEstablished", |e| {
        matches!(e, PeerEvent::ChatEstablished { .. })
    })
    .await;
    dave.send_text(chat_id, "hello process", 0)
        .await
        .expect("send");
    expect_text(&mut dave, chat_id, "hello process").await;

    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let output = tokio::time::timeout(peer_support::DEADLINE, child.wait_with_output())
        .await
        .expect("the bot exits after Ctrl-C")
        .expect("bot output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("signed in as proc_bot"), "{stdout}");
    assert!(stdout.contains("message chat="), "{stdout}");
    assert!(
        stdout.contains("stopping: 1 chats accepted, 1 texts and 0 files echoed"),
        "{stdout}"
    );
    server.shut_down().await;
}
