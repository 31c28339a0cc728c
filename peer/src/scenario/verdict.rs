//! Verdicts on attacks: after a hostile action, a hostile server mode or a fault, what did
//! the client under test do, and is it what the spec requires?
//!
//! A `reaction` step names the side that must react. The runner reads the answer in one of
//! two ways:
//!
//! ```text
//!   from the inside   this process plays that side: its own events tell — an abort and
//!                     its reason, a message it ignored and why, a Resend it sent, an
//!                     AbortKey it answered a re-key message with, a Resend it answered
//!                     anyway, a file it refused, a message it processed (and the layer
//!                     it kept)
//!   from the outside  another process plays it (your client, with `secretchat-peer actor`
//!                     playing the other side): the other party sees the chat discarded,
//!                     a Resend arrive, an AbortKey for its re-key, messages deleting
//!                     themselves (a Resend answered anyway) — or nothing, which is what
//!                     ignoring (or quietly processing) looks like from there
//! ```
//!
//! Only what happened since the attack counts: the runner marks every actor's event buffer
//! when a `hostile`, `admin` or `advance_clock` step runs. An abort decides at once; any other reaction is
//! given [`SETTLE`] more for an abort to follow (ignoring first and aborting later is an
//! abort); silence decides at the step's deadline.

use std::fmt;
use std::time::Duration;

use secretchat_common::chat::{Layer, Reaction};

use super::expect::Observed;
use super::format::ReactionCase;

/// How long a reaction other than an abort is watched for an abort that follows it.
pub const SETTLE: Duration = Duration::from_millis(300);

/// Where the verdict is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The reacting side's own events (this process plays it).
    Inside,
    /// What `judge`, the other party of the chat, saw of it.
    Outside { judge: String },
}

impl View {
    /// " (as alice saw it)" for an outside verdict, nothing for an inside one.
    pub fn seen_by(&self) -> String {
        match self {
            View::Inside => String::new(),
            View::Outside { judge } => format!(" (as {judge} saw it)"),
        }
    }
}

/// What the reacting side was seen doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The reaction it amounts to; `None` when it is none the spec knows (it processed an
    /// attack as if it were honest, or lowered its layer).
    pub reaction: Option<Reaction>,
    /// What it did, in words, for the report.
    pub did: String,
    /// Final at once (an abort): nothing that follows can change it.
    pub decided: bool,
}

/// The layer of the chat on the reacting side when the attack began and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    pub before: Layer,
    pub now: Layer,
}

/// Reads the reaction from the events since the attack (all in the judged chat), or `None`
/// while there is nothing to go on.
pub fn observe(
    view: &View,
    events: &[&Observed],
    case: &ReactionCase,
    layers: Option<Layers>,
) -> Option<Observation> {
    match view {
        View::Inside => observe_inside(events, case, layers),
        View::Outside { .. } => observe_outside(events),
    }
}

/// The first event that passes `test`.
fn first<'a>(events: &[&'a Observed], test: fn(&Observed) -> bool) -> Option<&'a Observed> {
    events.iter().copied().find(|e| test(e))
}

fn seen(reaction: Option<Reaction>, did: String) -> Option<Observation> {
    Some(Observation {
        decided: reaction == Some(Reaction::Abort),
        reaction,
        did,
    })
}

fn observe_inside(
    events: &[&Observed],
    case: &ReactionCase,
    layers: Option<Layers>,
) -> Option<Observation> {
    let find = |test| first(events, test);
    if let Some(Observed::Aborted { reason, .. }) = find(|e| matches!(e, Observed::Aborted { .. }))
    {
        return seen(Some(Reaction::Abort), format!("aborted the chat: {reason}"));
    }
    if let Some(event @ Observed::ResendRequested { .. }) =
        find(|e| matches!(e, Observed::ResendRequested { .. }))
    {
        return seen(Some(Reaction::RequestResend), event.describe());
    }
    if let Some(Observed::RekeyRejected { why, .. }) =
        find(|e| matches!(e, Observed::RekeyRejected { .. }))
    {
        return seen(
            Some(Reaction::RejectKey),
            format!("refused the re-key with AbortKey ({why}), keeping the old key"),
        );
    }
    if let Some(Observed::PeerAskedForResend {
        start_seq_no,
        end_seq_no,
        messages,
        placeholders,
        ..
    }) = find(|e| matches!(e, Observed::PeerAskedForResend { .. }))
    {
        return seen(
            Some(Reaction::Comply),
            format!(
                "answered the Resend of seq_no {start_seq_no}..={end_seq_no}: re-sent {messages} messages, {placeholders} delete placeholders for numbers it does not hold"
            ),
        );
    }
    if let Some(Observed::FileRefused { reason, .. }) =
        find(|e| matches!(e, Observed::FileRefused { .. }))
    {
        return seen(
            Some(Reaction::RejectFile),
            format!("refused the file: {reason}"),
        );
    }
    if let Some(Observed::Ignored { reason, .. }) = find(|e| matches!(e, Observed::Ignored { .. }))
    {
        return seen(Some(Reaction::Ignore), format!("ignored it: {reason}"));
    }
    let shown = find(|e| {
        matches!(
            e,
            Observed::Message { .. } | Observed::File { .. } | Observed::Action { .. }
        )
    })?;
    if let Some(Layers { before, now }) = layers {
        if now < before {
            return seen(
                None,
                format!(
                    "processed it and lowered the chat's layer from {} to {}",
                    before.0, now.0
                ),
            );
        }
    }
    let file = find(|e| matches!(e, Observed::File { .. }));
    match (case.required, file) {
        (Reaction::NoDowngrade, _) => {
            let kept = layers.map_or_else(String::new, |l| format!(", keeping layer {}", l.now.0));
            seen(
                Some(Reaction::NoDowngrade),
                format!("processed it ({}){kept}", shown.describe()),
            )
        }
        (Reaction::RejectMedia, None) => seen(
            Some(Reaction::RejectMedia),
            format!("showed the message without a file ({})", shown.describe()),
        ),
        (_, Some(file)) => seen(None, format!("accepted it as valid: {}", file.describe())),
        _ => seen(
            None,
            format!("processed it as a valid message: {}", shown.describe()),
        ),
    }
}

fn observe_outside(events: &[&Observed]) -> Option<Observation> {
    let find = |test| first(events, test);
    if find(|e| matches!(e, Observed::Discarded { .. })).is_some() {
        return seen(
            Some(Reaction::Abort),
            "discarded the chat (messages.discardEncryption)".to_owned(),
        );
    }
    if let Some(event) = find(|e| matches!(e, Observed::PeerAskedForResend { .. })) {
        return seen(Some(Reaction::RequestResend), event.describe());
    }
    if find(|e| matches!(e, Observed::RekeyRefused { .. })).is_some() {
        return seen(
            Some(Reaction::RejectKey),
            "refused the re-key with decryptedMessageActionAbortKey".to_owned(),
        );
    }
    if find(deletes_itself).is_some() {
        return seen(
            Some(Reaction::Comply),
            "answered the Resend anyway: messages deleting themselves arrived (placeholders for numbers it never sent)".to_owned(),
        );
    }
    None
}

/// A message that deletes itself: Telegram Android's answer for a number a Resend asks for
/// that it never used (`createDeleteMessage`).
fn deletes_itself(event: &Observed) -> bool {
    matches!(
        event,
        Observed::Action {
            deletes_itself: true,
            ..
        }
    )
}

/// Whether the judging side aborted the chat itself before seeing any reaction of the
/// other: then nothing the other side does can reach it, and an outside verdict is
/// impossible (both sides rejecting each other's first message, for instance).
pub fn judge_closed_first(events: &[&Observed]) -> bool {
    let reacted = |e: &&&Observed| {
        deletes_itself(e)
            || matches!(
                e,
                Observed::Discarded { .. }
                    | Observed::PeerAskedForResend { .. }
                    | Observed::RekeyRefused { .. }
            )
    };
    match events
        .iter()
        .position(|e| matches!(e, Observed::Aborted { .. }))
    {
        Some(abort) => !events[..abort].iter().any(|e| reacted(&e)),
        None => false,
    }
}

/// The observation when nothing was seen by the deadline.
pub fn silence(view: &View, case: &ReactionCase, within: Duration) -> Observation {
    let within = super::format::HumanDuration(within);
    match view {
        View::Inside => Observation {
            reaction: Some(Reaction::Ignore),
            did: format!("showed no reaction within {within}: no abort, no Resend, nothing shown"),
            decided: true,
        },
        // From the outside, ignoring and quietly processing look the same.
        View::Outside { .. } => {
            let quiet = matches!(
                case.required,
                Reaction::Ignore
                    | Reaction::NoDowngrade
                    | Reaction::RejectMedia
                    | Reaction::RejectFile
            );
            Observation {
                reaction: Some(if quiet { case.required } else { Reaction::Ignore }),
                did: format!(
                    "showed nothing the other side can see within {within}: no discard, no Resend, no AbortKey{}",
                    if quiet {
                        " (what it did inside only the client itself can show)"
                    } else {
                        ""
                    }
                ),
                decided: true,
            }
        }
    }
}

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The case's name (the `hostile` action, the step's `case`, or the scenario).
    pub case: String,
    /// The actor judged.
    pub actor: String,
    pub view: View,
    /// "the spec requires", or the client whose reaction the step states.
    pub authority: String,
    pub required: String,
    pub rule: Option<&'static str>,
    pub observation: Observation,
    pub right: bool,
}

impl Verdict {
    pub fn new(case: &ReactionCase, actor: &str, view: View, observation: Observation) -> Verdict {
        Verdict {
            case: case.name.clone(),
            actor: actor.to_owned(),
            right: observation.reaction.is_some_and(|r| case.accepts(r)),
            authority: case.authority(),
            required: case.describe_requirement(),
            rule: case.rule,
            view,
            observation,
        }
    }

    /// "RIGHT" or "WRONG".
    pub fn mark(&self) -> &'static str {
        if self.right {
            "RIGHT"
        } else {
            "WRONG"
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {}",
            self.mark(),
            self.actor,
            self.observation.did
        )?;
        f.write_str(&self.view.seen_by())?;
        write!(f, "; {}: {}", self.authority, self.required)?;
        if let Some(rule) = self.rule {
            write!(f, " [{rule}]")?;
        }
        Ok(())
    }
}

/// A one-line form for summaries: `case  actor  RIGHT  did …`.
pub fn summary_line(verdict: &Verdict, width: usize) -> String {
    let seen_by = verdict.view.seen_by();
    format!(
        "  {}  {:<width$}  {}: {}{seen_by}{}",
        verdict.mark(),
        verdict.case,
        verdict.actor,
        verdict.observation.did,
        if verdict.right {
            String::new()
        } else {
            format!(" — required: {}", verdict.required)
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::format::ActionKind;

    fn case(required: Reaction, tolerated: &[Reaction]) -> ReactionCase {
        ReactionCase {
            name: "commit-key-wrong-fingerprint".into(),
            required,
            tolerated: tolerated.to_vec(),
            rule: None,
            client: None,
        }
    }

    fn message(text: &str) -> Observed {
        Observed::Message {
            chat_id: 1,
            random_id: 2,
            text: text.into(),
            ttl: 0,
        }
    }

    fn ignored() -> Observed {
        Observed::Ignored {
            chat_id: 1,
            reason: "duplicate: out_seq_no raw 3".into(),
        }
    }

    fn aborted() -> Observed {
        Observed::Aborted {
            chat_id: 1,
            reason: "the new key's fingerprint is wrong".into(),
        }
    }

    #[test]
    fn an_abort_wins_over_everything_seen_before_it_and_decides_at_once() {
        let events = [ignored(), message("x"), aborted()];
        let refs: Vec<&Observed> = events.iter().collect();
        let seen = observe(&View::Inside, &refs, &case(Reaction::Abort, &[]), None).unwrap();
        assert_eq!(seen.reaction, Some(Reaction::Abort));
        assert!(seen.decided);
        assert!(seen.did.contains("fingerprint is wrong"), "{}", seen.did);
    }

    #[test]
    fn ignoring_waits_for_an_abort_and_is_wrong_when_an_abort_is_required() {
        let events = [ignored()];
        let refs: Vec<&Observed> = events.iter().collect();
        let required = case(Reaction::Abort, &[Reaction::RejectKey]);
        let seen = observe(&View::Inside, &refs, &required, None).unwrap();
        assert!(!seen.decided);
        let verdict = Verdict::new(&required, "bob", View::Inside, seen);
        assert!(!verdict.right);
        let text = verdict.to_string();
        assert!(
            text.starts_with("WRONG: bob ignored it: duplicate"),
            "{text}"
        );
        assert!(
            text.contains("the spec requires: abort the chat (discardEncryption) (also accepted: reject the new key"),
            "{text}"
        );
    }

    #[test]
    fn a_tolerated_reaction_is_right() {
        let required = case(Reaction::Abort, &[Reaction::Ignore]);
        let events = [ignored()];
        let refs: Vec<&Observed> = events.iter().collect();
        let seen = observe(&View::Inside, &refs, &required, None).unwrap();
        assert!(Verdict::new(&required, "bob", View::Inside, seen).right);
    }

    #[test]
    fn processing_an_attack_as_honest_is_no_reaction_at_all() {
        let required = case(Reaction::Abort, &[]);
        let events = [message("forged")];
        let refs: Vec<&Observed> = events.iter().collect();
        let seen = observe(&View::Inside, &refs, &required, None).unwrap();
        assert_eq!(seen.reaction, None);
        assert!(!Verdict::new(&required, "bob", View::Inside, seen).right);
    }

    #[test]
    fn a_regressing_layer_is_judged_by_the_layer_kept() {
        let required = case(Reaction::NoDowngrade, &[Reaction::Abort]);
        let events = [message("old form")];
        let refs: Vec<&Observed> = events.iter().collect();
        let kept = Layers {
            before: Layer(144),
            now: Layer(144),
        };
        let lowered = Layers {
            before: Layer(144),
            now: Layer(17),
        };
        let ok = observe(&View::Inside, &refs, &required, Some(kept)).unwrap();
        assert_eq!(ok.reaction, Some(Reaction::NoDowngrade));
        let bad = observe(&View::Inside, &refs, &required, Some(lowered)).unwrap();
        assert_eq!(bad.reaction, None);
        assert!(bad.did.contains("from 144 to 17"), "{}", bad.did);
    }

    #[test]
    fn a_file_that_arrives_is_accepted_and_a_refused_one_is_rejected() {
        let required = case(Reaction::RejectFile, &[]);
        let file = Observed::File {
            chat_id: 1,
            random_id: 2,
            file_name: "a.bin".into(),
            len: 3,
            sha256: "00".into(),
        };
        let refused = Observed::FileRefused {
            chat_id: 1,
            random_id: 2,
            reason: "size 10 instead of 20".into(),
        };
        let accepted = [&file];
        let seen = observe(&View::Inside, &accepted, &required, None).unwrap();
        assert_eq!(seen.reaction, None);
        let rejected = [&refused];
        let seen = observe(&View::Inside, &rejected, &required, None).unwrap();
        assert_eq!(seen.reaction, Some(Reaction::RejectFile));
    }

    /// A step played under one client's profile states that client's reaction, not the
    /// spec's.
    #[test]
    fn a_profile_step_names_its_client_as_the_authority() {
        let seen = Observation {
            reaction: Some(Reaction::Comply),
            did: "answered the Resend".into(),
            decided: false,
        };
        let mut android = case(Reaction::Comply, &[]);
        android.client = Some(secretchat_common::chat::Profile::Android);
        let verdict = Verdict::new(&android, "bob", View::Inside, seen.clone());
        assert!(verdict.right);
        assert!(
            verdict
                .to_string()
                .contains("; Telegram Android (profile android) does: answer the Resend anyway"),
            "{verdict}"
        );
        let spec = Verdict::new(&case(Reaction::Abort, &[]), "bob", View::Inside, seen);
        assert!(spec
            .to_string()
            .contains("; the spec requires: abort the chat"));
    }

    /// Telegram Android answers a Resend for numbers it never used with messages deleting
    /// themselves; the judge sees them before it may close the chat on their in_seq_no.
    #[test]
    fn from_the_outside_messages_deleting_themselves_are_compliance() {
        let outside = View::Outside {
            judge: "alice".into(),
        };
        let placeholder = Observed::Action {
            chat_id: 1,
            random_id: 7,
            what: ActionKind::Delete,
            deletes_itself: true,
        };
        let seen = observe(
            &outside,
            &[&placeholder, &aborted()],
            &case(Reaction::Abort, &[]),
            None,
        )
        .unwrap();
        assert_eq!(seen.reaction, Some(Reaction::Comply));
        assert!(!judge_closed_first(&[&placeholder, &aborted()]));
        let honest_delete = Observed::Action {
            chat_id: 1,
            random_id: 7,
            what: ActionKind::Delete,
            deletes_itself: false,
        };
        assert_eq!(
            observe(
                &outside,
                &[&honest_delete],
                &case(Reaction::Abort, &[]),
                None
            ),
            None
        );
    }

    #[test]
    fn a_judge_that_closed_the_chat_first_cannot_see_the_reaction() {
        let discarded = Observed::Discarded {
            chat_id: 1,
            history_deleted: false,
        };
        assert!(judge_closed_first(&[&aborted()]));
        assert!(!judge_closed_first(&[&discarded, &aborted()]));
        assert!(!judge_closed_first(&[&message("x")]));
    }

    #[test]
    fn from_the_outside_a_discard_is_an_abort_and_silence_is_ignoring() {
        let outside = View::Outside {
            judge: "alice".into(),
        };
        let discarded = Observed::Discarded {
            chat_id: 1,
            history_deleted: false,
        };
        let seen = observe(&outside, &[&discarded], &case(Reaction::Abort, &[]), None).unwrap();
        assert_eq!(seen.reaction, Some(Reaction::Abort));
        assert_eq!(
            observe(&outside, &[], &case(Reaction::Abort, &[]), None),
            None
        );
        let quiet = silence(
            &outside,
            &case(Reaction::Abort, &[]),
            Duration::from_secs(2),
        );
        assert_eq!(quiet.reaction, Some(Reaction::Ignore));
        let verdict = Verdict::new(&case(Reaction::Abort, &[]), "bob", outside.clone(), quiet);
        assert!(!verdict.right);
        assert!(verdict.to_string().contains("(as alice saw it)"));
        let quiet = silence(
            &outside,
            &case(Reaction::NoDowngrade, &[]),
            Duration::from_secs(2),
        );
        assert_eq!(quiet.reaction, Some(Reaction::NoDowngrade));
    }
}
