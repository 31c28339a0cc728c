//! # The trace of a run: every arrow of the sequence diagram, in order
//!
//! A [`Trace`] is shared by everything that takes part in a run — each device's HTTP
//! client ([`crate::client::ApiClient::traced`]), the devices themselves (their explain
//! lines and their keys), the embedded server's event log (faults and hostile
//! substitutions), the scenario runner and the demo (verdicts and checks). Each records
//! entries as they happen; the order of the entries is the order of the run:
//!
//! ```text
//!   lane 0 = server, one lane per device (alice/phone, bob/phone, …)
//!   call     device ──▶ server   messages.sendEncrypted {…}        (JSON as sent)
//!   answer   server ──▶ device   messages.sentEncryptedMessage {…}
//!   update   server ──▶ device   updateNewEncryptedMessage{…}      (from a getDifference)
//!   note     on a lane            check: 1 < g_a < p − 1 … ok        (explain lines)
//!   fault / hostile / verdict     across the diagram, where it happened
//! ```
//!
//! An entry is kept compact — what the diagram draws: its kind, lanes, a label, flags —
//! plus what its details need (the JSON); details are computed only when the page asks
//! for one ([`Trace::detail`]), with every key the run's devices held by then, so a
//! message sent before its key was known still opens.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use base64::Engine as _;
use secretchat_common::crypto::visualization::KeyVisualization;
use secretchat_common::ChatKey;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::anatomy::{self, KeyRing};

/// A lane of the diagram: 0 is the server, the others are devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lane(pub u16);

impl Lane {
    /// The server's lane.
    pub const SERVER: Lane = Lane(0);
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An API call, device → server.
    Call,
    /// Its answer, server → device.
    Answer,
    /// An `rpc_error` or a transport failure instead of an answer.
    Error,
    /// An update handed to a device (one of a getDifference answer's).
    Update,
    /// An explain line of a device: what it checked, derived, decided.
    Note,
    /// A fault rule acted.
    Fault,
    /// A hostile mode substituted something.
    Hostile,
    /// A verdict: a scenario's reaction check, a demo check.
    Verdict,
    /// A device holds a new key.
    Key,
}

impl Kind {
    /// The name the page knows it by.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Answer => "answer",
            Kind::Error => "error",
            Kind::Update => "update",
            Kind::Note => "note",
            Kind::Fault => "fault",
            Kind::Hostile => "hostile",
            Kind::Verdict => "verdict",
            Kind::Key => "key",
        }
    }
}

/// Flag: the entry carries an encrypted payload (its details dissect it).
pub const ENCRYPTED: u8 = 1;
/// Flag: a failure (an error answer, a failed check).
pub const FAILED: u8 = 2;

#[derive(Debug)]
struct Entry {
    millis: u64,
    kind: Kind,
    from: Lane,
    to: Lane,
    label: String,
    flags: u8,
    /// The JSON shown in the details: the body as sent, the answer, the update, the event.
    json: Option<Value>,
    /// For an answer or an error: the entry of its call.
    call: Option<usize>,
}

/// One device's key visualization in one chat.
#[derive(Debug, Clone)]
struct Picture {
    lane: Lane,
    chat_id: i32,
    visualization: KeyVisualization,
}

#[derive(Debug, Default)]
struct State {
    lanes: Vec<String>,
    entries: Vec<Entry>,
    keys: KeyRing,
    pictures: Vec<Picture>,
    /// The run's closing lines, once it ended.
    finished: Option<Vec<String>>,
    /// Bumped whenever the lanes, pictures or the end change (the page refetches them).
    version: u64,
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    state: Mutex<State>,
    /// The number of entries, for live readers.
    count: watch::Sender<(usize, u64)>,
}

/// The shared recorder of one run. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Trace {
    inner: Arc<Inner>,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    pub fn new() -> Self {
        let state = State {
            lanes: vec!["server".to_owned()],
            ..State::default()
        };
        Self {
            inner: Arc::new(Inner {
                started: Instant::now(),
                state: Mutex::new(state),
                count: watch::Sender::new((0, 0)),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self, state: &State) {
        self.inner
            .count
            .send_replace((state.entries.len(), state.version));
    }

    fn push(&self, entry: Entry) -> usize {
        let mut state = self.lock();
        let index = state.entries.len();
        state.entries.push(entry);
        self.changed(&state);
        index
    }

    fn entry(&self, kind: Kind, from: Lane, to: Lane, label: String) -> Entry {
        Entry {
            millis: u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            kind,
            from,
            to,
            label,
            flags: 0,
            json: None,
            call: None,
        }
    }

    /// The lane of a device (`alice/phone`), made on first use.
    pub fn lane(&self, label: &str) -> Lane {
        let mut state = self.lock();
        if let Some(at) = state.lanes.iter().position(|known| known == label) {
            return Lane(u16::try_from(at).unwrap_or(u16::MAX));
        }
        state.lanes.push(label.to_owned());
        state.version += 1;
        self.changed(&state);
        Lane(u16::try_from(state.lanes.len() - 1).unwrap_or(u16::MAX))
    }

    /// A call leaves a device: `body` is the JSON exactly as sent. Returns its entry.
    pub fn call(&self, lane: Lane, method: &str, body: &Value) -> usize {
        let mut entry = self.entry(Kind::Call, lane, Lane::SERVER, method.to_owned());
        if body.get("data").is_some() {
            entry.flags |= ENCRYPTED;
        }
        entry.json = Some(body.clone());
        self.push(entry)
    }

    /// The answer to call `call` arrived (or the error instead). The updates of a
    /// getDifference answer become entries of their own, in the answer's order.
    pub fn answer(&self, lane: Lane, call: usize, method: &str, answer: Result<&Value, String>) {
        let mut entry = match &answer {
            Ok(value) => {
                let name = value.get("_").and_then(Value::as_str).unwrap_or(method);
                self.entry(Kind::Answer, Lane::SERVER, lane, name.to_owned())
            }
            Err(error) => {
                let mut entry = self.entry(Kind::Error, Lane::SERVER, lane, error.clone());
                entry.flags |= FAILED;
                entry
            }
        };
        entry.call = Some(call);
        entry.json = answer.as_ref().ok().map(|value| (*value).clone());
        let updates = match answer {
            Ok(value) if method == "updates.getDifference" => updates_of(value),
            _ => Vec::new(),
        };
        let mut state = self.lock();
        state.entries.push(entry);
        for (label, encrypted, update) in updates {
            let mut entry = self.entry(Kind::Update, Lane::SERVER, lane, label);
            if encrypted {
                entry.flags |= ENCRYPTED;
            }
            entry.json = Some(update);
            state.entries.push(entry);
        }
        self.changed(&state);
    }

    /// An explain line of a device.
    pub fn note(&self, lane: Lane, kind: &str, text: &str) {
        let entry = self.entry(Kind::Note, lane, lane, format!("{kind}: {text}"));
        self.push(entry);
    }

    /// Something drawn across the diagram where it happened: a fault, a hostile
    /// substitution, a verdict (`failed` marks it red).
    pub fn marker(&self, kind: Kind, label: String, failed: bool, detail: Value) {
        let mut entry = self.entry(kind, Lane::SERVER, Lane::SERVER, label);
        if failed {
            entry.flags |= FAILED;
        }
        entry.json = Some(detail);
        self.push(entry);
    }

    /// A device holds `key` in chat `chat_id` (new, or after a re-key); its picture is the
    /// chat's key visualization.
    pub fn key(&self, lane: Lane, chat_id: i32, key: &ChatKey, visualization: KeyVisualization) {
        let fingerprint = key.fingerprint();
        let mut state = self.lock();
        let holder = format!(
            "{}, chat {chat_id}",
            state
                .lanes
                .get(usize::from(lane.0))
                .map_or("?", String::as_str)
        );
        let before = state.keys.len();
        state.keys.add(key, holder);
        let picture = state
            .pictures
            .iter_mut()
            .find(|p| p.lane == lane && p.chat_id == chat_id);
        let picture_changed = match picture {
            Some(picture) if picture.visualization == visualization => false,
            Some(picture) => {
                picture.visualization = visualization;
                true
            }
            None => {
                state.pictures.push(Picture {
                    lane,
                    chat_id,
                    visualization,
                });
                true
            }
        };
        if picture_changed {
            state.version += 1;
        }
        if state.keys.len() > before {
            let label = format!("chat {chat_id}: key {fingerprint} in use");
            let entry = self.entry(Kind::Key, lane, lane, label);
            state.entries.push(entry);
        }
        self.changed(&state);
    }

    /// The run is over; `summary` is what it printed last.
    pub fn finish(&self, summary: Vec<String>) {
        let mut state = self.lock();
        state.finished = Some(summary);
        state.version += 1;
        self.changed(&state);
    }

    /// Changes whenever an entry is added or the run's lanes, pictures or end change.
    pub fn subscribe(&self) -> watch::Receiver<(usize, u64)> {
        self.inner.count.subscribe()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries `from..` (at most `limit`), compact: `[index, millis, kind, from, to, label,
    /// flags, call]`, what the diagram draws (`call`: an answer's call, else null).
    pub fn rows(&self, from: usize, limit: usize) -> Vec<Value> {
        let state = self.lock();
        state
            .entries
            .iter()
            .enumerate()
            .skip(from)
            .take(limit)
            .map(|(index, e)| {
                json!([
                    index,
                    e.millis,
                    e.kind.code(),
                    e.from.0,
                    e.to.0,
                    e.label,
                    e.flags
                ])
            })
            .collect()
    }

    /// The lanes, the key pictures and the end of the run.
    pub fn run(&self) -> Value {
        let state = self.lock();
        let pictures: Vec<Value> = state
            .pictures
            .iter()
            .map(|p| {
                json!({
                    "lane": p.lane.0,
                    "device": state.lanes.get(usize::from(p.lane.0)),
                    "chat_id": p.chat_id,
                    "hex": hex::encode(p.visualization.as_bytes()),
                })
            })
            .collect();
        json!({
            "lanes": state.lanes,
            "pictures": pictures,
            "finished": state.finished,
            "entries": state.entries.len(),
        })
    }

    /// The picture of `lane` in `chat_id`, if that device has a key in that chat.
    pub fn picture(&self, lane: Lane, chat_id: i32) -> Option<KeyVisualization> {
        self.lock()
            .pictures
            .iter()
            .find(|p| p.lane == lane && p.chat_id == chat_id)
            .map(|p| p.visualization)
    }

    /// Everything about entry `index`: its JSON, and for an encrypted payload its
    /// anatomy ([`anatomy::dissect`]) with every key known now.
    pub fn detail(&self, index: usize) -> Option<Value> {
        let state = self.lock();
        let entry = state.entries.get(index)?;
        let mut detail = json!({
            "index": index,
            "kind": entry.kind.code(),
            "from": state.lanes.get(usize::from(entry.from.0)),
            "to": state.lanes.get(usize::from(entry.to.0)),
            "label": entry.label,
            "millis": entry.millis,
        });
        if let Some(value) = &entry.json {
            // The exact text a call sent: serde_json writes it the way reqwest did.
            detail["json"] = json!(value.to_string());
        }
        if let Some(call) = entry.call {
            detail["call"] = json!(call);
            if let Some(method) = state.entries.get(call).map(|c| c.label.clone()) {
                detail["method"] = json!(method);
            }
        }
        if let Some(wire) = entry.json.as_ref().and_then(encrypted_bytes) {
            detail["anatomy"] = anatomy::dissect(&wire, &state.keys);
        }
        Some(detail)
    }
}

/// The encrypted blob an entry's JSON carries: a send's `data`, an update's message
/// `bytes`.
fn encrypted_bytes(value: &Value) -> Option<Vec<u8>> {
    let text = value
        .get("data")
        .or_else(|| value.get("message").and_then(|m| m.get("bytes")))
        .or_else(|| value.get("bytes"))?
        .as_str()?;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// The updates inside a getDifference answer, as `(label, encrypted, update)`: each new
/// message as the `updateNewEncryptedMessage` it stands for, then the other updates.
fn updates_of(answer: &Value) -> Vec<(String, bool, Value)> {
    let mut out = Vec::new();
    let name = |value: &Value| {
        value
            .get("_")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    for message in answer["new_encrypted_messages"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let label = format!("updateNewEncryptedMessage{{{}}}", name(message));
        let update = json!({"_": "updateNewEncryptedMessage", "message": message});
        out.push((label, true, update));
    }
    for update in answer["other_updates"].as_array().into_iter().flatten() {
        let label = match update.get("chat") {
            Some(chat) => format!("{}{{{}}}", name(update), name(chat)),
            None => name(update),
        };
        out.push((label, false, update.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_its_answer_and_the_updates_inside_come_out_in_order() {
        let trace = Trace::new();
        let bob = trace.lane("bob/phone");
        assert_eq!(bob, Lane(1));
        assert_eq!(trace.lane("bob/phone"), bob);
        let call = trace.call(bob, "updates.getDifference", &json!({"pts": 0}));
        let answer = json!({"_": "updates.difference",
            "new_encrypted_messages": [{"_": "encryptedMessage", "bytes": "AAAA"}],
            "other_updates": [{"_": "updateEncryption", "chat": {"_": "encryptedChatRequested"}}]});
        trace.answer(bob, call, "updates.getDifference", Ok(&answer));
        let rows = trace.rows(0, 10);
        let labels: Vec<_> = rows.iter().map(|r| (r[2].clone(), r[5].clone())).collect();
        assert_eq!(
            labels,
            vec![
                (json!("call"), json!("updates.getDifference")),
                (json!("answer"), json!("updates.difference")),
                (
                    json!("update"),
                    json!("updateNewEncryptedMessage{encryptedMessage}")
                ),
                (
                    json!("update"),
                    json!("updateEncryption{encryptedChatRequested}")
                ),
            ]
        );
        assert_eq!(rows[2][6], json!(ENCRYPTED));
        assert_eq!(trace.detail(1).unwrap()["method"], "updates.getDifference");
    }

    #[test]
    fn an_error_answer_is_marked_failed_and_names_its_call() {
        let trace = Trace::new();
        let alice = trace.lane("alice/phone");
        let call = trace.call(alice, "messages.sendEncrypted", &json!({"data": "AAAA"}));
        trace.answer(
            alice,
            call,
            "messages.sendEncrypted",
            Err("400 ENCRYPTION_DECLINED".into()),
        );
        let rows = trace.rows(0, 10);
        assert_eq!(rows[0][6], json!(ENCRYPTED));
        assert_eq!(rows[1][2], "error");
        assert_eq!(rows[1][6], json!(FAILED));
        assert_eq!(trace.detail(1).unwrap()["call"], 0);
        assert!(trace.detail(5).is_none());
    }

    #[test]
    fn a_new_key_adds_a_picture_and_an_entry_once() {
        let trace = Trace::new();
        let alice = trace.lane("alice/phone");
        let key = ChatKey::from_bytes(&[9; 256]).unwrap();
        let picture = KeyVisualization::of_key(&key);
        let mut changes = trace.subscribe();
        trace.key(alice, 5, &key, picture);
        trace.key(alice, 5, &key, picture);
        assert!(changes.has_changed().unwrap());
        assert_eq!(changes.borrow_and_update().0, 1);
        assert_eq!(trace.picture(alice, 5), Some(picture));
        assert_eq!(trace.run()["pictures"].as_array().unwrap().len(), 1);
    }
}
