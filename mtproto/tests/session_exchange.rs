//! What the session sends back: answers and their wrapping, server msg_ids and seq_nos,
//! containers, acknowledgements, resends, and the service requests (salts, state, pings,
//! destroying sessions, dropping answers), one behaviour per test.

mod session_support;

use std::time::Duration;

use secretchat_common::tl::{RawQuery, TlWrite};
use secretchat_mtproto::api::layer229::functions::{InvokeAfterMsg, InvokeWithoutUpdates};
use secretchat_mtproto::service::enums;
use secretchat_mtproto::service::functions::{
    DestroyAuthKey, DestroySession, GetFutureSalts, PingDelayDisconnect, RpcDropAnswer,
};
use secretchat_mtproto::service::types::{
    MsgResendReq, MsgsAck, MsgsStateInfo, MsgsStateReq, Pong, RpcAnswerDropped,
    RpcAnswerDroppedRunning, RpcAnswerUnknown, RpcError,
};
use secretchat_mtproto::service_messages::{Body, MsgContainer, RpcAnswer};
use secretchat_mtproto::session::{
    AnswerError, ClientEvent, ClientSession, Config, ConnectionId, Event, InboundError,
    InitConnection, InvocationError,
};
use session_support::{refusals, Pair, GET_CONFIG};

const OTHER_SESSION: i64 = 0x0ddba11;

fn object(bytes: &[u8]) -> RpcAnswer {
    RpcAnswer::Object(bytes.to_vec())
}

fn error(code: i32, message: &str) -> RpcAnswer {
    RpcAnswer::Error(RpcError {
        error_code: code,
        error_message: message.to_owned(),
    })
}

fn results(events: &[ClientEvent]) -> Vec<(i64, RpcAnswer)> {
    events
        .iter()
        .filter_map(|event| match event {
            ClientEvent::Result { req_msg_id, answer } => Some((*req_msg_id, answer.clone())),
            _ => None,
        })
        .collect()
}

fn service(events: &[ClientEvent]) -> Vec<&Body> {
    events
        .iter()
        .filter_map(|event| match event {
            ClientEvent::Service(body) => Some(body),
            _ => None,
        })
        .collect()
}

fn container_of(message: &secretchat_mtproto::session::PlainMessage) -> Option<MsgContainer> {
    match Body::decode(&message.body, 1 << 20) {
        Ok(Body::Container(container)) => Some(container),
        _ => None,
    }
}

#[test]
fn a_call_is_handed_out_unwrapped_with_its_layer_and_init_connection() {
    let mut pair = Pair::new(Config::default());
    let params = InitConnection::default();
    let wrapped = ClientSession::wrap_with_layer(229, &params, GET_CONFIG.to_vec());
    let msg_id = pair.send_body(wrapped, true);
    let calls = pair.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!((call.session_id, call.msg_id), (0x5e55, msg_id));
    assert_eq!(call.query, GET_CONFIG);
    assert_eq!(call.layer, Some(229));
    assert_eq!(call.invocation.layer, Some(229));
    let init = call.invocation.init_connection.as_ref().unwrap();
    assert_eq!(init.app_version, params.app_version);
    assert_eq!(init.device_model, params.device_model);
    assert_eq!((init.proxy.clone(), init.has_params), (None, false));
    assert!(!call.invocation.without_updates);
}

#[test]
fn the_layer_is_remembered_per_auth_key_for_calls_without_invoke_with_layer() {
    let mut pair = Pair::new(Config::default());
    let wrapped =
        ClientSession::wrap_with_layer(158, &InitConnection::default(), GET_CONFIG.to_vec());
    pair.send_body(wrapped, true);
    pair.events();
    // A reconnect on a new session sends a bare call (Telethon's get_me after reconnecting).
    pair.client = ClientSession::new(OTHER_SESSION, pair.client.salt());
    pair.send_body(GET_CONFIG.to_vec(), true);
    let calls = pair.calls();
    assert_eq!(calls[0].layer, Some(158));
    assert_eq!(calls[0].invocation.layer, None);
    assert_eq!(pair.server.layer(), Some(158));
}

#[test]
fn invoke_without_updates_is_reported_with_the_call() {
    let mut pair = Pair::new(Config::default());
    let wrapped = InvokeWithoutUpdates {
        query: RawQuery(GET_CONFIG.to_vec()),
    };
    pair.send_body(wrapped.to_bytes(), true);
    let calls = pair.calls();
    assert!(calls[0].invocation.without_updates);
    assert_eq!(calls[0].query, GET_CONFIG);
}

#[test]
fn a_call_whose_wrappers_do_not_decode_is_answered_input_fetch_fail() {
    let mut pair = Pair::new(Config::default());
    let mut wrapped =
        ClientSession::wrap_with_layer(229, &InitConnection::default(), GET_CONFIG.to_vec());
    wrapped.truncate(20); // inside initConnection's strings
    let msg_id = pair.send_body(wrapped, true);
    let events = pair.events();
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Refused {
            error: InboundError::MalformedCall(InvocationError::Decode {
                wrapper: "initConnection",
                ..
            }),
            ..
        }
    )));
    assert_eq!(
        results(&pair.receive()),
        [(msg_id, error(400, "INPUT_FETCH_FAIL"))]
    );
}

#[test]
fn answers_may_come_in_any_order_each_in_the_rpc_result_of_its_call() {
    let mut pair = Pair::settled(Config::default());
    let first = pair.send_body(GET_CONFIG.to_vec(), true);
    let second = pair.send_body(GET_CONFIG.to_vec(), true);
    assert_eq!(pair.calls().len(), 2);
    pair.answer(second, object(b"two!"));
    pair.answer(first, error(401, "AUTH_KEY_UNREGISTERED"));
    assert_eq!(
        results(&pair.receive()),
        [
            (second, object(b"two!")),
            (first, error(401, "AUTH_KEY_UNREGISTERED"))
        ]
    );
    assert_eq!(
        pair.server.answer(pair.now, 0x5e55, first, object(b"late")),
        Err(AnswerError::NotPending {
            session_id: 0x5e55,
            req_msg_id: first
        })
    );
    assert_eq!(
        pair.server.answer(pair.now, 7, first, object(b"late")),
        Err(AnswerError::UnknownSession { session_id: 7 })
    );
}

#[test]
fn a_large_answer_is_gzipped_when_that_is_smaller() {
    let mut pair = Pair::settled(Config::default());
    let call = pair.call();
    let big = [GET_CONFIG.to_vec(), vec![0x42; 4000]].concat();
    pair.answer(call, object(&big));
    let transmits = pair.transmits();
    assert!(transmits[0].body.len() < 1000, "sent gzipped");
    let events = pair.client.handle_message(transmits[0].clone()).unwrap();
    assert_eq!(results(&events), [(call, object(&big))]);
}

#[test]
fn server_msg_ids_increase_with_replies_1_and_updates_3_mod_4_and_seq_nos_count_content() {
    let mut pair = Pair::settled(Config::default());
    let call = pair.call();
    pair.answer(call, object(b"ok!!"));
    let first = pair.transmits();
    pair.push(b"upd!");
    let second = pair.transmits();
    let [answer, update] = [&first[0], &second[0]];
    assert!(answer.msg_id < update.msg_id);
    assert_eq!(answer.msg_id.rem_euclid(4), 1);
    assert_eq!(update.msg_id.rem_euclid(4), 3);
    // new_session_created was content-related message 0 (seq 1): these are 1 and 2.
    assert_eq!((answer.seq_no, update.seq_no), (3, 5));
    let events = pair.client.handle_message(update.clone()).unwrap();
    assert_eq!(
        events,
        [ClientEvent::Update {
            msg_id: update.msg_id,
            body: b"upd!".to_vec()
        }]
    );
}

#[test]
fn several_outgoing_messages_go_in_one_container_above_their_msg_ids() {
    let mut pair = Pair::settled(Config::default());
    for _ in 0..3 {
        pair.push(b"upd!");
    }
    let transmits = pair.transmits();
    assert_eq!(transmits.len(), 1);
    let container = container_of(&transmits[0]).expect("a container");
    assert_eq!(container.messages.len(), 3);
    assert!(container
        .messages
        .iter()
        .all(|m| m.msg_id < transmits[0].msg_id));
    assert_eq!(
        transmits[0].seq_no % 2,
        0,
        "a container is not content-related"
    );
    assert!(container.messages[2].seqno <= transmits[0].seq_no);
}

#[test]
fn a_content_related_service_message_is_acknowledged_after_the_ack_delay() {
    let mut pair = Pair::settled(Config::default());
    // Telethon's ping is odd: it must be acknowledged, besides the pong.
    let ping = pair.send_body(
        secretchat_mtproto::service::functions::Ping { ping_id: 5 }.to_bytes(),
        true,
    );
    let events = pair.receive();
    assert!(events.contains(&ClientEvent::Pong(Pong {
        msg_id: ping,
        ping_id: 5
    })));
    assert!(
        service(&events).contains(&&Body::MsgsAck(MsgsAck {
            msg_ids: vec![ping]
        })),
        "rides with the pong: {events:?}"
    );

    // Alone, an acknowledgement waits for the delay.
    let lone = pair.send_body(
        secretchat_mtproto::service::functions::HttpWait {
            max_delay: 0,
            wait_after: 0,
            max_wait: 0,
        }
        .to_bytes(),
        true,
    );
    assert!(pair.transmits().is_empty());
    let due = pair
        .server
        .poll_timeout()
        .expect("an acknowledgement is due");
    pair.now = due;
    let events = pair.receive();
    assert_eq!(
        service(&events),
        [&Body::MsgsAck(MsgsAck {
            msg_ids: vec![lone]
        })]
    );
}

#[test]
fn a_call_is_acknowledged_by_its_answer_not_by_msgs_ack() {
    let mut pair = Pair::settled(Config::default());
    let call = pair.call();
    pair.answer(call, object(b"ok!!"));
    pair.advance(Duration::from_secs(5));
    let events = pair.receive();
    assert_eq!(results(&events).len(), 1);
    assert!(service(&events).is_empty(), "{events:?}");
}

#[test]
fn unacknowledged_messages_are_sent_again_in_a_container_on_a_new_connection() {
    let mut pair = Pair::settled(Config::default());
    let acked = pair.push(b"one!");
    pair.receive();
    let ack = pair.client.acks(pair.now).unwrap();
    pair.send(ack);
    let kept = pair.push(b"two!");
    pair.transmits(); // sent, but the connection drops before the client reads it
    pair.server.handle_connection_closed(pair.connection);
    pair.connection = ConnectionId(2);
    // An odd ping: its acknowledgement is made while packing, with the newest msg_id.
    let ping = secretchat_mtproto::service::functions::Ping { ping_id: 1 };
    pair.send_body(ping.to_bytes(), true);
    let transmits = pair.transmits();
    let resent: Vec<i64> = transmits
        .iter()
        .filter_map(container_of)
        .flat_map(|c| c.messages)
        .map(|m| m.msg_id)
        .collect();
    assert!(resent.contains(&kept), "{resent:?}");
    assert!(!resent.contains(&acked));
    assert!(resent.is_sorted(), "inner msg_ids in order: {resent:?}");
}

#[test]
fn msg_resend_req_sends_kept_messages_again_and_reports_the_others() {
    let mut pair = Pair::settled(Config::default());
    let kept = pair.push(b"upd!");
    pair.receive();
    let unknown = kept + 4;
    let req = pair.send_body(
        MsgResendReq {
            msg_ids: vec![kept, unknown],
        }
        .to_bytes(),
        false,
    );
    let transmits = pair.transmits();
    let container = container_of(&transmits[0]).expect("resends travel in a container");
    let inner: Vec<i64> = container.messages.iter().map(|m| m.msg_id).collect();
    assert!(inner.contains(&kept));
    // One id is not kept: msgs_state_info for all of them.
    let states = container
        .messages
        .iter()
        .find_map(|m| match Body::decode(&m.body, 1 << 20) {
            Ok(Body::MsgsStateInfo(info)) => Some(info),
            _ => None,
        })
        .expect("msgs_state_info");
    assert_eq!(
        states,
        MsgsStateInfo {
            req_msg_id: req,
            info: vec![1, 1]
        }
    );
}

#[test]
fn msgs_state_req_is_answered_one_status_byte_per_msg_id() {
    let mut pair = Pair::settled(Config::default());
    let running = pair.send_body(GET_CONFIG.to_vec(), true);
    pair.advance(Duration::from_secs(1));
    let answered = pair.call();
    pair.answer(answered, object(b"ok!!"));
    pair.receive();
    let between = running + 4;
    assert!(between < answered);
    let above = answered + (1 << 32);
    let req = pair.send_body(
        MsgsStateReq {
            msg_ids: vec![running, answered, between, above, answered + 1],
        }
        .to_bytes(),
        false,
    );
    let events = pair.receive();
    let expected = MsgsStateInfo {
        req_msg_id: req,
        // running: received, acknowledged, a call; answered: + answer generated;
        // not received within the range; not received above it; not a client msg_id.
        info: vec![4 + 8 + 32, 4 + 8 + 32 + 64, 2, 3, 1],
    };
    assert_eq!(service(&events), [&Body::MsgsStateInfo(expected)]);
}

#[test]
fn get_future_salts_returns_the_salts_from_now_on_bare() {
    let mut pair = Pair::settled(Config::default());
    let req = pair.send_body(GetFutureSalts { num: 3 }.to_bytes(), false);
    let events = pair.receive();
    let ClientEvent::FutureSalts(salts) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(salts.req_msg_id, req);
    assert_eq!(salts.now as u64, 1_700_000_000);
    assert_eq!(salts.salts.len(), 3);
    assert_eq!(salts.salts[0].salt, pair.server.salts().current(pair.now));
    assert!(salts.salts[0].valid_since <= salts.now && salts.now < salts.salts[0].valid_until);
}

#[test]
fn ping_delay_disconnect_arms_a_timer_that_a_new_one_resets() {
    let mut pair = Pair::settled(Config::default());
    let ping = PingDelayDisconnect {
        ping_id: 1,
        disconnect_delay: 25,
    };
    let first = pair.send_body(ping.to_bytes(), true);
    assert!(pair.receive().contains(&ClientEvent::Pong(Pong {
        msg_id: first,
        ping_id: 1
    })));
    pair.advance(Duration::from_secs(5));
    pair.send_body(ping.to_bytes(), true);
    pair.receive();
    pair.advance(Duration::from_secs(21)); // 26 s after the first, 21 after the second
    pair.server.handle_timeout(pair.now);
    assert!(!pair.events().contains(&Event::CloseConnection {
        connection: pair.connection
    }));
    pair.advance(Duration::from_secs(4));
    assert_eq!(pair.server.poll_timeout(), Some(pair.now));
    pair.server.handle_timeout(pair.now);
    assert_eq!(
        pair.events(),
        [Event::CloseConnection {
            connection: pair.connection
        }]
    );
}

#[test]
fn destroy_session_forgets_another_session_and_says_none_for_an_unknown_one() {
    let mut pair = Pair::settled(Config::default());
    let mut other = ClientSession::new(OTHER_SESSION, pair.client.salt());
    let ping = other.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.send(ping);
    pair.events();
    pair.send_body(
        DestroySession {
            session_id: OTHER_SESSION,
        }
        .to_bytes(),
        false,
    );
    pair.send_body(DestroySession { session_id: 99 }.to_bytes(), false);
    assert!(pair.events().contains(&Event::SessionDestroyed {
        session_id: OTHER_SESSION
    }));
    let events = pair.receive();
    let answers: Vec<_> = service(&events).into_iter().cloned().collect();
    assert_eq!(
        answers,
        [
            Body::DestroySessionRes(enums::DestroySessionRes::DestroySessionOk(
                secretchat_mtproto::service::types::DestroySessionOk {
                    session_id: OTHER_SESSION
                }
            )),
            Body::DestroySessionRes(enums::DestroySessionRes::DestroySessionNone(
                secretchat_mtproto::service::types::DestroySessionNone { session_id: 99 }
            )),
        ]
    );
    assert_eq!(pair.server.session_ids().collect::<Vec<_>>(), [0x5e55]);
}

#[test]
fn rpc_drop_answer_says_running_dropped_or_unknown() {
    let mut pair = Pair::settled(Config::default());
    let running = pair.send_body(GET_CONFIG.to_vec(), true);
    let answered = pair.call();
    pair.answer(answered, object(b"ok!!"));
    let answer_msg = pair.transmits()[0].clone(); // sent, not yet acknowledged by the client
    let drop =
        |pair: &mut Pair, req_msg_id| pair.send_body(RpcDropAnswer { req_msg_id }.to_bytes(), true);
    let drop_running = drop(&mut pair, running);
    let drop_answered = drop(&mut pair, answered);
    let drop_unknown = drop(&mut pair, 4);
    // The running call ends as dropped too, whatever the application answers.
    pair.answer(running, object(b"ok!!"));
    let events = pair.receive();
    let container = pair.client.handle_message(answer_msg).unwrap();
    assert_eq!(results(&container).len(), 1);
    let running_answer = RpcAnswer::Object(RpcAnswerDroppedRunning {}.to_bytes());
    let got = results(&events);
    assert!(
        got.contains(&(drop_running, running_answer.clone())),
        "{got:?}"
    );
    assert!(got.contains(&(running, running_answer)));
    assert!(got.contains(&(
        drop_unknown,
        RpcAnswer::Object(RpcAnswerUnknown {}.to_bytes())
    )));
    let dropped = got
        .iter()
        .find(|(req, _)| *req == drop_answered)
        .map(|(_, answer)| answer.clone());
    let Some(RpcAnswer::Object(dropped)) = dropped else {
        panic!("{got:?}");
    };
    let dropped =
        <RpcAnswerDropped as secretchat_common::tl::TlRead>::from_bytes(&dropped).unwrap();
    assert_eq!(dropped.seq_no % 2, 1);
    assert!(dropped.bytes > 0);
}

#[test]
fn a_duplicate_call_gets_its_kept_answer_again_with_the_same_msg_id() {
    let mut pair = Pair::settled(Config::default());
    let call = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.send(call.clone());
    pair.events();
    pair.answer(call.msg_id, object(b"ok!!"));
    let first = pair.transmits();
    pair.send(call.clone());
    assert_eq!(refusals(&pair.events()), [(call.msg_id, None)]);
    let again = pair.transmits();
    let container = container_of(&again[0]).expect("a resend travels in a container");
    assert_eq!(container.messages[0].msg_id, first[0].msg_id);
    // The client drops the copy it already has.
    pair.client.handle_message(first[0].clone()).unwrap();
    assert!(results(&pair.client.handle_message(again[0].clone()).unwrap()).is_empty());
}

#[test]
fn a_duplicate_call_with_a_large_answer_gets_msg_detailed_info() {
    let mut pair = Pair::settled(Config {
        duplicate_resend_max_len: 16,
        ..Config::default()
    });
    let call = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.send(call.clone());
    pair.events();
    pair.answer(call.msg_id, object(&[0x42; 64]));
    let answer = pair.transmits()[0].clone();
    pair.send(call.clone());
    let events = pair.receive();
    let [Body::MsgDetailedInfo(enums::MsgDetailedInfo::MsgDetailedInfo(info))] =
        service(&events).as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        (info.msg_id, info.answer_msg_id),
        (call.msg_id, answer.msg_id)
    );
    assert_eq!(info.bytes as usize, answer.body.len());
}

#[test]
fn a_duplicate_of_a_running_call_is_acknowledged() {
    let mut pair = Pair::settled(Config::default());
    let call = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.send(call.clone());
    assert_eq!(pair.calls().len(), 1);
    pair.send(call.clone());
    assert!(pair.calls().is_empty(), "not handed out twice");
    pair.advance(Duration::from_secs(1));
    let events = pair.receive();
    assert_eq!(
        service(&events),
        [&Body::MsgsAck(MsgsAck {
            msg_ids: vec![call.msg_id]
        })]
    );
}

#[test]
fn invoke_after_msg_waits_for_its_call_and_fails_with_it() {
    let mut pair = Pair::settled(Config::default());
    let first = pair.send_body(GET_CONFIG.to_vec(), true);
    let after = |msg_id| {
        InvokeAfterMsg {
            msg_id,
            query: RawQuery(GET_CONFIG.to_vec()),
        }
        .to_bytes()
    };
    let second = pair.send_body(after(first), true);
    let third = pair.send_body(after(second), true);
    let calls = pair.calls();
    assert_eq!(calls.iter().map(|c| c.msg_id).collect::<Vec<_>>(), [first]);
    pair.answer(first, object(b"ok!!"));
    let calls = pair.calls();
    assert_eq!(calls.iter().map(|c| c.msg_id).collect::<Vec<_>>(), [second]);
    assert_eq!(calls[0].invocation.after_msg_ids, [first]);
    pair.answer(second, error(400, "SOMETHING_FAILED"));
    assert!(pair.calls().is_empty());
    let got = results(&pair.receive());
    assert!(
        got.contains(&(third, error(400, "MSG_WAIT_FAILED"))),
        "{got:?}"
    );
}

#[test]
fn destroy_auth_key_is_answered_bare_and_reported() {
    let mut pair = Pair::settled(Config::default());
    pair.send_body(DestroyAuthKey {}.to_bytes(), false);
    assert!(pair.events().contains(&Event::AuthKeyDestroyed));
    let events = pair.receive();
    assert!(matches!(
        service(&events).as_slice(),
        [Body::DestroyAuthKeyRes(
            enums::DestroyAuthKeyRes::DestroyAuthKeyOk(_)
        )]
    ));
}

#[test]
fn past_the_session_limit_the_least_recently_active_session_is_forgotten() {
    let mut pair = Pair::new(Config {
        max_sessions: 2,
        ..Config::default()
    });
    let salt = pair.client.salt();
    for session_id in [1, 2, 3] {
        let mut client = ClientSession::new(session_id, salt);
        let ping = client.message(pair.now, GET_CONFIG.to_vec(), true);
        pair.send(ping);
        pair.advance(Duration::from_secs(1));
    }
    assert!(pair
        .events()
        .contains(&Event::SessionDestroyed { session_id: 1 }));
    assert_eq!(pair.server.session_ids().collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn a_session_created_again_under_the_same_id_continues_its_msg_ids_upwards() {
    let mut pair = Pair::settled(Config::default());
    for _ in 0..5 {
        pair.push(b"upd!");
    }
    let before = pair.transmits().last().map(|m| m.msg_id).unwrap();
    let mut other = ClientSession::new(OTHER_SESSION, pair.client.salt());
    let destroy = DestroySession { session_id: 0x5e55 };
    pair.send(other.message(pair.now, destroy.to_bytes(), false));
    assert!(pair
        .events()
        .contains(&Event::SessionDestroyed { session_id: 0x5e55 }));
    // Same instant on the clock: only the floor keeps the new session's msg_ids above.
    pair.ping(2);
    let after: Vec<i64> = pair
        .transmits()
        .iter()
        .filter(|m| m.session_id == 0x5e55)
        .map(|m| m.msg_id)
        .collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|&id| id > before),
        "{before} then {after:?}"
    );
}
