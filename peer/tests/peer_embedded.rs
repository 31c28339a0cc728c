//! The embedded server and its admin client.

mod peer_support;

use peer_support::{device, server};
use secretchat_peer::embedded::AdminClient;

#[tokio::test]
async fn the_admin_client_reads_the_state_moves_the_clock_and_resets() {
    let server = server().await;
    let _alice = device(&server, "alice", "phone", 1).await;
    let admin = server.admin();
    let state = admin.state().await.expect("state");
    assert_eq!(state["users"][0]["username"], "alice");
    assert!(
        state["process"]["rss_bytes"]
            .as_u64()
            .is_some_and(|b| b > 0),
        "{state}"
    );
    let moved = admin.advance_clock(3600).await.expect("advance");
    assert_eq!(moved["offset_seconds"], 3600);
    let reset = admin.reset().await.expect("reset");
    assert_eq!(reset["reset"], true);
    assert_eq!(
        admin.state().await.expect("state")["users"],
        serde_json::json!([])
    );

    let wrong = AdminClient::new(&server.admin_url, "not-the-token");
    let err = wrong.state().await.unwrap_err().to_string();
    assert!(err.contains("ADMIN_TOKEN_INVALID"), "{err}");
    let bad = AdminClient::new("ftp://x", "t");
    let err = bad.state().await.unwrap_err().to_string();
    assert!(err.contains("expected http://HOST:PORT"), "{err}");
    server.shut_down().await;
}
