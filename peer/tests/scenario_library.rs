//! The repository's scenario library, run as a user runs it: `secretchat-peer run
//! scenarios/` against embedded servers. Every file must pass, the summary must count
//! them all, and the JUnit report must list each one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

#[test]
fn every_scenario_in_the_library_passes() {
    let files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    assert!(files.len() >= 15, "the library lost scenarios: {files:?}");
    let junit = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-library-junit.xml");
    let output = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("run")
        .arg(scenarios_dir())
        .args(["--seed", "20261127", "--junit"])
        .arg(&junit)
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
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report was written");
    assert!(
        xml.contains(&format!("tests=\"{}\" failures=\"0\"", files.len())),
        "{xml}"
    );
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy();
        assert!(
            xml.contains(&format!("name=\"{name}\"")),
            "{name} missing from the report"
        );
    }
}
