//! `secretchat-peer demo` as a user runs it: the binary, its output and exit status.

use std::process::Command;

fn demo(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .arg("demo")
        .args(args)
        .output()
        .expect("run secretchat-peer demo");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_demo_passes_every_check_and_explains_each_step() {
    let (code, stdout, stderr) = demo(&["--seed", "3"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for needle in [
        // the handshake, with the DH checks and shortened values
        "messages.getDhConfig → p = c71caeb9…",
        "dhConfigNotModified: the cached, checked config is reused",
        "g_a: 1 < g_a < p − 1",
        "computed fingerprint equals the announced",
        // the lock-out
        "bob/laptop     recv      [chat",
        "encryptedChatDiscarded",
        // the key visualization, hex and picture
        "key visualization (compare it with your peer's)",
        // sealing: the TL object, msg_key, aes_key/iv, seq numbers raw and wire, qts
        "TL object: {\"_\":\"decryptedMessageLayer\"",
        "→ aes_key ",
        "assign in_seq_no raw",
        "qts 1 →",
        // the file, the re-key, the resend
        "downloaded, key fingerprint and size checked",
        "decryptedMessageActionRequestKey",
        "decryptedMessageActionResend",
        "withholding random_id",
        "11/11 checks passed",
        "seed 3 (run again with --seed 3)",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn the_quiet_demo_prints_only_the_summary() {
    let (code, stdout, stderr) = demo(&["--seed", "4", "--quiet"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.starts_with("== summary =="), "{stdout}");
    assert!(!stdout.contains("alice/phone"), "{stdout}");
    assert!(stdout.contains("11/11 checks passed"), "{stdout}");
}

#[test]
fn the_same_seed_gives_the_same_keys() {
    let (_, first, _) = demo(&["--seed", "9", "--quiet"]);
    let (_, second, _) = demo(&["--seed", "9", "--quiet"]);
    let picture = |text: &str| {
        text.lines()
            .skip_while(|line| !line.contains("key visualization"))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(!picture(&first).is_empty());
    assert_eq!(picture(&first), picture(&second));
}
