//! `decode` and `encode`: one encrypted message opened or sealed, with every value the
//! protocol derives along the way shown as JSON.
//!
//! `decode` is what a learner (or someone debugging a client) reaches for with a wire blob
//! and a key in hand: it says which MTProto version and which `x` opened the message, the
//! `msg_key`, the derived AES key and IV, the padding, and the TL object inside — or, for
//! every way it tried, exactly which check failed. `encode` is the reverse, reproducible
//! byte for byte when given `--padding`.

use std::io::Read;

use clap::{Args, ValueEnum};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

use secretchat_common::envelope::{self, OpenAnyError, Opened, Sealed, Side, Version};
use secretchat_common::seq_no::{SeqField, WireSeqNo};
use secretchat_common::tl::e2e::Object;
use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use secretchat_common::ChatKey;

/// A command-line problem (exit status 2) or a message that failed the protocol's checks
/// (exit status 1, with the verdict as JSON).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("the message was rejected")]
    Rejected(Value),
    #[error("{0}")]
    Usage(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionArg {
    /// MTProto 1.0 (SHA-1, minimal padding), used below layer 73.
    V1,
    /// MTProto 2.0 (SHA-256, 12..1024 bytes of padding), from layer 73 on.
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SenderArg {
    /// The chat's creator sent it (MTProto 2.0 x = 0).
    Creator,
    /// The participant sent it (MTProto 2.0 x = 8).
    Participant,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The 256-byte chat key, as hex. Without it, WIRE_HEX is read as plain TL bytes.
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
    /// Only try this version (default: try MTProto 1.0, then 2.0 from either side).
    #[arg(long, value_enum, requires = "key")]
    pub version: Option<VersionArg>,
    /// Only try messages from this side (matters for MTProto 2.0).
    #[arg(long, value_enum, requires = "key")]
    pub sender: Option<SenderArg>,
    /// The encrypted message (key_fingerprint ‖ msg_key ‖ ciphertext) as hex; `-` reads
    /// it from standard input.
    #[arg(value_name = "WIRE_HEX")]
    pub wire: String,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The 256-byte chat key, as hex.
    #[arg(long, value_name = "HEX")]
    pub key: String,
    /// MTProto version to seal with.
    #[arg(long, value_enum, default_value = "v2")]
    pub version: VersionArg,
    /// Who sends the message (selects MTProto 2.0's x).
    #[arg(long, value_enum, default_value = "creator")]
    pub sender: SenderArg,
    /// The padding to use, as hex (v1: exactly the minimal 0..15 bytes; v2: 12..1024 bytes
    /// making the total a multiple of 16). Without it the padding is random.
    #[arg(long, value_name = "HEX")]
    pub padding: Option<String>,
    /// Seed for the random padding, for reproducible output without choosing the bytes.
    #[arg(long, conflicts_with = "padding")]
    pub seed: Option<u64>,
    /// Print only the wire bytes as hex (ready for `decode`).
    #[arg(long)]
    pub wire_only: bool,
    /// The TL object as JSON (`{"_": "decryptedMessageLayer", ...}`); `@FILE` reads a
    /// file, `-` standard input.
    #[arg(value_name = "JSON")]
    pub object: String,
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// Reads `-` as standard input, `@path` as a file, anything else as itself.
fn argument_text(arg: &str, allow_file: bool) -> Result<String, CliError> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| usage(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    match arg.strip_prefix('@') {
        Some(path) if allow_file => {
            std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read {path}: {e}")))
        }
        _ => Ok(arg.to_string()),
    }
}

fn parse_hex(what: &str, text: &str) -> Result<Vec<u8>, CliError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.strip_prefix("0x").unwrap_or(&compact);
    hex::decode(compact).map_err(|e| usage(format!("{what} is not valid hex: {e}")))
}

fn parse_key(text: &str) -> Result<ChatKey, CliError> {
    ChatKey::from_bytes(&parse_hex("--key", text)?).map_err(|e| usage(format!("--key: {e}")))
}

fn version_of(arg: VersionArg) -> Version {
    match arg {
        VersionArg::V1 => Version::V1,
        VersionArg::V2 => Version::V2,
    }
}

fn side_of(arg: SenderArg) -> Side {
    match arg {
        SenderArg::Creator => Side::Creator,
        SenderArg::Participant => Side::Participant,
    }
}

fn version_name(version: Version) -> &'static str {
    match version {
        Version::V1 => "v1",
        Version::V2 => "v2",
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Creator => "creator",
        Side::Participant => "participant",
    }
}

/// The TL object inside, or why it does not decode.
fn describe_tl(tl: &[u8]) -> Value {
    match Object::from_bytes(tl) {
        Ok(object) => {
            let mut out = json!({ "object": object.to_json() });
            if let Some(sequence) = describe_sequence(&object) {
                out["sequence"] = sequence;
            }
            out
        }
        Err(error) => json!({ "tl_error": error.to_string() }),
    }
}

/// Reads the parity of a decryptedMessageLayer's sequence numbers: which side sent it,
/// and the raw counters behind the wire values (SPEC §3.1).
pub(crate) fn describe_sequence(object: &Object) -> Option<Value> {
    let Object::DecryptedMessageLayer(layer) = object else {
        return None;
    };
    let fits = |sender: Side| {
        let in_raw = WireSeqNo(layer.in_seq_no)
            .to_raw(SeqField::In, sender)
            .ok()?;
        let out_raw = WireSeqNo(layer.out_seq_no)
            .to_raw(SeqField::Out, sender)
            .ok()?;
        Some((sender, in_raw, out_raw))
    };
    Some(
        match fits(Side::Creator).or_else(|| fits(Side::Participant)) {
            Some((sender, in_raw, out_raw)) => json!({
                "sender_by_parity": side_name(sender),
                "in_seq_no": { "wire": layer.in_seq_no, "raw": in_raw.0 },
                "out_seq_no": { "wire": layer.out_seq_no, "raw": out_raw.0 },
            }),
            None => json!({
                "sender_by_parity": null,
                "error": "the parities of in_seq_no and out_seq_no fit neither side (SPEC §3.1): a receiver must abort the chat",
                "in_seq_no": { "wire": layer.in_seq_no },
                "out_seq_no": { "wire": layer.out_seq_no },
            }),
        },
    )
}

fn describe_opened(
    key: &ChatKey,
    opened: &Opened,
    version: Version,
    sender: Option<Side>,
) -> Value {
    let mut out = json!({
        "key_fingerprint": key.fingerprint().to_string(),
        "key_fingerprint_i64": key.fingerprint().as_i64().to_string(),
        "version": version_name(version),
        "x": sender.map(|side| side.x().offset()),
        "sender": sender.map(side_name),
        "msg_key": hex::encode(opened.msg_key().as_bytes()),
        "aes_key": hex::encode(opened.aes_key_iv().key()),
        "aes_iv": hex::encode(opened.aes_key_iv().iv()),
        "length": opened.tl().len(),
        "padding_length": opened.padding_len(),
        "tl": hex::encode(opened.tl()),
    });
    merge(&mut out, describe_tl(opened.tl()));
    // Where each field lies in the decrypted buffer (le_u32(L) ‖ TL ‖ padding).
    out["fields"] = Value::Array(crate::web::anatomy::plaintext_fields(opened, version).0);
    out
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// `secretchat-peer decode`.
pub fn decode(args: &DecodeArgs) -> Result<Value, CliError> {
    let wire = parse_hex("WIRE_HEX", &argument_text(&args.wire, false)?)?;
    let Some(key_text) = &args.key else {
        return plain_tl(&wire);
    };
    let key = parse_key(key_text)?;

    // With --version/--sender, try exactly what was asked.
    if args.version.is_some() || args.sender.is_some() {
        let sender = args.sender.map(side_of).unwrap_or(Side::Creator);
        let versions = match args.version {
            Some(version) => vec![version_of(version)],
            None => vec![Version::V1, Version::V2],
        };
        let mut attempts = serde_json::Map::new();
        for version in versions {
            match envelope::open(&key, version, sender, &wire) {
                Ok(opened) => {
                    let shown_sender = (version == Version::V2).then_some(sender);
                    return Ok(describe_opened(&key, &opened, version, shown_sender));
                }
                Err(error) => {
                    attempts.insert(version_name(version).into(), error.to_string().into());
                }
            }
        }
        return Err(CliError::Rejected(
            json!({ "error": "no attempt opened the message", "attempts": attempts }),
        ));
    }

    match envelope::open_any(&key, &wire) {
        Ok((opened, version, sender)) => Ok(describe_opened(&key, &opened, version, sender)),
        Err(OpenAnyError::Envelope(error)) => Err(CliError::Rejected(json!({
            "error": error.to_string(),
            "key_fingerprint": key.fingerprint().to_string(),
            "wire_key_fingerprint": envelope::key_fingerprint(&wire).map(|f| f.to_string()),
        }))),
        Err(OpenAnyError::NoVersionOpened {
            v1,
            v2_creator,
            v2_participant,
        }) => Err(CliError::Rejected(json!({
            "error": "no version opened the message",
            "attempts": {
                "v1": v1.to_string(),
                "v2_from_creator": v2_creator.to_string(),
                "v2_from_participant": v2_participant.to_string(),
            },
        }))),
    }
}

fn plain_tl(tl: &[u8]) -> Result<Value, CliError> {
    let described = describe_tl(tl);
    if described.get("tl_error").is_some() {
        Err(CliError::Rejected(described))
    } else {
        Ok(described)
    }
}

fn describe_sealed(
    key: &ChatKey,
    sealed: &Sealed,
    version: Version,
    sender: Side,
    tl: &[u8],
) -> Value {
    json!({
        "wire": hex::encode(sealed.wire()),
        "key_fingerprint": key.fingerprint().to_string(),
        "version": version_name(version),
        "x": (version == Version::V2).then(|| sender.x().offset()),
        "sender": side_name(sender),
        "msg_key": hex::encode(sealed.msg_key().as_bytes()),
        "aes_key": hex::encode(sealed.aes_key_iv().key()),
        "aes_iv": hex::encode(sealed.aes_key_iv().iv()),
        "length": tl.len(),
        "padding_length": sealed.padded_plaintext().len() - 4 - tl.len(),
        "tl": hex::encode(tl),
    })
}

/// `secretchat-peer encode`.
pub fn encode(args: &EncodeArgs) -> Result<Value, CliError> {
    let key = parse_key(&args.key)?;
    let text = argument_text(&args.object, true)?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("the object is not JSON: {e}")))?;
    let object = Object::from_json(&json).map_err(|e| {
        usage(format!(
            "the object is not a TL object of the end-to-end schema: {e}"
        ))
    })?;
    let tl = object.to_bytes();
    let version = version_of(args.version);
    let sender = side_of(args.sender);

    let sealed = match &args.padding {
        Some(padding) => envelope::seal_with_padding(
            &key,
            version,
            sender,
            &tl,
            &parse_hex("--padding", padding)?,
        )
        .map_err(|e| usage(format!("--padding: {e}")))?,
        None => {
            let mut rng = match args.seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_entropy(),
            };
            let wire = envelope::seal(&key, version, sender, &tl, &mut rng)
                .map_err(|e| usage(e.to_string()))?;
            // Open it again to show the derived values (and to prove it opens).
            let opened = envelope::open(&key, version, sender, &wire)
                .map_err(|e| usage(format!("sealed message does not open: {e}")))?;
            let padding = &opened.padded_plaintext()[4 + tl.len()..];
            envelope::seal_with_padding(&key, version, sender, &tl, padding)
                .map_err(|e| usage(e.to_string()))?
        }
    };
    if args.wire_only {
        return Ok(Value::String(hex::encode(sealed.wire())));
    }
    Ok(describe_sealed(&key, &sealed, version, sender, &tl))
}
