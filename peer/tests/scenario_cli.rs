//! `secretchat-peer run` and `actor` at their edges: bad files, failing scenarios, the
//! seed printed for a replay, the JUnit failure, exit statuses, and an actor with no
//! server to talk to.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn peer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

const TWO_ACTORS: &str =
    "why = \"A test.\"\n\n[[actors]]\nname = \"alice\"\n\n[[actors]]\nname = \"bob\"\n";

#[test]
fn a_bad_file_is_reported_with_file_line_column_and_what_was_expected() {
    let path = scratch(
        "misspelt_action.toml",
        &format!("{TWO_ACTORS}\n[[steps]]\naction = \"reqest\"\nactor = \"alice\"\n"),
    );
    let output = peer(&["run", path.to_str().unwrap()]);
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let expected = format!(
        "FAIL  {}:10:10: step 1: unknown action \"reqest\"; the actions are: request, accept,",
        path.display()
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn a_failing_scenario_exits_non_zero_prints_the_seed_and_writes_a_junit_failure() {
    let path = scratch(
        "never_answered.toml",
        &format!(
            "{TWO_ACTORS}
[[steps]]
action = \"request\"
actor = \"alice\"
to = \"bob\"
chat = \"main\"

[[steps]]
expect = \"established\"
actor = \"alice\"
chat = \"main\"
within = \"300ms\"
"
        ),
    );
    let junit = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-cli-junit.xml");
    let output = peer(&[
        "run",
        path.to_str().unwrap(),
        "--seed",
        "99",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("[  2/2] FAIL  alice expects main established within 300ms"),
        "{stdout}"
    );
    assert!(
        stdout.contains("alice did not observe main established within 300ms"),
        "{stdout}"
    );
    assert!(
        stdout.contains("seed 99 — replay with --seed 99"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"alice did not observe main established within 300ms"),
        "{xml}"
    );
    assert!(xml.contains("replay with --seed 99</failure>"), "{xml}");
}

#[test]
fn the_same_seed_gives_the_same_keys() {
    // Nobody expects alice's `established` event, so the failing last step lists it, with
    // the key_fingerprint the seed decided.
    let path = scratch(
        "fingerprint_of_a_seed.toml",
        &format!(
            "{TWO_ACTORS}
[[steps]]
action = \"request\"
actor = \"alice\"
to = \"bob\"
chat = \"main\"

[[steps]]
expect = \"chat_requested\"
actor = \"bob\"
chat = \"main\"

[[steps]]
action = \"accept\"
actor = \"bob\"
chat = \"main\"

[[steps]]
expect = \"message\"
actor = \"alice\"
chat = \"main\"
text = \"never sent\"
within = \"300ms\"
"
        ),
    );
    let fingerprint = |seed: &str| {
        let (stdout, _) = text(&peer(&["run", path.to_str().unwrap(), "--seed", seed]));
        let at = stdout
            .find("key_fingerprint 0x")
            .unwrap_or_else(|| panic!("{stdout}"));
        stdout[at..at + 34].to_owned()
    };
    assert_eq!(fingerprint("5"), fingerprint("5"));
    assert_ne!(fingerprint("5"), fingerprint("6"));
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let output = peer(&["run", "/nonexistent/scenarios"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr,
        "secretchat-peer run: /nonexistent/scenarios: no such file or directory\n"
    );
}

#[test]
fn an_actor_not_in_the_scenario_is_refused_with_the_actors_it_has() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/demo_alice_and_bob_chat.toml");
    let output = peer(&[
        "actor",
        "--server",
        "http://127.0.0.1:9",
        "--scenario",
        scenario.to_str().unwrap(),
        "--as",
        "carol",
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("has no actor \"carol\"; its actors are: alice, bob"),
        "{stderr}"
    );
}

#[test]
fn an_actor_gives_up_on_a_server_that_never_answers() {
    // Port 9 (discard) on loopback: nothing listens there.
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/demo_alice_and_bob_chat.toml");
    let output = peer(&[
        "actor",
        "--server",
        "http://127.0.0.1:9",
        "--scenario",
        scenario.to_str().unwrap(),
        "--as",
        "alice",
        "--wait-for-server",
        "500ms",
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("waiting for the server at http://127.0.0.1:9 (up to 500ms)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("the server at http://127.0.0.1:9 did not answer within 500ms"),
        "{stderr}"
    );
}
