//! What a decrypted message says, in the chat's own terms (SPEC §5, §8).
//!
//! The schema has four `decryptedMessage` constructors and two `decryptedMessageService`
//! ones, chosen by layer. The chat logic should not care which one carried a message, so
//! it works on these types and [`super::codec`] maps them to and from the constructor of
//! the layer at hand (dropping what an older layer cannot carry, such as `silent`).
//!
//! ```text
//!   Payload::Message   decryptedMessage8 / 23 / 46 / (73)   text, media, ttl
//!   Payload::Service   decryptedMessageService(8)           a ServiceAction
//! ```

use serde::{Deserialize, Serialize};

use super::layer::Layer;
use crate::key::KeyFingerprint;
use crate::seq_no::WireSeqNo;
use crate::tl::e2e::enums;

/// The body of one secret-chat message, without its envelope and seq numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Payload {
    /// A user message (`decryptedMessage`).
    Message(Message),
    /// A service message (`decryptedMessageService`).
    Service(ServiceAction),
}

/// A user message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub text: String,
    /// Self-destruct timer in seconds (0 = none); layer 17 and up.
    pub ttl: i32,
    pub media: Option<Media>,
    /// Formatting of `text` (layer 46 and up). On sending, the entities the common layer
    /// does not have are dropped (underline/strike/blockquote need 101, spoiler and custom
    /// emoji 144), as tdlib does (SPEC §5).
    pub entities: Vec<enums::MessageEntity>,
    /// Deliver without notification; layer 73 and up.
    pub silent: bool,
}

/// Media attached to a message. Files carry the key and IV they were encrypted with; the
/// encrypted bytes travel separately (`sendEncryptedFile`), which is the transport's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Media {
    /// An encrypted file (photo, video, document, audio); boxed, as it is large.
    File(Box<FileMedia>),
    /// `decryptedMessageMediaGeoPoint`.
    GeoPoint { lat: f64, long: f64 },
    /// `decryptedMessageMediaContact`.
    Contact {
        phone_number: String,
        first_name: String,
        last_name: String,
        user_id: i32,
    },
    /// `decryptedMessageMediaVenue` (layer 46 and up).
    Venue {
        lat: f64,
        long: f64,
        title: String,
        address: String,
        provider: String,
        venue_id: String,
    },
    /// `decryptedMessageMediaWebPage` (layer 46 and up).
    WebPage { url: String },
    /// Any other media constructor, kept as it came: `decryptedMessageMediaExternalDocument`
    /// (stickers), or a file whose key or IV is not 32 bytes (the transport could not
    /// decrypt it). Sent as is when the common layer has the constructor.
    Other(Box<enums::DecryptedMessageMedia>),
}

impl Media {
    /// A photo, video, document or audio whose key or IV is not 32 bytes: it stayed
    /// [`Media::Other`] because no file can be decrypted with it (SPEC §6).
    pub fn is_file_with_bad_key(&self) -> bool {
        use enums::DecryptedMessageMedia as M;
        let Media::Other(raw) = self else {
            return false;
        };
        matches!(
            **raw,
            M::DecryptedMessageMediaPhoto23(_)
                | M::DecryptedMessageMediaPhoto(_)
                | M::DecryptedMessageMediaVideo8(_)
                | M::DecryptedMessageMediaVideo23(_)
                | M::DecryptedMessageMediaVideo(_)
                | M::DecryptedMessageMediaAudio8(_)
                | M::DecryptedMessageMediaAudio(_)
                | M::DecryptedMessageMediaDocument8(_)
                | M::DecryptedMessageMediaDocument46(_)
                | M::DecryptedMessageMediaDocument(_)
        )
    }
}

/// Which `decryptedMessageMedia*` constructor a file goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileKind {
    Photo,
    Video,
    Document,
    Audio,
}

/// An encrypted file's description (SPEC §6): its key and IV are 32 bytes each.
///
/// One type for every layer; [`super::codec`] picks the constructor (e.g. a document is
/// `decryptedMessageMediaDocument8` below 46, `…Document46` with attributes from 46, and
/// `…Document` with `size:long` from 143) and drops what the layer cannot carry. `w`, `h`
/// and `duration` of documents travel as attributes from layer 46.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMedia {
    pub kind: FileKind,
    /// Plaintext size in bytes.
    pub size: i64,
    pub key: [u8; 32],
    pub iv: [u8; 32],
    pub mime_type: String,
    /// Caption (layer 46 and up).
    pub caption: String,
    /// Documents: the file name (a field at layer 8, `documentAttributeFilename` from 46).
    pub file_name: String,
    pub thumb: Vec<u8>,
    pub thumb_w: i32,
    pub thumb_h: i32,
    pub w: i32,
    pub h: i32,
    pub duration: i32,
}

/// A service action (`decryptedMessageAction*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceAction {
    /// `decryptedMessageActionSetMessageTTL`: the chat-wide self-destruct timer.
    SetMessageTtl { ttl_seconds: i32 },
    /// `decryptedMessageActionReadMessages`: these messages were opened.
    ReadMessages { random_ids: Vec<i64> },
    /// `decryptedMessageActionDeleteMessages`.
    DeleteMessages { random_ids: Vec<i64> },
    /// `decryptedMessageActionScreenshotMessages`.
    ScreenshotMessages { random_ids: Vec<i64> },
    /// `decryptedMessageActionFlushHistory`.
    FlushHistory,
    /// `decryptedMessageActionResend` (layer 17): re-send these, in our out_seq_no form.
    Resend {
        start_seq_no: WireSeqNo,
        end_seq_no: WireSeqNo,
    },
    /// `decryptedMessageActionNotifyLayer` (layer 17): the sender's maximum layer.
    NotifyLayer { layer: Layer },
    /// `decryptedMessageActionTyping` (layer 17).
    Typing { action: TypingAction },
    /// `decryptedMessageActionRequestKey` (layer 20).
    RequestKey { exchange_id: i64, g_a: Vec<u8> },
    /// `decryptedMessageActionAcceptKey` (layer 20).
    AcceptKey {
        exchange_id: i64,
        g_b: Vec<u8>,
        key_fingerprint: KeyFingerprint,
    },
    /// `decryptedMessageActionAbortKey` (layer 20).
    AbortKey { exchange_id: i64 },
    /// `decryptedMessageActionCommitKey` (layer 20).
    CommitKey {
        exchange_id: i64,
        key_fingerprint: KeyFingerprint,
    },
    /// `decryptedMessageActionNoop` (layer 20).
    Noop,
}

/// The `SendMessageAction` inside a Typing action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypingAction {
    Typing,
    Cancel,
    RecordVideo,
    UploadVideo,
    RecordAudio,
    UploadAudio,
    UploadPhoto,
    UploadDocument,
    GeoLocation,
    ChooseContact,
    RecordRound,
    UploadRound,
}

impl ServiceAction {
    /// The layer in which this action's constructor first appears.
    pub fn introduced_in(&self) -> Layer {
        match self {
            ServiceAction::SetMessageTtl { .. }
            | ServiceAction::ReadMessages { .. }
            | ServiceAction::DeleteMessages { .. }
            | ServiceAction::ScreenshotMessages { .. }
            | ServiceAction::FlushHistory => Layer::BASE,
            ServiceAction::Resend { .. } | ServiceAction::NotifyLayer { .. } => Layer::SEQ_NO,
            ServiceAction::Typing {
                action: TypingAction::RecordRound | TypingAction::UploadRound,
            } => Layer(66),
            ServiceAction::Typing { .. } => Layer::SEQ_NO,
            ServiceAction::RequestKey { .. }
            | ServiceAction::AcceptKey { .. }
            | ServiceAction::AbortKey { .. }
            | ServiceAction::CommitKey { .. }
            | ServiceAction::Noop => Layer::PFS,
        }
    }

    /// The TL constructor that carries this action.
    pub fn constructor_name(&self) -> &'static str {
        match self {
            ServiceAction::SetMessageTtl { .. } => "decryptedMessageActionSetMessageTTL",
            ServiceAction::ReadMessages { .. } => "decryptedMessageActionReadMessages",
            ServiceAction::DeleteMessages { .. } => "decryptedMessageActionDeleteMessages",
            ServiceAction::ScreenshotMessages { .. } => "decryptedMessageActionScreenshotMessages",
            ServiceAction::FlushHistory => "decryptedMessageActionFlushHistory",
            ServiceAction::Resend { .. } => "decryptedMessageActionResend",
            ServiceAction::NotifyLayer { .. } => "decryptedMessageActionNotifyLayer",
            ServiceAction::Typing { .. } => "decryptedMessageActionTyping",
            ServiceAction::RequestKey { .. } => "decryptedMessageActionRequestKey",
            ServiceAction::AcceptKey { .. } => "decryptedMessageActionAcceptKey",
            ServiceAction::AbortKey { .. } => "decryptedMessageActionAbortKey",
            ServiceAction::CommitKey { .. } => "decryptedMessageActionCommitKey",
            ServiceAction::Noop => "decryptedMessageActionNoop",
        }
    }

    /// Whether it belongs to a re-keying exchange (SPEC §4: the actions of layer 20).
    pub fn is_key_exchange(&self) -> bool {
        self.introduced_in() == Layer::PFS
    }

    /// Whether the user should hear about it (as opposed to the protocol's own messages).
    pub fn is_protocol(&self) -> bool {
        matches!(
            self,
            ServiceAction::Resend { .. }
                | ServiceAction::NotifyLayer { .. }
                | ServiceAction::RequestKey { .. }
                | ServiceAction::AcceptKey { .. }
                | ServiceAction::AbortKey { .. }
                | ServiceAction::CommitKey { .. }
                | ServiceAction::Noop
        )
    }
}

impl Payload {
    /// The lowest layer that can carry this payload as it is.
    pub fn introduced_in(&self) -> Layer {
        match self {
            Payload::Message(_) => Layer::BASE,
            Payload::Service(action) => action.introduced_in(),
        }
    }
}
