//! The attack pack, run as a user runs it: `secretchat-peer run scenarios/attacks`
//! against embedded servers. Every file must pass with the reference peer as the client
//! under test, and the summary must count them all. (`scenario_library.rs` runs only the
//! top level of `scenarios/`, so each attack runs exactly once in the test suite.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn attacks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/attacks")
}

#[test]
fn every_attack_in_the_pack_gets_the_reaction_the_spec_requires() {
    let files: Vec<PathBuf> = std::fs::read_dir(attacks_dir())
        .expect("scenarios/attacks/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
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
