//! End-to-end: real devices against the embedded server over HTTP.

mod peer_support;

use peer_support::{device, establish, expect_text, server};

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
