//! The MTProto door over real sockets: every transport creates a key and talks, and every
//! kind of bad input gets Telegram's answer without touching the server's state or any other
//! connection.

mod api;
mod client;

use std::time::{Duration, SystemTime};

use client::{Client, Door, Received};
use secretchat_common::tl::TlWrite;
use secretchat_mtproto::handshake::client::ClientOptions;
use secretchat_mtproto::service::functions::Ping;
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::session::msg_id;
use secretchat_mtproto::session::{ClientEvent, PlainMessage};
use secretchat_mtproto::transport::Transport;
use secretchat_server::config::ServerConfig;

/// `ping(ping_id)` and the `pong` the door answers it with.
async fn ping(client: &mut Client, ping_id: i64) {
    let message = client
        .session
        .call(SystemTime::now(), Ping { ping_id }.to_bytes());
    client.send_message(&message).await;
    expect_pong(client, ping_id).await;
}

async fn expect_pong(client: &mut Client, ping_id: i64) {
    loop {
        let events = client
            .events()
            .await
            .expect("a pong, not a closed connection");
        if events
            .iter()
            .any(|event| matches!(event, ClientEvent::Pong(pong) if pong.ping_id == ping_id))
        {
            return;
        }
    }
}

/// A message of the client's session with a chosen msg_id and salt.
fn ping_message(client: &Client, msg_id: i64, salt: i64) -> PlainMessage {
    PlainMessage {
        salt,
        session_id: client.session.session_id(),
        msg_id,
        seq_no: 1,
        body: Ping { ping_id: 9 }.to_bytes(),
    }
}

/// The next bad_msg_notification or bad_server_salt code.
async fn refusal_code(client: &mut Client) -> i32 {
    loop {
        for event in client.events().await.expect("a notification") {
            match event {
                ClientEvent::BadMsgNotification(bad) => return bad.error_code,
                ClientEvent::BadServerSalt(bad) => return bad.error_code,
                _ => {}
            }
        }
    }
}

async fn assert_closed_with_404(client: &mut Client) {
    assert_eq!(client.receive().await, Received::TransportError(-404));
    assert_eq!(client.receive().await, Received::Closed);
}

#[tokio::test]
async fn every_transport_creates_an_auth_key_and_gets_its_pong() {
    let door = Door::start(ServerConfig::for_tests()).await;
    for (transport, obfuscated) in [
        (Transport::Full, false),
        (Transport::Abridged, false),
        (Transport::Intermediate, false),
        (Transport::PaddedIntermediate, false),
        (Transport::Abridged, true),
        (Transport::Intermediate, true),
        (Transport::PaddedIntermediate, true),
    ] {
        let mut client = Client::connect(door.addr, transport, obfuscated).await;
        let key = client
            .create_key(&door.public_key(), ClientOptions::TELETHON)
            .await;
        client.use_key(key.auth_key, key.server_salt);
        ping(&mut client, 42).await;
    }
    assert_eq!(door.auth_key_count(), 7);
}

#[tokio::test]
async fn tdlibs_rsa_pad_handshake_with_a_dc_creates_a_key_too() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = Client::connect(door.addr, Transport::Intermediate, true).await;
    let key = client
        .create_key(&door.public_key(), ClientOptions::tdlib(2))
        .await;
    client.use_key(key.auth_key, key.server_salt);
    ping(&mut client, 1).await;
    let state = secretchat_server::admin::state::snapshot(&door.server);
    let keys = &state["mtproto"]["auth_keys"];
    assert_eq!(keys.as_array().map(Vec::len), Some(1));
    assert_eq!(
        keys[0]["connections"][0]["transport"],
        "intermediate (obfuscated2)"
    );
}

#[tokio::test]
async fn a_session_started_with_salt_zero_is_told_the_salt_and_its_resend_is_answered() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = door.client(Transport::Abridged).await;
    client.session = secretchat_mtproto::session::ClientSession::new(77, 0);
    let answer = client
        .call_with_layer(229, Ping { ping_id: 5 }.to_bytes())
        .await;
    // ping is a service message, not an API call: inside invokeWithLayer the door has no
    // API method for it, and says so in an rpc_error rather than closing the connection.
    let RpcAnswer::Error(error) = answer else {
        panic!("expected an rpc_error, got {answer:?}");
    };
    assert_eq!(error.error_code, 400);
    assert!(!error.error_message.is_empty());
    ping(&mut client, 6).await;
}

#[tokio::test]
async fn garbage_bytes_close_their_connection_and_nothing_else() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut good = door.client(Transport::Full).await;
    ping(&mut good, 1).await;
    let mut bad = Client::connect(door.addr, Transport::Abridged, false).await;
    bad.send_raw(&[0xff; 64]).await;
    assert_eq!(bad.receive().await, Received::Closed);
    let mut framed_garbage = Client::connect(door.addr, Transport::Abridged, false).await;
    framed_garbage.send_packet(&[0x13; 40]).await;
    assert_closed_with_404(&mut framed_garbage).await;
    ping(&mut good, 2).await;
    assert_eq!(door.auth_key_count(), 1);
}

#[tokio::test]
async fn an_unknown_auth_key_id_gets_404_and_the_known_key_still_works() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut good = door.client(Transport::Intermediate).await;
    ping(&mut good, 1).await;
    let mut stranger = Client::connect(door.addr, Transport::Intermediate, false).await;
    let mut packet = vec![0u8; 8 + 16 + 64];
    packet[..8].copy_from_slice(&0x1122_3344_5566_7788i64.to_le_bytes());
    stranger.send_packet(&packet).await;
    assert_closed_with_404(&mut stranger).await;
    ping(&mut good, 2).await;
    assert_eq!(door.auth_key_count(), 1);
}

#[tokio::test]
async fn a_tampered_msg_key_gets_404_and_the_key_survives_for_the_next_connection() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = door.client(Transport::Abridged).await;
    ping(&mut client, 1).await;
    let (key, salt) = (client.key.clone().expect("key"), client.session.salt());
    let message = client
        .session
        .call(SystemTime::now(), Ping { ping_id: 2 }.to_bytes());
    let mut packet = secretchat_mtproto::message::encrypted::seal(
        &key,
        secretchat_mtproto::message::encrypted::Direction::ClientToServer,
        &message,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    packet[8] ^= 0x01; // the first byte of msg_key
    client.send_packet(&packet).await;
    assert_closed_with_404(&mut client).await;

    let mut again = Client::connect(door.addr, Transport::Abridged, false).await;
    again.use_key(key, salt);
    ping(&mut again, 3).await;
    assert_eq!(door.auth_key_count(), 1);
}

#[tokio::test]
async fn msg_ids_too_old_too_new_or_replayed_get_telegrams_notifications() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = door.client(Transport::Full).await;
    ping(&mut client, 1).await;
    let salt = client.session.salt();

    let stale = msg_id::from_time(SystemTime::now() - Duration::from_secs(400)) & !3;
    client
        .send_message(&ping_message(&client, stale, salt))
        .await;
    assert_eq!(refusal_code(&mut client).await, 16, "msg_id too low");

    let ahead = msg_id::from_time(SystemTime::now() + Duration::from_secs(90)) & !3;
    client
        .send_message(&ping_message(&client, ahead, salt))
        .await;
    assert_eq!(refusal_code(&mut client).await, 17, "msg_id too high");

    let odd = msg_id::from_time(SystemTime::now()) | 1;
    client.send_message(&ping_message(&client, odd, salt)).await;
    assert_eq!(refusal_code(&mut client).await, 18, "lower bits of msg_id");

    // A replayed message is not processed twice: its pong comes once, and the session
    // goes on.
    let message = client
        .session
        .call(SystemTime::now(), Ping { ping_id: 50 }.to_bytes());
    client.send_message(&message).await;
    expect_pong(&mut client, 50).await;
    client.send_message(&message).await;
    ping(&mut client, 51).await;
    assert_eq!(door.auth_key_count(), 1);
}

#[tokio::test]
async fn a_wrong_salt_gets_bad_server_salt_with_the_right_one() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = door.client(Transport::Abridged).await;
    ping(&mut client, 1).await;
    let now = msg_id::from_time(SystemTime::now()) & !3;
    client
        .send_message(&ping_message(&client, now, 0x5a5a))
        .await;
    assert_eq!(refusal_code(&mut client).await, 48);
    ping(&mut client, 2).await;
}

#[tokio::test]
async fn an_oversized_frame_is_refused_before_its_bytes_arrive() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut good = door.client(Transport::Abridged).await;
    let mut client = Client::connect(door.addr, Transport::Intermediate, false).await;
    let mut header = vec![0xee; 4];
    header.extend_from_slice(&(4u32 << 20).to_le_bytes()); // 4 MiB announced
    client.send_raw(&header).await;
    assert_closed_with_404(&mut client).await;
    ping(&mut good, 1).await;
}

#[tokio::test]
async fn a_half_open_connection_is_closed_after_the_idle_timeout_and_others_go_on() {
    let mut config = ServerConfig::for_tests();
    config.mtproto.mtproto_idle_timeout = 1;
    let door = Door::start(config).await;
    let mut client = Client::connect(door.addr, Transport::Intermediate, false).await;
    // The tag and half of a length: then silence.
    client.send_raw(&[0xee, 0xee, 0xee, 0xee, 0x40, 0x00]).await;
    assert_eq!(client.receive().await, Received::Closed);
    let mut good = door.client(Transport::Intermediate).await;
    ping(&mut good, 1).await;
}

/// `auth.bindTempAuthKey` for the temporary key of `temp`, signed by `perm_key`, with
/// `tweak` applied to the inner data before sealing.
async fn bind(
    temp: &mut Client,
    perm_key: &secretchat_mtproto::auth_key::AuthKey,
    tweak: impl FnOnce(&mut secretchat_mtproto::service::types::BindAuthKeyInner),
) -> RpcAnswer {
    use secretchat_mtproto::api::layer229::functions::AuthBindTempAuthKey;
    let mut message = temp.session.call(SystemTime::now(), Vec::new());
    let expires_at = 2_000_000_000;
    let mut inner = secretchat_mtproto::service::types::BindAuthKeyInner {
        nonce: 77,
        temp_auth_key_id: temp.key.as_ref().unwrap().id().as_i64(),
        perm_auth_key_id: perm_key.id().as_i64(),
        temp_session_id: temp.session.session_id(),
        expires_at,
    };
    tweak(&mut inner);
    let encrypted_message = secretchat_mtproto::message::binding::seal(
        perm_key,
        message.msg_id,
        &inner,
        &mut rand::rngs::OsRng,
    );
    message.body = AuthBindTempAuthKey {
        perm_auth_key_id: perm_key.id().as_i64(),
        nonce: 77,
        expires_at,
        encrypted_message,
    }
    .to_bytes();
    temp.call_message(&message).await
}

fn error_message(answer: &RpcAnswer) -> &str {
    match answer {
        RpcAnswer::Error(error) => &error.error_message,
        RpcAnswer::Object(_) => "",
    }
}

#[tokio::test]
async fn a_temporary_key_binds_to_a_permanent_one_once_and_only_with_a_valid_binding() {
    use secretchat_mtproto::handshake::client::{InnerDataForm, RsaPadding};
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut perm = door.client(Transport::Intermediate).await;
    ping(&mut perm, 1).await;
    let perm_key = perm.key.clone().unwrap();

    let mut temp = Client::connect(door.addr, Transport::Intermediate, true).await;
    let options = ClientOptions {
        inner_data: InnerDataForm::TempDc {
            dc: 2,
            expires_in: 86_400,
        },
        padding: RsaPadding::RsaPad,
    };
    let key = temp.create_key(&door.public_key(), options).await;
    temp.use_key(key.auth_key, key.server_salt);

    let wrong_nonce = bind(&mut temp, &perm_key, |inner| inner.nonce = 78).await;
    assert_eq!(error_message(&wrong_nonce), "ENCRYPTED_MESSAGE_INVALID");
    let wrong_session = bind(&mut temp, &perm_key, |inner| inner.temp_session_id ^= 1).await;
    assert_eq!(error_message(&wrong_session), "ENCRYPTED_MESSAGE_INVALID");
    let temp_key = temp.key.clone().unwrap();
    let under_temp_itself = bind(&mut temp, &temp_key, |_| {}).await;
    assert_eq!(
        error_message(&under_temp_itself),
        "ENCRYPTED_MESSAGE_INVALID"
    );

    let bound = bind(&mut temp, &perm_key, |_| {}).await;
    assert_eq!(bound, RpcAnswer::Object(true.to_bytes()));
    let again = bind(&mut temp, &perm_key, |_| {}).await;
    assert_eq!(error_message(&again), "TEMP_AUTH_KEY_ALREADY_BOUND");

    let from_permanent = bind(&mut perm, &perm_key, |_| {}).await;
    assert_eq!(error_message(&from_permanent), "TEMP_AUTH_KEY_EMPTY");

    let state = secretchat_server::admin::state::snapshot(&door.server);
    let keys = state["mtproto"]["auth_keys"].as_array().unwrap().clone();
    let temp_view = keys.iter().find(|k| k["kind"] == "temporary").unwrap();
    assert_eq!(temp_view["bound_to"], perm_key.id().to_string());

    // The bound temporary key is the permanent key's device: signed in through the
    // permanent key, calls under the temporary key are that device's.
    let get_state = serde_json::json!({"_": "updates.getState"});
    let before = api::call(&mut temp, 229, get_state.clone()).await;
    assert_eq!(error_message(&before), "AUTH_KEY_UNREGISTERED");
    api::sign_in(&mut perm, 229, "9996621234").await;
    let after = api::call(&mut temp, 229, get_state).await;
    assert!(matches!(after, RpcAnswer::Object(_)), "{after:?}");
}
