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

/// `demo --web` prints the page's URL on a line of its own, serves the page while the run
/// goes on and after it ends, until interrupted.
#[test]
fn the_demo_with_web_prints_the_url_and_keeps_serving_after_the_run() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let mut child = Command::new(env!("CARGO_BIN_EXE_secretchat-peer"))
        .args(["demo", "--quiet", "--seed", "4", "--web"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run secretchat-peer demo --web");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let mut rest = String::new();
    // The run ends (its summary) and the page stays: the second URL line says so.
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in lines.by_ref().map_while(Result::ok) {
        rest.push_str(&line);
        rest.push('\n');
        if line.contains("still serving") || Instant::now() > deadline {
            break;
        }
    }
    let url = first.strip_prefix("web view: ").map(str::to_owned);
    let page = url.as_deref().and_then(|url| {
        let address = url.strip_prefix("http://")?.trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(address).ok()?;
        stream
            .write_all(
                format!("GET /api/run HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        Some(answer)
    });
    let _ = child.kill();
    let _ = child.wait();
    let url = url.unwrap_or_else(|| panic!("first line is not `web view: URL`: {first:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(rest.contains("checks passed"), "{rest}");
    let page = page.expect("the page answers after the run");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("\"finished\":[\"== summary =="), "{page}");
}
