//! The door's API at both layers, from a client's side: sign-in by phone, users across the
//! two doors, the bridge to the HTTP door's methods, pushes, and what is not served.

use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::transport::Transport;
use secretchat_server::config::ServerConfig;
use serde_json::{json, Value};

use crate::client::{Client, Door};

/// A call built from its JSON form at `layer`, wrapped as clients wrap it.
pub async fn call(client: &mut Client, layer: i32, request: Value) -> RpcAnswer {
    let query = match layer {
        229 => secretchat_mtproto::api::layer229::Function::from_json(&request)
            .expect("a valid 229 request")
            .to_bytes(),
        158 => secretchat_mtproto::api::layer158::Function::from_json(&request)
            .expect("a valid 158 request")
            .to_bytes(),
        _ => unreachable!(),
    };
    client.call_with_layer(layer, query).await
}

/// The answer read with `T` of the caller's layer, as JSON.
fn read<T: TlRead + TlJson>(answer: &RpcAnswer) -> Value {
    match answer {
        RpcAnswer::Object(bytes) => T::from_bytes(bytes)
            .unwrap_or_else(|err| panic!("the answer does not read at this layer: {err}"))
            .to_json(),
        RpcAnswer::Error(error) => panic!("rpc_error {} {}", error.error_code, error.error_message),
    }
}

fn error(answer: &RpcAnswer) -> (i32, &str) {
    match answer {
        RpcAnswer::Error(error) => (error.error_code, &error.error_message),
        RpcAnswer::Object(_) => (0, "(a result)"),
    }
}

/// `auth.sendCode` then `auth.signIn` with the test code: the authorization's user.
pub async fn sign_in(client: &mut Client, layer: i32, phone: &str) -> Value {
    let sent = call(
        client,
        layer,
        json!({
            "_": "auth.sendCode", "phone_number": phone, "api_id": 1, "api_hash": "x",
            "settings": {"_": "codeSettings"},
        }),
    )
    .await;
    let hash = match layer {
        229 => read::<secretchat_mtproto::api::layer229::enums::AuthSentCode>(&sent),
        _ => read::<secretchat_mtproto::api::layer158::enums::AuthSentCode>(&sent),
    }["phone_code_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = phone[5..6].repeat(5);
    let answer = call(
        client,
        layer,
        json!({
            "_": "auth.signIn", "phone_number": phone, "phone_code_hash": hash, "phone_code": code,
        }),
    )
    .await;
    let authorization = match layer {
        229 => read::<secretchat_mtproto::api::layer229::enums::AuthAuthorization>(&answer),
        _ => read::<secretchat_mtproto::api::layer158::enums::AuthAuthorization>(&answer),
    };
    authorization["user"].clone()
}

#[tokio::test]
async fn a_new_phone_signs_in_at_either_layer_and_comes_back_as_the_same_user() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut first = door.client(Transport::Full).await;
    let user = sign_in(&mut first, 229, "9996621234").await;
    assert_eq!(user["_"], "user");
    assert_eq!(user["self"], true);
    assert_eq!(user["phone"], "9996621234");
    // Another key (another app) with the same phone at Pyrogram's layer: the same user, a
    // second device.
    let mut second = door.client(Transport::Abridged).await;
    let again = sign_in(&mut second, 158, "9996621234").await;
    assert_eq!(again["id"], user["id"]);
    let me = read::<Vec<secretchat_mtproto::api::layer158::enums::User>>(
        &call(
            &mut second,
            158,
            json!({"_": "users.getUsers", "id": [{"_": "inputUserSelf"}]}),
        )
        .await,
    );
    assert_eq!(me[0]["id"], user["id"]);
    let user_id: i64 = user["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(door.server.directory.devices_of(user_id).len(), 2);
}

#[tokio::test]
async fn a_wrong_code_or_hash_is_refused_and_signs_nobody_in() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = door.client(Transport::Intermediate).await;
    call(
        &mut client,
        229,
        json!({
            "_": "auth.sendCode", "phone_number": "9996621234", "api_id": 1, "api_hash": "x",
            "settings": {"_": "codeSettings"},
        }),
    )
    .await;
    let wrong_hash = call(&mut client, 229, json!({
        "_": "auth.signIn", "phone_number": "9996621234", "phone_code_hash": "00", "phone_code": "22222",
    }))
    .await;
    assert_eq!(error(&wrong_hash), (400, "PHONE_CODE_EXPIRED"));
    let bad_phone = call(
        &mut client,
        229,
        json!({
            "_": "auth.sendCode", "phone_number": "12ab", "api_id": 1, "api_hash": "x",
            "settings": {"_": "codeSettings"},
        }),
    )
    .await;
    assert_eq!(error(&bad_phone), (400, "PHONE_NUMBER_INVALID"));
    let unsigned = call(
        &mut client,
        229,
        json!({"_": "users.getUsers", "id": [{"_": "inputUserSelf"}]}),
    )
    .await;
    assert_eq!(error(&unsigned), (401, "AUTH_KEY_UNREGISTERED"));
    assert!(door.server.directory.users().is_empty());
}

#[tokio::test]
async fn usernames_are_found_across_the_two_doors() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let bob = door
        .server
        .directory
        .sign_in("bob", "laptop", 10, door.server.fresh())
        .unwrap();
    let mut alice = door.client(Transport::Full).await;
    let me = sign_in(&mut alice, 229, "9996621111").await;
    let set = read::<secretchat_mtproto::api::layer229::enums::User>(
        &call(
            &mut alice,
            229,
            json!({"_": "account.updateUsername", "username": "alice"}),
        )
        .await,
    );
    assert_eq!(set["username"], "alice");
    let taken = call(
        &mut alice,
        229,
        json!({"_": "account.updateUsername", "username": "bob"}),
    )
    .await;
    assert_eq!(error(&taken), (400, "USERNAME_OCCUPIED"));

    let resolved = read::<secretchat_mtproto::api::layer229::enums::ContactsResolvedPeer>(
        &call(
            &mut alice,
            229,
            json!({"_": "contacts.resolveUsername", "username": "bob"}),
        )
        .await,
    );
    assert_eq!(resolved["peer"]["user_id"], bob.user_id.to_string());
    assert_eq!(resolved["users"][0]["username"], "bob");
    // The access_hash alice got works in her next call about bob.
    let bob_input = json!({"_": "inputUser", "user_id": bob.user_id.to_string(),
                           "access_hash": resolved["users"][0]["access_hash"]});
    let full = read::<secretchat_mtproto::api::layer229::enums::UsersUserFull>(
        &call(
            &mut alice,
            229,
            json!({"_": "users.getFullUser", "id": bob_input}),
        )
        .await,
    );
    assert_eq!(full["full_user"]["id"], bob.user_id.to_string());

    // And the HTTP door finds the MTProto user by the name she chose.
    let found = door
        .server
        .directory
        .user_by_name("alice")
        .expect("alice resolves over HTTP");
    assert_eq!(found.id.to_string(), me["id"].as_str().unwrap());
}

#[tokio::test]
async fn the_http_doors_methods_answer_through_the_bridge_at_both_layers() {
    let door = Door::start(ServerConfig::for_tests()).await;
    for (layer, phone) in [(229, "9996621001"), (158, "9996621002")] {
        let mut client = door.client(Transport::Abridged).await;
        sign_in(&mut client, layer, phone).await;
        let dh = call(
            &mut client,
            layer,
            json!({"_": "messages.getDhConfig", "version": 0, "random_length": 16}),
        )
        .await;
        let state = call(&mut client, layer, json!({"_": "updates.getState"})).await;
        let diff = call(
            &mut client,
            layer,
            json!({"_": "updates.getDifference", "pts": 1, "date": 0, "qts": 1}),
        )
        .await;
        macro_rules! check {
            ($module:ident) => {{
                use secretchat_mtproto::api::$module::enums as e;
                let dh = read::<e::MessagesDhConfig>(&dh);
                assert_eq!(dh["_"], "messages.dhConfig");
                assert_eq!(dh["g"], 3);
                let state = read::<e::UpdatesState>(&state);
                assert!(
                    state["pts"].as_i64().unwrap() >= 1,
                    "Telethon needs pts >= 1"
                );
                assert_eq!(
                    read::<e::UpdatesDifference>(&diff)["_"],
                    "updates.differenceEmpty"
                );
            }};
        }
        match layer {
            229 => check!(layer229),
            _ => check!(layer158),
        }
    }
}

#[tokio::test]
async fn an_unserved_method_gets_an_rpc_error_and_an_event_and_the_session_goes_on() {
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut client = door.client(Transport::Full).await;
    // messages.getDialogs#a0f4cb4f is in neither schema the door has.
    let mut query = 0xa0f4cb4fu32.to_le_bytes().to_vec();
    query.extend_from_slice(&[0; 28]);
    let answer = client.call_with_layer(229, query).await;
    assert_eq!(error(&answer), (400, "INPUT_METHOD_INVALID"));
    let events = door.server.events.since(0, 100).events;
    let event = events
        .iter()
        .find(|event| event["event"] == "unsupported_method")
        .expect("an unsupported_method event");
    assert_eq!(event["method"], "#a0f4cb4f");
    assert_eq!(event["layer"], 229);

    let old_layer = client
        .call_with_layer(
            100,
            secretchat_mtproto::api::layer229::functions::HelpGetConfig {}.to_bytes(),
        )
        .await;
    assert_eq!(error(&old_layer), (400, "CONNECTION_LAYER_INVALID"));
    let config = call(&mut client, 229, json!({"_": "help.getConfig"})).await;
    let config = read::<secretchat_mtproto::api::layer229::enums::Config>(&config);
    assert_eq!(config["this_dc"], 2);
    assert_eq!(config["dc_options"][0]["port"], door.addr.port());
}

#[tokio::test]
async fn a_signed_in_key_gets_an_update_pushed_the_moment_it_lands() {
    use secretchat_mtproto::session::ClientEvent;
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut alice = door.client(Transport::Full).await;
    let me = sign_in(&mut alice, 229, "9996621234").await;
    // getState makes this session one that wants updates.
    let state = read::<secretchat_mtproto::api::layer229::enums::UpdatesState>(
        &call(&mut alice, 229, json!({"_": "updates.getState"})).await,
    );
    let alice_id: i64 = me["id"].as_str().unwrap().parse().unwrap();

    // bob, an HTTP device, asks alice for a chat.
    let bob = door
        .server
        .directory
        .sign_in("bob", "laptop", 10, door.server.fresh())
        .unwrap();
    let g_a = secretchat_common::dh::public_value(
        &door.server.dh.config,
        &secretchat_common::dh::Exponent::generate(&mut rand::rngs::OsRng, &[]),
    );
    let request = json!({
        "user_id": {"_": "inputUser", "user_id": alice_id.to_string(),
                    "access_hash": door.server.directory.access_hash(bob.user_id, alice_id).to_string()},
        "random_id": 4242,
        "g_a": base64_of(&g_a),
    });
    secretchat_server::methods::apply_json(
        &door.server,
        &bob.device,
        "messages.requestEncryption",
        request.as_object().unwrap().clone(),
    )
    .unwrap()
    .unwrap();

    loop {
        let events = alice.events().await.expect("a push");
        let pushed = events.iter().find_map(|event| match event {
            ClientEvent::Update { body, .. } => Some(body.clone()),
            _ => None,
        });
        if let Some(body) = pushed {
            let updates = secretchat_mtproto::api::layer229::enums::Updates::from_bytes(&body)
                .unwrap()
                .to_json();
            assert_eq!(updates["_"], "updates");
            assert_eq!(updates["updates"][0]["_"], "updateEncryption");
            assert_eq!(updates["updates"][0]["chat"]["_"], "encryptedChatRequested");
            assert_eq!(updates["updates"][0]["chat"]["id"], 4242);
            break;
        }
    }
    // Handed over in the push: a difference from the pts of getState (what Telethon sends —
    // updateEncryption carries no pts) does not hand the request over again.
    let difference = read::<secretchat_mtproto::api::layer229::enums::UpdatesDifference>(
        &call(
            &mut alice,
            229,
            json!({"_": "updates.getDifference",
            "pts": state["pts"], "date": 0, "qts": state["qts"]}),
        )
        .await,
    );
    assert_eq!(difference["_"], "updates.difference", "{difference}");
    assert_eq!(difference["other_updates"], json!([]), "{difference}");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_lost_push_leaves_a_qts_gap_that_get_difference_fills() {
    use secretchat_mtproto::session::ClientEvent;
    let door = Door::start(ServerConfig::for_tests()).await;
    let mut alice = door.client(Transport::Full).await;
    let me = sign_in(&mut alice, 229, "9996621234").await;
    let state = read::<secretchat_mtproto::api::layer229::enums::UpdatesState>(
        &call(&mut alice, 229, json!({"_": "updates.getState"})).await,
    );
    let qts = state["qts"].as_i64().unwrap();
    let alice_id: i64 = me["id"].as_str().unwrap().parse().unwrap();
    let alice_device = door.server.directory.devices_of(alice_id).pop().unwrap();
    let bob = door
        .server
        .directory
        .sign_in("bob", "laptop", 10, door.server.fresh())
        .unwrap();
    let bob_peer = crate::client::chat(&door, &bob.device, &alice_device, 77);
    // The next pushed update: updateEncryption of the accepted chat was pushed already.
    let mut pushed = Vec::new();
    while pushed.is_empty() {
        for event in alice.events().await.unwrap() {
            if let ClientEvent::Update { body, .. } = event {
                pushed.push(body);
            }
        }
    }
    let rule: secretchat_server::faults::rule::RuleSpec = serde_json::from_value(json!({
        "match": {"update": "new_encrypted_message", "nth": 1},
        "action": {"type": "lose_push"},
    }))
    .unwrap();
    door.server.faults.install(rule);
    for random_id in ["1", "2"] {
        secretchat_server::methods::apply_json(
            &door.server,
            &bob.device,
            "messages.sendEncrypted",
            json!({"peer": bob_peer, "random_id": random_id, "data": base64_of(&[7u8; 56])})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap()
        .unwrap();
    }
    // Only the second message is pushed, one above a gap.
    let qts_pushed = loop {
        let events = alice.events().await.unwrap();
        let found = events.iter().find_map(|event| match event {
            ClientEvent::Update { body, .. } => {
                let updates = secretchat_mtproto::api::layer229::enums::Updates::from_bytes(body)
                    .unwrap()
                    .to_json();
                updates["updates"][0]["qts"].as_i64()
            }
            _ => None,
        });
        if let Some(qts) = found {
            break qts;
        }
    };
    assert_eq!(qts_pushed, qts + 2);
    // What a client does about the gap: getDifference from its last qts.
    let difference = read::<secretchat_mtproto::api::layer229::enums::UpdatesDifference>(
        &call(
            &mut alice,
            229,
            json!({"_": "updates.getDifference", "pts": 1, "date": 0, "qts": qts}),
        )
        .await,
    );
    let messages = difference["new_encrypted_messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{difference}");
    assert_eq!(messages[0]["random_id"], "1");
    assert_eq!(difference["state"]["qts"], qts + 2);
}
