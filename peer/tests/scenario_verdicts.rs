//! Verdicts on attacks, as a user of the attack pack sees them: a `reaction` step passes
//! only when the client under test did what the spec requires (or tolerates), the report
//! says what it did, and one process can judge a client it does not play from what the
//! other side of the chat sees.

mod scenario_support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use scenario_support::{log, scenario, start_server, wait_all};

/// A two-actor story: chat at layer 144, then Alice breaks `what`; Bob's reaction is judged
/// with the given extra keys of the `reaction` step.
fn story(test: &str, what: &str, reaction_keys: &str) -> PathBuf {
    let text = format!(
        r#"why = "Alice breaks a rule; Bob's reaction is judged."

[[actors]]
name = "alice"

[[actors]]
name = "bob"

[[steps]]
action = "request"
actor = "alice"
to = "bob"
chat = "main"

[[steps]]
expect = "chat_requested"
actor = "bob"
chat = "main"

[[steps]]
action = "accept"
actor = "bob"
chat = "main"

[[steps]]
expect = "layer"
actor = "alice"
chat = "main"
layer = 144

[[steps]]
expect = "layer"
actor = "bob"
chat = "main"
layer = 144

[[steps]]
action = "hostile"
actor = "alice"
chat = "main"
what = "{what}"

[[steps]]
expect = "reaction"
actor = "bob"
chat = "main"
within = "2s"
{reaction_keys}
"#
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.toml", what.replace('-', "_")));
    std::fs::write(&path, text).unwrap();
    path
}

fn run(path: &PathBuf) -> Output {
    run_as(path, "tdlib")
}

/// `run` under `profile`.
fn run_as(path: &PathBuf, profile: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("run")
        .arg(path)
        .args(["--seed", "5", "--profile", profile])
        .output()
        .expect("secretchat-peer runs")
}

#[test]
fn a_reaction_the_spec_does_not_allow_fails_the_scenario_and_the_report_says_why() {
    // The spec requires an abort for a Resend of 5000 messages; claiming "ignore" is
    // required makes the reference peer's (right) abort a wrong verdict.
    let path = story("wrong_verdict", "resend-too-many", "required = \"ignore\"");
    let output = run(&path);
    let text = log(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("verdict WRONG: bob aborted the chat: Resend asks for 5000 messages"),
        "{text}"
    );
    assert!(
        text.contains("the spec requires: ignore the message"),
        "{text}"
    );
    assert!(text.contains("(0 right, 1 wrong)"), "{text}");
    assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");
}

#[test]
fn the_default_requirement_comes_from_the_hostile_action_and_a_tolerated_reaction_passes() {
    let path = story("default_verdict", "short-random-bytes", "");
    // The spec profile ignores short random_bytes (SPEC §2.1); tdlib has no check.
    let output = run_as(&path, "spec");
    let text = log(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("verdict RIGHT: bob ignored it: random_bytes too short: 14 bytes"),
        "{text}"
    );
    assert!(
        text.contains("[§2.1: random_bytes has at least 15 bytes]"),
        "{text}"
    );
    assert!(text.contains("RIGHT  short-random-bytes"), "{text}");

    let path = story(
        "tolerated_verdict",
        "wrong-out-seq-parity",
        "required = \"ignore\"\ntolerated = [\"abort\"]\ncase = \"parity, lenient\"",
    );
    let output = run(&path);
    let text = log(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("RIGHT  parity, lenient"), "{text}");
}

#[test]
fn a_reaction_step_without_a_requirement_or_an_attack_before_it_is_refused_before_running() {
    let path = story("bad_reaction", "mirror", "required = \"shrug\"");
    let output = run(&path);
    let text = log(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("unknown reaction \"shrug\"; a reaction is one of: abort, ignore, resend, reject_key, reject_media, no_downgrade, reject_file"),
        "{text}"
    );
}

#[test]
fn a_process_that_plays_only_the_attacker_judges_the_other_client_from_the_outside() {
    let server = start_server();
    let file = scenario("attacks/commit_key_with_a_wrong_fingerprint_aborts_the_chat.toml");
    let actor = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
            .arg("actor")
            .arg("--scenario")
            .arg(&file)
            .args(["--as", name, "--server", &server.url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the actor starts")
    };
    let outputs = wait_all(vec![actor("alice"), actor("bob")], Duration::from_secs(60));
    let (alice, bob) = (log(&outputs[0].0), log(&outputs[1].0));
    let both = format!("alice:\n{alice}\nbob:\n{bob}");
    assert!(
        outputs
            .iter()
            .all(|(output, in_time)| *in_time && output.status.success()),
        "{both}"
    );
    // Bob's process reads his own abort; Alice's sees the chat discarded.
    assert!(
        bob.contains("verdict RIGHT: bob aborted the chat: the new key's fingerprint is"),
        "{both}"
    );
    assert!(
        alice.contains(
            "verdict RIGHT: bob discarded the chat (messages.discardEncryption) (as alice saw it)"
        ),
        "{both}"
    );
}
