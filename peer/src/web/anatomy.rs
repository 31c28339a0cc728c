//! # The anatomy of one encrypted message, as the web view shows it
//!
//! What a learner clicks on is a `data`/`bytes` blob (SPEC §2.1):
//!
//! ```text
//! wire      = key_fingerprint(8) ‖ msg_key(16) ‖ AES-256-IGE(aes_key, aes_iv, padded)
//! padded    = int32_le(L) ‖ TL_bytes(L) ‖ padding
//! ```
//!
//! [`dissect`] splits the wire bytes into those parts, finds the key by its fingerprint
//! among the keys the run's devices hold ([`KeyRing`]), opens the message with the
//! envelope code every device uses, writes down the key derivation with the real bytes
//! (`kdf::*::derive_observed`, the same functions that derived the key), and annotates the
//! decrypted TL bytes field by field (`tl::annotate`, the same decoder). Each part and
//! field names the SPEC section that defines it ([`spec_section`]). Nothing here
//! re-implements a formula: it only asks the protocol code to show its work.

use serde_json::{json, Value};

use secretchat_common::crypto::kdf::{self, Derivation, Step};
use secretchat_common::crypto::msg_key;
use secretchat_common::envelope::{self, Opened, Version};
use secretchat_common::side::Side;
use secretchat_common::tl::e2e::{self, CONSTRUCTORS};
use secretchat_common::tl::{annotate, Annotated, Marked, TlJson};
use secretchat_common::{ChatKey, KeyFingerprint};

/// The 8-byte fingerprint, then the 16-byte msg_key, then the ciphertext.
const FINGERPRINT_END: usize = 8;
const MSG_KEY_END: usize = 24;

/// The keys the run's devices hold, each with who holds it.
#[derive(Debug, Default, Clone)]
pub struct KeyRing {
    keys: Vec<(ChatKey, Vec<String>)>,
}

impl KeyRing {
    /// Remembers `key` as held by `holder` (`alice/phone, chat 5`); a key already known
    /// gains a holder.
    pub fn add(&mut self, key: &ChatKey, holder: String) {
        match self.keys.iter_mut().find(|(known, _)| known == key) {
            Some((_, holders)) => {
                if !holders.contains(&holder) {
                    holders.push(holder);
                }
            }
            None => self.keys.push((key.clone(), vec![holder])),
        }
    }

    fn find(&self, fingerprint: KeyFingerprint) -> Option<&(ChatKey, Vec<String>)> {
        self.keys
            .iter()
            .find(|(key, _)| key.fingerprint() == fingerprint)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The SPEC.md section that defines a part of an encrypted message or a TL field, for the
/// page's links (`None`: no section says more than the schema).
pub fn spec_section(name: &str, version: Option<Version>) -> Option<&'static str> {
    let by_version = |v1: &'static str, v2: &'static str| match version {
        Some(Version::V1) => Some(v1),
        _ => Some(v2),
    };
    match name {
        "key_fingerprint" => Some("1.6"),
        "msg_key" | "padding" => by_version("2.2", "2.3"),
        "ciphertext" => Some("2.4"),
        "length" | "random_bytes" | "decryptedMessageLayer" => Some("2.1"),
        "layer" | "decryptedMessageActionNotifyLayer" => Some("5"),
        "in_seq_no" | "out_seq_no" => Some("3.1"),
        "start_seq_no" | "end_seq_no" | "decryptedMessageActionResend" => Some("3.3"),
        "exchange_id"
        | "g_a"
        | "g_b"
        | "decryptedMessageActionRequestKey"
        | "decryptedMessageActionAcceptKey"
        | "decryptedMessageActionCommitKey"
        | "decryptedMessageActionAbortKey"
        | "decryptedMessageActionNoop" => Some("4"),
        "ttl_seconds" | "ttl" | "decryptedMessageActionSetMessageTTL" => Some("8.2"),
        "decryptedMessageActionReadMessages" | "decryptedMessageActionTyping" => Some("8.3"),
        "decryptedMessageActionDeleteMessages"
        | "decryptedMessageActionFlushHistory"
        | "decryptedMessageActionScreenshotMessages" => Some("8.4"),
        "random_id" | "message" | "decryptedMessage" | "decryptedMessageService" => Some("8.1"),
        name if name.starts_with("decryptedMessageMedia") || name == "media" => Some("6"),
        _ => None,
    }
}

fn hex_of(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn part(name: &str, start: usize, bytes: &[u8], version: Option<Version>) -> Value {
    json!({
        "name": name,
        "start": start,
        "end": start + bytes.len(),
        "hex": hex_of(bytes),
        "spec": spec_section(name, version),
    })
}

fn step_json(step: &Step) -> Value {
    json!({
        "name": step.name,
        "parts": step.parts.iter().map(|(name, bytes)| json!({"name": name, "hex": hex_of(bytes)})).collect::<Vec<_>>(),
        "result": hex_of(&step.result),
    })
}

fn version_name(version: Version) -> &'static str {
    match version {
        Version::V1 => "MTProto 1.0",
        Version::V2 => "MTProto 2.0",
    }
}

/// Everything about one wire blob: its parts, and — when a known key opens it — the
/// derivation, the decrypted bytes field by field and the object inside.
pub fn dissect(wire: &[u8], keys: &KeyRing) -> Value {
    let mut out = json!({"length": wire.len(), "wire_hex": hex_of(wire)});
    let (Some(fingerprint), Some(msg_key), Some(ciphertext)) = (
        wire.get(..FINGERPRINT_END),
        wire.get(FINGERPRINT_END..MSG_KEY_END),
        wire.get(MSG_KEY_END..),
    ) else {
        out["parts"] = json!([part("too short", 0, wire, None)]);
        out["error"] = json!(format!(
            "{} bytes cannot be a secret-chat message: it starts with 8 bytes of key_fingerprint and 16 of msg_key",
            wire.len()
        ));
        return out;
    };
    let Some(found) = envelope::key_fingerprint(wire).and_then(|f| keys.find(f)) else {
        out["parts"] = json!([
            part("key_fingerprint", 0, fingerprint, None),
            part("msg_key", FINGERPRINT_END, msg_key, None),
            part("ciphertext", MSG_KEY_END, ciphertext, None),
        ]);
        out["error"] = json!(format!(
            "no device of this run holds a key with fingerprint {} ({} keys known): a receiver ignores such a message (SPEC §2.6)",
            hex_of(fingerprint),
            keys.len()
        ));
        return out;
    };
    let (key, holders) = found;
    match envelope::open_any(key, wire) {
        Ok((opened, version, sender)) => {
            out["parts"] = json!([
                part("key_fingerprint", 0, fingerprint, Some(version)),
                part("msg_key", FINGERPRINT_END, msg_key, Some(version)),
                part("ciphertext", MSG_KEY_END, ciphertext, Some(version)),
            ]);
            out["key"] = json!({"fingerprint": key.fingerprint().to_string(), "holders": holders});
            let details = opened_details(key, &opened, version, sender);
            if let (Value::Object(out), Value::Object(details)) = (&mut out, details) {
                out.extend(details);
            }
        }
        Err(error) => {
            out["parts"] = json!([
                part("key_fingerprint", 0, fingerprint, None),
                part("msg_key", FINGERPRINT_END, msg_key, None),
                part("ciphertext", MSG_KEY_END, ciphertext, None),
            ]);
            out["key"] = json!({"fingerprint": key.fingerprint().to_string(), "holders": holders});
            out["error"] = json!(format!(
                "the key this fingerprint names does not open the message: {error} (SPEC §2.6: a receiver aborts the chat)"
            ));
        }
    }
    out
}

fn opened_details(key: &ChatKey, opened: &Opened, version: Version, sender: Option<Side>) -> Value {
    let padded = opened.padded_plaintext();
    let tl = opened.tl();
    let x = sender.map_or(kdf::X::Zero, Side::x);
    let mut derivation = Derivation::default();
    match version {
        Version::V1 => {
            kdf::v1::derive_observed(key, opened.msg_key(), x, &mut derivation);
        }
        Version::V2 => {
            kdf::v2::derive_observed(key, opened.msg_key(), x, &mut derivation);
        }
    }
    let msg_key_formula = match version {
        Version::V1 => json!({
            "formula": "msg_key = SHA1(int32_le(L) ‖ TL_bytes)[4..20)   (padding excluded)",
            "hash": hex_of(&sha1_of(&padded[..4 + tl.len()])),
        }),
        Version::V2 => json!({
            "formula": "msg_key_large = SHA256(key[88+x .. 88+x+32) ‖ padded); msg_key = msg_key_large[8..24)",
            "key_slice": hex_of(&key.as_bytes()[88 + x.offset()..88 + x.offset() + 32]),
            "hash": hex_of(&msg_key::v2::compute_large(key, x, padded)),
        }),
    };
    let (fields, annotated) = plaintext_fields(opened, version);
    let mut out = json!({
        "version": version_name(version),
        "x": x.offset(),
        "sender": sender.map(|side| match side { Side::Creator => "creator", Side::Participant => "participant" }),
        "msg_key": msg_key_formula,
        "derivation": {
            "hashes": derivation.hashes.iter().map(step_json).collect::<Vec<_>>(),
            "outputs": derivation.outputs.iter().map(step_json).collect::<Vec<_>>(),
        },
        "aes_key": hex_of(opened.aes_key_iv().key()),
        "aes_iv": hex_of(opened.aes_key_iv().iv()),
        "plaintext_hex": hex_of(padded),
        "fields": fields,
    });
    match annotated.value {
        Ok(object) => {
            if let Some(text) = message_text(&object) {
                out["text"] = json!(text);
            }
            if let Some(sequence) = crate::codec_cli::describe_sequence(&object) {
                out["sequence"] = sequence;
            }
            out["object"] = object.to_json();
        }
        Err(error) => out["tl_error"] = json!(error.to_string()),
    }
    out
}

/// The decrypted buffer field by field: the length `L`, every constructor id and field of
/// the TL object (from the annotating decoder), the padding — each with its offsets in the
/// buffer, its bytes, its value when it is a number, and its SPEC section; with the decoded
/// object (or why it does not decode). `decode` prints the same list.
pub fn plaintext_fields(opened: &Opened, version: Version) -> (Vec<Value>, Annotated<e2e::Object>) {
    let padded = opened.padded_plaintext();
    let tl = opened.tl();
    let annotated = annotate::<e2e::Object>(tl);
    let mut fields = vec![part("length", 0, &padded[..4], Some(version))];
    fields[0]["value"] = json!(tl.len());
    for mark in &annotated.marks {
        let (name, value) = match mark.what {
            Marked::ConstructorId(_) => (mark.label(CONSTRUCTORS), None),
            Marked::Field(name) => (name.to_owned(), field_value(tl, mark.start, mark.end)),
            Marked::VectorCount => ("count".to_owned(), None),
            Marked::Item(_) => (mark.label(CONSTRUCTORS), None),
        };
        let lookup = match mark.what {
            Marked::ConstructorId(id) => {
                secretchat_common::tl::annotate::constructor_name(CONSTRUCTORS, id)
                    .map(|name| {
                        name.trim_end_matches(|c: char| c.is_ascii_digit())
                            .to_owned()
                    })
                    .unwrap_or_default()
            }
            _ => name.clone(),
        };
        let bytes = tl.get(mark.start..mark.end).unwrap_or_default();
        let mut field = json!({
            "name": name,
            "kind": match mark.what { Marked::ConstructorId(_) => "constructor", Marked::Field(_) => "field", Marked::VectorCount => "count", Marked::Item(_) => "item" },
            "depth": mark.depth + 1,
            "start": 4 + mark.start,
            "end": 4 + mark.end,
            "hex": hex_of(bytes),
            "spec": spec_section(&lookup, Some(version)),
        });
        if let Some(value) = value {
            field["value"] = value;
        }
        fields.push(field);
    }
    fields.push(part(
        "padding",
        4 + tl.len(),
        &padded[4 + tl.len()..],
        Some(version),
    ));
    (fields, annotated)
}

fn sha1_of(bytes: &[u8]) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    Sha1::digest(bytes).to_vec()
}

/// A field's value when it is a plain number (`int`, `long`): what the bytes say, little
/// endian. Other fields show their bytes only.
fn field_value(tl: &[u8], start: usize, end: usize) -> Option<Value> {
    let bytes = tl.get(start..end)?;
    match bytes.len() {
        4 => Some(json!(i32::from_le_bytes(bytes.try_into().ok()?))),
        8 => Some(json!(i64::from_le_bytes(bytes.try_into().ok()?).to_string())),
        _ => None,
    }
}

/// The text of a `decryptedMessage*` inside, or the action's name for a service message.
fn message_text(object: &e2e::Object) -> Option<String> {
    let json = object.to_json();
    let message = json.get("message").unwrap_or(&json);
    if let Some(text) = message.get("message").and_then(Value::as_str) {
        return Some(text.to_owned());
    }
    message
        .get("action")
        .and_then(|action| action.get("_"))
        .and_then(Value::as_str)
        .map(|action| format!("({action})"))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use secretchat_common::tl::TlWrite;

    use super::*;

    /// A key whose slices at x = 0 and x = 8 differ (a constant key would open either way).
    fn key(seed: u8) -> ChatKey {
        let bytes: Vec<u8> = (0..=255u8)
            .map(|i| i.wrapping_mul(31).wrapping_add(seed))
            .collect();
        ChatKey::from_bytes(&bytes).unwrap()
    }

    fn text_message(text: &str) -> Vec<u8> {
        let json = json!({"_": "decryptedMessageLayer", "random_bytes": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "layer": 144, "in_seq_no": 4, "out_seq_no": 3,
            "message": {"_": "decryptedMessage", "random_id": "7", "ttl": 0, "message": text}});
        e2e::Object::from_json(&json).unwrap().to_bytes()
    }

    #[test]
    fn the_parts_put_back_together_are_the_wire_bytes() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let wire = envelope::seal(
            &key(3),
            Version::V2,
            Side::Participant,
            &text_message("hi"),
            &mut rng,
        )
        .unwrap();
        let mut ring = KeyRing::default();
        ring.add(&key(3), "bob/phone, chat 5".into());
        let shown = dissect(&wire, &ring);
        let glued: String = shown["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["hex"].as_str().unwrap())
            .collect();
        assert_eq!(glued, hex::encode(&wire));
        assert_eq!(shown["text"], "hi");
        assert_eq!(shown["version"], "MTProto 2.0");
        assert_eq!(shown["x"], 8);
        assert_eq!(shown["sender"], "participant");
    }

    #[test]
    fn the_derivation_shown_ends_in_the_key_and_iv_that_opened_the_message() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let wire = envelope::seal(
            &key(4),
            Version::V1,
            Side::Creator,
            &text_message("v1"),
            &mut rng,
        )
        .unwrap();
        let mut ring = KeyRing::default();
        ring.add(&key(4), "alice/phone, chat 5".into());
        let shown = dissect(&wire, &ring);
        assert_eq!(shown["version"], "MTProto 1.0");
        assert_eq!(shown["derivation"]["hashes"].as_array().unwrap().len(), 4);
        assert_eq!(
            shown["derivation"]["outputs"][0]["result"],
            shown["aes_key"]
        );
        assert_eq!(shown["derivation"]["outputs"][1]["result"], shown["aes_iv"]);
    }

    #[test]
    fn every_decrypted_field_sits_at_its_offset_in_the_plaintext() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let wire = envelope::seal(
            &key(5),
            Version::V2,
            Side::Creator,
            &text_message("fields"),
            &mut rng,
        )
        .unwrap();
        let mut ring = KeyRing::default();
        ring.add(&key(5), "alice/phone, chat 5".into());
        let shown = dissect(&wire, &ring);
        let plaintext = hex::decode(shown["plaintext_hex"].as_str().unwrap()).unwrap();
        let fields = shown["fields"].as_array().unwrap();
        for field in fields {
            let (start, end) = (
                field["start"].as_u64().unwrap() as usize,
                field["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                field["hex"].as_str().unwrap(),
                hex::encode(&plaintext[start..end]),
                "{field}"
            );
        }
        let named = |name: &str| {
            fields
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(named("layer")["value"], 144);
        assert_eq!(named("in_seq_no")["value"], 4);
        assert_eq!(named("in_seq_no")["spec"], "3.1");
        assert_eq!(named("random_bytes")["spec"], "2.1");
        assert_eq!(named("padding")["spec"], "2.3");
        assert_eq!(
            named("decryptedMessageLayer#1be31789")["kind"],
            "constructor"
        );
        assert_eq!(shown["sequence"]["sender_by_parity"], "creator");
    }

    #[test]
    fn a_message_under_an_unknown_key_is_split_but_not_opened() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let wire = envelope::seal(
            &key(6),
            Version::V2,
            Side::Creator,
            &text_message("x"),
            &mut rng,
        )
        .unwrap();
        let shown = dissect(&wire, &KeyRing::default());
        assert_eq!(shown["parts"].as_array().unwrap().len(), 3);
        assert!(shown["error"]
            .as_str()
            .unwrap()
            .contains("no device of this run holds"));
        assert!(shown.get("text").is_none());
        let short = dissect(&[1, 2, 3], &KeyRing::default());
        assert!(short["error"]
            .as_str()
            .unwrap()
            .contains("3 bytes cannot be"));
    }
}
