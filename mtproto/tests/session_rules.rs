//! The session's rules for client messages, one behaviour per test: msg_id, salt, duplicates,
//! seq_no, containers, gzip, and the notification each refusal earns.

mod session_support;

use std::time::Duration;

use secretchat_common::tl::TlWrite;
use secretchat_mtproto::service::types::{BadServerSalt, MsgsAck, Pong};
use secretchat_mtproto::service_messages::{gzip_packed, Body, ContainerMessage, MsgContainer};
use secretchat_mtproto::session::{
    ClientEvent, ClientSession, Config, ContainerError, Event, InboundError, PlainMessage,
    Strictness,
};
use session_support::{refusals, Pair, GET_CONFIG};

fn strict() -> Config {
    Config {
        strictness: Strictness::Telegram,
        ..Config::default()
    }
}

/// The notification a refused message earned, as the client reads it.
fn notification(events: &[ClientEvent]) -> Option<(i64, i32)> {
    events.iter().find_map(|event| match event {
        ClientEvent::BadMsgNotification(bad) => Some((bad.bad_msg_id, bad.error_code)),
        _ => None,
    })
}

#[test]
fn a_first_message_with_salt_0_gets_bad_server_salt_and_its_resend_is_answered() {
    let mut pair = Pair::new(Config::default());
    let right_salt = pair.client.salt();
    pair.client = ClientSession::new(0x5e55, 0); // as Telethon and Pyrogram start
    let first = pair.ping(7);
    assert_eq!(
        refusals(&pair.events()),
        [(first, Some(48))],
        "refused with bad_server_salt"
    );
    let events = pair.receive();
    assert_eq!(
        events,
        [ClientEvent::BadServerSalt(BadServerSalt {
            bad_msg_id: first,
            bad_msg_seqno: 0,
            error_code: 48,
            new_server_salt: right_salt
        })]
    );
    assert_eq!(pair.client.salt(), right_salt);

    let again = pair.ping(7);
    assert!(refusals(&pair.events()).is_empty());
    let events = pair.receive();
    assert!(events.contains(&ClientEvent::Pong(Pong {
        msg_id: again,
        ping_id: 7
    })));
}

#[test]
fn a_new_session_is_announced_with_new_session_created_before_the_answer() {
    let mut pair = Pair::new(Config::default());
    let first = pair.ping(1);
    assert_eq!(pair.events()[0], Event::NewSession { session_id: 0x5e55 });
    let transmits = pair.transmits();
    let [container] = transmits.as_slice() else {
        panic!("one container expected: {transmits:?}");
    };
    let Ok(Body::Container(MsgContainer { messages })) = Body::decode(&container.body, 1 << 20)
    else {
        panic!("not a container");
    };
    let names: Vec<_> = messages
        .iter()
        .map(|m| Body::decode(&m.body, 1 << 20).unwrap().name().unwrap())
        .collect();
    assert_eq!(names, ["new_session_created", "pong"]);
    // new_session_created: started by the server (≡ 3), to be acknowledged (odd seq_no).
    assert_eq!(messages[0].msg_id.rem_euclid(4), 3);
    assert_eq!(messages[0].seqno, 1);
    // pong: a reply (≡ 1), not content-related (even).
    assert_eq!(messages[1].msg_id.rem_euclid(4), 1);
    assert_eq!(messages[1].seqno % 2, 0);
    let events = pair.client.handle_message(container.clone()).unwrap();
    let ClientEvent::NewSession(new) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(new.first_msg_id, first);
    assert_eq!(new.server_salt, pair.server.salts().current(pair.now));
}

#[test]
fn a_later_message_with_a_lower_msg_id_gets_another_new_session_created() {
    let mut pair = Pair::new(Config::default());
    let early = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    let late = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.send(late.clone());
    pair.send(early.clone());
    let firsts: Vec<i64> = pair
        .receive()
        .into_iter()
        .filter_map(|event| match event {
            ClientEvent::NewSession(new) => Some(new.first_msg_id),
            _ => None,
        })
        .collect();
    assert_eq!(firsts, [late.msg_id, early.msg_id]);
    assert_eq!(pair.calls().len(), 2, "both calls are processed");
}

#[test]
fn a_msg_id_not_divisible_by_4_gets_18() {
    let mut pair = Pair::new(Config::default());
    let mut message = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    message.msg_id += 1;
    let msg_id = message.msg_id;
    pair.send(message);
    assert_eq!(refusals(&pair.events()), [(msg_id, Some(18))]);
    assert_eq!(notification(&pair.receive()), Some((msg_id, 18)));
}

#[test]
fn a_msg_id_over_300_seconds_old_gets_16_and_one_30_seconds_ahead_gets_17() {
    let mut pair = Pair::new(Config::default());
    let old = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.advance(Duration::from_secs(301));
    pair.send(old.clone());
    assert_eq!(refusals(&pair.events()), [(old.msg_id, Some(16))]);
    assert_eq!(notification(&pair.receive()), Some((old.msg_id, 16)));

    let mut ahead = ClientSession::new(0x5e55, pair.client.salt());
    let early = ahead.message(
        pair.now + Duration::from_secs(31),
        GET_CONFIG.to_vec(),
        true,
    );
    pair.send(early.clone());
    assert_eq!(refusals(&pair.events()), [(early.msg_id, Some(17))]);
    let mut less_ahead = ClientSession::new(0x5e55, pair.client.salt());
    let within = less_ahead.message(
        pair.now + Duration::from_secs(29),
        GET_CONFIG.to_vec(),
        true,
    );
    pair.send(within);
    assert!(refusals(&pair.events()).is_empty());
}

#[test]
fn a_message_already_processed_is_not_processed_again() {
    let mut pair = Pair::new(Config::default());
    let ping = pair.client.message(
        pair.now,
        secretchat_mtproto::service::functions::Ping { ping_id: 3 }.to_bytes(),
        false,
    );
    pair.send(ping.clone());
    pair.send(ping.clone());
    let events = pair.events();
    assert_eq!(refusals(&events), [(ping.msg_id, None)]);
    assert!(events.contains(&Event::Refused {
        session_id: 0x5e55,
        msg_id: ping.msg_id,
        error: InboundError::Duplicate {
            msg_id: ping.msg_id
        }
    }));
    let pongs = pair
        .receive()
        .into_iter()
        .filter(|event| matches!(event, ClientEvent::Pong(_)))
        .count();
    assert_eq!(pongs, 1);
}

#[test]
fn a_container_msg_id_used_before_gets_19() {
    let mut pair = Pair::settled(Config::default());
    let inner = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    let container = pair.client.container(pair.now, vec![inner]);
    pair.send(container.clone());
    pair.events();
    let mut again = container.clone();
    let fresh = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    again.body = MsgContainer {
        messages: vec![ContainerMessage {
            msg_id: fresh.msg_id - 4_000_000, // below the container's msg_id, never used
            seqno: fresh.seq_no,
            body: GET_CONFIG.to_vec(),
        }],
    }
    .to_bytes();
    pair.send(again);
    assert_eq!(refusals(&pair.events()), [(container.msg_id, Some(19))]);
}

#[test]
fn a_msg_id_below_the_forgotten_ones_gets_20() {
    let mut pair = Pair::new(Config {
        received_window: 2,
        ..Config::default()
    });
    let old = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    let skipped = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    pair.send(old.clone());
    for _ in 0..2 {
        pair.send_body(GET_CONFIG.to_vec(), true);
    }
    pair.events();
    // `old` was forgotten: `skipped`, just above it but below the remembered ones, is new...
    pair.send(skipped);
    assert!(refusals(&pair.events()).is_empty());
    // ...while `old` itself cannot be told from a replay.
    let mut replay = old.clone();
    replay.msg_id -= 4;
    pair.send(replay.clone());
    assert_eq!(refusals(&pair.events()), [(replay.msg_id, Some(20))]);
}

#[test]
fn an_even_api_call_gets_35_only_under_telegram_strictness() {
    let mut strict_pair = Pair::new(strict());
    let msg_id = strict_pair.send_body(GET_CONFIG.to_vec(), false);
    assert_eq!(refusals(&strict_pair.events()), [(msg_id, Some(35))]);

    let mut lenient = Pair::new(Config::default());
    lenient.send_body(GET_CONFIG.to_vec(), false);
    assert_eq!(lenient.calls().len(), 1);
}

#[test]
fn an_odd_acknowledgement_gets_34_while_odd_and_even_pings_both_pass_under_telegram_strictness() {
    let mut pair = Pair::new(strict());
    let ack = pair.send_body(MsgsAck { msg_ids: vec![] }.to_bytes(), true);
    assert_eq!(refusals(&pair.events()), [(ack, Some(34))]);
    // Telethon's ping is odd, Pyrogram's even: service messages may be either.
    let ping = secretchat_mtproto::service::functions::Ping { ping_id: 1 }.to_bytes();
    pair.send_body(ping.clone(), true);
    pair.send_body(ping, false);
    assert!(refusals(&pair.events()).is_empty());
}

#[test]
fn a_seq_no_out_of_order_with_msg_ids_gets_32_or_33_under_telegram_strictness() {
    let mut pair = Pair::new(strict());
    let a = pair.client.message(pair.now, GET_CONFIG.to_vec(), true); // seq 1
    let b = pair.client.message(pair.now, GET_CONFIG.to_vec(), true); // seq 3
    let c = pair.client.message(pair.now, GET_CONFIG.to_vec(), true); // seq 5
    pair.send(a);
    pair.send(c);
    // A message between a and c must have a seq_no between theirs.
    let mut low = b.clone();
    low.seq_no = 1;
    pair.send(low.clone());
    // The refused message was not recorded, so its msg_id can come again.
    let mut high = b.clone();
    high.seq_no = 7;
    pair.send(high.clone());
    assert_eq!(
        refusals(&pair.events()),
        [(low.msg_id, Some(32)), (high.msg_id, Some(33))]
    );
    pair.send(b);
    assert!(refusals(&pair.events()).is_empty());
}

#[test]
fn the_messages_of_a_container_are_each_processed() {
    let mut pair = Pair::new(Config::default());
    let ping = pair.client.message(
        pair.now,
        secretchat_mtproto::service::functions::Ping { ping_id: 9 }.to_bytes(),
        false,
    );
    let call = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    let container = pair
        .client
        .container(pair.now, vec![ping.clone(), call.clone()]);
    pair.send(container);
    let calls = pair.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].msg_id, call.msg_id);
    assert!(pair.receive().contains(&ClientEvent::Pong(Pong {
        msg_id: ping.msg_id,
        ping_id: 9
    })));
}

#[test]
fn a_container_holding_a_message_not_below_its_msg_id_gets_64() {
    let mut pair = Pair::new(Config::default());
    let mut container = pair.client.container(pair.now, vec![]);
    let inner = pair.client.message(pair.now, GET_CONFIG.to_vec(), true);
    container.body = MsgContainer {
        messages: vec![ContainerMessage {
            msg_id: inner.msg_id,
            seqno: inner.seq_no,
            body: inner.body,
        }],
    }
    .to_bytes();
    pair.send(container.clone());
    let events = pair.events();
    assert!(events.contains(&Event::Refused {
        session_id: 0x5e55,
        msg_id: container.msg_id,
        error: InboundError::InvalidContainer(ContainerError::InnerMsgIdNotBelow {
            inner: inner.msg_id,
            container: container.msg_id
        })
    }));
    assert!(pair.calls().is_empty(), "rejected as a whole");
    assert_eq!(notification(&pair.receive()), Some((container.msg_id, 64)));
}

#[test]
fn a_container_inside_a_container_gets_64() {
    let mut pair = Pair::new(Config::default());
    let inner = pair.client.container(pair.now, vec![]);
    let outer = pair.client.container(pair.now, vec![inner]);
    pair.send(outer.clone());
    assert!(pair.events().contains(&Event::Refused {
        session_id: 0x5e55,
        msg_id: outer.msg_id,
        error: InboundError::InvalidContainer(ContainerError::Nested { index: 0 })
    }));
}

#[test]
fn a_truncated_container_gets_64_and_a_truncated_service_message_is_dropped() {
    let mut pair = Pair::new(Config::default());
    let mut container = pair.client.container(pair.now, vec![]);
    container.body.truncate(6);
    pair.send(container.clone());
    let mut ack = pair
        .client
        .message(pair.now, MsgsAck { msg_ids: vec![4] }.to_bytes(), false);
    ack.body.truncate(10);
    pair.send(ack.clone());
    assert_eq!(
        refusals(&pair.events()),
        [(container.msg_id, Some(64)), (ack.msg_id, None)]
    );
}

#[test]
fn a_gzipped_call_is_handed_out_unpacked() {
    let mut pair = Pair::new(Config::default());
    let query = [GET_CONFIG.to_vec(), vec![0; 2048]].concat();
    let packed = gzip_packed::pack(&query).unwrap();
    pair.send_body(packed, true);
    let calls = pair.calls();
    assert_eq!(calls[0].query, query);
}

#[test]
fn gzip_bombs_in_a_container_share_one_budget() {
    let mut pair = Pair::new(Config {
        max_unpacked_len: 3000,
        ..Config::default()
    });
    let bomb = |size| gzip_packed::pack(&[GET_CONFIG.to_vec(), vec![0; size]].concat()).unwrap();
    let first = pair.client.message(pair.now, bomb(2000), true);
    let second = pair.client.message(pair.now, bomb(2000), true);
    let container = pair
        .client
        .container(pair.now, vec![first.clone(), second.clone()]);
    pair.send(container);
    let events = pair.events();
    assert_eq!(refusals(&events), [(second.msg_id, None)]);
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Refused {
            error: InboundError::Malformed(
                secretchat_mtproto::service_messages::EnvelopeError::InflatedTooLarge { .. }
            ),
            ..
        }
    )));
}

#[test]
fn a_server_message_sent_by_a_client_is_refused_without_a_notification() {
    let mut pair = Pair::new(Config::default());
    let pong = secretchat_mtproto::service::types::Pong {
        msg_id: 1,
        ping_id: 2,
    };
    let msg_id = pair.send_body(pong.to_bytes(), false);
    assert!(pair.events().contains(&Event::Refused {
        session_id: 0x5e55,
        msg_id,
        error: InboundError::UnexpectedFromClient { name: "pong" }
    }));
}

#[test]
fn the_salt_of_the_handshake_is_accepted_for_30_minutes() {
    let mut pair = Pair::new(Config::default());
    pair.server.accept_handshake_salt(0x7777, pair.now);
    pair.client = ClientSession::new(0x5e55, 0x7777);
    pair.ping(1);
    assert!(refusals(&pair.events()).is_empty());
    pair.advance(Duration::from_secs(1800));
    let late = pair.ping(2);
    assert_eq!(refusals(&pair.events()), [(late, Some(48))]);
}

#[test]
fn arbitrary_plaintext_never_panics_the_session() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(
            &(
                any::<i64>(),
                any::<i32>(),
                proptest::collection::vec(any::<u8>(), 0..200),
            ),
            |(msg_id, seq_no, body)| {
                let mut pair = Pair::new(Config::default());
                let salt = pair.client.salt();
                for msg_id in [
                    msg_id,
                    msg_id & !3,
                    pair.client.message(pair.now, vec![], true).msg_id,
                ] {
                    pair.send(PlainMessage {
                        salt,
                        session_id: 1,
                        msg_id,
                        seq_no,
                        body: body.clone(),
                    });
                }
                pair.events();
                pair.transmits();
                Ok(())
            },
        )
        .unwrap();
}
