//! Property tests for the TL codec and JSON form over generated values of the main types,
//! and "decoding never panics" over arbitrary and mutated bytes.

use proptest::prelude::*;
use secretchat_common::tl::e2e::{self, enums, types, Object};
use secretchat_common::tl::{decode_and_check_roundtrip, TlJson, TlRead, TlWrite};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,24}", ".{250,260}"]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        prop::collection::vec(any::<u8>(), 250..300),
    ]
}

/// Finite doubles only: NaN is not equal to itself and JSON cannot carry it.
fn double() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::ZERO
}

fn entity() -> impl Strategy<Value = enums::MessageEntity> {
    prop_oneof![
        (any::<i32>(), any::<i32>()).prop_map(|(offset, length)| types::MessageEntityBold {
            offset,
            length
        }
        .into()),
        (any::<i32>(), any::<i32>(), text()).prop_map(|(offset, length, language)| {
            types::MessageEntityPre {
                offset,
                length,
                language,
            }
            .into()
        }),
        (any::<i32>(), any::<i32>(), text()).prop_map(|(offset, length, url)| {
            types::MessageEntityTextUrl {
                offset,
                length,
                url,
            }
            .into()
        }),
        (any::<i32>(), any::<i32>(), any::<i64>()).prop_map(|(offset, length, document_id)| {
            types::MessageEntityCustomEmoji {
                offset,
                length,
                document_id,
            }
            .into()
        }),
        (any::<i32>(), any::<i32>()).prop_map(|(offset, length)| types::MessageEntitySpoiler {
            offset,
            length
        }
        .into()),
    ]
}

fn document_attribute() -> impl Strategy<Value = enums::DocumentAttribute> {
    prop_oneof![
        text().prop_map(|file_name| types::DocumentAttributeFilename { file_name }.into()),
        (any::<i32>(), any::<i32>())
            .prop_map(|(w, h)| types::DocumentAttributeImageSize { w, h }.into()),
        (
            any::<bool>(),
            any::<i32>(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(bytes())
        )
            .prop_map(|(voice, duration, title, performer, waveform)| {
                types::DocumentAttributeAudio {
                    voice,
                    duration,
                    title,
                    performer,
                    waveform,
                }
                .into()
            }),
        (any::<bool>(), any::<i32>(), any::<i32>(), any::<i32>()).prop_map(
            |(round_message, duration, w, h)| {
                types::DocumentAttributeVideo {
                    round_message,
                    duration,
                    w,
                    h,
                }
                .into()
            }
        ),
        (text(), text()).prop_map(|(alt, short_name)| {
            types::DocumentAttributeSticker {
                alt,
                stickerset: types::InputStickerSetShortName { short_name }.into(),
            }
            .into()
        }),
    ]
}

fn media() -> impl Strategy<Value = enums::DecryptedMessageMedia> {
    prop_oneof![
        Just(types::DecryptedMessageMediaEmpty {}.into()),
        (
            bytes(),
            any::<i32>(),
            any::<i32>(),
            bytes(),
            bytes(),
            text()
        )
            .prop_map(|(thumb, w, size, key, iv, caption)| {
                types::DecryptedMessageMediaPhoto {
                    thumb,
                    thumb_w: w,
                    thumb_h: w,
                    w,
                    h: w,
                    size,
                    key,
                    iv,
                    caption,
                }
                .into()
            }),
        (
            bytes(),
            text(),
            any::<i64>(),
            bytes(),
            prop::collection::vec(document_attribute(), 0..4),
            text()
        )
            .prop_map(|(thumb, mime_type, size, key, attributes, caption)| {
                types::DecryptedMessageMediaDocument {
                    thumb,
                    thumb_w: 0,
                    thumb_h: 0,
                    mime_type,
                    size,
                    iv: key.clone(),
                    key,
                    attributes,
                    caption,
                }
                .into()
            }),
        (double(), double()).prop_map(|(lat, long)| types::DecryptedMessageMediaGeoPoint {
            lat,
            long
        }
        .into()),
        (double(), double(), text(), text()).prop_map(|(lat, long, title, address)| {
            types::DecryptedMessageMediaVenue {
                lat,
                long,
                title,
                address,
                provider: "foursquare".into(),
                venue_id: String::new(),
            }
            .into()
        }),
        text().prop_map(|url| types::DecryptedMessageMediaWebPage { url }.into()),
    ]
}

fn action() -> impl Strategy<Value = enums::DecryptedMessageAction> {
    prop_oneof![
        any::<i32>().prop_map(|layer| types::DecryptedMessageActionNotifyLayer { layer }.into()),
        (any::<i32>(), any::<i32>()).prop_map(|(start_seq_no, end_seq_no)| {
            types::DecryptedMessageActionResend {
                start_seq_no,
                end_seq_no,
            }
            .into()
        }),
        prop::collection::vec(any::<i64>(), 0..8)
            .prop_map(|random_ids| types::DecryptedMessageActionReadMessages { random_ids }.into()),
        prop::collection::vec(any::<i64>(), 0..8).prop_map(|random_ids| {
            types::DecryptedMessageActionDeleteMessages { random_ids }.into()
        }),
        (any::<i64>(), bytes()).prop_map(|(exchange_id, g_a)| {
            types::DecryptedMessageActionRequestKey { exchange_id, g_a }.into()
        }),
        (any::<i64>(), bytes(), any::<i64>()).prop_map(|(exchange_id, g_b, key_fingerprint)| {
            types::DecryptedMessageActionAcceptKey {
                exchange_id,
                g_b,
                key_fingerprint,
            }
            .into()
        }),
        (any::<i64>(), any::<i64>()).prop_map(|(exchange_id, key_fingerprint)| {
            types::DecryptedMessageActionCommitKey {
                exchange_id,
                key_fingerprint,
            }
            .into()
        }),
        any::<i64>()
            .prop_map(|exchange_id| types::DecryptedMessageActionAbortKey { exchange_id }.into()),
        Just(types::DecryptedMessageActionNoop {}.into()),
        any::<i32>()
            .prop_map(
                |ttl_seconds| types::DecryptedMessageActionSetMessageTTL { ttl_seconds }.into()
            ),
        Just(
            types::DecryptedMessageActionTyping {
                action: types::SendMessageUploadRoundAction {}.into()
            }
            .into()
        ),
    ]
}

fn message() -> impl Strategy<Value = enums::DecryptedMessage> {
    let options = || {
        (
            proptest::option::of(media()),
            proptest::option::of(prop::collection::vec(entity(), 0..4)),
            proptest::option::of(text()),
            proptest::option::of(any::<i64>()),
        )
    };
    prop_oneof![
        (
            any::<(bool, bool, i64, i32)>(),
            text(),
            options(),
            proptest::option::of(any::<i64>())
        )
            .prop_map(
                |(
                    (no_webpage, silent, random_id, ttl),
                    message,
                    (media, entities, via_bot_name, reply_to_random_id),
                    grouped_id,
                )| {
                    types::DecryptedMessage {
                        no_webpage,
                        silent,
                        random_id,
                        ttl,
                        message,
                        media,
                        entities,
                        via_bot_name,
                        reply_to_random_id,
                        grouped_id,
                    }
                    .into()
                }
            ),
        (any::<(i64, i32)>(), text(), options()).prop_map(
            |((random_id, ttl), message, (media, entities, via_bot_name, reply_to_random_id))| {
                types::DecryptedMessage46 {
                    random_id,
                    ttl,
                    message,
                    media,
                    entities,
                    via_bot_name,
                    reply_to_random_id,
                }
                .into()
            }
        ),
        (any::<i64>(), action()).prop_map(|(random_id, action)| types::DecryptedMessageService {
            random_id,
            action
        }
        .into()),
        (any::<i64>(), bytes(), action()).prop_map(|(random_id, random_bytes, action)| {
            types::DecryptedMessageService8 {
                random_id,
                random_bytes,
                action,
            }
            .into()
        }),
    ]
}

fn layer() -> impl Strategy<Value = types::DecryptedMessageLayer> {
    (bytes(), any::<(i32, i32, i32)>(), message()).prop_map(
        |(random_bytes, (layer, in_seq_no, out_seq_no), message)| types::DecryptedMessageLayer {
            random_bytes,
            layer,
            in_seq_no,
            out_seq_no,
            message,
        },
    )
}

/// A mutation of valid bytes: flip one byte, cut the tail, or splice bytes in.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { index: usize, xor: u8 },
    Truncate { keep: usize },
    Insert { index: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(index, xor)| Mutation::Flip { index, xor }),
        any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(index, bytes)| Mutation::Insert { index, bytes }),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        match mutation {
            Mutation::Flip { index, xor } if len > 0 => bytes[index % len] ^= xor,
            Mutation::Flip { .. } => {}
            Mutation::Truncate { keep } => bytes.truncate(keep % (len + 1)),
            Mutation::Insert {
                index,
                bytes: extra,
            } => {
                let at = index % (len + 1);
                bytes.splice(at..at, extra.iter().copied());
            }
        }
    }
    bytes
}

proptest! {
    #[test]
    fn layer_value_encodes_and_decodes_to_itself(layer in layer()) {
        let bytes = layer.to_bytes();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(types::DecryptedMessageLayer::from_bytes(&bytes), Ok(layer.clone()));
        prop_assert_eq!(Object::from_bytes(&bytes), Ok(Object::from(layer)));
    }

    #[test]
    fn decoded_bytes_reencode_identically(message in message()) {
        let bytes = message.to_bytes();
        let decoded = enums::DecryptedMessage::from_bytes(&bytes).unwrap();
        prop_assert_eq!(decoded.to_bytes(), bytes);
    }

    #[test]
    fn json_form_reads_back_to_the_same_value(layer in layer()) {
        let json = layer.to_json();
        prop_assert_eq!(types::DecryptedMessageLayer::from_json(&json), Ok(layer.clone()));
        let text = serde_json::to_string(&Object::from(layer.clone())).unwrap();
        let back: Object = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, Object::from(layer));
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_and_check_roundtrip(&bytes);
    }

    #[test]
    fn decode_never_panics_on_bytes_after_a_known_constructor_id(
        index in any::<prop::sample::Index>(),
        rest in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let info = index.get(e2e::CONSTRUCTORS);
        let mut bytes = info.id.to_le_bytes().to_vec();
        bytes.extend(rest);
        let _ = decode_and_check_roundtrip(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_valid_encodings(
        layer in layer(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = mutate(layer.to_bytes(), &mutations);
        let _ = decode_and_check_roundtrip(&bytes);
        let _ = types::DecryptedMessageLayer::from_bytes(&bytes);
    }
}
