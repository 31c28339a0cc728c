//! End-to-end: real devices against the embedded server over HTTP.

mod peer_support;

use std::time::Duration;

use peer_support::{device, establish, expect_event, expect_text, server};
use secretchat_common::chat::{TypingAction, UserAction};
use secretchat_peer::device::{AcceptOutcome, Device, DeviceOptions, PeerEvent};

#[tokio::test]
async fn two_devices_agree_on_a_key_and_exchange_messages_both_ways() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 1).await;
    let mut bob = device(&server, "bob", "phone", 2).await;
    let chat_id = establish(&mut alice, &mut bob).await;

    assert_eq!(alice.key_fingerprint(chat_id), bob.key_fingerprint(chat_id));
    assert_eq!(alice.visualization(chat_id), bob.visualization(chat_id));

    alice
        .send_text(chat_id, "hello bob", 0)
        .await
        .expect("send");
    expect_text(&mut bob, chat_id, "hello bob").await;
    bob.send_text(chat_id, "hello alice", 0)
        .await
        .expect("send");
    expect_text(&mut alice, chat_id, "hello alice").await;

    let (_, _, common) = alice.layers(chat_id).expect("layers");
    assert_eq!(common.0, 144);
    server.shut_down().await;
}

#[tokio::test]
async fn the_device_that_accepts_second_is_locked_out_and_told_the_chat_is_discarded() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 11).await;
    let mut bob_phone = device(&server, "bob", "phone", 12).await;
    let mut bob_laptop = device(&server, "bob", "laptop", 13).await;
    let chat_id = alice.request_chat("bob").await.expect("request");
    for bob in [&mut bob_phone, &mut bob_laptop] {
        expect_event(
            bob,
            "ChatRequested",
            |e| matches!(e, PeerEvent::ChatRequested { chat_id: c, .. } if *c == chat_id),
        )
        .await;
    }
    assert_eq!(
        bob_phone.accept_chat(chat_id).await.expect("phone accepts"),
        AcceptOutcome::Accepted
    );
    expect_event(
        &mut bob_laptop,
        "ChatDiscarded",
        |e| matches!(e, PeerEvent::ChatDiscarded { chat_id: c, .. } if *c == chat_id),
    )
    .await;
    let late = bob_laptop.accept_chat(chat_id).await.unwrap_err();
    assert!(late.to_string().contains("discarded"), "{late}");
    expect_event(
        &mut alice,
        "ChatEstablished",
        |e| matches!(e, PeerEvent::ChatEstablished { chat_id: c, .. } if *c == chat_id),
    )
    .await;
    alice
        .send_text(chat_id, "only the phone", 0)
        .await
        .expect("send");
    expect_text(&mut bob_phone, chat_id, "only the phone").await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_file_is_uploaded_in_parts_downloaded_checked_and_decrypted_and_can_be_forwarded() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 21).await;
    let mut bob = device(&server, "bob", "phone", 22).await;
    let mut carol = device(&server, "carol", "phone", 23).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    // 300 000 bytes: three parts of 128 KiB, the last one short.
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sent = alice
        .send_file(chat_id, &bytes, "notes.bin", "application/octet-stream")
        .await
        .expect("send file");
    let received = expect_event(&mut bob, "FileReceived", |e| {
        matches!(e, PeerEvent::FileReceived { .. })
    })
    .await;
    let PeerEvent::FileReceived {
        random_id,
        file_name,
        len,
        sha256,
        bytes: got,
        ..
    } = received
    else {
        unreachable!()
    };
    assert_eq!(random_id, sent);
    assert_eq!(file_name, "notes.bin");
    assert_eq!(len, 300_000);
    assert_eq!(sha256, secretchat_peer::files::sha256_hex(&bytes));
    assert_eq!(got, bytes);

    // Bob forwards the stored file to Carol without uploading it again.
    let second = establish(&mut bob, &mut carol).await;
    bob.forward_file(second, random_id).await.expect("forward");
    let forwarded = expect_event(&mut carol, "FileReceived (forwarded)", |e| {
        matches!(e, PeerEvent::FileReceived { .. })
    })
    .await;
    assert!(
        matches!(forwarded, PeerEvent::FileReceived { sha256: s, len: 300_000, .. } if s == secretchat_peer::files::sha256_hex(&bytes))
    );
    server.shut_down().await;
}

#[tokio::test]
async fn an_offline_device_catches_up_in_order_through_difference_slices() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 31).await;
    let mut bob = device(&server, "bob", "phone", 32).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    // Bob stops polling; 120 messages wait for him (more than one difference of 100).
    for i in 0..120 {
        alice
            .send_text(chat_id, &format!("m{i}"), 0)
            .await
            .expect("send");
    }
    let mut texts = Vec::new();
    let start = std::time::Instant::now();
    while texts.len() < 120 && start.elapsed() < peer_support::DEADLINE {
        for event in bob.poll(Duration::from_secs(1)).await.expect("poll") {
            if let PeerEvent::Message { text, .. } = event {
                texts.push(text);
            }
        }
    }
    let expected: Vec<String> = (0..120).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
    server.shut_down().await;
}

#[tokio::test]
async fn a_device_saved_mid_chat_resumes_from_its_file_and_goes_on() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 41).await;
    let mut bob = device(&server, "bob", "phone", 42).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    alice.send_text(chat_id, "before", 0).await.expect("send");
    expect_text(&mut bob, chat_id, "before").await;

    let dir = std::env::temp_dir().join(format!("peer-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bob.json");
    bob.save(&path).expect("save");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the state holds keys: owner only");
    }
    let fingerprint = bob.key_fingerprint(chat_id);
    drop(bob);

    alice
        .send_text(chat_id, "while away", 0)
        .await
        .expect("send");
    let mut bob = Device::resume(&path).expect("resume");
    assert_eq!(bob.key_fingerprint(chat_id), fingerprint);
    expect_text(&mut bob, chat_id, "while away").await;
    bob.send_text(chat_id, "back", 0).await.expect("send");
    expect_text(&mut alice, chat_id, "back").await;
    std::fs::remove_dir_all(&dir).ok();
    server.shut_down().await;
}

#[tokio::test]
async fn a_rekey_changes_the_key_on_both_sides_and_messages_keep_flowing() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 51).await;
    let mut bob = device(&server, "bob", "phone", 52).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    let original = alice.key_fingerprint(chat_id).expect("key");
    alice.rekey(chat_id).await.expect("rekey");
    // RequestKey → Bob answers AcceptKey and waits; Alice commits; Bob switches.
    bob.poll(Duration::from_millis(500))
        .await
        .expect("bob answers");
    let changed = expect_event(&mut alice, "KeyChanged (alice)", |e| {
        matches!(e, PeerEvent::KeyChanged { .. })
    })
    .await;
    expect_event(&mut bob, "KeyChanged (bob)", |e| {
        matches!(e, PeerEvent::KeyChanged { .. })
    })
    .await;
    let PeerEvent::KeyChanged {
        key_fingerprint, ..
    } = changed
    else {
        unreachable!()
    };
    assert_ne!(key_fingerprint, original);
    assert_eq!(bob.key_fingerprint(chat_id), Some(key_fingerprint));
    alice.send_text(chat_id, "new key", 0).await.expect("send");
    expect_text(&mut bob, chat_id, "new key").await;
    bob.send_text(chat_id, "new key too", 0)
        .await
        .expect("send");
    expect_text(&mut alice, chat_id, "new key too").await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_withheld_message_is_asked_for_again_and_arrives_before_the_next_one() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 61).await;
    let mut bob = device(&server, "bob", "phone", 62).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    alice.withhold_next_message(chat_id);
    alice.send_text(chat_id, "lost", 0).await.expect("send");
    alice.send_text(chat_id, "after", 0).await.expect("send");
    // Bob sees the gap and sends Resend; Alice answers it on her next poll.
    let mut texts = Vec::new();
    let start = std::time::Instant::now();
    while texts.len() < 2 && start.elapsed() < peer_support::DEADLINE {
        for event in bob.poll(Duration::from_millis(200)).await.expect("poll") {
            if let PeerEvent::Message { text, .. } = event {
                texts.push(text);
            }
        }
        alice.poll(Duration::ZERO).await.expect("poll");
    }
    assert_eq!(texts, ["lost", "after"]);
    server.shut_down().await;
}

#[tokio::test]
async fn a_server_that_is_not_there_gives_a_clear_error_not_a_panic() {
    let err = Device::sign_in(
        "http://127.0.0.1:1",
        "alice",
        "phone",
        DeviceOptions::default(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot reach the server at http://127.0.0.1:1"),
        "{text}"
    );
    let err = Device::sign_in("localhost:8080", "alice", "phone", DeviceOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("expected http://HOST:PORT"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_call_surfaces_telegrams_error_string() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 71).await;
    let err = alice.request_chat("nobody_here").await.unwrap_err();
    assert_eq!(err.rpc_message(), Some("USERNAME_NOT_OCCUPIED"), "{err}");
    let err = Device::sign_in(&server.url, "bad name!", "phone", DeviceOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.rpc_message(), Some("USERNAME_INVALID"), "{err}");
    server.shut_down().await;
}

#[tokio::test]
async fn a_file_above_ten_megabytes_goes_by_save_big_file_part_and_arrives_intact() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 91).await;
    let mut bob = device(&server, "bob", "phone", 92).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    let bytes: Vec<u8> = (0..(10 * 1024 * 1024 + 5000) as u32)
        .map(|i| (i % 241) as u8)
        .collect();
    alice
        .send_file(chat_id, &bytes, "big.bin", "application/octet-stream")
        .await
        .expect("send big file");
    let received = expect_event(&mut bob, "FileReceived (big)", |e| {
        matches!(
            e,
            PeerEvent::FileReceived { .. } | PeerEvent::FileFailed { .. }
        )
    })
    .await;
    assert!(
        matches!(&received, PeerEvent::FileReceived { len, sha256, .. }
            if *len == bytes.len() && *sha256 == secretchat_peer::files::sha256_hex(&bytes)),
        "{received}"
    );
    server.shut_down().await;
}

#[tokio::test]
async fn a_week_on_the_device_clock_starts_a_rekey_from_the_timer_alone() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 111).await;
    let mut bob = device(&server, "bob", "phone", 112).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    alice
        .send_text(chat_id, "one message under the first key", 0)
        .await
        .expect("send");
    expect_text(&mut bob, chat_id, "one message under the first key").await;
    let original = alice.key_fingerprint(chat_id);

    // Only alice's clock moves (were both to move, both would start an exchange and the
    // tie-break would decide: a scenario of its own).
    alice.advance_clock(8 * 24 * 3600);
    // No user action: the timer in alice's next poll sends RequestKey.
    alice.poll(Duration::ZERO).await.expect("poll");
    bob.poll(Duration::from_secs(1)).await.expect("bob answers");
    expect_event(&mut alice, "KeyChanged (alice)", |e| {
        matches!(e, PeerEvent::KeyChanged { .. })
    })
    .await;
    expect_event(&mut bob, "KeyChanged (bob)", |e| {
        matches!(e, PeerEvent::KeyChanged { .. })
    })
    .await;
    assert_ne!(alice.key_fingerprint(chat_id), original);
    assert_eq!(alice.key_fingerprint(chat_id), bob.key_fingerprint(chat_id));
    server.shut_down().await;
}

#[test]
fn resuming_from_a_file_that_is_not_a_saved_device_is_a_clear_error() {
    let path = std::env::temp_dir().join(format!("peer-bad-state-{}.json", std::process::id()));
    std::fs::write(&path, b"{\"server\": 5}").unwrap();
    let err = Device::resume(&path).unwrap_err();
    std::fs::remove_file(&path).ok();
    let text = err.to_string();
    assert!(text.starts_with("saved state "), "{text}");
    assert!(text.contains("invalid type"), "{text}");
    let err = Device::resume("/nonexistent/dir/state.json").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/dir/state.json"),
        "{err}"
    );
}

#[tokio::test]
async fn service_actions_arrive_as_actions_and_read_history_as_a_read_receipt() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 121).await;
    let mut bob = device(&server, "bob", "phone", 122).await;
    let chat_id = establish(&mut alice, &mut bob).await;
    let hello = alice
        .send_text(chat_id, "self-destructing", 5)
        .await
        .expect("send");
    let PeerEvent::Message { ttl, .. } = expect_event(&mut bob, "the message", |e| {
        matches!(e, PeerEvent::Message { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(ttl, 5);
    alice
        .act(chat_id, UserAction::SetMessageTtl { ttl_seconds: 30 })
        .await
        .expect("ttl");
    let read = UserAction::ReadMessages {
        random_ids: vec![hello],
    };
    bob.act(chat_id, read).await.expect("read");
    let screenshot = UserAction::ScreenshotMessages {
        random_ids: vec![hello],
    };
    alice.act(chat_id, screenshot).await.expect("screenshot");
    let typing = UserAction::Typing {
        action: TypingAction::Typing,
    };
    alice.act(chat_id, typing).await.expect("typing");
    let delete = UserAction::DeleteMessages {
        random_ids: vec![hello],
    };
    alice.act(chat_id, delete).await.expect("delete");
    alice
        .act(chat_id, UserAction::FlushHistory)
        .await
        .expect("flush");
    alice
        .set_typing(chat_id, true)
        .await
        .expect("setEncryptedTyping");
    let now = i32::try_from(bob.now().0).expect("a 32-bit date");
    bob.read_history(chat_id, now).await.expect("read history");
    // Alice learns both that bob opened the message (end to end) and that he read the
    // history (from the server), possibly in one poll.
    let mut alice_saw = Vec::new();
    let start = std::time::Instant::now();
    while alice_saw.len() < 2 && start.elapsed() < peer_support::DEADLINE {
        for event in alice.poll(Duration::from_secs(1)).await.expect("poll") {
            match event {
                PeerEvent::Action {
                    action: UserAction::ReadMessages { random_ids },
                    ..
                } => alice_saw.push(format!("read {random_ids:?}")),
                PeerEvent::ReadReceipt { chat_id: c, .. } if c == chat_id => {
                    alice_saw.push("read receipt".to_owned())
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        alice_saw,
        [format!("read {:?}", [hello]), "read receipt".to_owned()]
    );
    let mut actions = Vec::new();
    let mut typing = false;
    let start = std::time::Instant::now();
    while actions.len() < 4 && start.elapsed() < peer_support::DEADLINE {
        for event in bob.poll(Duration::from_secs(1)).await.expect("poll") {
            match event {
                PeerEvent::Action { action, .. } => actions.push(action),
                PeerEvent::Typing { .. } => typing = true,
                _ => {}
            }
        }
    }
    assert_eq!(
        actions,
        [
            UserAction::SetMessageTtl { ttl_seconds: 30 },
            UserAction::ScreenshotMessages {
                random_ids: vec![hello]
            },
            UserAction::DeleteMessages {
                random_ids: vec![hello]
            },
            UserAction::FlushHistory,
        ]
    );
    assert!(typing, "the end-to-end typing action arrives as Typing");
    server.shut_down().await;
}

#[tokio::test]
async fn accepting_after_another_device_did_is_refused_and_establishes_nothing() {
    let server = server().await;
    let mut alice = device(&server, "alice", "phone", 131).await;
    let mut bob_phone = device(&server, "bob", "phone", 132).await;
    let mut bob_laptop = device(&server, "bob", "laptop", 133).await;
    let chat_id = alice.request_chat("bob").await.expect("request");
    for bob in [&mut bob_phone, &mut bob_laptop] {
        expect_event(
            bob,
            "ChatRequested",
            |e| matches!(e, PeerEvent::ChatRequested { chat_id: c, .. } if *c == chat_id),
        )
        .await;
    }
    assert_eq!(
        bob_phone.accept_chat(chat_id).await.expect("phone accepts"),
        AcceptOutcome::Accepted
    );
    // The laptop has not polled since: it still believes it may accept.
    let err = bob_laptop.accept_chat(chat_id).await.unwrap_err();
    assert_eq!(
        err.rpc_message(),
        Some("ENCRYPTION_ALREADY_ACCEPTED"),
        "{err}"
    );
    assert!(!bob_laptop.is_established(chat_id));
    let events = bob_laptop.poll(Duration::from_secs(1)).await.expect("poll");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, PeerEvent::ChatEstablished { .. })),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PeerEvent::ChatDiscarded { chat_id: c, .. } if *c == chat_id)),
        "{events:?}"
    );
    server.shut_down().await;
}
