//! The JSON form of TL objects: what is written, what is accepted, and the exact error
//! (with its path) for what is not.

use secretchat_common::tl::e2e::{enums, types, Object};
use secretchat_common::tl::{JsonError, JsonErrorKind, TlJson};
use serde_json::json;

fn photo() -> types::DecryptedMessageMediaPhoto {
    types::DecryptedMessageMediaPhoto {
        thumb: vec![],
        thumb_w: 90,
        thumb_h: 90,
        w: 1280,
        h: 720,
        size: 123456,
        key: vec![1, 2, 3],
        iv: vec![0xff; 4],
        caption: "a photo".into(),
    }
}

fn message_with_photo() -> types::DecryptedMessage {
    types::DecryptedMessage {
        no_webpage: false,
        silent: true,
        random_id: -4232310728834947978,
        ttl: 0,
        message: String::new(),
        media: Some(photo().into()),
        entities: None,
        via_bot_name: None,
        reply_to_random_id: None,
        grouped_id: None,
    }
}

fn error_of<T: TlJson + std::fmt::Debug>(value: serde_json::Value) -> JsonError {
    T::from_json(&value).expect_err("JSON should be refused")
}

#[test]
fn output_uses_canonical_names_long_strings_base64_and_omits_absent_fields() {
    assert_eq!(
        message_with_photo().to_json(),
        json!({
            "_": "decryptedMessage",
            "silent": true,
            "random_id": "-4232310728834947978",
            "ttl": 0,
            "message": "",
            "media": {
                "_": "decryptedMessageMediaPhoto",
                "thumb": "",
                "thumb_w": 90,
                "thumb_h": 90,
                "w": 1280,
                "h": 720,
                "size": 123456,
                "key": "AQID",
                "iv": "/////w==",
                "caption": "a photo"
            }
        })
    );
}

#[test]
fn input_accepts_long_as_number_and_bytes_as_hex_and_null_as_absent() {
    let value = json!({
        "_": "decryptedMessage",
        "silent": true,
        "no_webpage": null,
        "random_id": -4232310728834947978i64,
        "ttl": 0,
        "message": "",
        "entities": null,
        "flags": 12345,
        "media": {
            "_": "decryptedMessageMediaPhoto",
            "thumb": {"$hex": ""},
            "thumb_w": 90, "thumb_h": 90, "w": 1280, "h": 720, "size": 123456,
            "key": {"$hex": "010203"},
            "iv": "/////w==",
            "caption": "a photo"
        }
    });
    assert_eq!(
        types::DecryptedMessage::from_json(&value),
        Ok(message_with_photo())
    );
}

#[test]
fn serde_impls_go_through_the_same_form() {
    let message: enums::DecryptedMessage = message_with_photo().into();
    let text = serde_json::to_string(&message).unwrap();
    let back: enums::DecryptedMessage = serde_json::from_str(&text).unwrap();
    assert_eq!(back, message);
    let err =
        serde_json::from_str::<Object>(r#"{"_":"decryptedMessageActionNoop","x":1}"#).unwrap_err();
    assert!(err
        .to_string()
        .contains("unknown field `x` in `decryptedMessageActionNoop`"));
}

#[test]
fn error_path_points_into_nested_objects() {
    let mut value = message_with_photo().to_json();
    value["media"]["key"] = json!("not base64!");
    let err = error_of::<types::DecryptedMessage>(value);
    assert_eq!(err.path, "media.key");
    assert!(
        matches!(err.kind, JsonErrorKind::InvalidBase64 { .. }),
        "{err}"
    );

    let layer = json!({
        "_": "decryptedMessageLayer",
        "random_bytes": "",
        "layer": 73,
        "in_seq_no": 0,
        "out_seq_no": 1,
        "message": message_with_photo().to_json(),
    });
    let mut broken = layer.clone();
    broken["message"]["media"]["key"] = json!({"$hex": "zz"});
    let err = error_of::<Object>(broken);
    assert_eq!(err.path, "message.media.key.$hex");
    assert!(matches!(err.kind, JsonErrorKind::InvalidHex { .. }));
    assert!(err
        .to_string()
        .starts_with("at `message.media.key.$hex`: invalid $hex"));
}

#[test]
fn error_path_names_the_vector_index() {
    let value = json!({
        "_": "decryptedMessageActionReadMessages",
        "random_ids": ["1", "2", "three"],
    });
    let err = error_of::<Object>(value);
    assert_eq!(err.path, "random_ids[2]");
    assert_eq!(
        err.kind,
        JsonErrorKind::InvalidLong {
            value: "three".into()
        }
    );
}

#[test]
fn unknown_field_is_refused_naming_field_and_constructor() {
    let err = error_of::<Object>(
        json!({"_": "decryptedMessageActionNotifyLayer", "layer": 46, "lyer": 46}),
    );
    assert_eq!(
        err,
        JsonError {
            path: String::new(),
            kind: JsonErrorKind::UnknownField {
                field: "lyer".into(),
                constructor: "decryptedMessageActionNotifyLayer",
            },
        }
    );
}

#[test]
fn flags_is_an_unknown_field_where_the_constructor_has_none() {
    let err = error_of::<Object>(
        json!({"_": "decryptedMessageActionNotifyLayer", "layer": 1, "flags": 0}),
    );
    assert_eq!(
        err.kind,
        JsonErrorKind::UnknownField {
            field: "flags".into(),
            constructor: "decryptedMessageActionNotifyLayer",
        }
    );
}

#[test]
fn missing_field_names_field_and_constructor() {
    let err = error_of::<Object>(json!({"_": "decryptedMessageActionResend", "start_seq_no": 1}));
    assert_eq!(
        err.kind,
        JsonErrorKind::MissingField {
            field: "end_seq_no",
            constructor: "decryptedMessageActionResend",
        }
    );
}

#[test]
fn constructor_of_another_type_is_refused_naming_both() {
    let value = json!({
        "_": "decryptedMessageService",
        "random_id": "1",
        "action": {"_": "decryptedMessageMediaEmpty"},
    });
    let err = error_of::<types::DecryptedMessageService>(value);
    assert_eq!(err.path, "action");
    assert_eq!(
        err.kind,
        JsonErrorKind::WrongConstructor {
            name: "decryptedMessageMediaEmpty".into(),
            expected: "DecryptedMessageAction",
        }
    );
}

#[test]
fn struct_reading_another_constructor_is_refused_naming_both() {
    let err = error_of::<types::DecryptedMessage>(
        json!({"_": "decryptedMessage46", "random_id": "1", "ttl": 0, "message": ""}),
    );
    assert_eq!(
        err.kind,
        JsonErrorKind::WrongConstructor {
            name: "decryptedMessage46".into(),
            expected: "decryptedMessage",
        }
    );
}

#[test]
fn unknown_constructor_name_is_refused() {
    let err =
        error_of::<enums::DecryptedMessageAction>(json!({"_": "decryptedMessageActionDance"}));
    assert_eq!(
        err.kind,
        JsonErrorKind::UnknownConstructor {
            name: "decryptedMessageActionDance".into(),
            expected: "DecryptedMessageAction",
        }
    );
    assert_eq!(
        error_of::<Object>(json!({"ttl": 1})).kind,
        JsonErrorKind::MissingName
    );
}

#[test]
fn layer_aliases_are_accepted_and_canonical_names_are_written() {
    let old_photo = json!({
        "_": "decryptedMessageMediaPhoto8",
        "thumb": "", "thumb_w": 0, "thumb_h": 0, "w": 1, "h": 1, "size": 1,
        "key": "", "iv": ""
    });
    let media = enums::DecryptedMessageMedia::from_json(&old_photo).unwrap();
    assert_eq!(media.constructor_id(), 0x32798a8c);
    assert_eq!(media.to_json()["_"], "decryptedMessageMediaPhoto23");

    let audio = Object::from_json(
        &json!({"_": "documentAttributeAudio45", "duration": 3, "title": "t", "performer": "p"}),
    )
    .unwrap();
    assert_eq!(audio.constructor_id(), 0xded218e0);
}

#[test]
fn int_out_of_range_is_refused() {
    let err = error_of::<Object>(
        json!({"_": "decryptedMessageActionNotifyLayer", "layer": 2147483648i64}),
    );
    assert_eq!(err.path, "layer");
    assert_eq!(
        err.kind,
        JsonErrorKind::OutOfRange {
            value: "2147483648".into(),
            expected: "an int (32-bit integer)",
        }
    );
    let err = error_of::<Object>(json!({"_": "decryptedMessageActionNotifyLayer", "layer": 1.5}));
    assert_eq!(
        err.kind,
        JsonErrorKind::WrongJsonType {
            expected: "an int (32-bit integer)",
            got: "a fractional number",
        }
    );
}

#[test]
fn long_out_of_range_is_refused() {
    let err = error_of::<Object>(
        json!({"_": "decryptedMessageActionAbortKey", "exchange_id": 18446744073709551615u64}),
    );
    assert_eq!(
        err.kind,
        JsonErrorKind::OutOfRange {
            value: "18446744073709551615".into(),
            expected: "a long (decimal string or integer)",
        }
    );
    let err = error_of::<Object>(
        json!({"_": "decryptedMessageActionAbortKey", "exchange_id": "9223372036854775808"}),
    );
    assert_eq!(
        err.kind,
        JsonErrorKind::InvalidLong {
            value: "9223372036854775808".into()
        }
    );
}

#[test]
fn true_flag_must_be_a_boolean() {
    let mut value = message_with_photo().to_json();
    value["silent"] = json!(1);
    let err = error_of::<types::DecryptedMessage>(value);
    assert_eq!(err.path, "silent");
    assert_eq!(
        err.kind,
        JsonErrorKind::WrongJsonType {
            expected: "a boolean",
            got: "an integer",
        }
    );
}

#[test]
fn long_is_written_as_a_decimal_string() {
    let abort = types::DecryptedMessageActionAbortKey {
        exchange_id: i64::MIN,
    };
    assert_eq!(abort.to_json()["exchange_id"], "-9223372036854775808");
}
