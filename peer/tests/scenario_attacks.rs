//! The attack pack, run as a user runs it: `secretchat-peer run scenarios/attacks`
//! against embedded servers. Every file must pass with the reference peer as the client
//! under test, and the summary must count them all. (`scenario_library.rs` runs only the
//! top level of `scenarios/`, so each attack runs exactly once in the test suite.)

mod scenario_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use scenario_support::{log, start_server, wait_all};

/// Stories whose point is an order between devices that cannot see each other (the laptop
/// accepts only after the phone did; Alice sends only after Bob went offline): separate
/// processes have nothing to wait on, so these run in one process only.
const ONE_PROCESS_ONLY: [&str; 2] = [
    "messages_expired_by_the_server_are_recovered_by_a_resend",
    "multi_device_accept_race_is_won_by_the_first_device",
];

fn attacks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/attacks")
}

fn attack_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(attacks_dir())
        .expect("scenarios/attacks/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_attack_in_the_pack_gets_the_reaction_the_spec_requires() {
    let files = attack_files();
    assert!(!files.is_empty(), "the attack pack is empty");
    let output = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("run")
        .arg(attacks_dir())
        .args(["--seed", "20261127"])
        .output()
        .expect("secretchat-peer runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{} passed, 0 failed", files.len()).as_str()),
        "{stdout}"
    );
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy();
        assert!(
            stdout.contains(&format!("PASS {name} ")),
            "{name} missing from the output:\n{stdout}"
        );
    }
}

/// The way a client under test joins the pack: one process per actor against a server
/// process (`secretchat-peer actor --as NAME`), here with the reference peer in every role.
/// Each process must pass its steps, and the verdicts must be given.
#[test]
fn every_attack_also_runs_as_one_process_per_actor() {
    for file in attack_files() {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        if ONE_PROCESS_ONLY.contains(&name.as_str()) {
            continue;
        }
        let scenario = secretchat_peer::scenario::load(&file).expect("the story parses");
        let server = start_server();
        let processes = scenario
            .actors
            .iter()
            .map(|actor| {
                Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
                    .arg("actor")
                    .arg("--scenario")
                    .arg(&file)
                    .args(["--as", &actor.name, "--server", &server.url])
                    .args(["--admin-url", &server.admin_url])
                    .args(["--admin-token", &server.admin_token])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("the actor starts")
            })
            .collect();
        let outputs = wait_all(processes, Duration::from_secs(60));
        let logs: Vec<String> = outputs.iter().map(|(output, _)| log(output)).collect();
        let all = logs.join("\n----\n");
        assert!(
            outputs
                .iter()
                .all(|(output, in_time)| *in_time && output.status.success()),
            "{name}:\n{all}"
        );
        // The actors run the default profile: only its steps count.
        let judged = scenario.steps.iter().any(|step| {
            step.holds_for(secretchat_common::chat::Profile::default())
                && matches!(
                &step.kind,
                secretchat_peer::scenario::format::StepKind::Expect {
                    expectation: secretchat_peer::scenario::format::Expectation::Reaction { .. },
                    ..
                }
            )
        });
        if judged {
            assert!(all.contains("verdict RIGHT: "), "{name}:\n{all}");
        }
        assert!(!all.contains("verdict WRONG"), "{name}:\n{all}");
    }
}

/// `secretchat-peer run scenarios/attacks --profile all`: every attack under every
/// profile, and the matrix. It exits 0 only when no cell is wrong; the rows where the
/// profiles differ show each client's own reaction (docs/profiles.md).
#[test]
fn the_attack_pack_under_every_profile_prints_the_matrix_with_no_wrong_cell() {
    let files = attack_files();
    let output = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("run")
        .arg(attacks_dir())
        .args(["--profile", "all", "--seed", "20261127"])
        .output()
        .expect("secretchat-peer runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let matrix: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("profile matrix"))
        .collect();
    assert!(
        matrix.get(1).is_some_and(|header| header.contains("tdlib")
            && header.contains("android")
            && header.contains("spec")),
        "{stdout}"
    );
    let row = |name: &str| -> Vec<String> {
        let line = matrix
            .iter()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no matrix row for {name}:\n{stdout}"));
        line.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|cell| cell.join(" "))
            .collect()
    };
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy();
        assert_eq!(row(&name).len(), 3, "{name}");
    }
    // Rows E4 and E1/E2: tdlib and spec abort, Telegram Android drops the message.
    for name in [
        "reflected_message_aborts_the_chat",
        "malleable_padding_at_layer_144_is_rejected_by_msg_key",
        "downgrade_to_mtproto_1_after_mtproto_2_aborts_the_chat",
    ] {
        assert_eq!(row(name), ["✓ abort", "✓ ignore", "✓ abort"], "{name}");
    }
    // Rows L3 and E9: tdlib aborts (check_seq_no, a fatal parse error) where the spec
    // keeps the layer or ignores the message.
    assert_eq!(
        row("message_at_a_lower_layer_is_shown_but_the_layer_stays_144"),
        ["✓ abort", "✓ no_downgrade", "✓ abort"]
    );
    assert_eq!(
        row("unknown_constructor_is_ignored_and_uses_up_its_seq_number"),
        ["✓ abort", "✓ ignore", "✓ ignore"]
    );
    // Rows K3–K7: a re-key forgery Android answers with AbortKey.
    assert_eq!(
        row("accept_key_for_an_unknown_exchange_aborts_the_chat"),
        ["✓ abort", "✓ reject_key", "✓ abort"]
    );
    // Row S3: Android checks no parity and asks for the "gap".
    assert_eq!(
        row("wrong_seq_parity_aborts_the_chat"),
        ["✓ abort", "✓ resend", "✓ abort"]
    );
    // Rows R1–R5: Android answers any Resend, filling numbers it never used with
    // messages deleting themselves.
    for name in [
        "resend_of_5000_messages_aborts_the_chat",
        "resend_of_a_range_never_sent_aborts_the_chat",
    ] {
        assert_eq!(row(name), ["✓ abort", "✓ comply", "✓ abort"], "{name}");
    }
    // Every client's reaction is modelled: no cell is wrong, none is `~`.
    let cells = files.len() * 3;
    assert!(
        stdout.contains(&format!(
            "{cells} cells: {cells} as the client, 0 wrong, 0 not modelled"
        )),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{cells} passed, 0 failed").as_str()),
        "{stdout}"
    );
}
