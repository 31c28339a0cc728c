//! The runner against a scripted fake: a tiny in-memory "server" that relays requests,
//! acceptances, texts and files between fake devices, so the engine's waits, bindings,
//! failures and messages can be checked exactly and fast.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use super::*;
use crate::scenario::format::ActionKind;
use crate::scenario::parse;
use secretchat_common::chat::{Layer, UserAction};
use secretchat_common::key::KeyFingerprint;

type FakeChat = ((String, String), String, Option<String>);

#[derive(Default)]
struct Net {
    next_chat: i32,
    next_random: i64,
    /// (user, device) → queued events.
    queues: HashMap<(String, String), Vec<Observed>>,
    /// chat id → (requester (user, device), other user, accepted by device)
    chats: HashMap<i32, FakeChat>,
    /// user → user id
    ids: HashMap<String, i64>,
    clock: u64,
    /// Refuse the next accept with this error (a lost accept race).
    sent_files: HashMap<i64, (String, usize, String)>,
    /// The admin calls made: (path, body).
    admin_posts: Vec<(String, serde_json::Value)>,
}

impl Net {
    fn deliver_to_user(&mut self, user: &str, except: Option<&str>, event: Observed) {
        let keys: Vec<(String, String)> = self
            .queues
            .keys()
            .filter(|(u, d)| u == user && Some(d.as_str()) != except)
            .cloned()
            .collect();
        for key in keys {
            self.queues.entry(key).or_default().push(event.clone());
        }
    }

    fn other_side(&self, chat_id: i32, me: &(String, String)) -> Option<(String, Option<String>)> {
        let (requester, user, accepted) = self.chats.get(&chat_id)?;
        if requester == me {
            Some((user.clone(), accepted.clone()))
        } else {
            Some((requester.0.clone(), Some(requester.1.clone())))
        }
    }

    fn deliver_in_chat(&mut self, chat_id: i32, me: &(String, String), event: Observed) {
        if let Some((user, device)) = self.other_side(chat_id, me) {
            match device {
                Some(device) => self.queues.entry((user, device)).or_default().push(event),
                None => self.deliver_to_user(&user, None, event),
            }
        }
    }
}

struct FakeWorld {
    net: Rc<RefCell<Net>>,
}

struct FakeActor {
    net: Rc<RefCell<Net>>,
    me: (String, String),
    layer: Layer,
    polls: usize,
}

impl World for FakeWorld {
    type Actor = FakeActor;

    async fn sign_in(&self, spec: &ActorSpec, _: ActorOptions) -> Result<FakeActor, ActError> {
        let mut net = self.net.borrow_mut();
        let next = net.ids.len() as i64 + 100;
        net.ids.entry(spec.user.clone()).or_insert(next);
        net.queues
            .insert((spec.user.clone(), spec.device.clone()), Vec::new());
        Ok(FakeActor {
            net: self.net.clone(),
            me: (spec.user.clone(), spec.device.clone()),
            layer: spec.layer.unwrap_or(Layer(144)),
            polls: 0,
        })
    }

    async fn advance_clock(&self, seconds: u64) -> Result<(), ActError> {
        self.net.borrow_mut().clock += seconds;
        Ok(())
    }

    async fn admin_post(&self, path: &str, body: &serde_json::Value) -> Result<(), ActError> {
        self.net
            .borrow_mut()
            .admin_posts
            .push((path.to_owned(), body.clone()));
        Ok(())
    }

    async fn queued_messages(&self, user: &str, device: &str) -> Result<Option<usize>, ActError> {
        Ok(self
            .net
            .borrow()
            .queues
            .get(&(user.to_owned(), device.to_owned()))
            .map(Vec::len))
    }
}

fn rpc(message: &str) -> ActError {
    ActError::Rpc {
        message: message.to_owned(),
        detail: String::new(),
    }
}

impl Actor for FakeActor {
    async fn act(&mut self, command: Command) -> Result<Done, ActError> {
        let mut net = self.net.borrow_mut();
        let me = self.me.clone();
        match command {
            Command::Request { user } => {
                net.next_chat += 1;
                let chat_id = net.next_chat;
                net.chats.insert(chat_id, (me.clone(), user.clone(), None));
                let from_user = net.ids[&me.0];
                net.deliver_to_user(&user, None, Observed::ChatRequested { chat_id, from_user });
                Ok(Done::Chat(chat_id))
            }
            Command::Accept { chat_id } => {
                let chat = net
                    .chats
                    .get_mut(&chat_id)
                    .ok_or_else(|| rpc("CHAT_ID_INVALID"))?;
                if chat.2.is_some() {
                    return Err(rpc("ENCRYPTION_ALREADY_ACCEPTED"));
                }
                chat.2 = Some(me.1.clone());
                let requester = chat.0.clone();
                net.queues
                    .entry(requester)
                    .or_default()
                    .push(Observed::Established {
                        chat_id,
                        key_fingerprint: KeyFingerprint::from_i64(77),
                    });
                net.queues
                    .entry(me.clone())
                    .or_default()
                    .push(Observed::Established {
                        chat_id,
                        key_fingerprint: KeyFingerprint::from_i64(77),
                    });
                let others: Vec<(String, String)> = net
                    .queues
                    .keys()
                    .filter(|(u, d)| *u == me.0 && *d != me.1)
                    .cloned()
                    .collect();
                for other in others {
                    net.queues
                        .entry(other)
                        .or_default()
                        .push(Observed::Discarded {
                            chat_id,
                            history_deleted: false,
                        });
                }
                Ok(Done::Nothing)
            }
            Command::Decline { chat_id } | Command::Discard { chat_id, .. } => {
                net.deliver_in_chat(
                    chat_id,
                    &me,
                    Observed::Discarded {
                        chat_id,
                        history_deleted: false,
                    },
                );
                Ok(Done::Nothing)
            }
            Command::SendText { chat_id, text, ttl } => {
                net.next_random += 1;
                let random_id = net.next_random;
                net.deliver_in_chat(
                    chat_id,
                    &me,
                    Observed::Message {
                        chat_id,
                        random_id,
                        text,
                        ttl,
                    },
                );
                Ok(Done::Sent(random_id))
            }
            Command::SendFile {
                chat_id,
                bytes,
                file_name,
                ..
            } => {
                net.next_random += 1;
                let random_id = net.next_random;
                let event = Observed::File {
                    chat_id,
                    random_id,
                    file_name: file_name.clone(),
                    len: bytes.len(),
                    sha256: sha256_hex(&bytes),
                };
                net.sent_files
                    .insert(random_id, (file_name, bytes.len(), sha256_hex(&bytes)));
                net.deliver_in_chat(chat_id, &me, event);
                Ok(Done::Sent(random_id))
            }
            Command::ForwardFile {
                chat_id,
                random_id: original,
                ..
            } => {
                let (file_name, len, sha256) = net
                    .sent_files
                    .get(&original)
                    .cloned()
                    .ok_or_else(|| rpc("FILE_ID_INVALID"))?;
                net.next_random += 1;
                let random_id = net.next_random;
                net.deliver_in_chat(
                    chat_id,
                    &me,
                    Observed::File {
                        chat_id,
                        random_id,
                        file_name,
                        len,
                        sha256,
                    },
                );
                Ok(Done::Sent(random_id))
            }
            Command::Read {
                chat_id,
                random_ids,
            } => {
                assert!(!random_ids.is_empty(), "read names the messages received");
                net.deliver_in_chat(chat_id, &me, Observed::ReadReceipt { chat_id });
                Ok(Done::Nothing)
            }
            Command::Service {
                chat_id,
                action: UserAction::SetMessageTtl { .. },
            } => {
                net.deliver_in_chat(
                    chat_id,
                    &me,
                    Observed::Action {
                        chat_id,
                        random_id: 1,
                        what: ActionKind::SetTtl,
                        deletes_itself: false,
                    },
                );
                Ok(Done::Nothing)
            }
            Command::Service {
                chat_id,
                action: UserAction::Typing { .. },
            } => {
                net.deliver_in_chat(chat_id, &me, Observed::Typing { chat_id });
                Ok(Done::Nothing)
            }
            Command::Rekey { chat_id } => {
                net.deliver_in_chat(
                    chat_id,
                    &me,
                    Observed::KeyChanged {
                        chat_id,
                        key_fingerprint: KeyFingerprint::from_i64(78),
                    },
                );
                net.queues
                    .entry(me.clone())
                    .or_default()
                    .push(Observed::KeyChanged {
                        chat_id,
                        key_fingerprint: KeyFingerprint::from_i64(78),
                    });
                Ok(Done::Nothing)
            }
            Command::Logout => {
                net.queues.remove(&me);
                Ok(Done::Nothing)
            }
            Command::Service { .. }
            | Command::Hostile { .. }
            | Command::GoOffline
            | Command::ComeOnline => Ok(Done::Nothing),
        }
    }

    async fn poll(&mut self, _wait: Duration) -> Result<Vec<Observed>, ActError> {
        self.polls += 1;
        let mut net = self.net.borrow_mut();
        Ok(net
            .queues
            .get_mut(&self.me)
            .map(std::mem::take)
            .unwrap_or_default())
    }

    async fn user_id_of(&mut self, username: &str) -> Result<i64, ActError> {
        self.net
            .borrow()
            .ids
            .get(username)
            .copied()
            .ok_or_else(|| rpc("USERNAME_NOT_OCCUPIED"))
    }

    fn advance_clock(&mut self, _seconds: u64) {}

    fn file_id(&self, random_id: i64) -> Option<i64> {
        // The fake's "server id" of a file: its first message's random_id plus 1000.
        let net = self.net.borrow();
        net.sent_files.get(&random_id).map(|_| random_id + 1000)
    }

    fn chat_state(&self, chat_id: i32) -> Option<ChatState> {
        let net = self.net.borrow();
        let chat = net.chats.get(&chat_id)?;
        chat.2.as_ref()?;
        Some(ChatState {
            layer: self.layer,
            version: if self.layer >= Layer(73) { 2 } else { 1 },
            key_fingerprint: KeyFingerprint::from_i64(77),
            visualization: "ab".repeat(36),
        })
    }
}

const HEAD: &str = r#"
why = "A test story."

[[actors]]
name = "alice"

[[actors]]
name = "bob"

[[actors]]
name = "bob_laptop"
user = "bob"
device = "laptop"

[[steps]]
action = "request"
actor = "alice"
to = "bob"
chat = "main"

[[steps]]
expect = "chat_requested"
actor = "bob"
chat = "main"
from = "alice"

[[steps]]
expect = "chat_requested"
actor = "bob_laptop"
chat = "main"

[[steps]]
action = "accept"
actor = "bob"
chat = "main"

[[steps]]
expect = "established"
actor = "alice"
chat = "main"
within = "1s"
"#;

async fn run_text(steps: &str, only: Option<&str>) -> (ScenarioOutcome, String) {
    let (outcome, out, _) = run_text_on(steps, only).await;
    (outcome, out)
}

/// [`run_text`], also giving back the fake server (to look at what reached it).
async fn run_text_on(
    steps: &str,
    only: Option<&str>,
) -> (ScenarioOutcome, String, Rc<RefCell<Net>>) {
    let scenario = parse::parse(
        Path::new("scenarios/fake_story.toml"),
        &format!("{HEAD}{steps}"),
    )
    .expect("the test scenario parses");
    // Both users exist on the fake server, as if every process had signed in.
    let mut net = Net::default();
    net.ids.insert("alice".to_owned(), 100);
    net.ids.insert("bob".to_owned(), 101);
    let world = FakeWorld {
        net: Rc::new(RefCell::new(net)),
    };
    let options = RunOptions {
        seed: 5,
        explain: false,
        only: only.map(str::to_owned),
        show_events: false,
        trace: None,
        profile: Default::default(),
    };
    let mut out = Vec::new();
    let outcome = run(&scenario, &world, &options, &mut out).await;
    (outcome, String::from_utf8(out).unwrap(), world.net)
}

#[tokio::test]
async fn a_story_whose_expectations_all_hold_passes_every_step() {
    let (outcome, out) = run_text(
        r#"
[[steps]]
expect = "discarded"
actor = "bob_laptop"
chat = "main"

[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "m{n}"
count = 3

[[steps]]
expect = "message"
actor = "bob"
chat = "main"
text = "m{n}"
count = 3

[[steps]]
expect = "same_key"
actor = "bob"
chat = "main"
with = "alice"

[[steps]]
expect = "version"
actor = "bob"
chat = "main"
version = 2
"#,
        None,
    )
    .await;
    assert!(outcome.passed(), "{out}");
    assert_eq!((outcome.steps, outcome.passed), (10, 10));
    assert!(
        out.contains("[  6/10] ok    bob_laptop expects main discarded within 5s"),
        "{out}"
    );
    assert!(
        out.contains("alice sends 3 messages \"m{n}\" in main"),
        "{out}"
    );
}

#[tokio::test]
async fn a_message_that_never_comes_fails_with_what_did_arrive() {
    let (outcome, out) = run_text(
        r#"
[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "hello"

[[steps]]
expect = "message"
actor = "bob"
chat = "main"
text = "hi"
within = "200ms"
"#,
        None,
    )
    .await;
    let failure = outcome.failure.expect("the step fails");
    assert_eq!(failure.step, Some(7));
    assert_eq!(
        failure.message,
        "bob did not observe message \"hi\" in main within 200ms; bob received: \
         the chat established (key_fingerprint 0x000000000000004d) (main); message \"hello\" (main)"
    );
    assert!(
        out.contains("FAIL  bob expects message \"hi\" in main within 200ms"),
        "{out}"
    );
}

#[tokio::test]
async fn an_expected_server_error_passes_and_an_unexpected_success_fails() {
    let (outcome, out) = run_text(
        r#"
[[steps]]
action = "accept"
actor = "bob_laptop"
chat = "main"
expect_error = "ENCRYPTION_ALREADY_ACCEPTED"
"#,
        None,
    )
    .await;
    assert!(outcome.passed(), "{out}");

    let (outcome, _) = run_text(
        r#"
[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "x"
expect_error = "ENCRYPTION_DECLINED"
"#,
        None,
    )
    .await;
    assert_eq!(
        outcome.failure.unwrap().message,
        "the server accepted alice's send, but it should have refused it with ENCRYPTION_DECLINED"
    );
}

#[tokio::test]
async fn a_different_server_error_than_expected_is_reported_with_both() {
    let (outcome, _) = run_text(
        r#"
[[steps]]
action = "accept"
actor = "bob_laptop"
chat = "main"
expect_error = "CHAT_ID_INVALID"
"#,
        None,
    )
    .await;
    assert_eq!(
        outcome.failure.unwrap().message,
        "bob_laptop's accept failed: the server answered ENCRYPTION_ALREADY_ACCEPTED; expected CHAT_ID_INVALID"
    );
}

#[tokio::test]
async fn files_are_checked_by_size_and_sha256_and_can_be_forwarded() {
    let (outcome, out) = run_text(
        r#"
[[steps]]
action = "send_file"
actor = "alice"
chat = "main"
file = "photo"
size = 3000

[[steps]]
expect = "file"
actor = "bob"
chat = "main"
file = "photo"

[[steps]]
action = "forward_file"
actor = "bob"
chat = "main"
file = "photo"

[[steps]]
expect = "file"
actor = "alice"
chat = "main"
file = "photo"
"#,
        None,
    )
    .await;
    assert!(outcome.passed(), "{out}");
}

#[tokio::test]
async fn admin_placeholders_become_the_server_ids_the_actor_knows() {
    let (outcome, out, net) = run_text_on(
        r#"
[[steps]]
action = "send_file"
actor = "alice"
chat = "main"
file = "decoy"
size = 100

[[steps]]
action = "admin"
actor = "alice"
path = "/admin/hostile"
body = { chat_id = "{chat_id:main}", mode = { type = "swap_file", with_file_id = "{file_id:decoy}" } }
"#,
        None,
    )
    .await;
    assert!(outcome.passed(), "{out}");
    let net = net.borrow();
    let (path, body) = &net.admin_posts[0];
    assert_eq!(path, "/admin/hostile");
    assert_eq!(net.chats.len(), 1);
    let chat_id = *net.chats.keys().next().expect("one chat");
    assert_eq!(body["chat_id"], serde_json::json!(chat_id));
    let random_id = *net.sent_files.keys().next().expect("one file");
    assert_eq!(
        body["mode"]["with_file_id"],
        serde_json::json!((random_id + 1000).to_string())
    );
    assert_eq!(body["mode"]["type"], "swap_file");
}

#[tokio::test]
async fn nothing_fails_when_something_arrives_in_the_window() {
    let (outcome, _) = run_text(
        r#"
[[steps]]
action = "typing"
actor = "alice"
chat = "main"

[[steps]]
expect = "nothing"
actor = "bob"
within = "100ms"
"#,
        None,
    )
    .await;
    assert_eq!(
        outcome.failure.unwrap().message,
        "bob expected nothing, but received: a typing notice"
    );
}

#[tokio::test]
async fn an_offline_actor_cannot_observe_and_says_so() {
    let (outcome, _) = run_text(
        r#"
[[steps]]
action = "go_offline"
actor = "bob"

[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "while you were away"

[[steps]]
expect = "queued"
actor = "bob"
messages = 1

[[steps]]
expect = "message"
actor = "bob"
chat = "main"
text = "while you were away"
"#,
        None,
    )
    .await;
    assert_eq!(
        outcome.failure.unwrap().message,
        "bob is offline, so it cannot observe message \"while you were away\" in main"
    );
}

#[tokio::test]
async fn logout_is_visible_on_the_server() {
    let (outcome, out) = run_text(
        r#"
[[steps]]
action = "logout"
actor = "bob_laptop"

[[steps]]
expect = "signed_out"
actor = "bob_laptop"

[[steps]]
action = "typing"
actor = "bob_laptop"
chat = "main"
"#,
        None,
    )
    .await;
    assert_eq!(
        outcome.failure.unwrap().message,
        "bob_laptop's typing failed: bob_laptop logged out earlier"
    );
    assert!(
        out.contains("ok    bob_laptop expects to be signed out on the server"),
        "{out}"
    );
}

#[tokio::test]
async fn one_actor_per_process_plays_only_its_own_steps() {
    // Alice's process: the steps of bob and bob_laptop are not hers; her `request` and
    // `expect established` are. Nobody accepts here, so she waits and fails at the deadline.
    let (outcome, out) = run_text("", Some("alice")).await;
    assert_eq!(outcome.steps, 2);
    assert_eq!(outcome.actor.as_deref(), Some("alice"));
    let failure = outcome.failure.expect("nobody accepts");
    assert!(
        failure
            .message
            .starts_with("alice did not observe main established within 1s"),
        "{out}"
    );
}

#[tokio::test]
async fn message_counts_report_how_many_arrived() {
    let (outcome, _) = run_text(
        r#"
[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "m{n}"
count = 2

[[steps]]
expect = "message"
actor = "bob"
chat = "main"
text = "m{n}"
count = 3
within = "100ms"
"#,
        None,
    )
    .await;
    assert!(outcome.failure.unwrap().message.starts_with(
        "bob did not receive 3 messages \"m{n}\" in main within 100ms: only 2 of 3 arrived"
    ));
}

#[test]
fn derived_seeds_differ_by_tag_and_repeat_by_seed() {
    assert_eq!(derive_seed(1, "actor:alice"), derive_seed(1, "actor:alice"));
    assert_ne!(derive_seed(1, "actor:alice"), derive_seed(1, "actor:bob"));
    assert_ne!(derive_seed(1, "actor:alice"), derive_seed(2, "actor:alice"));
    let file = FileSpec {
        label: "f".into(),
        file_name: "f".into(),
        mime_type: "x".into(),
        content: FileContent::Random { size: 64 },
    };
    assert_eq!(file_bytes(3, &file), file_bytes(3, &file));
    assert_ne!(file_bytes(3, &file), file_bytes(4, &file));
}

/// A server-side attack (any `admin` step) followed by a message the receiver processes:
/// against a requirement to ignore it, that is a wrong verdict, and the step fails saying so.
#[tokio::test]
async fn a_reaction_step_judges_the_events_since_the_attack() {
    let attack = r#"
[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "before"

[[steps]]
expect = "message"
actor = "bob"
chat = "main"
text = "before"

[[steps]]
action = "admin"
actor = "alice"
path = "/admin/faults"

[[steps]]
action = "send"
actor = "alice"
chat = "main"
text = "tampered"
"#;
    let wrong = format!(
        "{attack}\n[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"main\"\nrequired = \"ignore\"\ncase = \"tampering\"\n"
    );
    let (outcome, out) = run_text(&wrong, None).await;
    assert!(!outcome.passed(), "{out}");
    let failure = outcome.failure.as_ref().unwrap();
    assert!(
        failure.message.starts_with(
            "verdict WRONG: bob processed it as a valid message: message \"tampered\""
        ),
        "{out}"
    );
    assert_eq!(outcome.verdicts.len(), 1);
    assert!(!outcome.verdicts[0].right);

    // Nothing at all within the window reads as ignoring it.
    let (outcome, out) = run_text(
        "[[steps]]\naction = \"admin\"\nactor = \"alice\"\npath = \"/admin/faults\"\n\n[[steps]]\nexpect = \"reaction\"\nactor = \"bob\"\nchat = \"main\"\nrequired = \"ignore\"\nwithin = \"100ms\"\n",
        None,
    )
    .await;
    assert!(outcome.passed(), "{out}");
    assert!(
        out.contains("verdict RIGHT: bob showed no reaction within 100ms: no abort, no Resend, nothing shown"),
        "{out}"
    );
}
