//! Every kind of step, declared once.
//!
//! A step is an action (`action = "send"`) or an expectation (`expect = "message"`). Each
//! kind is one entry of the two lists below, which say everything about it in one place:
//!
//! ```text
//!   "send" => Send { chat, text, count, ttl },     the name in the file, the typed step
//!       takes ["chat", "text", "count", "ttl"],    the keys it accepts (besides `actor`,
//!       needs ["chat", "text"],                      `expect_error`/`within`) and needs
//!       read |step| ...,                           how its checked keys become the step
//!       describe ...;                              the step in a few words (progress lines)
//! ```
//!
//! From the lists come the [`StepAction`] and [`Expectation`] types with their `name`,
//! `chat` and `describe` methods, and [`ACTIONS`] and [`EXPECTATIONS`]: the tables the
//! parser ([`super::parse`]) checks a step's keys against (its error messages list the
//! names and keys from them) before calling the entry's `read`. The order of a list is the
//! order the docs and error messages give.

use std::time::Duration;

use secretchat_common::chat::{HostileAction, Layer};

use super::expect::Quoted;
use super::format::{
    parse_duration, ActionKind, FileContent, FileSpec, HumanDuration, Placeholder, ReactionCase,
};
use super::parse::{ScenarioFileError, StepFields, LAYERS};

/// One kind of step as a file spells it.
pub struct StepSpec<T> {
    /// The value of `action` or `expect`.
    pub name: &'static str,
    /// The keys it accepts, besides `actor` and `expect_error` (actions) or `within`
    /// (expectations).
    pub takes: &'static [&'static str],
    /// The keys it cannot do without.
    pub needs: &'static [&'static str],
    /// Its keys (already checked against `takes` and `needs`) as the typed step.
    pub(super) read: fn(&StepFields<'_>) -> Result<T, ScenarioFileError>,
}

/// The name of every kind in `specs`, as error messages list them.
pub fn names<T>(specs: &[StepSpec<T>]) -> String {
    specs
        .iter()
        .map(|spec| spec.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field that names a chat: the step's chat label, when it has one.
trait ChatLabel {
    fn label(&self) -> Option<&str>;
}

impl ChatLabel for String {
    fn label(&self) -> Option<&str> {
        Some(self)
    }
}

impl ChatLabel for Option<String> {
    fn label(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// The `chat` field among a variant's fields, each given twice (`name name`) so the
/// literal `chat` can be recognised while its binding is kept.
macro_rules! chat_field {
    () => {
        None
    };
    (chat $chat:ident $($rest:ident)*) => {
        ChatLabel::label($chat)
    };
    ($other:ident $same:ident $($rest:ident)*) => {
        chat_field!($($rest)*)
    };
}

/// Declares one list of step kinds: the enum, its table of [`StepSpec`]s, and its `name`,
/// `chat` and `describe` methods.
macro_rules! step_kinds {
    (
        $(#[$enum_doc:meta])*
        pub enum $Enum:ident, listed in $SPECS:ident {
            $(
                $(#[$doc:meta])*
                $name:literal => $Variant:ident $({
                    $( $(#[$field_doc:meta])* $field:ident: $ty:ty ),* $(,)?
                })?,
                takes [$($takes:literal),*], needs [$($needs:literal),*],
                read $read:expr,
                describe $describe:expr;
            )*
        }
    ) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $Enum {
            $(
                $(#[$doc])*
                $Variant $({ $( $(#[$field_doc])* $field: $ty ),* })?,
            )*
        }

        /// Every kind of the list, in its order.
        pub const $SPECS: &[StepSpec<$Enum>] = &[
            $(
                StepSpec {
                    name: $name,
                    takes: &[$($takes),*],
                    needs: &[$($needs),*],
                    read: $read,
                },
            )*
        ];

        impl $Enum {
            /// The kind's name in the file.
            pub fn name(&self) -> &'static str {
                match self {
                    $( $Enum::$Variant $({ $($field: _),* })? => $name, )*
                }
            }

            /// The chat label the step is about, if any.
            #[allow(unused_variables)]
            pub fn chat(&self) -> Option<&str> {
                match self {
                    $( $Enum::$Variant $({ $($field),* })? => chat_field!($($($field $field)*)?), )*
                }
            }

            /// The step in a few words, as progress lines show it.
            #[allow(unused_variables)]
            pub fn describe(&self) -> String {
                match self {
                    $( $Enum::$Variant $({ $($field),* })? => $describe, )*
                }
            }
        }
    };
}

step_kinds! {
    /// What an actor does.
    pub enum StepAction, listed in ACTIONS {
        /// Ask the user of actor `to` for a secret chat (`messages.requestEncryption`).
        "request" => Request { chat: String, to: String },
            takes ["chat", "to"], needs ["chat", "to"],
            read read_request,
            describe format!("requests chat {chat} with {to}");
        /// Accept a requested chat (`messages.acceptEncryption`).
        "accept" => Accept { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Accept { chat: step.chat()? }),
            describe format!("accepts {chat}");
        /// Decline a requested chat (`messages.discardEncryption` before accepting).
        "decline" => Decline { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Decline { chat: step.chat()? }),
            describe format!("declines {chat}");
        /// Send `count` text messages; `{n}` in the text becomes 1, 2, ... `count`.
        "send" => Send { chat: String, text: String, count: u32, ttl: Option<i32> },
            takes ["chat", "text", "count", "ttl"], needs ["chat", "text"],
            read |step| Ok(StepAction::Send {
                chat: step.chat()?,
                text: step.text.clone(),
                count: step.count,
                ttl: step.raw.ttl,
            }),
            describe if *count == 1 {
                format!("sends {}{} in {chat}", Quoted(text), ttl_note(*ttl))
            } else {
                format!("sends {count} messages {} in {chat}", Quoted(text))
            };
        /// Send a file (encrypted with a one-time key, uploaded in parts).
        "send_file" => SendFile { chat: String, file: FileSpec },
            takes ["chat", "file", "name", "mime", "content", "size"], needs ["chat", "file"],
            read read_send_file,
            describe format!("sends file {} ({}) in {chat}", file.label, Quoted(&file.file_name));
        /// Send again a file this actor sent or received, without uploading it again.
        "forward_file" => ForwardFile { chat: String, file: String },
            takes ["chat", "file"], needs ["chat", "file"],
            read |step| Ok(StepAction::ForwardFile {
                chat: step.chat()?,
                file: step.label(&step.raw.file, "file")?,
            }),
            describe format!("forwards file {file} in {chat}");
        /// `decryptedMessageActionSetMessageTTL`.
        "set_ttl" => SetTtl { chat: String, ttl: i32 },
            takes ["chat", "ttl"], needs ["chat", "ttl"],
            read read_set_ttl,
            describe format!("sets the TTL of {chat} to {ttl}s");
        /// Mark every message received so far in the chat as read.
        "read" => Read { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Read { chat: step.chat()? }),
            describe format!("reads {chat}");
        /// Delete every message received so far in the chat.
        "delete" => Delete { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Delete { chat: step.chat()? }),
            describe format!("deletes the messages of {chat}");
        /// Report a screenshot of every message received so far in the chat.
        "screenshot" => Screenshot { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Screenshot { chat: step.chat()? }),
            describe format!("takes a screenshot of {chat}");
        /// `decryptedMessageActionFlushHistory`.
        "flush" => Flush { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Flush { chat: step.chat()? }),
            describe format!("flushes the history of {chat}");
        /// A typing notice.
        "typing" => Typing { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Typing { chat: step.chat()? }),
            describe format!("types in {chat}");
        /// Start a re-key (`decryptedMessageActionRequestKey`).
        "rekey" => Rekey { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(StepAction::Rekey { chat: step.chat()? }),
            describe format!("re-keys {chat}");
        /// Discard the chat (`messages.discardEncryption`).
        "discard" => Discard { chat: String, delete_history: bool },
            takes ["chat", "delete_history"], needs ["chat"],
            read |step| Ok(StepAction::Discard {
                chat: step.chat()?,
                delete_history: step.raw.delete_history.unwrap_or(false),
            }),
            describe format!(
                "discards {chat}{}",
                if *delete_history { " (deleting history)" } else { "" }
            );
        /// Stop polling: the device's updates wait on the server.
        "go_offline" => GoOffline,
            takes [], needs [],
            read |_| Ok(StepAction::GoOffline),
            describe "goes offline".to_owned();
        /// Poll again (catching up with `updates.getDifference`).
        "come_online" => ComeOnline,
            takes [], needs [],
            read |_| Ok(StepAction::ComeOnline),
            describe "comes online".to_owned();
        /// `auth.logOut`: the device's token stops working and its queue is cleared.
        "logout" => Logout,
            takes [], needs [],
            read |_| Ok(StepAction::Logout),
            describe "logs out".to_owned();
        /// Move the server clock forward (admin surface).
        "advance_clock" => AdvanceClock { by: Duration },
            takes ["by"], needs ["by"],
            read read_advance_clock,
            describe format!("moves the server clock {} forward", HumanDuration(*by));
        /// `POST` a JSON body to the server's admin surface (e.g. install a fault rule or a
        /// hostile mode: `path = "/admin/hostile"`).
        "admin" => Admin { path: String, body: serde_json::Value },
            takes ["path", "body"], needs ["path"],
            read read_admin,
            describe format!("asks the server's admin: POST {path} {body}");
        /// Break a rule of the protocol on purpose (`chat::hostile`), to see the peer react.
        "hostile" => Hostile {
            chat: String,
            action: HostileAction,
            /// `deferred = true`: arm it to run the moment it can (before the device's next
            /// messages in the chat go out), instead of now.
            deferred: bool,
        },
            takes ["chat", "what", "deferred"], needs ["chat", "what"],
            read read_hostile,
            describe format!(
                "{} a rule in {chat} on purpose: {} (a correct peer must {})",
                if *deferred { "is set to break, as soon as it can," } else { "breaks" },
                action.name(),
                action.expected_reaction().describe()
            );
    }
}

step_kinds! {
    /// What an actor must observe.
    pub enum Expectation, listed in EXPECTATIONS {
        /// A chat request arrives; binds the label to its chat id for this actor. `from`:
        /// the actor whose user must have asked.
        "chat_requested" => ChatRequested { chat: String, from: Option<String> },
            takes ["chat", "from"], needs ["chat"],
            read |step| Ok(Expectation::ChatRequested {
                chat: step.chat()?,
                from: step.raw.from.as_ref().map(|from| step.actor_named(from)).transpose()?,
            }),
            describe match from {
                Some(from) => format!("a chat request {chat} from {from}"),
                None => format!("a chat request {chat}"),
            };
        /// The chat's key exists on this side (accepted, or the acceptance was checked).
        "established" => Established { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(Expectation::Established { chat: step.chat()? }),
            describe format!("{chat} established");
        /// `count` messages arrive in order, with these texts (`{n}` as in `send`), and
        /// the TTL if given.
        "message" => Message { chat: String, text: String, count: u32, ttl: Option<i32> },
            takes ["chat", "text", "count", "ttl"], needs ["chat", "text"],
            read |step| Ok(Expectation::Message {
                chat: step.chat()?,
                text: step.text.clone(),
                count: step.count,
                ttl: step.raw.ttl,
            }),
            describe if *count == 1 {
                format!("message {}{} in {chat}", Quoted(text), ttl_note(*ttl))
            } else {
                format!("{count} messages {} in {chat}", Quoted(text))
            };
        /// The file sent under this label arrives, decrypted, with its size and SHA-256.
        "file" => File { chat: String, file: String },
            takes ["chat", "file"], needs ["chat", "file"],
            read |step| Ok(Expectation::File {
                chat: step.chat()?,
                file: step.label(&step.raw.file, "file")?,
            }),
            describe format!("file {file} in {chat}");
        /// A service action of this kind arrives.
        "action" => Action { chat: String, what: ActionKind },
            takes ["chat", "what"], needs ["chat", "what"],
            read read_service_action,
            describe format!("service action {} in {chat}", what.name());
        /// The other side read our messages (`updateEncryptedMessagesRead`).
        "read_receipt" => ReadReceipt { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(Expectation::ReadReceipt { chat: step.chat()? }),
            describe format!("a read receipt in {chat}");
        /// A typing notice arrives.
        "typing" => Typing { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(Expectation::Typing { chat: step.chat()? }),
            describe format!("a typing notice in {chat}");
        /// The chat's key changed (a re-key completed).
        "key_changed" => KeyChanged { chat: String },
            takes ["chat"], needs ["chat"],
            read |step| Ok(Expectation::KeyChanged { chat: step.chat()? }),
            describe format!("the key of {chat} to change");
        /// The chat was discarded (declined, discarded, or lost the accept race).
        /// `history_deleted`, when given, must be what the discard said.
        "discarded" => Discarded { chat: String, history_deleted: Option<bool> },
            takes ["chat", "history_deleted"], needs ["chat"],
            read |step| Ok(Expectation::Discarded {
                chat: step.chat()?,
                history_deleted: step.raw.history_deleted,
            }),
            describe match history_deleted {
                Some(true) => format!("{chat} discarded with its history deleted"),
                Some(false) => format!("{chat} discarded, history kept"),
                None => format!("{chat} discarded"),
            };
        /// The chat was aborted by this side; `reason` must appear in the reason given.
        "aborted" => Aborted { chat: String, reason: Option<String> },
            takes ["chat", "reason"], needs ["chat"],
            read |step| Ok(Expectation::Aborted {
                chat: step.chat()?,
                reason: step.raw.reason.clone(),
            }),
            describe match reason {
                Some(reason) => format!("{chat} aborted ({reason})"),
                None => format!("{chat} aborted"),
            };
        /// The other side announced a higher layer (`decryptedMessageActionNotifyLayer`).
        "peer_layer_raised" => PeerLayerRaised { chat: String, layer: Option<Layer> },
            takes ["chat", "layer"], needs ["chat"],
            read |step| Ok(Expectation::PeerLayerRaised {
                chat: step.chat()?,
                layer: step.raw.layer.as_ref().map(|layer| Layer(*layer.get_ref())),
            }),
            describe match layer {
                Some(layer) => format!("the peer's layer in {chat} raised to {}", layer.0),
                None => format!("the peer's layer in {chat} raised"),
            };
        /// Nothing at all arrives (for this chat, if given) during the whole window.
        "nothing" => Nothing { chat: Option<String> },
            takes ["chat"], needs [],
            read |step| Ok(Expectation::Nothing { chat: step.optional_chat()? }),
            describe match chat {
                Some(chat) => format!("nothing in {chat}"),
                None => "nothing".to_owned(),
            };
        /// The chat's negotiated layer is `layer`.
        "layer" => Layer { chat: String, layer: Layer },
            takes ["chat", "layer"], needs ["chat", "layer"],
            read read_layer,
            describe format!("{chat} at layer {}", layer.0);
        /// The chat sends with MTProto `version` (1 below layer 73, 2 from 73).
        "version" => Version { chat: String, version: u8 },
            takes ["chat", "version"], needs ["chat", "version"],
            read read_version,
            describe format!("{chat} sealed with MTProto {version}.0");
        /// This actor's key for the chat and `with`'s have equal fingerprints and equal
        /// visualizations.
        "same_key" => SameKey { chat: String, with: String },
            takes ["chat", "with"], needs ["chat", "with"],
            read |step| Ok(Expectation::SameKey {
                chat: step.chat()?,
                with: step.other_actor(&step.raw.with)?,
            }),
            describe format!("the same key as {with} in {chat}");
        /// Both hold a key for the chat, but neither the visualizations nor the
        /// fingerprints of the keys in use match: someone is in the middle (the lesson of
        /// the MitM attack) — and still is, since after a re-key the pictures keep showing
        /// the first keys.
        "different_key" => DifferentKey { chat: String, with: String },
            takes ["chat", "with"], needs ["chat", "with"],
            read |step| Ok(Expectation::DifferentKey {
                chat: step.chat()?,
                with: step.other_actor(&step.raw.with)?,
            }),
            describe format!("a key unlike {with}'s in {chat}");
        /// This side dropped a message or update, or refused a file, saying `reason` (in
        /// the chat, if given).
        "ignored" => Ignored { chat: Option<String>, reason: String },
            takes ["chat", "reason"], needs ["reason"],
            read |step| Ok(Expectation::Ignored {
                chat: step.optional_chat()?,
                reason: step.raw.reason.clone().unwrap_or_default(),
            }),
            describe format!(
                "something ignored ({reason}){}",
                chat.as_ref().map(|chat| format!(" in {chat}")).unwrap_or_default()
            );
        /// The verdict on one attack: this actor (the client under test) must react to
        /// what the other side or the server just did as the spec requires
        /// (`case.required`, or one of `case.tolerated`). The report says what it did and
        /// whether that was right.
        "reaction" => Reaction { chat: String, case: ReactionCase },
            takes ["chat", "required", "tolerated", "case"], needs ["chat"],
            read |step| Ok(Expectation::Reaction {
                chat: step.chat()?,
                case: step.reaction_case()?,
            }),
            describe format!("a reaction in {chat} to {}", case.name);
        /// The server holds `messages` unacknowledged encrypted messages for this device.
        "queued" => Queued { messages: usize },
            takes ["messages"], needs ["messages"],
            read |step| Ok(Expectation::Queued {
                messages: step.raw.messages.unwrap_or_default(),
            }),
            describe format!("{messages} messages queued on the server");
        /// The server no longer knows this device (logged out).
        "signed_out" => SignedOut,
            takes [], needs [],
            read |_| Ok(Expectation::SignedOut),
            describe "to be signed out on the server".to_owned();
    }
}

/// " (ttl 5s)" when a TTL is given.
fn ttl_note(ttl: Option<i32>) -> String {
    ttl.map(|ttl| format!(" (ttl {ttl}s)")).unwrap_or_default()
}

fn read_request(step: &StepFields<'_>) -> Result<StepAction, ScenarioFileError> {
    let to = step.other_actor(&step.raw.to)?;
    let me = step.actor_spec(step.actor);
    let them = step.actor_spec(&to);
    if let (Some(me), Some(them)) = (me, them) {
        if me.user == them.user {
            let at = step.raw.to.as_ref().map_or(step.start, |t| t.span().start);
            return Err(step.err(
                at,
                format!(
                    "{} and {to} are the same user \"{}\"; a secret chat is between two users",
                    step.actor, me.user
                ),
            ));
        }
    }
    Ok(StepAction::Request {
        chat: step.chat()?,
        to,
    })
}

fn read_send_file(step: &StepFields<'_>) -> Result<StepAction, ScenarioFileError> {
    let raw = step.raw;
    let label = step.label(&raw.file, "file")?;
    let content = match (&raw.content, &raw.size) {
        (Some(text), None) => FileContent::Text(text.clone()),
        (None, Some(size)) if *size.get_ref() > 0 => FileContent::Random {
            size: *size.get_ref(),
        },
        (None, Some(size)) => {
            return Err(step.err(
                size.span().start,
                "`size` must be at least 1 byte".to_owned(),
            ))
        }
        _ => {
            return Err(step.err(
                step.start,
                "`send_file` needs exactly one of `content = \"text\"` or `size = bytes`"
                    .to_owned(),
            ))
        }
    };
    Ok(StepAction::SendFile {
        chat: step.chat()?,
        file: FileSpec {
            file_name: raw.name.clone().unwrap_or_else(|| format!("{label}.bin")),
            mime_type: raw
                .mime
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            label,
            content,
        },
    })
}

fn read_set_ttl(step: &StepFields<'_>) -> Result<StepAction, ScenarioFileError> {
    let ttl = step.raw.ttl.unwrap_or_default();
    if ttl < 0 {
        return Err(step.err(
            step.start,
            format!("`ttl` is seconds, 0 or more; got {ttl}"),
        ));
    }
    Ok(StepAction::SetTtl {
        chat: step.chat()?,
        ttl,
    })
}

fn read_advance_clock(step: &StepFields<'_>) -> Result<StepAction, ScenarioFileError> {
    let (by, at) = step
        .raw
        .by
        .as_ref()
        .map(|by| (by.get_ref().as_str(), by.span().start))
        .unwrap_or(("", step.start));
    let duration = parse_duration(by).map_err(|message| step.err(at, message))?;
    if duration.as_secs() == 0 || duration.subsec_millis() != 0 {
        return Err(step.err(
            at,
            "`by` must be whole seconds, at least 1s (the server clock counts seconds)".to_owned(),
        ));
    }
    Ok(StepAction::AdvanceClock { by: duration })
}

fn read_admin(step: &StepFields<'_>) -> Result<StepAction, ScenarioFileError> {
    let raw = step.raw;
    let (path, at) = raw
        .path
        .as_ref()
        .map(|path| (path.get_ref().clone(), path.span().start))
        .unwrap_or_default();
    if !path.starts_with("/admin/") {
        return Err(step.err(
            at,
            format!("`path` is a path on the admin surface, starting with /admin/; got \"{path}\""),
        ));
    }
    let body = match &raw.body {
        Some(body) => serde_json::to_value(body.get_ref()).map_err(|error| {
            step.err(
                body.span().start,
                format!("`body` cannot be sent as JSON: {error}"),
            )
        })?,
        None => serde_json::json!({}),
    };
    if let Err(message) = Placeholder::all_in(&body) {
        let at = raw.body.as_ref().map_or(step.start, |b| b.span().start);
        return Err(step.err(at, format!("`body`: {message}")));
    }
    Ok(StepAction::Admin { path, body })
}

fn read_hostile(step: &StepFields<'_>) -> Result<StepAction, ScenarioFileError> {
    let (name, at) = step
        .raw
        .what
        .as_ref()
        .map(|what| (what.get_ref().clone(), what.span().start))
        .unwrap_or_default();
    let known = HostileAction::all_without_data();
    match known.iter().find(|action| action.name() == name) {
        Some(action) => Ok(StepAction::Hostile {
            chat: step.chat()?,
            action: action.clone(),
            deferred: step.raw.deferred.unwrap_or(false),
        }),
        None => {
            let names: Vec<&str> = known.iter().map(HostileAction::name).collect();
            Err(step.err(
                at,
                format!(
                    "unknown hostile action \"{name}\"; `what` is one of: {}",
                    names.join(", ")
                ),
            ))
        }
    }
}

fn read_service_action(step: &StepFields<'_>) -> Result<Expectation, ScenarioFileError> {
    let (what, at) = step
        .raw
        .what
        .as_ref()
        .map(|what| (what.get_ref().as_str(), what.span().start))
        .unwrap_or(("", step.start));
    match ActionKind::from_name(what) {
        Some(what) => Ok(Expectation::Action {
            chat: step.chat()?,
            what,
        }),
        None => {
            let names: Vec<&str> = ActionKind::ALL.iter().map(|(name, _)| *name).collect();
            Err(step.err(
                at,
                format!(
                    "unknown service action \"{what}\"; `what` is one of: {}",
                    names.join(", ")
                ),
            ))
        }
    }
}

fn read_layer(step: &StepFields<'_>) -> Result<Expectation, ScenarioFileError> {
    let (layer, at) = step
        .raw
        .layer
        .as_ref()
        .map(|layer| (*layer.get_ref(), layer.span().start))
        .unwrap_or((0, step.start));
    if !LAYERS.contains(&layer) {
        return Err(step.err(
            at,
            format!("layer {layer} is not a secret-chat layer; expected 8 to 144"),
        ));
    }
    Ok(Expectation::Layer {
        chat: step.chat()?,
        layer: Layer(layer),
    })
}

fn read_version(step: &StepFields<'_>) -> Result<Expectation, ScenarioFileError> {
    let (version, at) = step
        .raw
        .version
        .as_ref()
        .map(|version| (*version.get_ref(), version.span().start))
        .unwrap_or((0, step.start));
    if !(1..=2).contains(&version) {
        return Err(step.err(
            at,
            format!("MTProto version {version} does not exist; expected 1 or 2"),
        ));
    }
    Ok(Expectation::Version {
        chat: step.chat()?,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<(
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    )> {
        let actions = ACTIONS.iter().map(|s| (s.name, s.takes, s.needs));
        let expectations = EXPECTATIONS.iter().map(|s| (s.name, s.takes, s.needs));
        actions.chain(expectations).collect()
    }

    #[test]
    fn every_kind_needs_only_keys_it_takes() {
        for (name, takes, needs) in every_kind() {
            for key in needs {
                assert!(
                    takes.contains(key),
                    "`{name}` needs `{key}` but does not take it"
                );
            }
        }
    }

    #[test]
    fn no_two_actions_or_two_expectations_share_a_name() {
        for specs in [names(ACTIONS), names(EXPECTATIONS)] {
            let mut seen: Vec<&str> = specs.split(", ").collect();
            let all = seen.len();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), all, "{specs}");
        }
    }

    #[test]
    fn every_kind_of_step_has_a_row_in_the_scenario_guide() {
        let guide = include_str!("../../../docs/scenarios.md");
        let rows: Vec<&str> = guide.lines().filter(|l| l.starts_with("| `")).collect();
        for (name, _, _) in every_kind() {
            let cell = format!("`{name}`");
            assert!(
                rows.iter().any(|row| row.contains(&cell)),
                "docs/scenarios.md has no table row for {cell}"
            );
        }
    }

    #[test]
    fn a_step_names_and_describes_itself_as_its_entry_says() {
        let send = StepAction::Send {
            chat: "main".into(),
            text: "hi".into(),
            count: 1,
            ttl: Some(5),
        };
        assert_eq!(send.name(), "send");
        assert_eq!(send.chat(), Some("main"));
        assert_eq!(send.describe(), "sends \"hi\" (ttl 5s) in main");
        assert_eq!(StepAction::Logout.chat(), None);
        let nothing = Expectation::Nothing { chat: None };
        assert_eq!(nothing.name(), "nothing");
        assert_eq!(nothing.chat(), None);
        let ignored = Expectation::Ignored {
            chat: Some("main".into()),
            reason: "replay".into(),
        };
        assert_eq!(ignored.chat(), Some("main"));
        assert_eq!(ignored.describe(), "something ignored (replay) in main");
    }
}
