//! Scenarios against a separate `secretchat-server` process instead of the embedded one:
//! `run --server` with the admin surface for clock moves and queue counts, the same story
//! split into one process per actor, and a clear refusal when a step needs the admin
//! surface nobody gave.

mod scenario_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use scenario_support::{log, scenario, start_server, wait_all};

#[test]
fn run_against_a_server_process_moves_its_clock_through_the_admin_surface() {
    let server = start_server();
    let output = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("run")
        .arg(scenario("unacknowledged_messages_expire_after_7_days.toml"))
        .args([
            "--server",
            &server.url,
            "--admin-url",
            &server.admin_url,
            "--admin-token",
            &server.admin_token,
        ])
        .args(["--seed", "8"])
        .output()
        .expect("secretchat-peer runs");
    let text = log(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("ok    alice moves the server clock 8d forward"),
        "{text}"
    );
    assert!(text.ends_with("1 passed, 0 failed\n"), "{text}");
}

#[test]
fn a_step_that_needs_the_admin_surface_says_how_to_give_it() {
    let server = start_server();
    let output = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("run")
        .arg(scenario(
            "week_old_key_is_replaced_after_the_clock_moves.toml",
        ))
        .args(["--server", &server.url])
        .output()
        .expect("secretchat-peer runs");
    let text = log(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "alice's advance_clock failed: this step needs the server's admin surface: pass --admin-url and --admin-token"
        ),
        "{text}"
    );
}

#[test]
fn one_process_per_actor_moves_the_clock_once_and_both_see_the_new_key() {
    let server = start_server();
    let actor = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
            .arg("actor")
            .arg("--scenario")
            .arg(scenario(
                "week_old_key_is_replaced_after_the_clock_moves.toml",
            ))
            .args(["--as", name, "--server", &server.url])
            .args([
                "--admin-url",
                &server.admin_url,
                "--admin-token",
                &server.admin_token,
            ])
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
    // Alice's process moves the server clock; Bob's only its device's.
    assert!(
        alice.contains("ok    alice moves the server clock 8d forward"),
        "{both}"
    );
    assert!(!bob.contains("moves the server clock 8d forward"), "{both}");
    assert!(
        bob.contains("ok    bob expects the key of main to change"),
        "{both}"
    );
    assert!(
        bob.contains("skip  bob expects the same key as alice in main"),
        "{both}"
    );
}
