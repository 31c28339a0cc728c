//! A seeded run recorded byte for byte: handshake, a message each way, one re-key.
//!
//! Each message is shown as its wire parts, `key_fingerprint ‖ msg_key ‖ ciphertext`
//! (SPEC §2.1): the fingerprint changes after the re-key, the ciphertext length shows the
//! padding rule (MTProto 2.0 here: tdlib's length buckets).
//!
//! Any change to what goes on the wire (TL encoding, envelope, seq numbers, which method
//! carries what) changes `chat_transcript.txt`, so it shows up in review. After an
//! intended change, regenerate with
//! `UPDATE_CHAT_TRANSCRIPT=1 cargo test -p secretchat-common --test chat_transcript`.

mod chat_support;

use std::fmt::Write as _;

use chat_support::{config, Pair};
use secretchat_common::Side;

const EXPECTED_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/chat_transcript.txt");

fn record() -> String {
    let mut pair = Pair::new(config(144), config(144), 2024);
    pair.drive();
    pair.send_text(Side::Creator, "hello from the creator");
    pair.drive();
    pair.send_text(Side::Participant, "hello from the participant");
    pair.drive();
    let now = pair.now;
    pair.a.rekey_now(now, &mut pair.rng_a).unwrap();
    pair.drive();
    pair.send_text(Side::Participant, "under the new key");
    pair.drive();

    let mut out = String::new();
    writeln!(out, "chat_id {}", pair.a.id()).unwrap();
    writeln!(out, "key_fingerprint {}", pair.a.key_fingerprint().unwrap()).unwrap();
    for (who, sent) in [
        ("creator", &pair.sent_by_a),
        ("participant", &pair.sent_by_b),
    ] {
        for transmit in sent {
            // data = key_fingerprint (8) ‖ msg_key (16) ‖ AES-256-IGE ciphertext
            let (fingerprint, rest) = transmit.data.split_at(8);
            let (msg_key, ciphertext) = rest.split_at(16);
            writeln!(
                out,
                "{who} {} random_id {}\n  key_fingerprint {} msg_key {}\n  ciphertext ({} bytes) {}",
                transmit.method.name(),
                transmit.random_id,
                hex::encode(fingerprint),
                hex::encode(msg_key),
                ciphertext.len(),
                hex::encode(ciphertext)
            )
            .unwrap();
        }
    }
    out
}

#[test]
fn seeded_run_matches_the_recorded_transcript_byte_for_byte() {
    let got = record();
    if std::env::var_os("UPDATE_CHAT_TRANSCRIPT").is_some() {
        std::fs::write(EXPECTED_PATH, &got).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(EXPECTED_PATH).unwrap_or_default();
    if got != expected {
        let line = got
            .lines()
            .zip(expected.lines())
            .position(|(g, e)| g != e)
            .unwrap_or(got.lines().count().min(expected.lines().count()));
        panic!(
            "the wire transcript changed at line {} (got {} lines, expected {}).\n\
             got:      {}\nexpected: {}\n\
             If the change is intended, regenerate with UPDATE_CHAT_TRANSCRIPT=1 and review the diff.",
            line + 1,
            got.lines().count(),
            expected.lines().count(),
            got.lines().nth(line).unwrap_or("<end>"),
            expected.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_transcript() {
    assert_eq!(record(), record());
}
