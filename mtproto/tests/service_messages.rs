//! The hand-parsed envelopes: round trips (proptest) and tampered bytes with their exact errors.

use proptest::prelude::*;
use secretchat_common::tl::{DecodeError, TlWrite};
use secretchat_mtproto::service::types::{FutureSalt, MsgsAck, RpcError};
use secretchat_mtproto::service_messages::{
    gzip_packed, Body, ContainerMessage, EnvelopeError, FutureSalts, MsgContainer, RpcAnswer,
    RpcResult, DEFAULT_MAX_UNPACKED_LEN, MAX_CONTAINER_MESSAGES, MAX_IDS,
};

const MAX: usize = DEFAULT_MAX_UNPACKED_LEN;

/// A body: a constructor id and whole ints, as every TL object is.
fn body() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u32>(),
        proptest::collection::vec(any::<[u8; 4]>(), 0..16),
    )
        .prop_map(|(id, words)| [id.to_le_bytes().to_vec(), words.concat()].concat())
}

fn message() -> impl Strategy<Value = ContainerMessage> {
    (any::<i64>(), any::<i32>(), body()).prop_map(|(msg_id, seqno, body)| ContainerMessage {
        msg_id,
        seqno,
        body,
    })
}

proptest! {
    #[test]
    fn a_container_round_trips(messages in proptest::collection::vec(message(), 0..20)) {
        let container = MsgContainer { messages };
        prop_assert_eq!(MsgContainer::from_bytes(&container.to_bytes()), Ok(container));
    }

    #[test]
    fn future_salts_round_trip(
        req_msg_id in any::<i64>(),
        now in any::<i32>(),
        salts in proptest::collection::vec(any::<(i32, i32, i64)>(), 0..=64),
    ) {
        let salts = salts
            .into_iter()
            .map(|(valid_since, valid_until, salt)| FutureSalt { valid_since, valid_until, salt })
            .collect();
        let future = FutureSalts { req_msg_id, now, salts };
        prop_assert_eq!(FutureSalts::from_bytes(&future.to_bytes()), Ok(future));
    }

    #[test]
    fn an_rpc_result_round_trips_gzipped_or_not(
        req_msg_id in any::<i64>(),
        object in body(),
        repeat in 1usize..200,
        gzip_min_len in prop_oneof![Just(0usize), Just(512), Just(usize::MAX)],
    ) {
        // Repeating the words makes large, compressible objects as well as small ones.
        let object = [object.clone(), object[4..].repeat(repeat)].concat();
        let result = RpcResult { req_msg_id, answer: RpcAnswer::Object(object) };
        let bytes = result.to_bytes(gzip_min_len);
        prop_assert_eq!(RpcResult::from_bytes(&bytes, MAX), Ok(result));
    }

    #[test]
    fn gzip_packed_round_trips_and_is_used_only_when_smaller(object in body(), repeat in 0usize..300) {
        let object = [object.clone(), object[4..].repeat(repeat)].concat();
        if let Some(packed) = gzip_packed::pack_if_smaller(&object, 0) {
            prop_assert!(packed.len() < object.len());
            prop_assert_eq!(gzip_packed::unpack(&packed, MAX), Ok(object.clone()));
        }
        let packed = gzip_packed::pack(&object).unwrap();
        prop_assert_eq!(gzip_packed::unpack(&packed, object.len()), Ok(object));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Body::decode(&bytes, MAX);
        let _ = MsgContainer::from_bytes(&bytes);
        let _ = RpcResult::from_bytes(&bytes, MAX);
        let _ = FutureSalts::from_bytes(&bytes);
    }
}

fn container_header(count: u32) -> Vec<u8> {
    [0x73f1f8dcu32.to_le_bytes(), count.to_le_bytes()].concat()
}

#[test]
fn a_container_of_more_than_1024_messages_is_refused_before_reading_them() {
    assert_eq!(MAX_CONTAINER_MESSAGES, 1024);
    let err = MsgContainer::from_bytes(&container_header(1025)).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::TooManyMessages {
            count: 1025,
            max: 1024
        }
    );
}

#[test]
fn a_container_count_beyond_the_bytes_left_is_refused() {
    let err = MsgContainer::from_bytes(&container_header(3)).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::Decode {
            what: "msg_container",
            source: DecodeError::VectorCountOverRemaining {
                count: 3,
                min_item_size: 20,
                remaining: 0,
                at: 4
            }
        }
    );
}

fn one_message_container(len: i32, body: &[u8]) -> Vec<u8> {
    let mut bytes = container_header(1);
    bytes.extend(4i64.to_le_bytes());
    bytes.extend(1i32.to_le_bytes());
    bytes.extend(len.to_le_bytes());
    bytes.extend(body);
    bytes
}

#[test]
fn a_message_length_that_is_not_a_multiple_of_4_is_refused_with_its_position() {
    let err = MsgContainer::from_bytes(&one_message_container(6, &[0; 8])).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::BadBodyLength {
            index: 0,
            len: 6,
            at: 20
        }
    );
    let err = MsgContainer::from_bytes(&one_message_container(-4, &[0; 8])).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::BadBodyLength {
            index: 0,
            len: -4,
            at: 20
        }
    );
}

#[test]
fn a_message_length_beyond_the_container_is_refused() {
    let err = MsgContainer::from_bytes(&one_message_container(12, &[0; 8])).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::BodyOverRemaining {
            index: 0,
            len: 12,
            remaining: 8,
            at: 20
        }
    );
}

#[test]
fn bytes_after_the_last_message_are_refused() {
    let err = MsgContainer::from_bytes(&one_message_container(4, &[0; 8])).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::Decode {
            what: "msg_container",
            source: DecodeError::TrailingBytes { count: 4, at: 28 }
        }
    );
}

#[test]
fn an_empty_container_is_allowed() {
    assert_eq!(
        MsgContainer::from_bytes(&container_header(0)),
        Ok(MsgContainer::default())
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_limit() {
    let zeros = vec![0u8; 10 << 20];
    let packed = gzip_packed::pack(&zeros).unwrap();
    assert!(packed.len() < 20_000, "10 MiB of zeros packs small");
    let err = gzip_packed::unpack(&packed, MAX).unwrap_err();
    assert_eq!(err, EnvelopeError::InflatedTooLarge { max: MAX });
    assert_eq!(
        Body::decode(&packed, MAX).unwrap_err(),
        EnvelopeError::InflatedTooLarge { max: MAX }
    );
}

#[test]
fn a_corrupt_gzip_stream_is_an_inflate_error() {
    let mut packed = gzip_packed::pack(&[7u8; 64]).unwrap();
    packed[8] ^= 0xff; // inside the gzip header's magic
    assert!(matches!(
        gzip_packed::unpack(&packed, MAX),
        Err(EnvelopeError::Inflate { .. })
    ));
}

#[test]
fn gzip_inside_gzip_and_a_container_inside_gzip_are_refused() {
    let inner = gzip_packed::pack(&MsgsAck { msg_ids: vec![4] }.to_bytes()).unwrap();
    let twice = gzip_packed::pack(&inner).unwrap();
    assert_eq!(
        Body::decode(&twice, MAX).unwrap_err(),
        EnvelopeError::Nested {
            inner: "gzip_packed",
            outer: "gzip_packed"
        }
    );
    let container = gzip_packed::pack(&container_header(0)).unwrap();
    assert_eq!(
        Body::decode(&container, MAX).unwrap_err(),
        EnvelopeError::Nested {
            inner: "a container",
            outer: "gzip_packed"
        }
    );
}

#[test]
fn a_gzipped_service_message_decodes_as_that_message() {
    let ack = MsgsAck {
        msg_ids: vec![8, 12],
    };
    let packed = gzip_packed::pack(&ack.to_bytes()).unwrap();
    assert_eq!(Body::decode(&packed, MAX), Ok(Body::MsgsAck(ack)));
}

#[test]
fn an_acknowledgement_of_more_than_8192_ids_is_refused() {
    let ack = MsgsAck {
        msg_ids: vec![4; MAX_IDS + 1],
    };
    assert_eq!(
        Body::decode(&ack.to_bytes(), MAX).unwrap_err(),
        EnvelopeError::TooManyItems {
            what: "msgs_ack",
            count: 8193,
            max: 8192
        }
    );
    let ack = MsgsAck {
        msg_ids: vec![4; MAX_IDS],
    };
    assert!(matches!(
        Body::decode(&ack.to_bytes(), MAX),
        Ok(Body::MsgsAck(_))
    ));
}

#[test]
fn an_rpc_error_result_is_told_apart_from_an_object() {
    let error = RpcError {
        error_code: 401,
        error_message: "AUTH_KEY_UNREGISTERED".into(),
    };
    let mut bytes = 0xf35c6d01u32.to_le_bytes().to_vec();
    bytes.extend(16i64.to_le_bytes());
    error.write_to(&mut bytes);
    assert_eq!(
        RpcResult::from_bytes(&bytes, MAX),
        Ok(RpcResult {
            req_msg_id: 16,
            answer: RpcAnswer::Error(error)
        })
    );
}

#[test]
fn an_rpc_result_without_a_result_is_truncated() {
    let mut bytes = 0xf35c6d01u32.to_le_bytes().to_vec();
    bytes.extend(16i64.to_le_bytes());
    assert_eq!(
        RpcResult::from_bytes(&bytes, MAX).unwrap_err(),
        EnvelopeError::Decode {
            what: "rpc_result",
            source: DecodeError::Truncated {
                needed: 4,
                remaining: 0,
                at: 12
            }
        }
    );
}

#[test]
fn more_than_64_future_salts_are_refused() {
    let mut bytes = 0xae500895u32.to_le_bytes().to_vec();
    bytes.extend(0i64.to_le_bytes());
    bytes.extend(0i32.to_le_bytes());
    bytes.extend(65u32.to_le_bytes());
    bytes.extend(vec![0u8; 65 * 16]);
    assert_eq!(
        FutureSalts::from_bytes(&bytes).unwrap_err(),
        EnvelopeError::TooManyItems {
            what: "future_salts",
            count: 65,
            max: 64
        }
    );
}

#[test]
fn an_empty_body_is_truncated_and_an_unknown_one_is_other() {
    assert_eq!(
        Body::decode(&[1, 2], MAX).unwrap_err(),
        EnvelopeError::Decode {
            what: "message body",
            source: DecodeError::Truncated {
                needed: 4,
                remaining: 2,
                at: 0
            }
        }
    );
    let get_config = 0xc4f9186bu32.to_le_bytes();
    assert_eq!(
        Body::decode(&get_config, MAX),
        Ok(Body::Other(get_config.to_vec()))
    );
}
