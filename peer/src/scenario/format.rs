//! The scenario model: what a checked scenario file says, as types.
//!
//! A scenario is a short story about one behaviour of secret chats. It opens with a `why`
//! paragraph (the property it shows), names its actors (one device of one user each),
//! then lists steps in order. A step is either an **action** one actor takes (`request`,
//! `send`, `rekey`, `advance_clock`, ...) — optionally expected to fail with a server error
//! string (`expect_error`) — or an **expectation** about what one actor observes within a
//! deadline (`expect = "message"`, `expect = "established"`, `expect = "same_key"`, ...).
//!
//! Chats and files are named by *labels* chosen by the scenario (`chat = "main"`,
//! `file = "photo"`): the server picks the real chat ids, and each actor learns its chat
//! ids as the story goes (`request` binds the label for the requester, `expect =
//! "chat_requested"` binds it for the other side). [`super::parse`] checks every reference
//! before anything runs. The kinds of action and expectation ([`StepAction`],
//! [`Expectation`]) are declared in [`super::steps`]. The file format itself is documented
//! in `docs/scenarios.md`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secretchat_common::chat::{Layer, Profile, Reaction, UserAction};

pub use super::steps::{Expectation, StepAction};

/// How long an expectation waits when the step does not say (`within`).
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);

/// One checked scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// The file's stem: the scenario's name, a sentence in snake_case.
    pub name: String,
    /// The `why` paragraph: what property the scenario shows.
    pub why: String,
    pub actors: Vec<ActorSpec>,
    pub steps: Vec<Step>,
    /// Profiles whose client reacts otherwise than the profile does here (the profile
    /// does not reproduce that behaviour), with what the client does and its source.
    pub unmodelled: Vec<(Profile, String)>,
}

impl Scenario {
    /// The actor called `name`.
    pub fn actor(&self, name: &str) -> Option<&ActorSpec> {
        self.actors.iter().find(|actor| actor.name == name)
    }

    /// The actors on the two ends of the chat labelled `label`: its requester, the actor
    /// asked, and any other device that saw the request or accepted it.
    pub fn parties<'a>(&'a self, label: &str) -> Vec<&'a str> {
        let mut parties: Vec<&str> = Vec::new();
        let mut add = |name: &'a str| {
            if !parties.contains(&name) {
                parties.push(name);
            }
        };
        for step in &self.steps {
            match &step.kind {
                StepKind::Act {
                    action: StepAction::Request { chat, to },
                    ..
                } if chat == label => {
                    add(&step.actor);
                    add(to);
                }
                StepKind::Act {
                    action: StepAction::Accept { chat },
                    ..
                }
                | StepKind::Expect {
                    expectation: Expectation::ChatRequested { chat, .. },
                    ..
                } if chat == label => add(&step.actor),
                _ => {}
            }
        }
        parties
    }

    /// The content of the file sent under `label` (from its `send_file` step).
    pub fn file_content(&self, label: &str) -> Option<&FileSpec> {
        self.steps.iter().find_map(|step| match &step.kind {
            StepKind::Act {
                action: StepAction::SendFile { file, .. },
                ..
            } if file.label == label => Some(file),
            _ => None,
        })
    }
}

/// One actor: one device of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSpec {
    /// The name steps use (`actor = "bob_laptop"`).
    pub name: String,
    /// The user signed in (`auth.signIn` username); several actors may share a user.
    pub user: String,
    /// The device name (`auth.signIn` device).
    pub device: String,
    /// The highest layer this device speaks (8 ..= 144); `None`: the peer's default.
    pub layer: Option<Layer>,
    /// The layer the device assumes its peer speaks until told (default 8, SPEC §5).
    pub assume_peer_layer: Option<Layer>,
    /// Print every protocol step as it happens (`--explain` turns it on for all).
    pub explain: bool,
    /// Re-key after this many messages (the spec's 100 when absent).
    pub rekey_after_messages: Option<u32>,
    /// Stay offline from the start (no polling until `come_online`).
    pub starts_offline: bool,
    /// Whose reading of the protocol the device follows; `None`: the run's `--profile`,
    /// else the default (tdlib).
    pub profile: Option<Profile>,
}

/// One step of the story.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based position among the steps.
    pub number: usize,
    /// Line of the `[[steps]]` header in the file.
    pub line: usize,
    /// The actor who acts or observes.
    pub actor: String,
    pub kind: StepKind,
    /// The profiles the step holds for (`profiles = ["tdlib", "spec"]`); `None`: all.
    pub profiles: Option<Vec<Profile>>,
}

impl Step {
    /// Whether the step is played when the run's profile is `profile`.
    pub fn holds_for(&self, profile: Profile) -> bool {
        self.profiles
            .as_ref()
            .is_none_or(|profiles| profiles.contains(&profile))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// The actor does something; the server must accept it, or, with `expect_error`,
    /// refuse it with exactly that error string.
    Act {
        action: StepAction,
        expect_error: Option<String>,
    },
    /// The actor must observe something within `within`.
    Expect {
        expectation: Expectation,
        within: Duration,
    },
}

/// A label standing for a server id in an `admin` step's body: a string that is exactly
/// `"{chat_id:LABEL}"` becomes the chat's id (a JSON number) as the step's actor knows it,
/// and `"{file_id:LABEL}"` the server's id of the file sent under that label (a decimal
/// string, as TL longs are written in JSON) — e.g. for the hostile mode
/// `swap_file {with_file_id}`, whose ids the server chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    ChatId(String),
    FileId(String),
}

impl Placeholder {
    const KINDS: [&'static str; 2] = ["chat_id", "file_id"];

    /// Reads one string value of a body: `Ok(None)` when it is no placeholder, an error
    /// when it mentions one but is not exactly one well-formed placeholder.
    pub fn parse(text: &str) -> Result<Option<Placeholder>, String> {
        let mentions = Self::KINDS
            .iter()
            .any(|kind| text.contains(&format!("{{{kind}:")));
        if !mentions {
            return Ok(None);
        }
        for kind in Self::KINDS {
            let label = text
                .strip_prefix(&format!("{{{kind}:"))
                .and_then(|rest| rest.strip_suffix('}'));
            if let Some(label) = label {
                if !is_label(label) {
                    return Err(format!(
                        "placeholder \"{text}\" names the label \"{label}\", which must be 1 to 64 letters, digits, '_' or '-'"
                    ));
                }
                let label = label.to_owned();
                return Ok(Some(if kind == "chat_id" {
                    Placeholder::ChatId(label)
                } else {
                    Placeholder::FileId(label)
                }));
            }
        }
        Err(format!(
            "\"{text}\" is not a placeholder: write the whole string as \"{{chat_id:LABEL}}\" or \"{{file_id:LABEL}}\""
        ))
    }

    /// Every placeholder in a JSON value (strings inside objects and arrays, at any depth),
    /// in document order, or the first malformed one.
    pub fn all_in(value: &serde_json::Value) -> Result<Vec<Placeholder>, String> {
        let mut found = Vec::new();
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                serde_json::Value::String(text) => found.extend(Self::parse(text)?),
                serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
                serde_json::Value::Object(map) => stack.extend(map.values().rev()),
                _ => {}
            }
        }
        Ok(found)
    }

    /// Replaces every placeholder in `value` with what `resolve` gives for it.
    pub fn replace_all(
        value: &mut serde_json::Value,
        resolve: &mut dyn FnMut(&Placeholder) -> Result<serde_json::Value, String>,
    ) -> Result<(), String> {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                serde_json::Value::String(text) => {
                    if let Some(placeholder) = Self::parse(text)? {
                        *value = resolve(&placeholder)?;
                    }
                }
                serde_json::Value::Array(items) => stack.extend(items.iter_mut()),
                serde_json::Value::Object(map) => stack.extend(map.values_mut()),
                _ => {}
            }
        }
        Ok(())
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::ChatId(label) => write!(f, "{{chat_id:{label}}}"),
            Placeholder::FileId(label) => write!(f, "{{file_id:{label}}}"),
        }
    }
}

/// Whether `text` can be a label: 1 to 64 letters, digits, '_' or '-'.
pub fn is_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A file a scenario sends: its label, name, type and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The label steps use (`file = "photo"`).
    pub label: String,
    /// The file name sent in the media (`document` attribute).
    pub file_name: String,
    pub mime_type: String,
    pub content: FileContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    /// The text given in the file, as UTF-8 bytes.
    Text(String),
    /// `size` random bytes drawn from the run's seed and the file's label, so every
    /// process of a run (and every replay with the same `--seed`) makes the same bytes.
    Random { size: usize },
}

/// The kinds of service action a peer may receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    SetTtl,
    Read,
    Delete,
    Screenshot,
    Flush,
}

impl ActionKind {
    pub const ALL: [(&'static str, ActionKind); 5] = [
        ("set_ttl", ActionKind::SetTtl),
        ("read", ActionKind::Read),
        ("delete", ActionKind::Delete),
        ("screenshot", ActionKind::Screenshot),
        ("flush", ActionKind::Flush),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("", |(name, _)| name)
    }

    /// The kind of a service action the device received; `None` for typing, which
    /// expectations see as its own event.
    pub fn of(action: &UserAction) -> Option<ActionKind> {
        match action {
            UserAction::SetMessageTtl { .. } => Some(ActionKind::SetTtl),
            UserAction::ReadMessages { .. } => Some(ActionKind::Read),
            UserAction::DeleteMessages { .. } => Some(ActionKind::Delete),
            UserAction::ScreenshotMessages { .. } => Some(ActionKind::Screenshot),
            UserAction::FlushHistory => Some(ActionKind::Flush),
            UserAction::Typing { .. } => None,
        }
    }

    /// The kind called `name` in a file (`what = "read"`).
    pub fn from_name(name: &str) -> Option<ActionKind> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
    }
}

/// One attack case of a `reaction` step: its name in the report and what the spec allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCase {
    /// The name the report gives the case: the step's `case`, else the `hostile` action's
    /// name, else the scenario's name.
    pub name: String,
    /// The reaction the spec requires.
    pub required: Reaction,
    /// Other reactions the spec (or a major client it documents) also accepts.
    pub tolerated: Vec<Reaction>,
    /// The rule broken, when a `hostile` action says it (with its SPEC section).
    pub rule: Option<&'static str>,
    /// The client whose reaction `required` is, when the step is played under one
    /// client's profile only (`profiles = ["android"]`); otherwise the spec's.
    pub client: Option<Profile>,
}

impl ReactionCase {
    /// Whose requirement the report quotes: "the spec requires", or "Telegram Android
    /// (profile android) does".
    pub fn authority(&self) -> String {
        match self.client {
            Some(profile) => format!("{} (profile {profile}) does", profile.client()),
            None => "the spec requires".to_owned(),
        }
    }

    /// Whether `observed` is what the spec allows.
    pub fn accepts(&self, observed: Reaction) -> bool {
        observed == self.required || self.tolerated.contains(&observed)
    }

    /// "abort the chat (discardEncryption)", with the tolerated ones when there are any.
    pub fn describe_requirement(&self) -> String {
        let mut text = self.required.describe().to_owned();
        if !self.tolerated.is_empty() {
            let also: Vec<&str> = self.tolerated.iter().map(|r| r.describe()).collect();
            text.push_str(&format!(" (also accepted: {})", also.join("; ")));
        }
        text
    }
}

/// The text of message `n` (1-based) of a `send`/`expect message` with this template.
pub fn message_text(template: &str, n: u32) -> String {
    template.replace("{n}", &n.to_string())
}

/// A short human form of a duration as scenario files write them ("5s", "200ms", "8d").
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        let secs = self.0.as_secs();
        if !millis.is_multiple_of(1000) {
            write!(f, "{millis}ms")
        } else if secs != 0 && secs.is_multiple_of(86_400) {
            write!(f, "{}d", secs / 86_400)
        } else if secs != 0 && secs.is_multiple_of(3600) {
            write!(f, "{}h", secs / 3600)
        } else if secs != 0 && secs.is_multiple_of(60) && secs >= 600 {
            write!(f, "{}m", secs / 60)
        } else {
            write!(f, "{secs}s")
        }
    }
}

/// Parses "250ms", "5s", "10m", "2h", "8d" (one number, one unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        format!("duration \"{text}\" has no unit; write e.g. \"5s\", \"250ms\", \"8d\"")
    })?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!("duration \"{text}\" does not start with a number; write e.g. \"5s\"")
    })?;
    let seconds_per_unit = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "duration \"{text}\" has unit \"{other}\"; the units are ms, s, m, h, d"
            ))
        }
    };
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("duration \"{text}\" is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("8d"), Ok(Duration::from_secs(8 * 86_400)));
    }

    #[test]
    fn durations_without_unit_or_number_are_refused_with_the_forms_expected() {
        assert!(parse_duration("5").unwrap_err().contains("has no unit"));
        assert!(parse_duration("s")
            .unwrap_err()
            .contains("does not start with a number"));
        assert!(parse_duration("5w")
            .unwrap_err()
            .contains("the units are ms, s, m, h, d"));
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn human_durations_print_as_files_write_them() {
        assert_eq!(HumanDuration(Duration::from_secs(5)).to_string(), "5s");
        assert_eq!(
            HumanDuration(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
        assert_eq!(
            HumanDuration(Duration::from_secs(8 * 86_400)).to_string(),
            "8d"
        );
    }

    #[test]
    fn placeholders_are_whole_strings_with_a_label() {
        assert_eq!(Placeholder::parse("photo"), Ok(None));
        assert_eq!(Placeholder::parse("{not one}"), Ok(None));
        assert_eq!(
            Placeholder::parse("{file_id:photo}"),
            Ok(Some(Placeholder::FileId("photo".into())))
        );
        assert_eq!(
            Placeholder::parse("{chat_id:main}"),
            Ok(Some(Placeholder::ChatId("main".into())))
        );
        assert!(Placeholder::parse("id {file_id:photo}")
            .unwrap_err()
            .contains("write the whole string"));
        assert!(Placeholder::parse("{file_id:}")
            .unwrap_err()
            .contains("must be 1 to 64"));
        assert!(Placeholder::parse("{file_id:a b}").is_err());
        assert!(Placeholder::parse("{chat_id:main").is_err());
    }

    #[test]
    fn placeholders_are_found_and_replaced_at_any_depth() {
        let mut body = serde_json::json!({
            "chat_id": "{chat_id:main}",
            "mode": {"type": "swap_file", "with_file_id": "{file_id:decoy}"},
            "list": [1, "{file_id:photo}", {"x": "plain"}],
        });
        let mut found = Placeholder::all_in(&body).unwrap();
        found.sort_by_key(|p| p.to_string());
        assert_eq!(
            found,
            vec![
                Placeholder::ChatId("main".into()),
                Placeholder::FileId("decoy".into()),
                Placeholder::FileId("photo".into()),
            ]
        );
        Placeholder::replace_all(&mut body, &mut |p| match p {
            Placeholder::ChatId(_) => Ok(serde_json::json!(42)),
            Placeholder::FileId(label) => Ok(serde_json::json!(format!("id-of-{label}"))),
        })
        .unwrap();
        assert_eq!(body["chat_id"], 42);
        assert_eq!(body["mode"]["with_file_id"], "id-of-decoy");
        assert_eq!(body["list"][1], "id-of-photo");
        assert_eq!(body["list"][2]["x"], "plain");
        let refused =
            Placeholder::replace_all(&mut serde_json::json!(["{file_id:x}"]), &mut |_| {
                Err("unknown".to_owned())
            });
        assert_eq!(refused, Err("unknown".to_owned()));
    }

    #[test]
    fn message_templates_number_from_one() {
        assert_eq!(message_text("m{n} of 3", 2), "m2 of 3");
        assert_eq!(message_text("hi", 7), "hi");
    }
}
