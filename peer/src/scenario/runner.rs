//! The runner: plays a checked [`Scenario`] step by step against real (or fake) devices.
//!
//! The runner knows nothing of HTTP. It drives two small traits: an [`Actor`] (one signed-in
//! device: take an action, poll for what happened, show a chat's state) and a [`World`]
//! (signs actors in, and does what only the server's admin can: move the clock, count a
//! device's queue). [`super::device_actor`] implements them with the peer library's
//! `Device` and the mock server; the unit tests below with a scripted fake.
//!
//! ```text
//!   step 1  alice  request main → bob      act ──▶ Device ──▶ server
//!   step 2  bob    expect chat_requested   poll every online actor, buffer events,
//!                                          consume the first that matches, or fail
//!                                          at the deadline listing what did arrive
//! ```
//!
//! **Waiting.** Events are buffered per actor from the first poll on, so no event is missed
//! however early it comes. While an expectation waits, every online actor is polled (the
//! others may have work to do — answer a re-key, check an acceptance): with one actor to
//! poll, a server long-poll (whole seconds, up to 1 s); with several, a non-blocking
//! `getDifference` each, then a short pause that grows from 5 ms to 50 ms. Every wait has a
//! deadline (`within`, 5 s by default) and every action a 30 s limit.
//!
//! **One actor per process** (`secretchat-peer actor`): [`RunOptions::only`] names the
//! actor this process plays; steps of the other actors are skipped, and the actors meet
//! only through the server (an `expect` simply waits until the other process has acted,
//! and a `request` for a user nobody has signed in as yet is retried until someone has).
//! `same_key` needs both keys in one process, so it is skipped there (and says so).

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secretchat_common::chat::{Layer, Profile, TypingAction, UserAction};
use secretchat_common::key::KeyFingerprint;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::expect::{EventBuffer, Observed, Quoted};
use super::format::{
    message_text, ActorSpec, Expectation, FileContent, FileSpec, HumanDuration, Placeholder,
    ReactionCase, Scenario, Step, StepAction, StepKind,
};
use super::report::{ScenarioOutcome, StepFailure};
use super::verdict::{self, Layers, Verdict, View};
use crate::web::{Kind, Trace};

/// The longest any single action may take before the step fails.
pub const ACTION_LIMIT: Duration = Duration::from_secs(30);

/// An action, with the scenario's labels resolved to the server's ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Request {
        user: String,
    },
    Accept {
        chat_id: i32,
    },
    Decline {
        chat_id: i32,
    },
    SendText {
        chat_id: i32,
        text: String,
        ttl: i32,
    },
    SendFile {
        chat_id: i32,
        bytes: Vec<u8>,
        file_name: String,
        mime_type: String,
    },
    /// Send again the file carried by message `random_id` of chat `from_chat_id`.
    ForwardFile {
        chat_id: i32,
        from_chat_id: i32,
        random_id: i64,
    },
    /// Mark these messages read end to end, and the history read on the server.
    Read {
        chat_id: i32,
        random_ids: Vec<i64>,
    },
    /// One of the service actions of SPEC §8 (TTL, delete, screenshot, flush, typing).
    Service {
        chat_id: i32,
        action: UserAction,
    },
    Hostile {
        chat_id: i32,
        action: secretchat_common::chat::HostileAction,
        /// Arm it ([`crate::device::HostileDevice::arm`]) rather than run it now.
        deferred: bool,
    },
    Rekey {
        chat_id: i32,
    },
    Discard {
        chat_id: i32,
        delete_history: bool,
    },
    GoOffline,
    ComeOnline,
    Logout,
}

/// What an action gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Nothing,
    /// The chat created by a request.
    Chat(i32),
    /// The random_id of the message sent.
    Sent(i64),
}

/// Why an action or a poll failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActError {
    /// The server refused, with Telegram's error string (and the mock's detail).
    Rpc { message: String, detail: String },
    /// Anything else: transport, a bad answer, a chat in the wrong state.
    Other(String),
}

impl fmt::Display for ActError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActError::Rpc { message, detail } if detail.is_empty() => {
                write!(f, "the server answered {message}")
            }
            ActError::Rpc { message, detail } => {
                write!(f, "the server answered {message} ({detail})")
            }
            ActError::Other(message) => f.write_str(message),
        }
    }
}

/// A chat's state as expectations see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatState {
    /// The layer both sides use now.
    pub layer: Layer,
    /// The MTProto version messages are sealed with (1 or 2).
    pub version: u8,
    pub key_fingerprint: KeyFingerprint,
    /// The key visualization, hex.
    pub visualization: String,
}

/// Options an actor is signed in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorOptions {
    /// The actor's own seed, derived from the run's.
    pub seed: u64,
    pub explain: bool,
    /// Whose reading of the protocol the device follows.
    pub profile: Profile,
}

/// One signed-in device.
#[allow(async_fn_in_trait)] // the runner is generic over actors, never `dyn`
pub trait Actor {
    async fn act(&mut self, command: Command) -> Result<Done, ActError>;
    /// What happened since the last poll; `wait` > 0 allows a server long-poll that long.
    async fn poll(&mut self, wait: Duration) -> Result<Vec<Observed>, ActError>;
    /// The user id of a username (to check who asked for a chat).
    async fn user_id_of(&mut self, username: &str) -> Result<i64, ActError>;
    /// Moves the device's own clock forward, as the server's moved (week-based re-keys
    /// and TTLs follow the device's clock).
    fn advance_clock(&mut self, seconds: u64);
    fn chat_state(&self, chat_id: i32) -> Option<ChatState>;
    /// The server's id of the file carried by message `random_id` (sent by this device,
    /// or received and checked), for a `{file_id:LABEL}` placeholder.
    fn file_id(&self, random_id: i64) -> Option<i64>;
}

/// The server, as the runner needs it.
#[allow(async_fn_in_trait)]
pub trait World {
    type Actor: Actor;
    async fn sign_in(
        &self,
        spec: &ActorSpec,
        options: ActorOptions,
    ) -> Result<Self::Actor, ActError>;
    /// Moves the server clock forward (admin).
    async fn advance_clock(&self, seconds: u64) -> Result<(), ActError>;
    /// `POST path` with a JSON body on the admin surface.
    async fn admin_post(&self, path: &str, body: &serde_json::Value) -> Result<(), ActError>;
    /// Unacknowledged encrypted messages the server holds for a device; `None` when the
    /// server no longer knows the device (admin).
    async fn queued_messages(&self, user: &str, device: &str) -> Result<Option<usize>, ActError>;
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Every random choice derives from it.
    pub seed: u64,
    /// Explain every protocol step, for every actor.
    pub explain: bool,
    /// Play only this actor (the `actor` command).
    pub only: Option<String>,
    /// Print every event as it arrives (the `actor` command's log of the conversation).
    pub show_events: bool,
    /// The web view's trace (`--web`): verdicts and failures are drawn where they happen.
    pub trace: Option<Trace>,
    /// The profile of every actor that does not name its own (`--profile`); steps that
    /// hold only for other profiles are not played.
    pub profile: Profile,
}

/// A seed for one purpose, derived from the run's seed (FNV-1a over seed and tag), so
/// every process of a run derives the same value.
pub fn derive_seed(seed: u64, tag: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.to_le_bytes().iter().chain(tag.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The bytes of a scenario file, the same in every process of a run with this seed.
pub fn file_bytes(seed: u64, file: &FileSpec) -> Vec<u8> {
    match &file.content {
        FileContent::Text(text) => text.as_bytes().to_vec(),
        FileContent::Random { size } => {
            let mut rng =
                ChaCha20Rng::seed_from_u64(derive_seed(seed, &format!("file:{}", file.label)));
            let mut bytes = vec![0u8; *size];
            rng.fill_bytes(&mut bytes);
            bytes
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One actor during a run.
struct Slot<A> {
    spec: ActorSpec,
    actor: Option<A>,
    online: bool,
    signed_out: bool,
    /// Label → chat id.
    chats: HashMap<String, i32>,
    /// File label → (chat id, random_id of the message that carried it).
    files: HashMap<String, (i32, i64)>,
    /// Chat id → random_ids of the messages received in it.
    received: HashMap<i32, Vec<i64>>,
    buffer: EventBuffer,
    /// Where the current attack began in `buffer` (the last `hostile`, `admin` or
    /// `advance_clock` step), and the layer of each chat then: what a `reaction` step judges.
    case_mark: usize,
    layers_at_mark: HashMap<i32, Layer>,
}

impl<A> Slot<A> {
    /// Why a device that is not online cannot observe: "offline" or "logged out".
    fn absence(&self) -> &'static str {
        if self.signed_out {
            "logged out"
        } else {
            "offline"
        }
    }

    fn label_of(&self, chat_id: i32) -> String {
        self.chats
            .iter()
            .find(|(_, id)| **id == chat_id)
            .map_or_else(|| format!("chat {chat_id}"), |(label, _)| label.clone())
    }
}

/// Runs one scenario and writes a progress line per step to `out`.
pub async fn run<W: World>(
    scenario: &Scenario,
    world: &W,
    options: &RunOptions,
    out: &mut dyn Write,
) -> ScenarioOutcome {
    let started = Instant::now();
    let _ = writeln!(
        out,
        "scenario {} ({})",
        scenario.name,
        scenario.path.display()
    );
    // The whole `why` paragraph: it is what the story is there to show.
    for (n, line) in scenario.why.lines().enumerate() {
        let _ = writeln!(out, "  {} {line}", if n == 0 { "why:" } else { "    " });
    }
    if let Some(trace) = &options.trace {
        let label = format!("scenario {}", scenario.name);
        trace.marker(Kind::Verdict, label, false, json!({"why": scenario.why}));
    }
    let verdict = |label: String, failed: bool| {
        if let Some(trace) = &options.trace {
            trace.marker(Kind::Verdict, label, failed, json!({"passed": !failed}));
        }
    };
    let mut runner = Runner {
        scenario,
        world,
        options,
        slots: Vec::new(),
        out,
        verdicts: Vec::new(),
    };
    // One actor per process: its own steps, and the verdicts on the other party of its
    // chats (read from the outside when that party is a client this process cannot see).
    let mine = |step: &Step| {
        step.holds_for(options.profile)
            && options.only.as_deref().is_none_or(|only| {
            only == step.actor
                || matches!(&step.kind, StepKind::Expect { expectation: Expectation::Reaction { chat, .. }, .. }
                    if scenario.parties(chat).contains(&only))
        })
    };
    let total = scenario.steps.iter().filter(|step| mine(step)).count();
    let mut outcome = ScenarioOutcome {
        name: scenario.name.clone(),
        path: scenario.path.clone(),
        actor: options.only.clone(),
        steps: total,
        passed: 0,
        skipped: 0,
        duration: Duration::ZERO,
        failure: None,
        seed: options.seed,
        verdicts: Vec::new(),
    };
    if let Err(failure) = runner.sign_in_all().await {
        let _ = writeln!(runner.out, "  FAIL  sign-in: {}", failure.message);
        outcome.failure = Some(failure);
        outcome.duration = started.elapsed();
        return outcome;
    }
    let mut position = 0;
    // Another process moves the server clock; this one moves its device's, but only once it
    // knows the move happened: after its next expectation is met (what it saw came after the
    // move), or before its next action. Moving earlier would let a timer here (a week-based
    // re-key) queue a message on the server *before* the jump, which the jump then expires.
    let mut clock_to_catch_up = 0u64;
    for step in &scenario.steps {
        if !mine(step) {
            if let StepKind::Act {
                action: StepAction::AdvanceClock { by },
                ..
            } = &step.kind
            {
                clock_to_catch_up += by.as_secs();
            }
            continue;
        }
        if matches!(step.kind, StepKind::Act { .. }) && clock_to_catch_up > 0 {
            runner.advance_local_clocks(std::mem::take(&mut clock_to_catch_up));
        }
        position += 1;
        let step_started = Instant::now();
        let description = describe_step(step);
        let result = runner.run_step(step).await;
        if clock_to_catch_up > 0 {
            runner.advance_local_clocks(std::mem::take(&mut clock_to_catch_up));
        }
        let took = step_started.elapsed();
        match result {
            Ok(StepResult::Passed) => {
                outcome.passed += 1;
                let _ = writeln!(
                    runner.out,
                    "  [{position:>3}/{total}] ok    {description}  ({})",
                    ms(took)
                );
            }
            Ok(StepResult::Judged(judged)) => {
                verdict(format!("{description}: {judged}"), false);
                outcome.passed += 1;
                let _ = writeln!(
                    runner.out,
                    "  [{position:>3}/{total}] ok    {description}  ({})\n           verdict {judged}",
                    ms(took)
                );
            }
            Ok(StepResult::Skipped(why)) => {
                outcome.skipped += 1;
                let _ = writeln!(
                    runner.out,
                    "  [{position:>3}/{total}] skip  {description}: {why}"
                );
            }
            Err(message) => {
                verdict(format!("FAIL {description}: {message}"), true);
                let _ = writeln!(
                    runner.out,
                    "  [{position:>3}/{total}] FAIL  {description}\n           {message}"
                );
                outcome.failure = Some(StepFailure {
                    step: Some(step.number),
                    line: Some(step.line),
                    description,
                    message,
                });
                break;
            }
        }
    }
    outcome.duration = started.elapsed();
    outcome.verdicts = runner.verdicts;
    outcome
}

fn ms(duration: Duration) -> String {
    if duration < Duration::from_secs(10) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// A step in a few words, as progress lines show it.
pub fn describe_step(step: &Step) -> String {
    let actor = &step.actor;
    match &step.kind {
        StepKind::Act {
            action,
            expect_error: Some(error),
        } => format!("{actor} {}, refused with {error}", action.describe()),
        StepKind::Act {
            action,
            expect_error: None,
        } => format!("{actor} {}", action.describe()),
        StepKind::Expect {
            expectation,
            within,
        } => format!(
            "{actor} expects {} within {}",
            expectation.describe(),
            HumanDuration(*within)
        ),
    }
}

enum StepResult {
    Passed,
    Skipped(String),
    /// A `reaction` step whose verdict is right (a wrong one fails the step).
    Judged(Verdict),
}

struct Runner<'a, W: World> {
    scenario: &'a Scenario,
    world: &'a W,
    options: &'a RunOptions,
    slots: Vec<Slot<W::Actor>>,
    out: &'a mut dyn Write,
    /// Every verdict given so far, right or wrong.
    verdicts: Vec<Verdict>,
}

impl<W: World> Runner<'_, W> {
    async fn sign_in_all(&mut self) -> Result<(), StepFailure> {
        for spec in &self.scenario.actors {
            let plays = self
                .options
                .only
                .as_deref()
                .is_none_or(|only| only == spec.name);
            let actor = if plays {
                let options = ActorOptions {
                    seed: derive_seed(self.options.seed, &format!("actor:{}", spec.name)),
                    explain: spec.explain || self.options.explain,
                    profile: spec.profile.unwrap_or(self.options.profile),
                };
                let signed_in =
                    tokio::time::timeout(ACTION_LIMIT, self.world.sign_in(spec, options))
                        .await
                        .unwrap_or_else(|_| {
                            Err(ActError::Other(format!(
                                "no answer within {}",
                                HumanDuration(ACTION_LIMIT)
                            )))
                        });
                Some(signed_in.map_err(|error| StepFailure {
                    step: None,
                    line: None,
                    description: format!(
                        "{} signs in as {} on {}",
                        spec.name, spec.user, spec.device
                    ),
                    message: format!("{} could not sign in: {error}", spec.name),
                })?)
            } else {
                None
            };
            self.slots.push(Slot {
                spec: spec.clone(),
                online: actor.is_some() && !spec.starts_offline,
                actor,
                signed_out: false,
                chats: HashMap::new(),
                files: HashMap::new(),
                received: HashMap::new(),
                buffer: EventBuffer::default(),
                case_mark: 0,
                layers_at_mark: HashMap::new(),
            });
        }
        Ok(())
    }

    fn advance_local_clocks(&mut self, seconds: u64) {
        for actor in self.slots.iter_mut().filter_map(|slot| slot.actor.as_mut()) {
            actor.advance_clock(seconds);
        }
    }

    fn slot_index(&self, name: &str) -> Result<usize, String> {
        self.slots
            .iter()
            .position(|slot| slot.spec.name == name)
            .ok_or_else(|| format!("no actor {name}"))
    }

    fn chat_id(&self, slot: usize, label: &str) -> Result<i32, String> {
        let slot = &self.slots[slot];
        slot.chats.get(label).copied().ok_or_else(|| {
            format!(
                "{} has no chat {label}: the step that should have bound it did not run here",
                slot.spec.name
            )
        })
    }

    async fn run_step(&mut self, step: &Step) -> Result<StepResult, String> {
        let index = self.slot_index(&step.actor)?;
        match &step.kind {
            StepKind::Act {
                action,
                expect_error,
            } => {
                if matches!(
                    action,
                    StepAction::Hostile { .. }
                        | StepAction::Admin { .. }
                        | StepAction::AdvanceClock { .. }
                ) {
                    self.mark_case();
                }
                let result = self.act(index, action).await;
                match (result, expect_error) {
                    (Ok(()), None) => Ok(StepResult::Passed),
                    (Ok(()), Some(error)) => Err(format!(
                        "the server accepted {}'s {}, but it should have refused it with {error}",
                        step.actor,
                        action.name()
                    )),
                    (Err(ActError::Rpc { message, .. }), Some(error)) if &message == error => {
                        Ok(StepResult::Passed)
                    }
                    (Err(error @ ActError::Rpc { .. }), Some(expected)) => Err(format!(
                        "{}'s {} failed: {error}; expected {expected}",
                        step.actor,
                        action.name()
                    )),
                    (Err(error), _) => Err(format!(
                        "{}'s {} failed: {error}",
                        step.actor,
                        action.name()
                    )),
                }
            }
            StepKind::Expect {
                expectation: Expectation::Reaction { chat, case },
                within,
            } => self.judge(&step.actor, chat, case, *within).await,
            StepKind::Expect {
                expectation,
                within,
            } => self.expect(index, expectation, *within).await,
        }
    }

    /// An attack begins: every actor's events from now on are what its reaction is made of.
    fn mark_case(&mut self) {
        for slot in &mut self.slots {
            slot.case_mark = slot.buffer.len();
            let layers = slot.chats.values().filter_map(|&chat_id| {
                let state = slot.actor.as_ref()?.chat_state(chat_id)?;
                Some((chat_id, state.layer))
            });
            slot.layers_at_mark = layers.collect();
        }
    }

    /// A `reaction` step: reads what `actor` did since the attack — from its own events when
    /// it is played here, else from the other party's — and judges it against the case.
    async fn judge(
        &mut self,
        actor: &str,
        label: &str,
        case: &ReactionCase,
        within: Duration,
    ) -> Result<StepResult, String> {
        let reacting = self.slot_index(actor)?;
        let (index, view) = if self.slots[reacting].actor.is_some() {
            (reacting, View::Inside)
        } else {
            let judge = self.scenario.parties(label).into_iter().find_map(|party| {
                let index = self.slot_index(party).ok()?;
                (party != actor && self.slots[index].actor.is_some()).then_some(index)
            });
            match judge {
                Some(index) => {
                    let judge = self.slots[index].spec.name.clone();
                    (index, View::Outside { judge })
                }
                None => {
                    return Ok(StepResult::Skipped(format!(
                        "neither {actor} nor the other side of {label} is played here"
                    )))
                }
            }
        };
        // Chat ids are the server's: a device that refused a request unseen never bound the
        // label, but the side that asked did.
        // In a process of its own such a device knows no id at all: then every event since
        // the attack is its reaction.
        let chat_id = match self.chat_id(index, label).or_else(|unbound| {
            self.slots
                .iter()
                .find_map(|slot| slot.chats.get(label).copied())
                .ok_or(unbound)
        }) {
            Ok(chat_id) => Some(chat_id),
            Err(_) if view == View::Inside => None,
            Err(unbound) => return Err(unbound),
        };
        if let View::Outside { judge } = &view {
            if !self.slots[index].online {
                return Ok(StepResult::Skipped(format!(
                    "{judge} is offline here, so {actor}'s reaction cannot be seen from this side"
                )));
            }
        }
        let deadline = Instant::now() + within;
        let mut settle_until: Option<Instant> = None;
        let observation = loop {
            let slot = &self.slots[index];
            let events: Vec<&Observed> = slot
                .buffer
                .since(slot.case_mark)
                .filter(|event| chat_id.is_none_or(|id| event.chat_id() == id))
                .collect();
            let at_mark = chat_id.and_then(|id| slot.layers_at_mark.get(&id));
            let layers = match (&view, chat_id, at_mark) {
                (View::Inside, Some(chat_id), Some(&before)) => slot
                    .actor
                    .as_ref()
                    .and_then(|a| a.chat_state(chat_id))
                    .map(|state| Layers {
                        before,
                        now: state.layer,
                    }),
                _ => None,
            };
            if matches!(view, View::Outside { .. }) && verdict::judge_closed_first(&events) {
                let judge = &self.slots[index].spec.name;
                return Ok(StepResult::Skipped(format!(
                    "{judge} closed {label} first, so {actor}'s reaction cannot be seen from this side"
                )));
            }
            let seen = verdict::observe(&view, &events, case, layers);
            let now = Instant::now();
            match seen {
                Some(seen) if seen.decided => break seen,
                Some(seen) => {
                    let until = *settle_until.get_or_insert(now + verdict::SETTLE);
                    if now >= until || now >= deadline {
                        break seen;
                    }
                }
                None if now >= deadline => break verdict::silence(&view, case, within),
                None if view == View::Inside && !self.slots[index].online => {
                    return Err(format!(
                        "{actor} is {}, so it cannot react to {}",
                        self.slots[index].absence(),
                        case.name
                    ));
                }
                None => {}
            }
            self.poll_all(deadline.saturating_duration_since(now))
                .await?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let verdict = Verdict::new(case, actor, view, observation);
        self.verdicts.push(verdict.clone());
        if verdict.right {
            Ok(StepResult::Judged(verdict))
        } else {
            Err(format!("verdict {verdict}"))
        }
    }

    /// Runs one action for the actor in `index`.
    async fn act(&mut self, index: usize, action: &StepAction) -> Result<(), ActError> {
        let other = |message: String| ActError::Other(message);
        if self.slots[index].signed_out
            && !matches!(
                action,
                StepAction::AdvanceClock { .. } | StepAction::Admin { .. }
            )
        {
            return Err(other(format!(
                "{} logged out earlier",
                self.slots[index].spec.name
            )));
        }
        let chat_id = match action.chat() {
            Some(label) if !matches!(action, StepAction::Request { .. }) => {
                Some(self.chat_id(index, label).map_err(other)?)
            }
            _ => None,
        };
        let chat = chat_id.unwrap_or_default();
        let command = match action {
            StepAction::Request { to, .. } => {
                let user = self
                    .scenario
                    .actor(to)
                    .map(|a| a.user.clone())
                    .ok_or_else(|| other(format!("no actor {to}")))?;
                Command::Request { user }
            }
            StepAction::Accept { .. } => Command::Accept { chat_id: chat },
            StepAction::Decline { .. } => Command::Decline { chat_id: chat },
            StepAction::Send {
                text, count, ttl, ..
            } => {
                for n in 1..=*count {
                    let command = Command::SendText {
                        chat_id: chat,
                        text: message_text(text, n),
                        ttl: ttl.unwrap_or(0),
                    };
                    self.command(index, command)
                        .await
                        .map_err(|error| match error {
                            ActError::Other(message) if *count > 1 => {
                                other(format!("message {n} of {count}: {message}"))
                            }
                            error => error,
                        })?;
                }
                return Ok(());
            }
            StepAction::SendFile { file, .. } => Command::SendFile {
                chat_id: chat,
                bytes: file_bytes(self.options.seed, file),
                file_name: file.file_name.clone(),
                mime_type: file.mime_type.clone(),
            },
            StepAction::ForwardFile { file, .. } => {
                let (from_chat_id, random_id) =
                    self.slots[index].files.get(file).copied().ok_or_else(|| {
                        other(format!(
                            "{} has no file {file}",
                            self.slots[index].spec.name
                        ))
                    })?;
                Command::ForwardFile {
                    chat_id: chat,
                    from_chat_id,
                    random_id,
                }
            }
            StepAction::SetTtl { ttl, .. } => Command::Service {
                chat_id: chat,
                action: UserAction::SetMessageTtl { ttl_seconds: *ttl },
            },
            StepAction::Read { .. } => Command::Read {
                chat_id: chat,
                random_ids: self.received(index, chat),
            },
            StepAction::Delete { .. } => Command::Service {
                chat_id: chat,
                action: UserAction::DeleteMessages {
                    random_ids: self.received(index, chat),
                },
            },
            StepAction::Screenshot { .. } => Command::Service {
                chat_id: chat,
                action: UserAction::ScreenshotMessages {
                    random_ids: self.received(index, chat),
                },
            },
            StepAction::Flush { .. } => Command::Service {
                chat_id: chat,
                action: UserAction::FlushHistory,
            },
            StepAction::Typing { .. } => Command::Service {
                chat_id: chat,
                action: UserAction::Typing {
                    action: TypingAction::Typing,
                },
            },
            StepAction::Rekey { .. } => Command::Rekey { chat_id: chat },
            StepAction::Hostile {
                action, deferred, ..
            } => Command::Hostile {
                chat_id: chat,
                action: action.clone(),
                deferred: *deferred,
            },
            StepAction::Discard { delete_history, .. } => Command::Discard {
                chat_id: chat,
                delete_history: *delete_history,
            },
            StepAction::GoOffline => Command::GoOffline,
            StepAction::ComeOnline => Command::ComeOnline,
            StepAction::Logout => Command::Logout,
            StepAction::Admin { path, body } => {
                let body = self.resolve_placeholders(index, body).map_err(other)?;
                return match tokio::time::timeout(ACTION_LIMIT, self.world.admin_post(path, &body))
                    .await
                {
                    Ok(result) => result,
                    Err(_) => Err(other(format!(
                        "the admin surface did not answer within {}",
                        HumanDuration(ACTION_LIMIT)
                    ))),
                };
            }
            StepAction::AdvanceClock { by } => {
                match tokio::time::timeout(ACTION_LIMIT, self.world.advance_clock(by.as_secs()))
                    .await
                {
                    Ok(result) => result?,
                    Err(_) => {
                        return Err(other(format!(
                            "the admin surface did not answer within {}",
                            HumanDuration(ACTION_LIMIT)
                        )))
                    }
                };
                self.advance_local_clocks(by.as_secs());
                return Ok(());
            }
        };
        let done = if matches!(command, Command::Request { .. }) && self.options.only.is_some() {
            self.request_when_signed_in(index, command).await?
        } else {
            self.command(index, command).await?
        };
        let slot = &mut self.slots[index];
        match (action, done) {
            (StepAction::Request { chat, .. }, Done::Chat(id)) => {
                slot.chats.insert(chat.clone(), id);
            }
            (StepAction::Request { .. }, other_answer) => {
                return Err(other(format!(
                    "a request gave back {other_answer:?} instead of a chat id"
                )));
            }
            (StepAction::SendFile { file, .. }, Done::Sent(random_id)) => {
                slot.files.insert(file.label.clone(), (chat, random_id));
            }
            (StepAction::GoOffline, _) => slot.online = false,
            (StepAction::ComeOnline, _) => slot.online = true,
            (StepAction::Logout, _) => {
                slot.online = false;
                slot.signed_out = true;
            }
            _ => {}
        }
        Ok(())
    }

    /// An `admin` body with its `{chat_id:LABEL}` and `{file_id:LABEL}` placeholders
    /// replaced by the server's ids, as the actor in `index` knows them.
    fn resolve_placeholders(
        &self,
        index: usize,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let slot = &self.slots[index];
        let name = &slot.spec.name;
        let mut body = body.clone();
        Placeholder::replace_all(&mut body, &mut |placeholder| match placeholder {
            Placeholder::ChatId(label) => self.chat_id(index, label).map(serde_json::Value::from),
            Placeholder::FileId(label) => {
                let (_, random_id) = slot.files.get(label).copied().ok_or_else(|| {
                    format!("{name} has no file {label}: the step that should have sent or received it did not run here")
                })?;
                let id = slot
                    .actor
                    .as_ref()
                    .and_then(|actor| actor.file_id(random_id))
                    .ok_or_else(|| {
                        format!("{name}'s device does not know the server's id of file {label} (random_id {random_id})")
                    })?;
                Ok(serde_json::Value::from(id.to_string()))
            }
        })?;
        Ok(body)
    }

    /// One actor per process: the other user's process may not have signed in yet, so the
    /// request waits (every 100 ms, up to [`ACTION_LIMIT`]) until the user exists. If it had
    /// to wait, it leaves the new device half a second to finish signing in (a device
    /// reads its update state right after `auth.signIn`; a request delivered in between
    /// would be behind that state and never reach it).
    async fn request_when_signed_in(
        &mut self,
        index: usize,
        command: Command,
    ) -> Result<Done, ActError> {
        if let Command::Request { user } = &command {
            let deadline = Instant::now() + ACTION_LIMIT;
            let mut waited = false;
            loop {
                let name = self.slots[index].spec.name.clone();
                let actor = self.slots[index].actor.as_mut().ok_or_else(|| {
                    ActError::Other(format!("{name} is not played by this process"))
                })?;
                match actor.user_id_of(user).await {
                    Ok(_) => break,
                    Err(ActError::Rpc { message, .. })
                        if message == "USERNAME_NOT_OCCUPIED" && Instant::now() < deadline =>
                    {
                        waited = true;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => return Err(error),
                }
            }
            if waited {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        self.command(index, command).await
    }

    fn received(&self, index: usize, chat_id: i32) -> Vec<i64> {
        self.slots[index]
            .received
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    async fn command(&mut self, index: usize, command: Command) -> Result<Done, ActError> {
        let name = self.slots[index].spec.name.clone();
        let actor = self.slots[index]
            .actor
            .as_mut()
            .ok_or_else(|| ActError::Other(format!("{name} is not played by this process")))?;
        match tokio::time::timeout(ACTION_LIMIT, actor.act(command)).await {
            Ok(result) => result,
            Err(_) => Err(ActError::Other(format!(
                "no answer within {}",
                HumanDuration(ACTION_LIMIT)
            ))),
        }
    }

    /// Polls every online actor once; `long` allows a long-poll when there is only one.
    async fn poll_all(&mut self, remaining: Duration) -> Result<(), String> {
        let pollable: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].online && self.slots[i].actor.is_some())
            .collect();
        let wait = if pollable.len() == 1 && remaining >= Duration::from_secs(1) {
            Duration::from_secs(1)
        } else {
            Duration::ZERO
        };
        for index in pollable {
            let slot = &mut self.slots[index];
            let Some(actor) = slot.actor.as_mut() else {
                continue;
            };
            let limit = wait + ACTION_LIMIT;
            let events = match tokio::time::timeout(limit, actor.poll(wait)).await {
                Ok(Ok(events)) => events,
                Ok(Err(error)) => {
                    return Err(format!(
                        "polling {}'s device failed: {error}",
                        slot.spec.name
                    ))
                }
                Err(_) => {
                    return Err(format!(
                        "polling {}'s device got no answer within {}",
                        slot.spec.name,
                        HumanDuration(limit)
                    ))
                }
            };
            for event in events {
                if self.options.show_events {
                    let _ = writeln!(
                        self.out,
                        "           {} ← {} ({})",
                        slot.spec.name,
                        event.describe(),
                        slot.label_of(event.chat_id())
                    );
                }
                if let Observed::Message {
                    chat_id, random_id, ..
                }
                | Observed::File {
                    chat_id, random_id, ..
                } = &event
                {
                    slot.received.entry(*chat_id).or_default().push(*random_id);
                }
                slot.buffer.push(event);
            }
        }
        Ok(())
    }

    /// Waits until the expectation holds for actor `index`, or fails at the deadline.
    async fn expect(
        &mut self,
        index: usize,
        expectation: &Expectation,
        within: Duration,
    ) -> Result<StepResult, String> {
        let name = self.slots[index].spec.name.clone();
        if let Expectation::SameKey { with, .. } | Expectation::DifferentKey { with, .. } =
            expectation
        {
            let other = self.slot_index(with)?;
            if self.slots[other].actor.is_none() {
                return Ok(StepResult::Skipped(format!(
                    "{with} runs in another process; compare the fingerprints both print"
                )));
            }
        }
        let chat_id = match expectation.chat() {
            Some(label) if !matches!(expectation, Expectation::ChatRequested { .. }) => {
                Some(self.chat_id(index, label)?)
            }
            _ => None,
        };
        // Who must have asked, by user id: looked up while waiting, since in one process
        // per actor the asker may not have signed in yet.
        let from_username = match expectation {
            Expectation::ChatRequested {
                from: Some(from), ..
            } => self.scenario.actor(from).map(|a| a.user.clone()),
            _ => None,
        };
        let mut from_user: Option<i64> = None;
        let deadline = Instant::now() + within;
        let mark = self.slots[index].buffer.len();
        let mut progress = Progress::default();
        let mut pause = Duration::from_millis(5);
        loop {
            if let (Some(username), None) = (&from_username, from_user) {
                let actor = self.slots[index]
                    .actor
                    .as_mut()
                    .ok_or_else(|| format!("{name} is not played here"))?;
                match actor.user_id_of(username).await {
                    Ok(id) => from_user = Some(id),
                    Err(ActError::Rpc { message, .. }) if message == "USERNAME_NOT_OCCUPIED" => {}
                    Err(error) => return Err(format!("cannot look up user {username}: {error}")),
                }
            }
            let asker_known = from_username.is_none() || from_user.is_some();
            if asker_known {
                if let Some(verdict) = self
                    .check(index, expectation, chat_id, from_user, mark, &mut progress)
                    .await?
                {
                    return Ok(verdict);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                if matches!(expectation, Expectation::Nothing { .. }) {
                    return Ok(StepResult::Passed);
                }
                return Err(self
                    .explain_failure(index, expectation, within, &progress)
                    .await);
            }
            if !self.slots[index].online
                && !matches!(
                    expectation,
                    Expectation::Nothing { .. }
                        | Expectation::Queued { .. }
                        | Expectation::SignedOut
                )
            {
                return Err(format!(
                    "{name} is {}, so it cannot observe {}",
                    self.slots[index].absence(),
                    expectation.describe()
                ));
            }
            let remaining = deadline - now;
            let several = self
                .slots
                .iter()
                .filter(|slot| slot.online && slot.actor.is_some())
                .count()
                != 1;
            self.poll_all(remaining).await?;
            if several || remaining < Duration::from_secs(1) {
                tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now())))
                    .await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }

    /// One look at the buffer (or the state): `Some` when the expectation is decided.
    async fn check(
        &mut self,
        index: usize,
        expectation: &Expectation,
        chat_id: Option<i32>,
        from_user: Option<i64>,
        mark: usize,
        progress: &mut Progress,
    ) -> Result<Option<StepResult>, String> {
        let chat = chat_id.unwrap_or_default();
        let seed = self.options.seed;
        let scenario = self.scenario;
        let slot = &mut self.slots[index];
        let found = |slot: &mut Slot<W::Actor>, test: &dyn Fn(&Observed) -> bool| {
            slot.buffer.take_first(0, test)
        };
        let passed = Ok(Some(StepResult::Passed));
        match expectation {
            Expectation::ChatRequested { chat: label, .. } => {
                let bound: Vec<i32> = slot.chats.values().copied().collect();
                let hit = found(slot, &|e| {
                    matches!(e, Observed::ChatRequested { chat_id, from_user: from }
                        if !bound.contains(chat_id) && from_user.is_none_or(|want| want == *from))
                });
                if let Some((_, event)) = hit {
                    slot.chats.insert(label.clone(), event.chat_id());
                    return passed;
                }
            }
            Expectation::Established { .. } => {
                if found(slot, &|e| matches!(e, Observed::Established { chat_id, .. } if *chat_id == chat)).is_some() {
                    return passed;
                }
            }
            Expectation::Message { text, count, ttl, .. } => {
                while progress.matched < *count {
                    let n = progress.matched + 1;
                    let want = message_text(text, n);
                    let test = |e: &Observed| {
                        matches!(e, Observed::Message { chat_id, text, ttl: got_ttl, .. }
                            if *chat_id == chat && *text == want && ttl.is_none_or(|t| t == *got_ttl))
                    };
                    match slot.buffer.take_first(progress.position, test) {
                        Some((position, _)) => {
                            progress.matched = n;
                            progress.position = position + 1;
                        }
                        None => {
                            if slot.buffer.any_before(progress.position, test) {
                                return Err(format!("{} received message {} out of order (after message {})", slot.spec.name, Quoted(&want), n - 1));
                            }
                            break;
                        }
                    }
                }
                if progress.matched == *count {
                    return passed;
                }
            }
            Expectation::File { file, .. } => {
                let spec = scenario.file_content(file).ok_or_else(|| format!("no file {file} in the scenario"))?;
                let bytes = file_bytes(seed, spec);
                let (len, sha256) = (bytes.len(), sha256_hex(&bytes));
                let hit = found(slot, &|e| {
                    matches!(e, Observed::File { chat_id, len: got_len, sha256: got, .. }
                        if *chat_id == chat && *got_len == len && *got == sha256)
                });
                if let Some((_, Observed::File { random_id, .. })) = hit {
                    slot.files.insert(file.clone(), (chat, random_id));
                    return passed;
                }
            }
            Expectation::Action { what, .. } => {
                if found(slot, &|e| matches!(e, Observed::Action { chat_id, what: got, .. } if *chat_id == chat && got == what)).is_some() {
                    return passed;
                }
            }
            Expectation::ReadReceipt { .. } => {
                if found(slot, &|e| matches!(e, Observed::ReadReceipt { chat_id } if *chat_id == chat)).is_some() {
                    return passed;
                }
            }
            Expectation::Typing { .. } => {
                if found(slot, &|e| matches!(e, Observed::Typing { chat_id } if *chat_id == chat)).is_some() {
                    return passed;
                }
            }
            Expectation::KeyChanged { .. } => {
                if found(slot, &|e| matches!(e, Observed::KeyChanged { chat_id, .. } if *chat_id == chat)).is_some() {
                    return passed;
                }
            }
            Expectation::Discarded { history_deleted, .. } => {
                let test = |e: &Observed| {
                    matches!(e, Observed::Discarded { chat_id, history_deleted: got }
                        if *chat_id == chat && history_deleted.is_none_or(|want| want == *got))
                };
                if found(slot, &test).is_some() {
                    return passed;
                }
            }
            Expectation::Aborted { reason, .. } => {
                let hit = found(slot, &|e| {
                    matches!(e, Observed::Aborted { chat_id, reason: got }
                        if *chat_id == chat && reason.as_ref().is_none_or(|want| got.contains(want.as_str())))
                });
                if hit.is_some() {
                    return passed;
                }
            }
            Expectation::PeerLayerRaised { layer, .. } => {
                let hit = found(slot, &|e| {
                    matches!(e, Observed::PeerLayerRaised { chat_id, layer: got }
                        if *chat_id == chat && layer.is_none_or(|want| want == *got))
                });
                if hit.is_some() {
                    return passed;
                }
            }
            Expectation::Nothing { .. } => {
                let arrived: Vec<String> = slot
                    .buffer
                    .since(mark)
                    // What this side sent on its own is not something that arrived.
                    .filter(|e| !matches!(e, Observed::ResendRequested { .. }))
                    .filter(|e| chat_id.is_none_or(|c| c == e.chat_id()))
                    .map(|e| e.describe())
                    .collect();
                if !arrived.is_empty() {
                    return Err(format!("{} expected nothing, but received: {}", slot.spec.name, arrived.join("; ")));
                }
            }
            Expectation::Layer { layer, .. } => {
                let state = slot.actor.as_ref().and_then(|a| a.chat_state(chat));
                progress.last_state = state.as_ref().map(|s| format!("layer {}", s.layer.0));
                if state.is_some_and(|s| s.layer == *layer) {
                    return passed;
                }
            }
            Expectation::Version { version, .. } => {
                let state = slot.actor.as_ref().and_then(|a| a.chat_state(chat));
                progress.last_state = state.as_ref().map(|s| format!("MTProto {}.0 (layer {})", s.version, s.layer.0));
                if state.is_some_and(|s| s.version == *version) {
                    return passed;
                }
            }
            Expectation::Ignored { reason, .. } => {
                // The device's own words for a dropped message or a refused file.
                let hit = found(slot, &|e| {
                    matches!(e, Observed::Ignored { chat_id: got, reason: said } | Observed::FileRefused { chat_id: got, reason: said, .. }
                        if chat_id.is_none_or(|c| c == *got) && said.contains(reason.as_str()))
                });
                if hit.is_some() {
                    return passed;
                }
            }
            Expectation::SameKey { chat: label, with } | Expectation::DifferentKey { chat: label, with } => {
                let want_same = matches!(expectation, Expectation::SameKey { .. });
                let mine = slot.actor.as_ref().and_then(|a| a.chat_state(chat));
                let other = self.slot_index(with)?;
                let other_chat = self.chat_id(other, label)?;
                let theirs = self.slots[other].actor.as_ref().and_then(|a| a.chat_state(other_chat));
                match (mine, theirs) {
                    (Some(mine), Some(theirs)) => {
                        let same_picture = mine.visualization == theirs.visualization;
                        let same_key = mine.key_fingerprint == theirs.key_fingerprint;
                        if (want_same && same_picture && same_key) || (!want_same && !same_picture && !same_key) {
                            return passed;
                        }
                        progress.last_state = Some(format!(
                            "key_fingerprint {:#018x} vs {:#018x}, visualization {} vs {}",
                            mine.key_fingerprint.as_i64(),
                            theirs.key_fingerprint.as_i64(),
                            short(&mine.visualization),
                            short(&theirs.visualization)
                        ));
                    }
                    (mine, _) => {
                        let who = if mine.is_none() { &self.slots[index].spec.name } else { with };
                        progress.last_state = Some(format!("{who} has no key for {label}"));
                    }
                }
            }
            // Judged by `judge`, never through here.
            Expectation::Reaction { .. } => {}
            Expectation::Queued { messages } => {
                let (user, device) = (slot.spec.user.clone(), slot.spec.device.clone());
                let queued = self.world.queued_messages(&user, &device).await.map_err(|e| format!("cannot read the server's state: {e}"))?;
                progress.last_state = Some(match queued {
                    Some(n) => format!("{n} queued"),
                    None => "the server no longer knows the device".to_owned(),
                });
                if queued == Some(*messages) {
                    return passed;
                }
            }
            Expectation::SignedOut => {
                let (user, device) = (slot.spec.user.clone(), slot.spec.device.clone());
                let queued = self.world.queued_messages(&user, &device).await.map_err(|e| format!("cannot read the server's state: {e}"))?;
                if queued.is_none() {
                    return passed;
                }
                progress.last_state = queued.map(|n| format!("the device is still signed in with {n} messages queued"));
            }
        }
        Ok(None)
    }

    /// The failure message of an expectation that timed out.
    async fn explain_failure(
        &self,
        index: usize,
        expectation: &Expectation,
        within: Duration,
        progress: &Progress,
    ) -> String {
        let slot = &self.slots[index];
        let name = &slot.spec.name;
        let what = expectation.describe();
        let mut message = match expectation {
            Expectation::Message { count, .. } if *count > 1 => {
                format!(
                    "{name} did not receive {what} within {}: only {} of {count} arrived",
                    HumanDuration(within),
                    progress.matched
                )
            }
            _ => format!(
                "{name} did not observe {what} within {}",
                HumanDuration(within)
            ),
        };
        if let Some(state) = &progress.last_state {
            message.push_str(&format!(" (last seen: {state})"));
        }
        let unexpected: Vec<String> = slot
            .buffer
            .unconsumed()
            .map(|event| format!("{} ({})", event.describe(), slot.label_of(event.chat_id())))
            .collect();
        if unexpected.is_empty() {
            message.push_str(&format!("; {name} received nothing else"));
        } else {
            message.push_str(&format!("; {name} received: {}", unexpected.join("; ")));
        }
        message
    }
}

fn short(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

/// How far a waiting expectation got (for multi-message waits and failure messages).
#[derive(Default)]
struct Progress {
    matched: u32,
    position: usize,
    last_state: Option<String>,
}

#[cfg(test)]
mod tests;
