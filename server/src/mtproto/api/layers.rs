//! # Layers: the same call in the forms two schemas give it
//!
//! A client names its API layer in `invokeWithLayer` and expects every object back in that
//! layer's form (core.telegram.org/api/invoking#layers). Telethon 1.45 sends 229, Pyrogram
//! 2.0.106 sends 158; most constructors are the same in both, some changed id
//! (`user`, `userFull`, `peerSettings`, `peerNotifySettings`, `auth.signUp`,
//! `contacts.resolveUsername`, `updates.getDifference` …), and Pyrogram cannot read a 229 object.
//!
//! The door's currency between the layers is the JSON form the HTTP door already speaks
//! (`"_"`, fields by name, `long` as decimal text, `bytes` as base64): a query is decoded
//! with its layer's generated types and read as JSON ([`decode`]); an answer is written as
//! JSON once and typed by the caller's layer's schema on the way out ([`encode`]), which
//! refuses anything that layer does not have. The handlers never see a layer.

use secretchat_common::tl::{ConstructorInfo, TlJson, TlRead, TlWrite};
use serde_json::{Map, Value};

/// The layers the door has schemas for, newest first.
pub const SERVED: &str = "229 (Telethon 1.45) and 158 (Pyrogram 2.0.106)";

/// A layer the door serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    L229,
    L158,
}

/// Why a query could not be read at its layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// No function of this layer has the constructor id.
    Unknown { id: u32, name: Option<&'static str> },
    /// A known function whose fields do not decode.
    Malformed { name: &'static str, reason: String },
}

impl Layer {
    pub fn of(layer: i32) -> Option<Layer> {
        match layer {
            229 => Some(Layer::L229),
            158 => Some(Layer::L158),
            _ => None,
        }
    }

    pub fn number(self) -> i32 {
        match self {
            Layer::L229 => 229,
            Layer::L158 => 158,
        }
    }
}

/// A name for a constructor id from either schema, for errors and the event log.
fn known_name(id: u32) -> Option<&'static str> {
    let find = |table: &'static [ConstructorInfo]| table.iter().find(|c| c.id == id);
    find(secretchat_mtproto::api::layer229::FUNCTIONS)
        .or_else(|| find(secretchat_mtproto::api::layer158::FUNCTIONS))
        .map(|c| c.official_name)
}

/// `users.getUsers#0d91a548` and `users.getFullUser#b60f5918`.
const GET_USERS: u32 = 0x0d91a548;
const GET_FULL_USER: u32 = 0xb60f5918;

/// The `InputPeer` constructors Telegram also reads as an `InputUser`, with their twins:
/// the same fields in the same order, so only the id changes.
const PEER_AS_USER: [(u32, u32); 3] = [
    (0xdde8a54c, 0xf21158c6), // inputPeerUser → inputUser
    (0x7da07ec9, 0xf7c1b13f), // inputPeerSelf → inputUserSelf
    (0x7f3b18ea, 0xb98886cf), // inputPeerEmpty → inputUserEmpty
];

/// Telegram reads an `InputPeer` of a user where `users.getUsers` and `users.getFullUser`
/// expect an `InputUser`, and Pyrogram relies on it: `get_users("name")` sends what
/// `resolve_peer` gave, an `inputPeerUser` (pyrogram/methods/users/get_users.py). The
/// query with each such peer replaced by its `InputUser` twin, if it has any.
fn peers_as_users(query: &[u8]) -> Option<Vec<u8>> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(query.get(at..at + 4)?.try_into().ok()?))
    };
    // Where each InputUser starts: after the vector header, or after the function id.
    let starts: Vec<usize> = match word(0)? {
        GET_USERS => {
            let count = usize::try_from(word(8)?).ok()?;
            let mut at = 12;
            let mut starts = Vec::new();
            for _ in 0..count.min(query.len() / 4) {
                starts.push(at);
                // inputUser / inputPeerUser carry two longs, the others nothing.
                at += match word(at)? {
                    0xdde8a54c | 0xf21158c6 => 20,
                    _ => 4,
                };
            }
            starts
        }
        GET_FULL_USER => vec![4],
        _ => return None,
    };
    let mut fixed = query.to_vec();
    let mut changed = false;
    for at in starts {
        let id = word(at)?;
        if let Some((_, twin)) = PEER_AS_USER.iter().find(|(peer, _)| *peer == id) {
            fixed[at..at + 4].copy_from_slice(&twin.to_le_bytes());
            changed = true;
        }
    }
    changed.then_some(fixed)
}

/// The query's method name and its fields as JSON.
pub fn decode(
    layer: Layer,
    query: &[u8],
) -> Result<(&'static str, Map<String, Value>), DecodeError> {
    match decode_exact(layer, query) {
        Err(error @ DecodeError::Malformed { .. }) => match peers_as_users(query) {
            Some(fixed) => decode_exact(layer, &fixed),
            None => Err(error),
        },
        result => result,
    }
}

fn decode_exact(
    layer: Layer,
    query: &[u8],
) -> Result<(&'static str, Map<String, Value>), DecodeError> {
    macro_rules! decode_with {
        ($module:ident) => {{
            use secretchat_mtproto::api::$module::Function;
            let id = secretchat_mtproto::service_messages::constructor_id(query).unwrap_or(0);
            let function = Function::from_bytes(query).map_err(|err| {
                match secretchat_mtproto::api::$module::FUNCTIONS
                    .iter()
                    .find(|c| c.id == id)
                {
                    Some(known) => DecodeError::Malformed {
                        name: known.official_name,
                        reason: err.to_string(),
                    },
                    None => DecodeError::Unknown {
                        id,
                        name: known_name(id),
                    },
                }
            })?;
            let name = function.name();
            match function.to_json() {
                Value::Object(fields) => Ok((name, fields)),
                other => Err(DecodeError::Malformed {
                    name,
                    reason: format!("not an object: {other}"),
                }),
            }
        }};
    }
    match layer {
        Layer::L229 => decode_with!(layer229),
        Layer::L158 => decode_with!(layer158),
    }
}

/// `answer` (JSON) as the boxed TL result of `method` at `layer`.
pub fn encode(layer: Layer, method: &str, answer: &Value) -> Result<Vec<u8>, String> {
    fn typed<T: TlJson + TlWrite>(answer: &Value) -> Result<Vec<u8>, String> {
        T::from_json(answer)
            .map(|value| value.to_bytes())
            .map_err(|err| err.to_string())
    }
    macro_rules! encode_with {
        ($module:ident) => {{
            use secretchat_mtproto::api::$module::enums as e;
            match method {
                "help.getConfig" => typed::<e::Config>(answer),
                "help.getNearestDc" => typed::<e::NearestDc>(answer),
                "auth.sendCode" | "auth.resendCode" => typed::<e::AuthSentCode>(answer),
                "auth.signIn" | "auth.signUp" => typed::<e::AuthAuthorization>(answer),
                "auth.logOut" => typed::<e::AuthLoggedOut>(answer),
                "users.getUsers" => typed::<Vec<e::User>>(answer),
                "users.getFullUser" => typed::<e::UsersUserFull>(answer),
                "account.updateUsername" => typed::<e::User>(answer),
                "contacts.resolveUsername" => typed::<e::ContactsResolvedPeer>(answer),
                "updates.getState" => typed::<e::UpdatesState>(answer),
                "updates.getDifference" => typed::<e::UpdatesDifference>(answer),
                "messages.getDhConfig" => typed::<e::MessagesDhConfig>(answer),
                "messages.requestEncryption" | "messages.acceptEncryption" => {
                    typed::<e::EncryptedChat>(answer)
                }
                "messages.sendEncrypted"
                | "messages.sendEncryptedService"
                | "messages.sendEncryptedFile" => typed::<e::MessagesSentEncryptedMessage>(answer),
                "messages.uploadEncryptedFile" => typed::<e::EncryptedFile>(answer),
                "messages.receivedQueue" => typed::<Vec<i64>>(answer),
                "upload.getFile" => typed::<e::UploadFile>(answer),
                "messages.discardEncryption"
                | "messages.readEncryptedHistory"
                | "messages.setEncryptedTyping"
                | "messages.reportEncryptedSpam"
                | "upload.saveFilePart"
                | "upload.saveBigFilePart" => typed::<bool>(answer),
                other => Err(format!("no result type is known for {other}")),
            }
        }};
    }
    match layer {
        Layer::L229 => encode_with!(layer229),
        Layer::L158 => encode_with!(layer158),
    }
}
