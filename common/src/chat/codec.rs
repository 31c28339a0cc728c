//! Payload ⇄ TL bytes at a given layer (SPEC §2.1, §5).
//!
//! The chat logic works on [`Payload`]; the wire carries one of several constructors
//! depending on the layer. This module is the one place that knows which:
//!
//! ```text
//!   common layer   outer form                      user message          service message
//!   8..=16         bare (no seq numbers)           decryptedMessage8     decryptedMessageService8
//!   17..=45        decryptedMessageLayer{…}        decryptedMessage23    decryptedMessageService
//!   46..=72        decryptedMessageLayer{…}        decryptedMessage46    decryptedMessageService
//!   73..           decryptedMessageLayer{…}        decryptedMessage      decryptedMessageService
//! ```
//!
//! and media by layer: photos are `…Photo23` below 46 and `…Photo` (with caption) from 46;
//! videos `…Video8` / `…Video23` (17, mime_type) / `…Video` (46, caption); audio `…Audio8` /
//! `…Audio` (17); documents `…Document8` (file name field) / `…Document46` (attributes,
//! caption) / `…Document` (143, `size:long`). What a layer cannot carry is dropped (ttl below
//! 17, entities below 46 and those newer than the layer, `silent` below 73, captions below
//! 46); what it cannot carry *at all* (a Typing action to layer 8, a venue below 46, a file
//! over 2³¹−1 bytes below 143) is a [`CodecError::NotAtLayer`] / [`CodecError::FileTooLarge`].
//!
//! Receiving is liberal: every message form of every layer is accepted, wrapped or bare
//! (SPEC §5 lists which ones real clients send), and mapped to a [`Payload`]. A
//! `decryptedMessageLayer` whose *inner* message does not decode (a constructor newer than
//! our schema) still yields its seq numbers, as [`Content::Undecodable`], so the chat can
//! use them up and report the message as ignored instead of aborting or asking for it
//! again and again. Anything else that does not decode is a [`CodecError`].

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::layer::{Layer, MessageForm};
use super::payload::{FileKind, FileMedia, Media, Message, Payload, ServiceAction, TypingAction};
use crate::key::KeyFingerprint;
use crate::seq_no::WireSeqNo;
use crate::tl::e2e::{self, enums, types};
use crate::tl::{DecodeError, Reader, TlRead, TlWrite};

/// How many `random_bytes` we put in a message. The spec asks for at least 15; we send
/// tdlib's 31, which with its one-byte TL length prefix fills exactly 32 bytes, so the
/// field needs no TL padding (Android's 15 does the same in 16).
pub const RANDOM_BYTES_LEN: usize = 31;
/// Fewer random bytes than this and the message is ignored (SPEC §2.1).
pub const MIN_RANDOM_BYTES: usize = 15;

/// The `decryptedMessageLayer` fields around a wrapped message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapper {
    pub layer: Layer,
    pub in_seq_no: WireSeqNo,
    pub out_seq_no: WireSeqNo,
}

/// A message to encode.
#[derive(Debug, Clone, Copy)]
pub struct Outbound<'a> {
    /// `None` sends the bare layer-8 form.
    pub wrapper: Option<Wrapper>,
    pub random_id: i64,
    pub payload: &'a Payload,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// `None` for a bare layer-8 message.
    pub wrapper: Option<Wrapper>,
    /// Length of `random_bytes`: the wrapper's, or the bare message's own.
    pub random_bytes_len: usize,
    pub content: Content,
}

/// What a decoded message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Content {
    /// A message the chat understands.
    Payload { random_id: i64, payload: Payload },
    /// The `decryptedMessageLayer` decoded up to its `message`, which did not: the seq
    /// numbers are valid, the content is not for us.
    Undecodable { error: DecodeErrorText },
}

/// A [`DecodeError`] as text, so that queued messages can be saved with the chat.
pub type DecodeErrorText = String;

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The payload has no constructor at this layer (e.g. Typing to a layer-8 peer).
    #[error("{what} does not exist at {layer}")]
    NotAtLayer { what: &'static str, layer: Layer },
    /// Below layer 143 a file size is a TL `int`.
    #[error(
        "a file of {size} bytes cannot be described at {layer} (size is an int below layer 143)"
    )]
    FileTooLarge { size: i64, layer: Layer },
    /// The bytes are not TL of the end-to-end schema.
    #[error("TL: {0}")]
    Decode(#[from] DecodeError),
    /// The bytes are TL, but not a message (nor a `decryptedMessageLayer`).
    #[error("{constructor} is not a message")]
    NotAMessage { constructor: &'static str },
}

// ---- encoding ----

/// Encodes a message in the form its layer calls for (the wrapper's layer, or 8 when bare).
pub fn encode(out: Outbound<'_>, rng: &mut impl RngCore) -> Result<Vec<u8>, CodecError> {
    let mut random_bytes = vec![0u8; RANDOM_BYTES_LEN];
    rng.fill_bytes(&mut random_bytes);
    match out.wrapper {
        Some(wrapper) => {
            let message = encode_message(
                wrapper.layer,
                out.random_id,
                random_bytes.clone(),
                out.payload,
            )?;
            Ok(types::DecryptedMessageLayer {
                random_bytes,
                layer: wrapper.layer.0,
                in_seq_no: wrapper.in_seq_no.0,
                out_seq_no: wrapper.out_seq_no.0,
                message,
            }
            .to_bytes())
        }
        None => {
            // NotifyLayer is the one action sent bare although layer 8 does not have it:
            // that is how a layer-8 peer learns that we are newer (SPEC §5).
            let payload = out.payload;
            let message = match payload {
                Payload::Service(action @ ServiceAction::NotifyLayer { .. }) => {
                    types::DecryptedMessageService8 {
                        random_id: out.random_id,
                        random_bytes,
                        action: encode_action(action),
                    }
                    .into()
                }
                _ => encode_message(Layer::BASE, out.random_id, random_bytes, payload)?,
            };
            Ok(message.to_bytes())
        }
    }
}

fn encode_message(
    layer: Layer,
    random_id: i64,
    random_bytes: Vec<u8>,
    payload: &Payload,
) -> Result<enums::DecryptedMessage, CodecError> {
    let action = match payload {
        Payload::Message(message) => {
            return encode_user_message(layer, random_id, random_bytes, message)
        }
        Payload::Service(action) => action,
    };
    if action.introduced_in() > layer {
        return Err(CodecError::NotAtLayer {
            what: action.constructor_name(),
            layer,
        });
    }
    let action = encode_action(action);
    Ok(match layer.message_form() {
        MessageForm::Layer8 => types::DecryptedMessageService8 {
            random_id,
            random_bytes,
            action,
        }
        .into(),
        _ => types::DecryptedMessageService { random_id, action }.into(),
    })
}

fn encode_user_message(
    layer: Layer,
    random_id: i64,
    random_bytes: Vec<u8>,
    message: &Message,
) -> Result<enums::DecryptedMessage, CodecError> {
    let media = message
        .media
        .as_ref()
        .map(|media| encode_media(layer, media))
        .transpose()?;
    let entities = (!message.entities.is_empty())
        .then(|| entities_at(layer, &message.entities))
        .filter(|entities| !entities.is_empty());
    let text = message.text.clone();
    let ttl = message.ttl;
    let empty = || types::DecryptedMessageMediaEmpty {}.into();
    Ok(match layer.message_form() {
        MessageForm::Layer8 => types::DecryptedMessage8 {
            random_id,
            random_bytes,
            message: text,
            media: media.unwrap_or_else(empty),
        }
        .into(),
        MessageForm::Layer17 => types::DecryptedMessage23 {
            random_id,
            ttl,
            message: text,
            media: media.unwrap_or_else(empty),
        }
        .into(),
        MessageForm::Layer46 => types::DecryptedMessage46 {
            random_id,
            ttl,
            message: text,
            media,
            entities,
            via_bot_name: None,
            reply_to_random_id: None,
        }
        .into(),
        MessageForm::Layer73 => types::DecryptedMessage {
            no_webpage: false,
            silent: message.silent,
            random_id,
            ttl,
            message: text,
            media,
            entities,
            via_bot_name: None,
            reply_to_random_id: None,
            grouped_id: None,
        }
        .into(),
    })
}

/// The entities that exist at `layer` (SPEC §5: "entities unknown to the peer's layer are
/// dropped"). None exist below 46.
fn entities_at(layer: Layer, entities: &[enums::MessageEntity]) -> Vec<enums::MessageEntity> {
    if layer < Layer::FLAGS_MESSAGE {
        return Vec::new();
    }
    entities
        .iter()
        .filter(|entity| introduced_at_or_before(entity.constructor_id(), layer))
        .cloned()
        .collect()
}

/// Whether a constructor's section is at or below `layer` (the schema's 45 block is
/// negotiated as 46, which `layer ≥ 46` callers already ensure).
fn introduced_at_or_before(constructor_id: u32, layer: Layer) -> bool {
    e2e::constructor_info(constructor_id)
        .and_then(|info| info.layer)
        .is_some_and(|introduced| i64::from(introduced) <= i64::from(layer.0))
}

fn encode_media(layer: Layer, media: &Media) -> Result<enums::DecryptedMessageMedia, CodecError> {
    let not_at_layer = |what| CodecError::NotAtLayer { what, layer };
    Ok(match media {
        Media::File(file) => encode_file(layer, file)?,
        Media::GeoPoint { lat, long } => types::DecryptedMessageMediaGeoPoint {
            lat: *lat,
            long: *long,
        }
        .into(),
        Media::Contact {
            phone_number,
            first_name,
            last_name,
            user_id,
        } => types::DecryptedMessageMediaContact {
            phone_number: phone_number.clone(),
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            user_id: *user_id,
        }
        .into(),
        Media::Venue {
            lat,
            long,
            title,
            address,
            provider,
            venue_id,
        } => {
            if layer < Layer::FLAGS_MESSAGE {
                return Err(not_at_layer("decryptedMessageMediaVenue"));
            }
            types::DecryptedMessageMediaVenue {
                lat: *lat,
                long: *long,
                title: title.clone(),
                address: address.clone(),
                provider: provider.clone(),
                venue_id: venue_id.clone(),
            }
            .into()
        }
        Media::WebPage { url } => {
            if layer < Layer::FLAGS_MESSAGE {
                return Err(not_at_layer("decryptedMessageMediaWebPage"));
            }
            types::DecryptedMessageMediaWebPage { url: url.clone() }.into()
        }
        Media::Other(raw) => {
            if !introduced_at_or_before(raw.constructor_id(), layer) {
                return Err(not_at_layer(raw.name()));
            }
            (**raw).clone()
        }
    })
}

fn encode_file(layer: Layer, file: &FileMedia) -> Result<enums::DecryptedMessageMedia, CodecError> {
    // Below layer 143 (and for every kind but documents) `size` is a TL int.
    let int_size = || {
        i32::try_from(file.size).map_err(|_| CodecError::FileTooLarge {
            size: file.size,
            layer,
        })
    };
    let thumb = file.thumb.clone();
    let key = file.key.to_vec();
    let iv = file.iv.to_vec();
    let (thumb_w, thumb_h, w, h) = (file.thumb_w, file.thumb_h, file.w, file.h);
    Ok(match file.kind {
        FileKind::Photo if layer >= Layer::FLAGS_MESSAGE => types::DecryptedMessageMediaPhoto {
            thumb,
            thumb_w,
            thumb_h,
            w,
            h,
            size: int_size()?,
            key,
            iv,
            caption: file.caption.clone(),
        }
        .into(),
        FileKind::Photo => types::DecryptedMessageMediaPhoto23 {
            thumb,
            thumb_w,
            thumb_h,
            w,
            h,
            size: int_size()?,
            key,
            iv,
        }
        .into(),
        FileKind::Video if layer >= Layer::FLAGS_MESSAGE => types::DecryptedMessageMediaVideo {
            thumb,
            thumb_w,
            thumb_h,
            duration: file.duration,
            mime_type: file.mime_type.clone(),
            w,
            h,
            size: int_size()?,
            key,
            iv,
            caption: file.caption.clone(),
        }
        .into(),
        FileKind::Video if layer >= Layer::SEQ_NO => types::DecryptedMessageMediaVideo23 {
            thumb,
            thumb_w,
            thumb_h,
            duration: file.duration,
            mime_type: file.mime_type.clone(),
            w,
            h,
            size: int_size()?,
            key,
            iv,
        }
        .into(),
        FileKind::Video => types::DecryptedMessageMediaVideo8 {
            thumb,
            thumb_w,
            thumb_h,
            duration: file.duration,
            w,
            h,
            size: int_size()?,
            key,
            iv,
        }
        .into(),
        FileKind::Audio if layer >= Layer::SEQ_NO => types::DecryptedMessageMediaAudio {
            duration: file.duration,
            mime_type: file.mime_type.clone(),
            size: int_size()?,
            key,
            iv,
        }
        .into(),
        FileKind::Audio => types::DecryptedMessageMediaAudio8 {
            duration: file.duration,
            size: int_size()?,
            key,
            iv,
        }
        .into(),
        FileKind::Document if layer >= Layer::BIG_FILES => types::DecryptedMessageMediaDocument {
            thumb,
            thumb_w,
            thumb_h,
            mime_type: file.mime_type.clone(),
            size: file.size,
            key,
            iv,
            attributes: document_attributes(file),
            caption: file.caption.clone(),
        }
        .into(),
        FileKind::Document if layer >= Layer::FLAGS_MESSAGE => {
            types::DecryptedMessageMediaDocument46 {
                thumb,
                thumb_w,
                thumb_h,
                mime_type: file.mime_type.clone(),
                size: int_size()?,
                key,
                iv,
                attributes: document_attributes(file),
                caption: file.caption.clone(),
            }
            .into()
        }
        FileKind::Document => types::DecryptedMessageMediaDocument8 {
            thumb,
            thumb_w,
            thumb_h,
            file_name: file.file_name.clone(),
            mime_type: file.mime_type.clone(),
            size: int_size()?,
            key,
            iv,
        }
        .into(),
    })
}

/// A document's attributes from layer 46: its file name and, for images, its size.
fn document_attributes(file: &FileMedia) -> Vec<enums::DocumentAttribute> {
    let mut attributes = Vec::new();
    if file.w > 0 && file.h > 0 {
        attributes.push(
            types::DocumentAttributeImageSize {
                w: file.w,
                h: file.h,
            }
            .into(),
        );
    }
    if !file.file_name.is_empty() {
        attributes.push(
            types::DocumentAttributeFilename {
                file_name: file.file_name.clone(),
            }
            .into(),
        );
    }
    attributes
}

fn encode_action(action: &ServiceAction) -> enums::DecryptedMessageAction {
    match action {
        ServiceAction::SetMessageTtl { ttl_seconds } => {
            types::DecryptedMessageActionSetMessageTTL {
                ttl_seconds: *ttl_seconds,
            }
            .into()
        }
        ServiceAction::ReadMessages { random_ids } => types::DecryptedMessageActionReadMessages {
            random_ids: random_ids.clone(),
        }
        .into(),
        ServiceAction::DeleteMessages { random_ids } => {
            types::DecryptedMessageActionDeleteMessages {
                random_ids: random_ids.clone(),
            }
            .into()
        }
        ServiceAction::ScreenshotMessages { random_ids } => {
            types::DecryptedMessageActionScreenshotMessages {
                random_ids: random_ids.clone(),
            }
            .into()
        }
        ServiceAction::FlushHistory => types::DecryptedMessageActionFlushHistory {}.into(),
        ServiceAction::Resend {
            start_seq_no,
            end_seq_no,
        } => types::DecryptedMessageActionResend {
            start_seq_no: start_seq_no.0,
            end_seq_no: end_seq_no.0,
        }
        .into(),
        ServiceAction::NotifyLayer { layer } => {
            types::DecryptedMessageActionNotifyLayer { layer: layer.0 }.into()
        }
        ServiceAction::Typing { action } => types::DecryptedMessageActionTyping {
            action: encode_typing(*action),
        }
        .into(),
        ServiceAction::RequestKey { exchange_id, g_a } => types::DecryptedMessageActionRequestKey {
            exchange_id: *exchange_id,
            g_a: g_a.clone(),
        }
        .into(),
        ServiceAction::AcceptKey {
            exchange_id,
            g_b,
            key_fingerprint,
        } => types::DecryptedMessageActionAcceptKey {
            exchange_id: *exchange_id,
            g_b: g_b.clone(),
            key_fingerprint: key_fingerprint.as_i64(),
        }
        .into(),
        ServiceAction::AbortKey { exchange_id } => types::DecryptedMessageActionAbortKey {
            exchange_id: *exchange_id,
        }
        .into(),
        ServiceAction::CommitKey {
            exchange_id,
            key_fingerprint,
        } => types::DecryptedMessageActionCommitKey {
            exchange_id: *exchange_id,
            key_fingerprint: key_fingerprint.as_i64(),
        }
        .into(),
        ServiceAction::Noop => types::DecryptedMessageActionNoop {}.into(),
    }
}

fn encode_typing(action: TypingAction) -> enums::SendMessageAction {
    match action {
        TypingAction::Typing => types::SendMessageTypingAction {}.into(),
        TypingAction::Cancel => types::SendMessageCancelAction {}.into(),
        TypingAction::RecordVideo => types::SendMessageRecordVideoAction {}.into(),
        TypingAction::UploadVideo => types::SendMessageUploadVideoAction {}.into(),
        TypingAction::RecordAudio => types::SendMessageRecordAudioAction {}.into(),
        TypingAction::UploadAudio => types::SendMessageUploadAudioAction {}.into(),
        TypingAction::UploadPhoto => types::SendMessageUploadPhotoAction {}.into(),
        TypingAction::UploadDocument => types::SendMessageUploadDocumentAction {}.into(),
        TypingAction::GeoLocation => types::SendMessageGeoLocationAction {}.into(),
        TypingAction::ChooseContact => types::SendMessageChooseContactAction {}.into(),
        TypingAction::RecordRound => types::SendMessageRecordRoundAction {}.into(),
        TypingAction::UploadRound => types::SendMessageUploadRoundAction {}.into(),
    }
}

// ---- decoding ----

/// Decodes a wrapped (`decryptedMessageLayer`) or bare layer-8 message.
pub fn decode(bytes: &[u8]) -> Result<Inbound, CodecError> {
    let object = match e2e::Object::from_bytes(bytes) {
        Ok(object) => object,
        Err(error) => {
            // The wrapper may be fine around a message we cannot read: keep its numbers.
            return match decode_wrapper_header(bytes) {
                Some((wrapper, random_bytes_len)) => Ok(Inbound {
                    wrapper: Some(wrapper),
                    random_bytes_len,
                    content: Content::Undecodable {
                        error: error.to_string(),
                    },
                }),
                None => Err(error.into()),
            };
        }
    };
    match object {
        e2e::Object::DecryptedMessageLayer(layer) => {
            let (random_id, payload) = decode_message(layer.message);
            Ok(Inbound {
                wrapper: Some(Wrapper {
                    layer: Layer(layer.layer),
                    in_seq_no: WireSeqNo(layer.in_seq_no),
                    out_seq_no: WireSeqNo(layer.out_seq_no),
                }),
                random_bytes_len: layer.random_bytes.len(),
                content: Content::Payload { random_id, payload },
            })
        }
        e2e::Object::DecryptedMessage8(message) => {
            let random_bytes_len = message.random_bytes.len();
            let (random_id, payload) = decode_message(message.into());
            Ok(Inbound {
                wrapper: None,
                random_bytes_len,
                content: Content::Payload { random_id, payload },
            })
        }
        e2e::Object::DecryptedMessageService8(message) => {
            let random_bytes_len = message.random_bytes.len();
            let (random_id, payload) = decode_message(message.into());
            Ok(Inbound {
                wrapper: None,
                random_bytes_len,
                content: Content::Payload { random_id, payload },
            })
        }
        other => Err(CodecError::NotAMessage {
            constructor: other.name(),
        }),
    }
}

/// `decryptedMessageLayer#1be31789 random_bytes:bytes layer:int in_seq_no:int
/// out_seq_no:int` — the fields before `message`.
fn decode_wrapper_header(bytes: &[u8]) -> Option<(Wrapper, usize)> {
    let mut reader = Reader::new(bytes);
    reader
        .expect_constructor(
            types::DecryptedMessageLayer::CONSTRUCTOR_ID,
            types::DecryptedMessageLayer::NAME,
        )
        .ok()?;
    let random_bytes_len = reader.read_tl_bytes().ok()?.len();
    let layer = reader.read_i32().ok()?;
    let in_seq_no = reader.read_i32().ok()?;
    let out_seq_no = reader.read_i32().ok()?;
    Some((
        Wrapper {
            layer: Layer(layer),
            in_seq_no: WireSeqNo(in_seq_no),
            out_seq_no: WireSeqNo(out_seq_no),
        },
        random_bytes_len,
    ))
}

/// Any of the six message constructors, as a payload with its random_id.
fn decode_message(message: enums::DecryptedMessage) -> (i64, Payload) {
    use enums::DecryptedMessage as M;
    let user = |text, ttl, media: Option<enums::DecryptedMessageMedia>, entities, silent| {
        Payload::Message(Message {
            text,
            ttl,
            media: media.and_then(decode_media),
            entities,
            silent,
        })
    };
    match message {
        M::DecryptedMessage8(m) => (
            m.random_id,
            user(m.message, 0, Some(m.media), Vec::new(), false),
        ),
        M::DecryptedMessage23(m) => (
            m.random_id,
            user(m.message, m.ttl, Some(m.media), Vec::new(), false),
        ),
        M::DecryptedMessage46(m) => (
            m.random_id,
            user(
                m.message,
                m.ttl,
                m.media,
                m.entities.unwrap_or_default(),
                false,
            ),
        ),
        M::DecryptedMessage(m) => (
            m.random_id,
            user(
                m.message,
                m.ttl,
                m.media,
                m.entities.unwrap_or_default(),
                m.silent,
            ),
        ),
        M::DecryptedMessageService8(m) => (m.random_id, Payload::Service(decode_action(m.action))),
        M::DecryptedMessageService(m) => (m.random_id, Payload::Service(decode_action(m.action))),
    }
}

/// The media of any layer; `decryptedMessageMediaEmpty` is no media. A file whose key or
/// IV is not 32 bytes, and constructors with no [`Media`] variant, stay [`Media::Other`].
fn decode_media(media: enums::DecryptedMessageMedia) -> Option<Media> {
    use enums::DecryptedMessageMedia as M;
    let raw = media.clone();
    let file = |kind, size, key: &[u8], iv: &[u8]| {
        Some(FileMedia {
            kind,
            size,
            key: key.try_into().ok()?,
            iv: iv.try_into().ok()?,
            mime_type: String::new(),
            caption: String::new(),
            file_name: String::new(),
            thumb: Vec::new(),
            thumb_w: 0,
            thumb_h: 0,
            w: 0,
            h: 0,
            duration: 0,
        })
    };
    let file = match media {
        M::DecryptedMessageMediaEmpty(_) => return None,
        M::DecryptedMessageMediaGeoPoint(m) => {
            return Some(Media::GeoPoint {
                lat: m.lat,
                long: m.long,
            })
        }
        M::DecryptedMessageMediaContact(m) => {
            return Some(Media::Contact {
                phone_number: m.phone_number,
                first_name: m.first_name,
                last_name: m.last_name,
                user_id: m.user_id,
            })
        }
        M::DecryptedMessageMediaVenue(m) => {
            return Some(Media::Venue {
                lat: m.lat,
                long: m.long,
                title: m.title,
                address: m.address,
                provider: m.provider,
                venue_id: m.venue_id,
            })
        }
        M::DecryptedMessageMediaWebPage(m) => return Some(Media::WebPage { url: m.url }),
        M::DecryptedMessageMediaExternalDocument(_) => return Some(Media::Other(Box::new(raw))),
        M::DecryptedMessageMediaPhoto23(m) => file(FileKind::Photo, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                thumb: m.thumb,
                thumb_w: m.thumb_w,
                thumb_h: m.thumb_h,
                w: m.w,
                h: m.h,
                ..f
            }),
        M::DecryptedMessageMediaPhoto(m) => file(FileKind::Photo, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                thumb: m.thumb,
                thumb_w: m.thumb_w,
                thumb_h: m.thumb_h,
                w: m.w,
                h: m.h,
                caption: m.caption,
                ..f
            }),
        M::DecryptedMessageMediaVideo8(m) => file(FileKind::Video, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                thumb: m.thumb,
                thumb_w: m.thumb_w,
                thumb_h: m.thumb_h,
                duration: m.duration,
                w: m.w,
                h: m.h,
                ..f
            }),
        M::DecryptedMessageMediaVideo23(m) => file(FileKind::Video, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                thumb: m.thumb,
                thumb_w: m.thumb_w,
                thumb_h: m.thumb_h,
                duration: m.duration,
                mime_type: m.mime_type,
                w: m.w,
                h: m.h,
                ..f
            }),
        M::DecryptedMessageMediaVideo(m) => file(FileKind::Video, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                thumb: m.thumb,
                thumb_w: m.thumb_w,
                thumb_h: m.thumb_h,
                duration: m.duration,
                mime_type: m.mime_type,
                w: m.w,
                h: m.h,
                caption: m.caption,
                ..f
            }),
        M::DecryptedMessageMediaAudio8(m) => file(FileKind::Audio, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                duration: m.duration,
                ..f
            }),
        M::DecryptedMessageMediaAudio(m) => file(FileKind::Audio, m.size.into(), &m.key, &m.iv)
            .map(|f| FileMedia {
                duration: m.duration,
                mime_type: m.mime_type,
                ..f
            }),
        M::DecryptedMessageMediaDocument8(m) => {
            file(FileKind::Document, m.size.into(), &m.key, &m.iv).map(|f| FileMedia {
                thumb: m.thumb,
                thumb_w: m.thumb_w,
                thumb_h: m.thumb_h,
                file_name: m.file_name,
                mime_type: m.mime_type,
                ..f
            })
        }
        M::DecryptedMessageMediaDocument46(m) => {
            file(FileKind::Document, m.size.into(), &m.key, &m.iv).map(|f| {
                with_attributes(
                    FileMedia {
                        thumb: m.thumb,
                        thumb_w: m.thumb_w,
                        thumb_h: m.thumb_h,
                        mime_type: m.mime_type,
                        caption: m.caption,
                        ..f
                    },
                    &m.attributes,
                )
            })
        }
        M::DecryptedMessageMediaDocument(m) => {
            file(FileKind::Document, m.size, &m.key, &m.iv).map(|f| {
                with_attributes(
                    FileMedia {
                        thumb: m.thumb,
                        thumb_w: m.thumb_w,
                        thumb_h: m.thumb_h,
                        mime_type: m.mime_type,
                        caption: m.caption,
                        ..f
                    },
                    &m.attributes,
                )
            })
        }
    };
    Some(file.map_or_else(|| Media::Other(Box::new(raw)), |f| Media::File(Box::new(f))))
}

/// Reads a document's file name, dimensions and duration from its attributes.
fn with_attributes(mut file: FileMedia, attributes: &[enums::DocumentAttribute]) -> FileMedia {
    use enums::DocumentAttribute as A;
    for attribute in attributes {
        match attribute {
            A::DocumentAttributeFilename(a) => file.file_name.clone_from(&a.file_name),
            A::DocumentAttributeImageSize(a) => (file.w, file.h) = (a.w, a.h),
            A::DocumentAttributeVideo23(a) => {
                (file.w, file.h, file.duration) = (a.w, a.h, a.duration)
            }
            A::DocumentAttributeVideo(a) => {
                (file.w, file.h, file.duration) = (a.w, a.h, a.duration)
            }
            A::DocumentAttributeAudio23(a) => file.duration = a.duration,
            A::DocumentAttributeAudio45(a) => file.duration = a.duration,
            A::DocumentAttributeAudio(a) => file.duration = a.duration,
            A::DocumentAttributeAnimated(_)
            | A::DocumentAttributeSticker23(_)
            | A::DocumentAttributeSticker(_) => {}
        }
    }
    file
}

fn decode_action(action: enums::DecryptedMessageAction) -> ServiceAction {
    use enums::DecryptedMessageAction as A;
    match action {
        A::DecryptedMessageActionSetMessageTTL(a) => ServiceAction::SetMessageTtl {
            ttl_seconds: a.ttl_seconds,
        },
        A::DecryptedMessageActionReadMessages(a) => ServiceAction::ReadMessages {
            random_ids: a.random_ids,
        },
        A::DecryptedMessageActionDeleteMessages(a) => ServiceAction::DeleteMessages {
            random_ids: a.random_ids,
        },
        A::DecryptedMessageActionScreenshotMessages(a) => ServiceAction::ScreenshotMessages {
            random_ids: a.random_ids,
        },
        A::DecryptedMessageActionFlushHistory(_) => ServiceAction::FlushHistory,
        A::DecryptedMessageActionResend(a) => ServiceAction::Resend {
            start_seq_no: WireSeqNo(a.start_seq_no),
            end_seq_no: WireSeqNo(a.end_seq_no),
        },
        A::DecryptedMessageActionNotifyLayer(a) => ServiceAction::NotifyLayer {
            layer: Layer(a.layer),
        },
        A::DecryptedMessageActionTyping(a) => ServiceAction::Typing {
            action: decode_typing(&a.action),
        },
        A::DecryptedMessageActionRequestKey(a) => ServiceAction::RequestKey {
            exchange_id: a.exchange_id,
            g_a: a.g_a,
        },
        A::DecryptedMessageActionAcceptKey(a) => ServiceAction::AcceptKey {
            exchange_id: a.exchange_id,
            g_b: a.g_b,
            key_fingerprint: KeyFingerprint::from_i64(a.key_fingerprint),
        },
        A::DecryptedMessageActionAbortKey(a) => ServiceAction::AbortKey {
            exchange_id: a.exchange_id,
        },
        A::DecryptedMessageActionCommitKey(a) => ServiceAction::CommitKey {
            exchange_id: a.exchange_id,
            key_fingerprint: KeyFingerprint::from_i64(a.key_fingerprint),
        },
        A::DecryptedMessageActionNoop(_) => ServiceAction::Noop,
    }
}

fn decode_typing(action: &enums::SendMessageAction) -> TypingAction {
    use enums::SendMessageAction as S;
    match action {
        S::SendMessageTypingAction(_) => TypingAction::Typing,
        S::SendMessageCancelAction(_) => TypingAction::Cancel,
        S::SendMessageRecordVideoAction(_) => TypingAction::RecordVideo,
        S::SendMessageUploadVideoAction(_) => TypingAction::UploadVideo,
        S::SendMessageRecordAudioAction(_) => TypingAction::RecordAudio,
        S::SendMessageUploadAudioAction(_) => TypingAction::UploadAudio,
        S::SendMessageUploadPhotoAction(_) => TypingAction::UploadPhoto,
        S::SendMessageUploadDocumentAction(_) => TypingAction::UploadDocument,
        S::SendMessageGeoLocationAction(_) => TypingAction::GeoLocation,
        S::SendMessageChooseContactAction(_) => TypingAction::ChooseContact,
        S::SendMessageRecordRoundAction(_) => TypingAction::RecordRound,
        S::SendMessageUploadRoundAction(_) => TypingAction::UploadRound,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn wrapped(layer: i32) -> Option<Wrapper> {
        Some(Wrapper {
            layer: Layer(layer),
            in_seq_no: WireSeqNo(0),
            out_seq_no: WireSeqNo(1),
        })
    }

    fn encode_at(wrapper: Option<Wrapper>, payload: &Payload) -> Result<Vec<u8>, CodecError> {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        encode(
            Outbound {
                wrapper,
                random_id: 42,
                payload,
            },
            &mut rng,
        )
    }

    /// The constructor name of the message (inside the wrapper, if any).
    fn message_constructor(bytes: &[u8]) -> &'static str {
        match e2e::Object::from_bytes(bytes).unwrap() {
            e2e::Object::DecryptedMessageLayer(layer) => layer.message.name(),
            other => other.name(),
        }
    }

    /// The media constructor of a user message.
    fn media_constructor(bytes: &[u8]) -> &'static str {
        let e2e::Object::DecryptedMessageLayer(layer) = e2e::Object::from_bytes(bytes).unwrap()
        else {
            panic!("not wrapped");
        };
        match layer.message {
            enums::DecryptedMessage::DecryptedMessage23(m) => m.media.name(),
            enums::DecryptedMessage::DecryptedMessage46(m) => m.media.unwrap().name(),
            enums::DecryptedMessage::DecryptedMessage(m) => m.media.unwrap().name(),
            other => panic!("unexpected {}", other.name()),
        }
    }

    fn text(text: &str) -> Payload {
        Payload::Message(Message {
            text: text.to_owned(),
            ttl: 5,
            ..Message::default()
        })
    }

    fn file(kind: FileKind, size: i64) -> FileMedia {
        FileMedia {
            kind,
            size,
            key: [0x11; 32],
            iv: [0x22; 32],
            mime_type: "application/octet-stream".to_owned(),
            caption: "a caption".to_owned(),
            file_name: "notes.txt".to_owned(),
            thumb: vec![1, 2, 3],
            thumb_w: 90,
            thumb_h: 60,
            w: 0,
            h: 0,
            duration: 0,
        }
    }

    fn with_media(media: Media) -> Payload {
        Payload::Message(Message {
            media: Some(media),
            ..Message::default()
        })
    }

    fn decoded_payload(bytes: &[u8]) -> Payload {
        match decode(bytes).unwrap().content {
            Content::Payload { payload, .. } => payload,
            other => panic!("expected a payload, got {other:?}"),
        }
    }

    #[test]
    fn user_messages_take_the_constructor_of_the_layer() {
        assert_eq!(
            message_constructor(&encode_at(None, &text("hi")).unwrap()),
            "decryptedMessage8"
        );
        for (layer, name) in [
            (17, "decryptedMessage23"),
            (45, "decryptedMessage23"),
            (46, "decryptedMessage46"),
            (72, "decryptedMessage46"),
            (73, "decryptedMessage"),
            (144, "decryptedMessage"),
        ] {
            let bytes = encode_at(wrapped(layer), &text("hi")).unwrap();
            assert_eq!(message_constructor(&bytes), name, "layer {layer}");
        }
    }

    #[test]
    fn service_messages_are_bare_service8_at_layer_8_and_service_from_17() {
        let ttl = Payload::Service(ServiceAction::SetMessageTtl { ttl_seconds: 9 });
        assert_eq!(
            message_constructor(&encode_at(None, &ttl).unwrap()),
            "decryptedMessageService8"
        );
        assert_eq!(
            message_constructor(&encode_at(wrapped(17), &ttl).unwrap()),
            "decryptedMessageService"
        );
    }

    #[test]
    fn notify_layer_goes_bare_to_a_layer_8_peer_but_other_layer_17_actions_do_not() {
        let notify = Payload::Service(ServiceAction::NotifyLayer { layer: Layer(144) });
        let bytes = encode_at(None, &notify).unwrap();
        assert_eq!(message_constructor(&bytes), "decryptedMessageService8");
        assert_eq!(decoded_payload(&bytes), notify);
        let typing = Payload::Service(ServiceAction::Typing {
            action: TypingAction::Typing,
        });
        assert_eq!(
            encode_at(None, &typing),
            Err(CodecError::NotAtLayer {
                what: "decryptedMessageActionTyping",
                layer: Layer(8)
            })
        );
    }

    #[test]
    fn round_video_typing_needs_layer_66() {
        let round = Payload::Service(ServiceAction::Typing {
            action: TypingAction::RecordRound,
        });
        assert!(matches!(
            encode_at(wrapped(46), &round),
            Err(CodecError::NotAtLayer { .. })
        ));
        assert_eq!(
            decoded_payload(&encode_at(wrapped(66), &round).unwrap()),
            round
        );
    }

    #[test]
    fn we_send_31_random_bytes_in_the_wrapper() {
        let bytes = encode_at(wrapped(73), &text("hi")).unwrap();
        assert_eq!(decode(&bytes).unwrap().random_bytes_len, RANDOM_BYTES_LEN);
        assert_eq!(RANDOM_BYTES_LEN, 31);
    }

    #[test]
    fn a_document_is_document8_then_document46_then_document_with_size_long_at_143() {
        let document = with_media(Media::File(Box::new(file(FileKind::Document, 1000))));
        let at = |layer| media_constructor(&encode_at(wrapped(layer), &document).unwrap());
        assert_eq!(at(17), "decryptedMessageMediaDocument8");
        assert_eq!(at(46), "decryptedMessageMediaDocument46");
        assert_eq!(at(142), "decryptedMessageMediaDocument46");
        assert_eq!(at(143), "decryptedMessageMediaDocument");
    }

    #[test]
    fn a_file_over_2_gib_is_described_only_from_layer_143() {
        let size = 3_000_000_000;
        let big = with_media(Media::File(Box::new(file(FileKind::Document, size))));
        assert_eq!(
            encode_at(wrapped(142), &big),
            Err(CodecError::FileTooLarge {
                size,
                layer: Layer(142)
            })
        );
        assert_eq!(
            decoded_payload(&encode_at(wrapped(143), &big).unwrap()),
            big
        );
    }

    #[test]
    fn photo_video_and_audio_constructors_follow_the_layer() {
        let photo = with_media(Media::File(Box::new(file(FileKind::Photo, 10))));
        let video = with_media(Media::File(Box::new(file(FileKind::Video, 10))));
        let audio = with_media(Media::File(Box::new(file(FileKind::Audio, 10))));
        let at = |payload, layer| media_constructor(&encode_at(wrapped(layer), payload).unwrap());
        assert_eq!(at(&photo, 17), "decryptedMessageMediaPhoto23");
        assert_eq!(at(&photo, 46), "decryptedMessageMediaPhoto");
        assert_eq!(at(&video, 17), "decryptedMessageMediaVideo23");
        assert_eq!(at(&video, 46), "decryptedMessageMediaVideo");
        assert_eq!(at(&audio, 17), "decryptedMessageMediaAudio");
        let bare = encode_at(None, &video).unwrap();
        let Ok(e2e::Object::DecryptedMessage8(m)) = e2e::Object::from_bytes(&bare) else {
            panic!("not a bare decryptedMessage8");
        };
        assert_eq!(m.media.name(), "decryptedMessageMediaVideo8");
    }

    #[test]
    fn entities_are_dropped_below_46_and_when_newer_than_the_layer() {
        let entity = |e: enums::MessageEntity| e;
        let bold = entity(
            types::MessageEntityBold {
                offset: 0,
                length: 2,
            }
            .into(),
        );
        let underline = entity(
            types::MessageEntityUnderline {
                offset: 0,
                length: 2,
            }
            .into(),
        );
        let spoiler = entity(
            types::MessageEntitySpoiler {
                offset: 0,
                length: 2,
            }
            .into(),
        );
        let message = Payload::Message(Message {
            text: "hi".to_owned(),
            entities: vec![bold.clone(), underline.clone(), spoiler.clone()],
            ..Message::default()
        });
        let entities_at =
            |layer| match decoded_payload(&encode_at(wrapped(layer), &message).unwrap()) {
                Payload::Message(m) => m.entities,
                other => panic!("{other:?}"),
            };
        assert_eq!(entities_at(17), []);
        assert_eq!(entities_at(46), std::slice::from_ref(&bold));
        assert_eq!(entities_at(101), [bold.clone(), underline.clone()]);
        assert_eq!(entities_at(144), [bold, underline, spoiler]);
    }

    #[test]
    fn a_file_key_that_is_not_32_bytes_stays_raw_media() {
        let raw: enums::DecryptedMessageMedia = types::DecryptedMessageMediaAudio {
            duration: 1,
            mime_type: "audio/ogg".to_owned(),
            size: 10,
            key: vec![1; 31],
            iv: vec![2; 32],
        }
        .into();
        let bytes = types::DecryptedMessageLayer {
            random_bytes: vec![0; 15],
            layer: 46,
            in_seq_no: 0,
            out_seq_no: 1,
            message: types::DecryptedMessage23 {
                random_id: 1,
                ttl: 0,
                message: String::new(),
                media: raw.clone(),
            }
            .into(),
        }
        .to_bytes();
        let Payload::Message(message) = decoded_payload(&bytes) else {
            panic!("not a message");
        };
        assert_eq!(message.media, Some(Media::Other(Box::new(raw))));
    }

    #[test]
    fn an_unknown_inner_constructor_keeps_the_wrappers_seq_numbers() {
        let mut bytes = types::DecryptedMessageLayer {
            random_bytes: vec![0; 15],
            layer: 200,
            in_seq_no: 4,
            out_seq_no: 7,
            message: types::DecryptedMessageService {
                random_id: 1,
                action: types::DecryptedMessageActionNoop {}.into(),
            }
            .into(),
        }
        .to_bytes();
        // Replace the inner constructor id (after id 4 + bytes 16 + three ints 12) with one
        // no layer we know defines.
        bytes[32..36].copy_from_slice(&0xdead_beef_u32.to_le_bytes());
        let inbound = decode(&bytes).unwrap();
        assert_eq!(
            inbound.wrapper,
            Some(Wrapper {
                layer: Layer(200),
                in_seq_no: WireSeqNo(4),
                out_seq_no: WireSeqNo(7),
            })
        );
        assert_eq!(inbound.random_bytes_len, 15);
        assert!(matches!(inbound.content, Content::Undecodable { .. }));
    }

    #[test]
    fn tl_that_is_not_a_message_is_refused_with_its_name() {
        let bytes = types::DecryptedMessageActionNoop {}.to_bytes();
        assert_eq!(
            decode(&bytes),
            Err(CodecError::NotAMessage {
                constructor: "decryptedMessageActionNoop"
            })
        );
        assert!(matches!(decode(&[1, 2, 3, 4]), Err(CodecError::Decode(_))));
    }

    #[test]
    fn every_action_survives_a_round_trip_at_layer_144() {
        let actions = [
            ServiceAction::SetMessageTtl { ttl_seconds: 3 },
            ServiceAction::ReadMessages {
                random_ids: vec![1, 2],
            },
            ServiceAction::DeleteMessages {
                random_ids: vec![3],
            },
            ServiceAction::ScreenshotMessages { random_ids: vec![] },
            ServiceAction::FlushHistory,
            ServiceAction::Resend {
                start_seq_no: WireSeqNo(2),
                end_seq_no: WireSeqNo(6),
            },
            ServiceAction::NotifyLayer { layer: Layer(144) },
            ServiceAction::Typing {
                action: TypingAction::UploadRound,
            },
            ServiceAction::RequestKey {
                exchange_id: -5,
                g_a: vec![9; 256],
            },
            ServiceAction::AcceptKey {
                exchange_id: 5,
                g_b: vec![8; 256],
                key_fingerprint: KeyFingerprint::from_i64(-77),
            },
            ServiceAction::AbortKey { exchange_id: 6 },
            ServiceAction::CommitKey {
                exchange_id: 7,
                key_fingerprint: KeyFingerprint::from_i64(77),
            },
            ServiceAction::Noop,
        ];
        for action in actions {
            let payload = Payload::Service(action);
            let bytes = encode_at(wrapped(144), &payload).unwrap();
            assert_eq!(decoded_payload(&bytes), payload);
        }
    }
}
