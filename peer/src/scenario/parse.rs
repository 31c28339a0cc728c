//! Reading a scenario file: TOML in, a checked [`Scenario`] out — or an error naming the
//! file, the line (and column), and what was expected there.
//!
//! Reading happens in two passes. The `toml` crate parses the text into loose "raw" tables
//! (every key optional, unknown keys refused with their position). Then `check` turns
//! each raw step into a typed [`StepAction`] or [`Expectation`]: the `action`/`expect` name
//! must be one of the kinds [`super::steps`] declares (the error lists them), each kind
//! takes exactly its own keys and reads them itself, actor names must be declared, and
//! every chat and file label must have been bound
//! by an earlier step *for that actor* — so a scenario that could only fail halfway
//! through a run is refused before anything runs.

use secretchat_common::chat::{HostileAction, Layer, Profile, Reaction};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::format::{
    is_label, parse_duration, ActorSpec, Placeholder, ReactionCase, Scenario, Step, StepKind,
    DEFAULT_WITHIN,
};
use super::steps::{self, Expectation, StepAction, StepSpec};

/// The layers a peer can speak (SPEC: the secret-chat layers 8 ..= 144).
pub(super) const LAYERS: std::ops::RangeInclusive<i32> = 8..=144;

/// A scenario file that cannot run, and where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFileError {
    pub path: PathBuf,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioFileError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    why: Option<String>,
    /// Profile name → what that profile's client really does where the profile does not
    /// reproduce it (the matrix shows the cell as not modelled).
    #[serde(default)]
    unmodelled: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    actors: Vec<Spanned<RawActor>>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    name: Spanned<String>,
    user: Option<Spanned<String>>,
    device: Option<String>,
    layer: Option<Spanned<i32>>,
    assume_peer_layer: Option<Spanned<i32>>,
    #[serde(default)]
    explain: bool,
    rekey_after_messages: Option<Spanned<u32>>,
    #[serde(default)]
    starts_offline: bool,
    profile: Option<Spanned<String>>,
}

/// One `[[steps]]` table with every key any step may take.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) action: Option<Spanned<String>>,
    pub(super) expect: Option<Spanned<String>>,
    pub(super) actor: Option<Spanned<String>>,
    pub(super) chat: Option<Spanned<String>>,
    pub(super) to: Option<Spanned<String>>,
    pub(super) from: Option<Spanned<String>>,
    pub(super) with: Option<Spanned<String>>,
    pub(super) text: Option<String>,
    pub(super) count: Option<Spanned<u32>>,
    pub(super) ttl: Option<i32>,
    pub(super) file: Option<Spanned<String>>,
    pub(super) name: Option<String>,
    pub(super) mime: Option<String>,
    pub(super) content: Option<String>,
    pub(super) size: Option<Spanned<usize>>,
    pub(super) delete_history: Option<bool>,
    pub(super) history_deleted: Option<bool>,
    pub(super) by: Option<Spanned<String>>,
    pub(super) path: Option<Spanned<String>>,
    pub(super) body: Option<Spanned<toml::Value>>,
    pub(super) within: Option<Spanned<String>>,
    pub(super) expect_error: Option<String>,
    pub(super) what: Option<Spanned<String>>,
    pub(super) reason: Option<String>,
    pub(super) layer: Option<Spanned<i32>>,
    pub(super) version: Option<Spanned<u8>>,
    pub(super) messages: Option<usize>,
    pub(super) required: Option<Spanned<String>>,
    pub(super) tolerated: Option<Spanned<Vec<String>>>,
    pub(super) case: Option<String>,
    pub(super) deferred: Option<bool>,
    pub(super) profiles: Option<Spanned<Vec<String>>>,
}

impl RawStep {
    /// The keys present in this step (besides `action`/`expect`/`actor`).
    fn present(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let mut note = |present: bool, key: &'static str| {
            if present {
                keys.push(key)
            }
        };
        note(self.chat.is_some(), "chat");
        note(self.to.is_some(), "to");
        note(self.from.is_some(), "from");
        note(self.with.is_some(), "with");
        note(self.text.is_some(), "text");
        note(self.count.is_some(), "count");
        note(self.ttl.is_some(), "ttl");
        note(self.file.is_some(), "file");
        note(self.name.is_some(), "name");
        note(self.mime.is_some(), "mime");
        note(self.content.is_some(), "content");
        note(self.size.is_some(), "size");
        note(self.delete_history.is_some(), "delete_history");
        note(self.history_deleted.is_some(), "history_deleted");
        note(self.by.is_some(), "by");
        note(self.path.is_some(), "path");
        note(self.body.is_some(), "body");
        note(self.within.is_some(), "within");
        note(self.expect_error.is_some(), "expect_error");
        note(self.what.is_some(), "what");
        note(self.reason.is_some(), "reason");
        note(self.layer.is_some(), "layer");
        note(self.version.is_some(), "version");
        note(self.messages.is_some(), "messages");
        note(self.required.is_some(), "required");
        note(self.tolerated.is_some(), "tolerated");
        note(self.case.is_some(), "case");
        note(self.deferred.is_some(), "deferred");
        keys
    }
}

/// Reads and checks one scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioFileError> {
    let text = std::fs::read_to_string(path).map_err(|error| ScenarioFileError {
        path: path.to_owned(),
        line: None,
        column: None,
        message: format!("cannot read the file: {error}"),
    })?;
    parse(path, &text)
}

/// Parses and checks scenario text (`path` names it in errors and gives its name).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioFileError> {
    let locate = Locator { path, text };
    let raw: RawFile = toml::from_str(text).map_err(|error| {
        let message = error.message().trim().to_owned();
        match error.span() {
            Some(span) => locate.at(span.start, message),
            None => locate.nowhere(message),
        }
    })?;
    check(&locate, raw)
}

/// Turns byte offsets into line:column errors for one file.
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn at(&self, offset: usize, message: impl Into<String>) -> ScenarioFileError {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before
            .get(line_start..)
            .map_or(1, |s| s.chars().count() + 1);
        ScenarioFileError {
            path: self.path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    fn nowhere(&self, message: impl Into<String>) -> ScenarioFileError {
        ScenarioFileError {
            path: self.path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.at(offset, "").line.unwrap_or(1)
    }
}

fn check(locate: &Locator<'_>, raw: RawFile) -> Result<Scenario, ScenarioFileError> {
    let why = match raw.why {
        Some(why) if !why.trim().is_empty() => why.trim().to_owned(),
        _ => {
            return Err(locate.nowhere(
                "missing `why`: the file must open with a `why = \"\"\"...\"\"\"` paragraph saying what property it shows",
            ))
        }
    };
    if raw.actors.is_empty() {
        return Err(locate.nowhere(
            "no actors: declare at least one `[[actors]]` table with a `name` (and `user`, `device`)",
        ));
    }

    let mut actors: Vec<ActorSpec> = Vec::new();
    let mut devices = HashSet::new();
    for spanned in &raw.actors {
        let actor = spanned.get_ref();
        let name = actor.name.get_ref().clone();
        let at = actor.name.span().start;
        if !is_label(&name) {
            return Err(locate.at(
                at,
                format!("actor name \"{name}\" must be 1 to 64 letters, digits, '_' or '-'"),
            ));
        }
        if actors.iter().any(|a| a.name == name) {
            return Err(locate.at(at, format!("actor \"{name}\" is declared twice")));
        }
        let user = actor
            .user
            .as_ref()
            .map_or_else(|| name.clone(), |u| u.get_ref().clone());
        let user_ok = !user.is_empty()
            && user.len() <= 32
            && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !user_ok {
            let at = actor.user.as_ref().map_or(at, |u| u.span().start);
            return Err(locate.at(at, format!("user \"{user}\" must be 1 to 32 letters, digits or '_' (the server's username rule)")));
        }
        let device = actor.device.clone().unwrap_or_else(|| "phone".to_owned());
        if !devices.insert((user.clone(), device.clone())) {
            return Err(locate.at(at, format!("actor \"{name}\" is device \"{device}\" of user \"{user}\", like an actor declared before it; give it another `device`")));
        }
        if let Some(layer) = &actor.layer {
            if !LAYERS.contains(layer.get_ref()) {
                return Err(locate.at(
                    layer.span().start,
                    format!(
                        "layer {} is not a secret-chat layer; expected 8 to 144",
                        layer.get_ref()
                    ),
                ));
            }
        }
        if let Some(layer) = &actor.assume_peer_layer {
            if !LAYERS.contains(layer.get_ref()) {
                return Err(locate.at(
                    layer.span().start,
                    format!(
                        "assume_peer_layer {} is not a secret-chat layer; expected 8 to 144",
                        layer.get_ref()
                    ),
                ));
            }
        }
        if let Some(every) = &actor.rekey_after_messages {
            if *every.get_ref() == 0 {
                return Err(locate.at(
                    every.span().start,
                    "rekey_after_messages must be at least 1",
                ));
            }
        }
        actors.push(ActorSpec {
            name,
            user,
            device,
            layer: actor.layer.as_ref().map(|l| Layer(*l.get_ref())),
            assume_peer_layer: actor
                .assume_peer_layer
                .as_ref()
                .map(|l| Layer(*l.get_ref())),
            explain: actor.explain,
            rekey_after_messages: actor.rekey_after_messages.as_ref().map(|e| *e.get_ref()),
            starts_offline: actor.starts_offline,
            profile: match &actor.profile {
                Some(name) => Some(profile_named(locate, name.span().start, name.get_ref())?),
                None => None,
            },
        });
    }

    let mut bindings = Bindings::default();
    let mut file_labels: HashSet<String> = HashSet::new();
    let mut steps = Vec::new();
    // Chat label → the last `hostile` action in it (and its actor), the default case of a
    // later `reaction` step.
    let mut hostile_so_far: HashMap<String, (String, HostileAction)> = HashMap::new();
    for (index, spanned) in raw.steps.iter().enumerate() {
        let number = index + 1;
        let start = spanned.span().start;
        let step = checked_step(
            locate,
            &actors,
            spanned.get_ref(),
            number,
            start,
            &hostile_so_far,
        )?;
        if let StepKind::Act {
            action: StepAction::Hostile { chat, action, .. },
            ..
        } = &step.kind
        {
            hostile_so_far.insert(chat.clone(), (step.actor.clone(), action.clone()));
        }
        bindings.apply(
            locate,
            &actors,
            &step,
            spanned.get_ref(),
            start,
            &mut file_labels,
        )?;
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(
            locate.nowhere("no steps: add `[[steps]]` tables, each an `action` or an `expect`")
        );
    }

    let name = locate.path.file_stem().map_or_else(
        || "scenario".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    // A reaction step with no `case` and no `hostile` action before it is the scenario's
    // own case.
    for step in &mut steps {
        if let StepKind::Expect {
            expectation: Expectation::Reaction { case, .. },
            ..
        } = &mut step.kind
        {
            if case.name.is_empty() {
                case.name = name.clone();
            }
        }
    }
    let mut unmodelled = Vec::new();
    for (profile, client_does) in raw.unmodelled {
        let Some(profile) = Profile::from_name(&profile) else {
            return Err(locate.nowhere(format!(
                "unmodelled: unknown profile \"{profile}\"; expected one of {}",
                Profile::names()
            )));
        };
        unmodelled.push((profile, client_does));
    }
    Ok(Scenario {
        path: locate.path.to_owned(),
        name,
        unmodelled,
        why,
        actors,
        steps,
    })
}

/// Which chat and file labels each actor knows so far, while checking steps in order.
#[derive(Default)]
struct Bindings {
    chats: HashMap<String, HashSet<String>>,
    files: HashMap<String, HashSet<String>>,
}

impl Bindings {
    fn has_chat(&self, actor: &str, chat: &str) -> bool {
        self.chats
            .get(actor)
            .is_some_and(|chats| chats.contains(chat))
    }

    fn apply(
        &mut self,
        locate: &Locator<'_>,
        actors: &[ActorSpec],
        step: &Step,
        raw: &RawStep,
        start: usize,
        file_labels: &mut HashSet<String>,
    ) -> Result<(), ScenarioFileError> {
        let at = |field: &Option<Spanned<String>>| field.as_ref().map_or(start, |f| f.span().start);
        let chat_at = at(&raw.chat);
        let actor = step.actor.as_str();
        let bind = |this: &mut Self, chat: &str| -> Result<(), ScenarioFileError> {
            if !this
                .chats
                .entry(actor.to_owned())
                .or_default()
                .insert(chat.to_owned())
            {
                return Err(locate.at(chat_at, format!("step {}: chat \"{chat}\" already names a chat for {actor}; use a new label for a new chat", step.number)));
            }
            Ok(())
        };
        let (binds, chat) = match &step.kind {
            StepKind::Act { action, .. } => {
                (matches!(action, StepAction::Request { .. }), action.chat())
            }
            StepKind::Expect { expectation, .. } => (
                matches!(expectation, Expectation::ChatRequested { .. }),
                expectation.chat(),
            ),
        };
        let is_reaction = matches!(
            &step.kind,
            StepKind::Expect {
                expectation: Expectation::Reaction { .. },
                ..
            }
        );
        if let Some(chat) = chat {
            if binds {
                bind(self, chat)?;
            } else if is_reaction && self.chats.values().any(|known| known.contains(chat)) {
                // A verdict may be on a device that never saw the chat (it refused the
                // request unseen): the chat's id is the server's, known to the other side.
            } else if !self.has_chat(actor, chat) {
                return Err(locate.at(chat_at, format!(
                    "step {}: {actor} has no chat \"{chat}\" yet; a chat label is bound by `action = \"request\"` (the requester) or `expect = \"chat_requested\"` (the other side) in an earlier step",
                    step.number
                )));
            }
        }
        match &step.kind {
            StepKind::Act {
                action: StepAction::SendFile { file, .. },
                ..
            } => {
                if !file_labels.insert(file.label.clone()) {
                    return Err(locate.at(at(&raw.file), format!("step {}: file \"{}\" is sent twice; give each `send_file` its own label (use `forward_file` to send it again)", step.number, file.label)));
                }
                self.files
                    .entry(actor.to_owned())
                    .or_default()
                    .insert(file.label.clone());
            }
            StepKind::Act {
                action: StepAction::ForwardFile { file, .. },
                ..
            } if !self.files.get(actor).is_some_and(|f| f.contains(file)) => {
                return Err(locate.at(at(&raw.file), format!("step {}: {actor} has neither sent nor received a file \"{file}\" before this step", step.number)));
            }
            StepKind::Expect {
                expectation: Expectation::File { file, .. },
                ..
            } => {
                if !file_labels.contains(file) {
                    return Err(locate.at(
                        at(&raw.file),
                        format!(
                            "step {}: no earlier `send_file` sends a file \"{file}\"",
                            step.number
                        ),
                    ));
                }
                self.files
                    .entry(actor.to_owned())
                    .or_default()
                    .insert(file.clone());
            }
            StepKind::Act {
                action: StepAction::Admin { body, .. },
                ..
            } => {
                let body_at = raw.body.as_ref().map_or(start, |b| b.span().start);
                // Checked when the step was read; an error here cannot happen.
                for placeholder in Placeholder::all_in(body).unwrap_or_default() {
                    let problem = match &placeholder {
                        Placeholder::ChatId(chat) if !self.has_chat(actor, chat) => Some(format!(
                            "{actor} has no chat \"{chat}\" yet; a chat label is bound by `action = \"request\"` or `expect = \"chat_requested\"` in an earlier step"
                        )),
                        Placeholder::FileId(file)
                            if !self.files.get(actor).is_some_and(|f| f.contains(file)) =>
                        {
                            Some(if file_labels.contains(file) {
                                format!("{actor} has neither sent nor received a file \"{file}\" before this step, so it cannot know its id")
                            } else {
                                format!("no earlier `send_file` sends a file \"{file}\"")
                            })
                        }
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        return Err(locate.at(
                            body_at,
                            format!(
                                "step {}: `body` placeholder {placeholder}: {problem}",
                                step.number
                            ),
                        ));
                    }
                }
            }
            StepKind::Expect {
                expectation: Expectation::SameKey { chat, with },
                ..
            } => {
                if with == actor {
                    return Err(locate.at(
                        at(&raw.with),
                        format!(
                            "step {}: `with` must name another actor than {actor}",
                            step.number
                        ),
                    ));
                }
                if !self.has_chat(with, chat) {
                    return Err(locate.at(
                        at(&raw.with),
                        format!(
                            "step {}: {with} has no chat \"{chat}\" yet to compare keys with",
                            step.number
                        ),
                    ));
                }
            }
            _ => {}
        }
        let _ = actors;
        Ok(())
    }
}

/// The case a `reaction` step judges: `required`/`tolerated` as written, else what the
/// spec requires after the last `hostile` action in the chat. Errors carry their offset.
fn reaction_case(
    raw: &RawStep,
    actor: &str,
    hostile_so_far: &HashMap<String, (String, HostileAction)>,
    start: usize,
) -> Result<ReactionCase, (usize, String)> {
    let names = || {
        Reaction::ALL
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let reaction = |name: &str, at: usize| {
        Reaction::from_name(name).ok_or_else(|| {
            (
                at,
                format!(
                    "unknown reaction \"{name}\"; a reaction is one of: {}",
                    names()
                ),
            )
        })
    };
    let chat = raw
        .chat
        .as_ref()
        .map(|c| c.get_ref().as_str())
        .unwrap_or("");
    let hostile = hostile_so_far.get(chat);
    if let Some((attacker, _)) = hostile {
        if attacker == actor && raw.required.is_none() {
            return Err((start, format!("the last `hostile` action in chat \"{chat}\" is {actor}'s own; a `reaction` step names the side that must react")));
        }
    }
    let required = match (&raw.required, hostile) {
        (Some(required), _) => reaction(required.get_ref(), required.span().start)?,
        (None, Some((_, action))) => action.expected_reaction(),
        (None, None) => {
            return Err((start, format!("`reaction` needs `required` (one of: {}) unless it follows a `hostile` action in chat \"{chat}\", whose required reaction it then takes", names())))
        }
    };
    let tolerated = match (&raw.tolerated, &raw.required, hostile) {
        (Some(list), _, _) => list
            .get_ref()
            .iter()
            .map(|name| reaction(name, list.span().start))
            .collect::<Result<Vec<_>, _>>()?,
        (None, None, Some((_, action))) => action.tolerated_reactions().to_vec(),
        _ => Vec::new(),
    };
    let (default_name, rule) = match (hostile, &raw.required) {
        (Some((_, action)), None) => (Some(action.name().to_owned()), Some(action.rule())),
        _ => (None, None),
    };
    // A step played under one client's profile only states that client's reaction.
    let client = raw
        .profiles
        .as_ref()
        .and_then(|names| match names.get_ref().as_slice() {
            [one] => Profile::from_name(one).filter(|profile| *profile != Profile::Spec),
            _ => None,
        });
    Ok(ReactionCase {
        name: raw.case.clone().or(default_name).unwrap_or_default(),
        required,
        tolerated,
        rule,
        client,
    })
}

/// Checks one raw step into a typed one: the kind is looked up in its list
/// ([`steps::ACTIONS`] or [`steps::EXPECTATIONS`]), the keys checked against the kind's
/// entry, then the entry reads them.
fn checked_step(
    locate: &Locator<'_>,
    actors: &[ActorSpec],
    raw: &RawStep,
    number: usize,
    start: usize,
    hostile_so_far: &HashMap<String, (String, HostileAction)>,
) -> Result<Step, ScenarioFileError> {
    let line = locate.line_of(start);
    let err =
        |offset: usize, message: String| locate.at(offset, format!("step {number}: {message}"));

    let (kind_name, is_action) = match (&raw.action, &raw.expect) {
        (Some(action), None) => (action, true),
        (None, Some(expect)) => (expect, false),
        (Some(_), Some(expect)) => {
            return Err(err(
                expect.span().start,
                "a step is either an `action` or an `expect`, not both".to_owned(),
            ))
        }
        (None, None) => {
            return Err(err(
                start,
                "expected `action = \"...\"` or `expect = \"...\"` in this step".to_owned(),
            ))
        }
    };
    let kind_text = kind_name.get_ref().as_str();

    let actor = match &raw.actor {
        Some(actor) => actor_named(locate, actors, number, actor)?,
        // The one step about the server, not a device: any actor can run it.
        None if is_action && kind_text == "advance_clock" => {
            actors.first().map(|a| a.name.clone()).unwrap_or_default()
        }
        None => {
            return Err(err(
                start,
                format!("`{kind_text}` needs `actor = \"...\"`: who acts or observes"),
            ))
        }
    };
    let mut fields = StepFields {
        raw,
        actor: &actor,
        start,
        count: 1,
        text: raw.text.clone().unwrap_or_default(),
        actors,
        locate,
        number,
        hostile_so_far,
    };

    let kind = if is_action {
        let spec = fields.spec(steps::ACTIONS, "action", "actions", kind_name)?;
        fields.check_keys(spec, "action", &["expect_error"])?;
        let action = (spec.read)(&fields)?;
        if let Some(error) = &raw.expect_error {
            if error.is_empty()
                || !error
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(err(start, format!("`expect_error` is a server error string like \"ENCRYPTION_ALREADY_ACCEPTED\"; got \"{error}\"")));
            }
        }
        StepKind::Act {
            action,
            expect_error: raw.expect_error.clone(),
        }
    } else {
        let spec = fields.spec(
            steps::EXPECTATIONS,
            "expectation",
            "expectations",
            kind_name,
        )?;
        fields.check_keys(spec, "expectation", &["within"])?;
        let within = match &raw.within {
            Some(within) => {
                let duration = parse_duration(within.get_ref())
                    .map_err(|message| err(within.span().start, message))?;
                if duration.is_zero() {
                    return Err(err(
                        within.span().start,
                        "`within` must be longer than 0".to_owned(),
                    ));
                }
                duration
            }
            None => DEFAULT_WITHIN,
        };
        if within > Duration::from_secs(600) {
            let at = raw.within.as_ref().map_or(start, |w| w.span().start);
            return Err(err(at, "`within` is real time, at most 10m; move the server clock with `advance_clock` for days".to_owned()));
        }
        StepKind::Expect {
            expectation: (spec.read)(&fields)?,
            within,
        }
    };
    let profiles = match &raw.profiles {
        Some(names) => {
            let mut profiles = Vec::new();
            for name in names.get_ref() {
                profiles.push(profile_named(locate, names.span().start, name)?);
            }
            Some(profiles)
        }
        None => None,
    };
    Ok(Step {
        number,
        line,
        actor,
        kind,
        profiles,
    })
}

/// A profile name from the file (`profile = "android"`, `profiles = ["tdlib"]`).
fn profile_named(
    locate: &Locator<'_>,
    at: usize,
    name: &str,
) -> Result<Profile, ScenarioFileError> {
    Profile::from_name(name).ok_or_else(|| {
        locate.at(
            at,
            format!(
                "unknown profile \"{name}\"; expected one of {}",
                Profile::names()
            ),
        )
    })
}

/// The actor a step names, which must be declared.
fn actor_named(
    locate: &Locator<'_>,
    actors: &[ActorSpec],
    number: usize,
    field: &Spanned<String>,
) -> Result<String, ScenarioFileError> {
    let name = field.get_ref();
    if actors.iter().any(|a| &a.name == name) {
        return Ok(name.clone());
    }
    let known: Vec<&str> = actors.iter().map(|a| a.name.as_str()).collect();
    Err(locate.at(
        field.span().start,
        format!(
            "step {number}: unknown actor \"{name}\"; the actors are: {}",
            known.join(", ")
        ),
    ))
}

/// One step's keys as its kind's `read` sees them ([`steps::StepSpec::read`]), with what
/// checking them takes: the declared actors, where the step stands in the file, the
/// `hostile` actions so far.
pub(super) struct StepFields<'a> {
    pub(super) raw: &'a RawStep,
    /// The actor who acts or observes (declared).
    pub(super) actor: &'a str,
    /// Where the step's table starts in the file: the place of errors about missing keys.
    pub(super) start: usize,
    /// `count`, at least 1 (1 when absent).
    pub(super) count: u32,
    /// `text`, empty when absent.
    pub(super) text: String,
    actors: &'a [ActorSpec],
    locate: &'a Locator<'a>,
    number: usize,
    hostile_so_far: &'a HashMap<String, (String, HostileAction)>,
}

impl StepFields<'_> {
    /// An error at `offset` in the file, naming the step.
    pub(super) fn err(&self, offset: usize, message: String) -> ScenarioFileError {
        self.locate
            .at(offset, format!("step {}: {message}", self.number))
    }

    /// The entry of `specs` named by the step's `action`/`expect`, or an error listing them.
    fn spec<'s, T>(
        &self,
        specs: &'s [StepSpec<T>],
        what: &str,
        plural: &str,
        name: &Spanned<String>,
    ) -> Result<&'s StepSpec<T>, ScenarioFileError> {
        let text = name.get_ref();
        specs.iter().find(|spec| spec.name == text).ok_or_else(|| {
            self.err(
                name.span().start,
                format!(
                    "unknown {what} \"{text}\"; the {plural} are: {}",
                    steps::names(specs)
                ),
            )
        })
    }

    /// Refuses a key the kind does not take and a key it needs but lacks; reads `count`.
    fn check_keys<T>(
        &mut self,
        spec: &StepSpec<T>,
        what: &str,
        extra: &[&str],
    ) -> Result<(), ScenarioFileError> {
        let present = self.raw.present();
        for key in &present {
            if !spec.takes.contains(key) && !extra.contains(key) {
                let mut allowed: Vec<&str> = vec!["actor"];
                allowed.extend_from_slice(spec.takes);
                allowed.extend_from_slice(extra);
                return Err(self.err(
                    self.start,
                    format!(
                        "{what} `{}` does not take `{key}`; it takes: {}",
                        spec.name,
                        allowed.join(", ")
                    ),
                ));
            }
        }
        for key in spec.needs {
            if !present.contains(key) {
                return Err(self.err(self.start, format!("`{}` needs `{key}`", spec.name)));
            }
        }
        if let Some(count) = &self.raw.count {
            if *count.get_ref() == 0 {
                return Err(self.err(count.span().start, "`count` must be at least 1".to_owned()));
            }
            self.count = *count.get_ref();
        }
        Ok(())
    }

    /// The `chat` label, which must be well formed.
    pub(super) fn chat(&self) -> Result<String, ScenarioFileError> {
        self.label(&self.raw.chat, "chat")
    }

    /// The `chat` label when the step gives one.
    pub(super) fn optional_chat(&self) -> Result<Option<String>, ScenarioFileError> {
        self.raw.chat.as_ref().map(|_| self.chat()).transpose()
    }

    /// A label (`chat`, `file`), which must be well formed; `what` names it in the error.
    pub(super) fn label(
        &self,
        field: &Option<Spanned<String>>,
        what: &str,
    ) -> Result<String, ScenarioFileError> {
        let value = field
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_default();
        if is_label(&value) {
            Ok(value)
        } else {
            let at = field.as_ref().map_or(self.start, |c| c.span().start);
            Err(self.err(
                at,
                format!("{what} label \"{value}\" must be 1 to 64 letters, digits, '_' or '-'"),
            ))
        }
    }

    /// An actor the step names (`from`), which must be declared.
    pub(super) fn actor_named(&self, field: &Spanned<String>) -> Result<String, ScenarioFileError> {
        actor_named(self.locate, self.actors, self.number, field)
    }

    /// Another actor the step needs (`to`, `with`).
    pub(super) fn other_actor(
        &self,
        field: &Option<Spanned<String>>,
    ) -> Result<String, ScenarioFileError> {
        match field {
            Some(field) => self.actor_named(field),
            None => Err(self.err(self.start, "missing actor name".to_owned())),
        }
    }

    /// The declared actor called `name`.
    pub(super) fn actor_spec(&self, name: &str) -> Option<&ActorSpec> {
        self.actors.iter().find(|a| a.name == name)
    }

    /// The case a `reaction` step judges.
    pub(super) fn reaction_case(&self) -> Result<ReactionCase, ScenarioFileError> {
        reaction_case(self.raw, self.actor, self.hostile_so_far, self.start)
            .map_err(|(at, message)| self.err(at, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTORS: &str = r#"
why = "Two users chat."

[[actors]]
name = "alice"

[[actors]]
name = "bob"
"#;

    fn parse_text(text: &str) -> Result<Scenario, ScenarioFileError> {
        parse(Path::new("s/test_case.toml"), text)
    }

    fn error_of(steps: &str) -> ScenarioFileError {
        parse_text(&format!("{ACTORS}{steps}")).unwrap_err()
    }

    #[test]
    fn a_complete_scenario_parses_into_steps_with_their_lines() {
        let scenario = parse_text(&format!(
            "{ACTORS}
[[steps]]
action = \"request\"
actor = \"alice\"
to = \"bob\"
chat = \"main\"

[[steps]]
expect = \"chat_requested\"
actor = \"bob\"
chat = \"main\"
within = \"2s\"
"
        ))
        .unwrap();
        assert_eq!(scenario.name, "test_case");
        assert_eq!(scenario.why, "Two users chat.");
        assert_eq!(scenario.actors[1].user, "bob");
        assert_eq!(scenario.actors[1].device, "phone");
        assert_eq!(scenario.steps.len(), 2);
        assert_eq!(scenario.steps[0].line, 10);
        assert_eq!(
            scenario.steps[0].kind,
            StepKind::Act {
                action: StepAction::Request {
                    chat: "main".into(),
                    to: "bob".into()
                },
                expect_error: None
            }
        );
        assert_eq!(
            scenario.steps[1].kind,
            StepKind::Expect {
                expectation: Expectation::ChatRequested {
                    chat: "main".into(),
                    from: None
                },
                within: Duration::from_secs(2)
            }
        );
    }

    #[test]
    fn toml_syntax_errors_name_file_line_and_column() {
        let error = parse_text("why = \"x\"\n[[actors]]\nname = \n").unwrap_err();
        assert_eq!(error.path, Path::new("s/test_case.toml"));
        assert_eq!(error.line, Some(3));
        assert!(error.column.is_some());
        assert!(
            error.to_string().starts_with("s/test_case.toml:3:"),
            "{error}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_at_their_line_with_the_keys_expected() {
        let error = error_of(
            "[[steps]]\naction = \"send\"\nactor = \"alice\"\nchat = \"c\"\ntxet = \"hi\"\n",
        );
        assert_eq!(error.line, Some(13), "{error}");
        assert!(error.message.contains("unknown field `txet`"), "{error}");
        assert!(error.message.contains("text"), "{error}");
    }

    #[test]
    fn an_unknown_hostile_action_is_refused_with_the_known_ones() {
        let error = error_of(
            "[[steps]]\naction = \"hostile\"\nactor = \"alice\"\nchat = \"c\"\nwhat = \"tickle\"\n",
        );
        assert!(
            error.message.contains("unknown hostile action \"tickle\""),
            "{error}"
        );
        assert!(error.message.contains("resend-too-many"), "{error}");
    }

    const CHAT: &str = "[[steps]]\naction = \"request\"\nactor = \"alice\"\nto = \"bob\"\nchat = \"c\"\n\n[[steps]]\nexpect = \"chat_requested\"\nactor = \"bob\"\nchat = \"c\"\n\n";
    const RESEND_5000: &str = "[[steps]]\naction = \"hostile\"\nactor = \"alice\"\nchat = \"c\"\nwhat = \"resend-too-many\"\n\n";

    fn case_of(scenario: &Scenario) -> &ReactionCase {
        scenario
            .steps
            .iter()
            .find_map(|step| match &step.kind {
                StepKind::Expect {
                    expectation: Expectation::Reaction { case, .. },
                    ..
                } => Some(case),
                _ => None,
            })
            .expect("a reaction step")
    }

    #[test]
    fn a_reaction_takes_its_requirement_from_the_last_hostile_action_in_the_chat() {
        let steps = format!(
            "{CHAT}{RESEND_5000}[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"c\"\n"
        );
        let scenario = parse_text(&format!("{ACTORS}{steps}")).unwrap();
        let case = case_of(&scenario);
        assert_eq!(case.name, "resend-too-many");
        assert_eq!(case.required, Reaction::Abort);
        assert!(case.tolerated.is_empty());
        assert!(case.rule.is_some_and(|rule| rule.contains("at most 1000")));
    }

    #[test]
    fn a_reaction_written_out_overrides_the_default_and_names_its_case() {
        let steps = format!("{CHAT}[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"c\"\nrequired = \"resend\"\ntolerated = [\"abort\"]\n");
        let scenario = parse_text(&format!("{ACTORS}{steps}")).unwrap();
        let case = case_of(&scenario);
        // No `case` and no hostile action: the scenario's name.
        assert_eq!(case.name, "test_case");
        assert_eq!(case.required, Reaction::RequestResend);
        assert_eq!(case.tolerated, [Reaction::Abort]);
    }

    #[test]
    fn a_reaction_may_judge_a_device_that_never_saw_the_chat_but_not_a_chat_nobody_knows() {
        let request =
            "[[steps]]\naction = \"request\"\nactor = \"alice\"\nto = \"bob\"\nchat = \"c\"\n\n";
        let on = |chat: &str| {
            format!("[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"{chat}\"\nrequired = \"ignore\"\n")
        };
        assert!(parse_text(&format!("{ACTORS}{request}{}", on("c"))).is_ok());
        let error = error_of(&format!("{request}{}", on("other")));
        assert!(
            error.message.contains("bob has no chat \"other\" yet"),
            "{error}"
        );
    }

    #[test]
    fn a_reaction_needs_a_requirement_a_known_name_and_the_other_side() {
        let none = error_of(&format!(
            "{CHAT}[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"c\"\n"
        ));
        assert!(
            none.message.contains("`reaction` needs `required`"),
            "{none}"
        );
        let own = error_of(&format!("{CHAT}{RESEND_5000}[[steps]]\nexpect = \"reaction\"\nactor = \"alice\"\nchat = \"c\"\n"));
        assert!(own.message.contains("is alice's own"), "{own}");
        let unknown = error_of(&format!("{CHAT}[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"c\"\nrequired = \"abort\"\ntolerated = [\"panic\"]\n"));
        assert!(
            unknown.message.contains("unknown reaction \"panic\""),
            "{unknown}"
        );
    }

    #[test]
    fn a_missing_why_is_refused() {
        let error = parse_text("[[actors]]\nname = \"a\"\n").unwrap_err();
        assert!(error.message.starts_with("missing `why`"), "{error}");
    }

    #[test]
    fn unknown_actions_are_refused_with_the_list_of_valid_ones() {
        let error = error_of("[[steps]]\naction = \"sned\"\nactor = \"alice\"\n");
        assert_eq!(error.line, Some(10));
        assert_eq!(error.column, Some(10));
        assert!(
            error.message.starts_with(
                "step 1: unknown action \"sned\"; the actions are: request, accept, decline, send,"
            ),
            "{error}"
        );
    }

    #[test]
    fn unknown_expectations_are_refused_with_the_list_of_valid_ones() {
        let error = error_of("[[steps]]\nexpect = \"mesage\"\nactor = \"bob\"\n");
        assert!(error.message.contains("unknown expectation \"mesage\"; the expectations are: chat_requested, established, message,"), "{error}");
    }

    #[test]
    fn unknown_actor_names_are_refused_with_the_declared_ones() {
        let error = error_of("[[steps]]\naction = \"go_offline\"\nactor = \"carol\"\n");
        assert_eq!(error.line, Some(11));
        assert_eq!(
            error.message,
            "step 1: unknown actor \"carol\"; the actors are: alice, bob"
        );
    }

    #[test]
    fn a_chat_used_before_it_is_bound_is_refused_before_running() {
        let error = error_of(
            "[[steps]]\naction = \"send\"\nactor = \"alice\"\nchat = \"main\"\ntext = \"hi\"\n",
        );
        assert_eq!(error.line, Some(12));
        assert!(
            error
                .message
                .starts_with("step 1: alice has no chat \"main\" yet;"),
            "{error}"
        );
    }

    #[test]
    fn a_key_the_kind_does_not_take_is_refused_with_the_keys_it_takes() {
        let error =
            error_of("[[steps]]\naction = \"go_offline\"\nactor = \"alice\"\nchat = \"x\"\n");
        assert_eq!(
            error.message,
            "step 1: action `go_offline` does not take `chat`; it takes: actor, expect_error"
        );
    }

    #[test]
    fn a_missing_required_key_is_named() {
        let error = error_of("[[steps]]\naction = \"request\"\nactor = \"alice\"\nchat = \"x\"\n");
        assert_eq!(error.message, "step 1: `request` needs `to`");
    }

    #[test]
    fn requesting_a_chat_with_oneself_is_refused() {
        let text = "why = \"w\"\n[[actors]]\nname = \"a\"\nuser = \"u\"\n[[actors]]\nname = \"b\"\nuser = \"u\"\ndevice = \"laptop\"\n[[steps]]\naction = \"request\"\nactor = \"a\"\nto = \"b\"\nchat = \"c\"\n";
        let error = parse_text(text).unwrap_err();
        assert!(error.message.contains("are the same user \"u\""), "{error}");
    }

    #[test]
    fn a_file_expected_but_never_sent_is_refused() {
        let error = error_of(
            "[[steps]]\naction = \"request\"\nactor = \"alice\"\nto = \"bob\"\nchat = \"c\"\n[[steps]]\nexpect = \"file\"\nactor = \"alice\"\nchat = \"c\"\nfile = \"f\"\n",
        );
        assert_eq!(
            error.message,
            "step 2: no earlier `send_file` sends a file \"f\""
        );
    }

    #[test]
    fn bad_layers_versions_and_durations_are_refused_with_what_was_expected() {
        let base =
            "[[steps]]\naction = \"request\"\nactor = \"alice\"\nto = \"bob\"\nchat = \"c\"\n";
        let error = error_of(&format!(
            "{base}[[steps]]\nexpect = \"layer\"\nactor = \"alice\"\nchat = \"c\"\nlayer = 7\n"
        ));
        assert_eq!(
            error.message,
            "step 2: layer 7 is not a secret-chat layer; expected 8 to 144"
        );
        let error = error_of(&format!(
            "{base}[[steps]]\nexpect = \"version\"\nactor = \"alice\"\nchat = \"c\"\nversion = 3\n"
        ));
        assert_eq!(
            error.message,
            "step 2: MTProto version 3 does not exist; expected 1 or 2"
        );
        let error = error_of(&format!("{base}[[steps]]\nexpect = \"established\"\nactor = \"alice\"\nchat = \"c\"\nwithin = \"5 sec\"\n"));
        assert!(error.message.contains("has unit \" sec\""), "{error}");
    }

    #[test]
    fn expect_error_must_look_like_a_server_error_string() {
        let error = error_of(
            "[[steps]]\naction = \"logout\"\nactor = \"alice\"\nexpect_error = \"oops\"\n",
        );
        assert!(
            error
                .message
                .contains("like \"ENCRYPTION_ALREADY_ACCEPTED\""),
            "{error}"
        );
    }

    #[test]
    fn advance_clock_without_actor_is_run_by_the_first_actor() {
        let scenario = parse_text(&format!(
            "{ACTORS}[[steps]]\naction = \"advance_clock\"\nby = \"8d\"\n"
        ))
        .unwrap();
        assert_eq!(scenario.steps[0].actor, "alice");
        assert_eq!(
            scenario.steps[0].kind,
            StepKind::Act {
                action: StepAction::AdvanceClock {
                    by: Duration::from_secs(8 * 86_400)
                },
                expect_error: None
            }
        );
    }

    #[test]
    fn an_admin_step_takes_a_path_on_the_admin_surface_and_a_toml_body_sent_as_json() {
        let scenario = parse_text(&format!(
            "{ACTORS}[[steps]]\naction = \"admin\"\nactor = \"alice\"\npath = \"/admin/hostile\"\nbody = {{ next_chat_of = \"alice\", mode = {{ type = \"altered_fingerprint\" }} }}\n"
        ))
        .unwrap();
        let StepKind::Act {
            action: StepAction::Admin { path, body },
            ..
        } = &scenario.steps[0].kind
        else {
            panic!("{:?}", scenario.steps[0]);
        };
        assert_eq!(path, "/admin/hostile");
        assert_eq!(body["mode"]["type"], "altered_fingerprint");
        let error =
            error_of("[[steps]]\naction = \"admin\"\nactor = \"alice\"\npath = \"/api/x\"\n");
        assert_eq!(
            error.message,
            "step 1: `path` is a path on the admin surface, starting with /admin/; got \"/api/x\""
        );
    }

    #[test]
    fn admin_placeholders_must_name_labels_the_actor_knows() {
        let base = "[[steps]]\naction = \"request\"\nactor = \"alice\"\nto = \"bob\"\nchat = \"c\"\n[[steps]]\nexpect = \"chat_requested\"\nactor = \"bob\"\nchat = \"c\"\n[[steps]]\naction = \"send_file\"\nactor = \"alice\"\nchat = \"c\"\nfile = \"photo\"\nsize = 10\n";
        let admin = |actor: &str, body: &str| {
            format!("{base}[[steps]]\naction = \"admin\"\nactor = \"{actor}\"\npath = \"/admin/hostile\"\nbody = {body}\n")
        };
        let scenario = parse_text(&format!(
            "{ACTORS}{}",
            admin(
                "alice",
                "{ chat_id = \"{chat_id:c}\", mode = { type = \"swap_file\", with_file_id = \"{file_id:photo}\" } }"
            )
        ))
        .unwrap();
        assert_eq!(scenario.steps.len(), 4);

        let error = error_of(&admin(
            "alice",
            "{ mode = { with_file_id = \"{file_id:nope}\" } }",
        ));
        assert_eq!(
            error.message,
            "step 4: `body` placeholder {file_id:nope}: no earlier `send_file` sends a file \"nope\""
        );
        assert_eq!(error.line, Some(28), "{error}");
        let error = error_of(&admin(
            "bob",
            "{ mode = { with_file_id = \"{file_id:photo}\" } }",
        ));
        assert!(
            error
                .message
                .contains("bob has neither sent nor received a file \"photo\""),
            "{error}"
        );
        let error = error_of(&admin("alice", "{ chat_id = \"{chat_id:other}\" }"));
        assert!(
            error.message.starts_with(
                "step 4: `body` placeholder {chat_id:other}: alice has no chat \"other\" yet"
            ),
            "{error}"
        );
        let error = error_of(&admin("alice", "{ x = [\"file {file_id:photo}\"] }"));
        assert!(
            error
                .message
                .starts_with("step 4: `body`: \"file {file_id:photo}\" is not a placeholder"),
            "{error}"
        );
        let error = error_of(&admin("alice", "{ x = \"{file_id:}\" }"));
        assert!(error.message.contains("must be 1 to 64"), "{error}");
    }

    #[test]
    fn duplicate_devices_of_one_user_are_refused() {
        let error = parse_text("why = \"w\"\n[[actors]]\nname = \"a\"\nuser = \"u\"\n[[actors]]\nname = \"b\"\nuser = \"u\"\n").unwrap_err();
        assert!(
            error.message.contains("give it another `device`"),
            "{error}"
        );
        assert_eq!(error.line, Some(6));
    }
}
