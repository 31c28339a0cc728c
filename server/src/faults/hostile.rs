//! # Hostile modes: a server that attacks the chats it serves
//!
//! Fault rules imitate a bad network; hostile modes imitate a malicious server — what a
//! correct client must *refuse* (SPEC §1.2, §1.3, §1.6, §1.7, §2.2, §6). Installed with
//! `POST /admin/hostile` for one chat (`"chat_id"`), for the next chat a user requests
//! (`"next_chat_of": "alice"`, since chat ids are chosen by clients), or — for the DH
//! parameters — for one device (`"device"`):
//!
//! | mode | what the server does |
//! |---|---|
//! | `bad_dh {params}` (device) | `messages.getDhConfig` serves `non_safe_prime`, `composite`, `wrong_size` (2047 bits), `g_not_residue` (g = 2 with Telegram's p) or `g_one` |
//! | `degenerate_g_a {value}` | B is shown g_a = `zero`, `one`, `p_minus_1` or `below_2_1984` (2^1984 − 1) |
//! | `degenerate_g_b {value}` | A is shown such a g_b in `encryptedChat` |
//! | `mitm` | a real man in the middle of the key exchange and of every re-key ([`super::mitm`]) |
//! | `altered_fingerprint` | A is shown `encryptedChat` with `key_fingerprint` XOR 1 |
//! | `swap_file {with_file_id}` | `upload.getFile` of a file sent in the chat serves the same range of another stored file |
//! | `truncate_file {bytes}` | `upload.getFile` of a file sent in the chat serves each range `bytes` shorter |
//! | `padding_malleability {variant}` | every encrypted message of the chat gets `append_blocks {blocks}` whole random blocks, or `rewrite_last_block` — MTProto 1.0's malleable padding (Jakobsen & Orlandi 2015); a v1 receiver must reject by the padding bounds, a v2 receiver by msg_key |
//!
//! This file holds the modes' specs and rewrites the deliveries of their chats (step 2 of
//! a delivery through the engine); the man in the middle's part is [`super::mitm`], and
//! the modes that rewrite answers (`bad_dh`, the files, g_a in `acceptEncryption`'s
//! answer) are in [`super::answers`]. Each substitution is a `hostile` event in the log.

use num_bigint::BigUint;
use secretchat_common::dh::CheckedConfig;
use secretchat_common::tl::api::{enums, types};
use serde::Deserialize;
use serde_json::{json, Value};

use super::action::{corrupt, Corruption};
use super::engine::Engine;
use super::installed::{Installed, Spec};
use super::mitm::intercept::intercept;
use super::rule::DeviceMatcher;
use super::{with_bytes, FaultContext};
use crate::delivery::{Delivery, UpdateKind};
use crate::device::{DeviceId, DeviceRecord};
use crate::event_log::LogEvent;

/// A 2048-bit prime `p` whose `(p − 1)/2` is composite (`vectors/vectors.json`,
/// `dh_nonsafe_prime_g3`); `p mod 3 = 2`, so g = 3 passes the residue rule and only the
/// safe-prime test catches it.
pub const NON_SAFE_PRIME: &str = "dcd7a5ef82a31081d49416e35542d49987e20e171e493592c6b40511379d1018ebd995616c4f644ebe3abc13af6770da5ca00081e0c05ee3db21af733f78ce8e00ece6da25adf24370a1ce059d98799057d80bae43996ff891704b53ff86fbcea5e2a618b3e4a14e17da7c00ca16f640a8c5907783028dc21dbfca27bed71c0bdc1dd9ddd39dcf6c35ad99dc708203b6a2f4ed4cffa46e9d5ba5977d9e6cf89b4192f4226d6a6e5fabd9d64e9ab61a3e1fa32b7e71d4808f250eedf4d812b2f828d9b3c04fbe290c09a68e1b9b2166791f9ae2655419a04707a83a1b52bd6988853c68dfaac97b6003c61cdf301c0c6dfcefb4db012e3ba9c022166eb0b2f4f5";

/// A 2047-bit safe prime (`vectors/vectors.json`, `dh_prime_2047_bits_g3`): 256 bytes
/// whose top bit is clear.
pub const PRIME_2047_BITS: &str = "4ec039f0a7548ee4479913d7d8da5c13effae2267bb7489ad81028761581d19f94795617fdbbc44b7011198f541a61f7512058479edb599a1c5b1969769fedce454a8e0961b2ae67e819fdbf6b2782ffb709257c3445c79541000c1775049f8093334678facfcce40c8b7c8fbcb952e93884fc207a458e4107416f3d64d879a13f0ad54a66d58c4482fa5f2289d2ea1efb39e8ed7a902be43a0803ac3398520a6d73812418cbead7faa3d17f938db2f17eb6f6431f8e029f1084b4a5378dac4392580aba64ab158ea907891424b4605db581ab21040dc88b69ad488144aa478e3f9ef5984735ca0adead5f44f127843f3456dcf89f3426a19f3c65837bfa5093";

/// Which bad `(p, g)` to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BadDh {
    NonSafePrime,
    /// Telegram's prime plus the least amount that keeps it odd and makes it divisible
    /// by 3 (so 2048 bits and composite), with g = 4, a square, which passes the residue
    /// rule for any p: only the primality test refuses it.
    Composite,
    WrongSize,
    GNotResidue,
    GOne,
}

/// The `(p, g)` a `bad_dh` mode serves.
pub fn bad_dh_params(kind: BadDh) -> (Vec<u8>, i32) {
    let telegram = CheckedConfig::telegram_default();
    let p = telegram.p_bytes().to_vec();
    match kind {
        BadDh::NonSafePrime => (hex::decode(NON_SAFE_PRIME).unwrap_or_default(), 3),
        BadDh::WrongSize => (hex::decode(PRIME_2047_BITS).unwrap_or_default(), 3),
        BadDh::Composite => {
            let big = BigUint::from_bytes_be(&p);
            let rem = (&big % 3u32).iter_u32_digits().next().unwrap_or(0);
            // Add 3 − rem (and 3 more if that makes it even), keeping it odd and 2048 bits.
            let mut composite = big + (3 - rem);
            if (&composite % 2u32) == BigUint::from(0u32) {
                composite += 3u32;
            }
            (composite.to_bytes_be(), 4)
        }
        BadDh::GNotResidue => (p, 2),
        BadDh::GOne => (p, 1),
    }
}

/// A degenerate public value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Degenerate {
    Zero,
    One,
    #[serde(rename = "p_minus_1")]
    PMinus1,
    /// 2^1984 − 1: inside the mandatory range, below the recommended one.
    #[serde(rename = "below_2_1984")]
    Below2To1984,
}

impl Degenerate {
    /// The 256-byte value, for the server's `p`.
    pub fn value(self, config: &CheckedConfig) -> Vec<u8> {
        let mut bytes = vec![0u8; 256];
        match self {
            Degenerate::Zero => {}
            Degenerate::One => bytes[255] = 1,
            Degenerate::PMinus1 => {
                let p = BigUint::from_bytes_be(config.p_bytes()) - 1u32;
                let be = p.to_bytes_be();
                bytes[256 - be.len()..].copy_from_slice(&be);
            }
            Degenerate::Below2To1984 => {
                // 2^1984 − 1: the low 1984 bits (248 bytes) all set.
                for b in &mut bytes[8..] {
                    *b = 0xff;
                }
            }
        }
        bytes
    }
}

/// How the padding-malleability mode changes each message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(tag = "variant", rename_all = "snake_case", deny_unknown_fields)]
pub enum Malleability {
    AppendBlocks {
        #[serde(default = "one")]
        blocks: u64,
    },
    RewriteLastBlock,
}

fn one() -> u64 {
    1
}

/// A hostile mode (`"mode"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Mode {
    BadDh {
        params: BadDh,
    },
    DegenerateGA {
        value: Degenerate,
    },
    DegenerateGB {
        value: Degenerate,
    },
    Mitm,
    AlteredFingerprint,
    SwapFile {
        with_file_id: String,
    },
    TruncateFile {
        #[serde(default = "sixteen")]
        bytes: u64,
    },
    PaddingMalleability(Malleability),
}

fn sixteen() -> u64 {
    16
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::BadDh { .. } => "bad_dh",
            Mode::DegenerateGA { .. } => "degenerate_g_a",
            Mode::DegenerateGB { .. } => "degenerate_g_b",
            Mode::Mitm => "mitm",
            Mode::AlteredFingerprint => "altered_fingerprint",
            Mode::SwapFile { .. } => "swap_file",
            Mode::TruncateFile { .. } => "truncate_file",
            Mode::PaddingMalleability(_) => "padding_malleability",
        }
    }
}

/// Who a mode is for (exactly one of the three fields).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostileSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_chat_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceMatcher>,
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl HostileSpec {
    pub fn check(&self) -> Result<(), String> {
        let targets = usize::from(self.chat_id.is_some())
            + usize::from(self.next_chat_of.is_some())
            + usize::from(self.device.is_some());
        if targets != 1 {
            return Err("name exactly one of chat_id, next_chat_of, device".into());
        }
        match (&self.mode, self.device.is_some()) {
            (Mode::BadDh { .. }, false) => {
                Err("bad_dh is served by getDhConfig to a device: name it with \"device\"".into())
            }
            (Mode::BadDh { .. }, true) => Ok(()),
            (_, true) => Err(format!(
                "{} acts on a chat: name it with chat_id or next_chat_of",
                self.mode.name()
            )),
            (Mode::SwapFile { with_file_id }, _) if with_file_id.parse::<i64>().is_err() => Err(
                format!("with_file_id must be a file id (a decimal long), got {with_file_id:?}"),
            ),
            (Mode::TruncateFile { bytes: 0 }, _) => {
                Err("truncate_file bytes must be at least 1".into())
            }
            (Mode::PaddingMalleability(Malleability::AppendBlocks { blocks }), _)
                if *blocks == 0 || *blocks > 1024 =>
            {
                Err(format!(
                    "append_blocks blocks must be 1..=1024, got {blocks}"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// What an installed mode keeps besides its counters.
#[derive(Debug, Default)]
pub struct HostileState {
    /// For `next_chat_of`: the chat it was bound to.
    pub bound_chat: Option<i32>,
}

impl Spec for HostileSpec {
    const KEY: &'static str = "hostile";
    type State = HostileState;

    fn seed(&self) -> Option<u64> {
        self.seed
    }

    fn installed(engine: &mut Engine) -> &mut Vec<Installed<Self>> {
        &mut engine.hostile
    }

    /// The man in the middle forgets the chats no `mitm` mode is left for.
    fn removed(engine: &mut Engine, _: &dyn FaultContext, _: Vec<Installed<Self>>) {
        let chats: Vec<i32> = engine
            .hostile
            .iter()
            .filter(|h| h.spec.mode == Mode::Mitm)
            .filter_map(Installed::chat)
            .collect();
        engine.mitm.retain(|chat, _| chats.contains(chat));
    }
}

impl Installed<HostileSpec> {
    /// The chat the mode acts on: named, or bound by `next_chat_of`.
    pub fn chat(&self) -> Option<i32> {
        self.spec.chat_id.or(self.state.bound_chat)
    }

    /// Logs what the mode did (a `hostile` event; `detail`'s fields are added to it).
    pub fn log(
        &self,
        ctx: &dyn FaultContext,
        now: i32,
        device: Option<DeviceId>,
        chat_id: Option<i32>,
        detail: Value,
    ) {
        let mut event = json!({
            "event": "hostile",
            "mode_id": self.id,
            "seed": self.seed,
            "mode": self.spec.mode.name(),
            "device": device.map(|d| d.0.to_string()),
            "chat_id": chat_id,
        });
        if let (Some(event), Value::Object(detail)) = (event.as_object_mut(), detail) {
            event.extend(detail);
        }
        ctx.events().record(now, LogEvent::Fault(event));
    }
}

impl Engine {
    /// The installed modes as the admin surface lists them.
    pub fn hostile_json(&self) -> Value {
        let modes: Vec<Value> = self
            .hostile
            .iter()
            .map(|h| h.json(json!({"bound_chat_id": h.state.bound_chat, "applied": h.applied})))
            .collect();
        json!({"modes": modes})
    }

    /// Binds `next_chat_of` modes armed for the user who created `chat_id`.
    pub fn bind_next_chat(&mut self, ctx: &dyn FaultContext, chat_id: i32, admin_id: i64) {
        if self.hostile.iter().any(|h| h.chat() == Some(chat_id)) {
            return;
        }
        let Some(admin) = ctx.username(admin_id) else {
            return;
        };
        for hostile in self.hostile.iter_mut() {
            if hostile.state.bound_chat.is_none()
                && hostile.spec.next_chat_of.as_deref() == Some(admin.as_str())
            {
                hostile.state.bound_chat = Some(chat_id);
            }
        }
    }

    /// Step 2 of a delivery: the chat's hostile modes rewrite it.
    pub fn hostile_delivery(
        &mut self,
        ctx: &dyn FaultContext,
        to: &DeviceRecord,
        delivery: Delivery,
    ) -> Delivery {
        let now = ctx.now();
        let Some(chat_id) = delivery.chat_id() else {
            return delivery;
        };
        if let Delivery::Other(enums::Update::UpdateEncryption(types::UpdateEncryption {
            chat: enums::EncryptedChat::EncryptedChatRequested(requested),
            ..
        })) = &delivery
        {
            self.bind_next_chat(ctx, chat_id, requested.admin_id);
        }
        if let Delivery::Message(message) = &delivery {
            if let enums::EncryptedMessage::EncryptedMessage(types::EncryptedMessage {
                file: enums::EncryptedFile::EncryptedFile(file),
                ..
            }) = message.as_ref()
            {
                self.file_chats.insert(file.id, chat_id);
            }
        }
        let Engine { hostile, mitm, .. } = self;
        let mut delivery = delivery;
        let config = ctx.dh();
        let note = |mode: &Installed<HostileSpec>, detail: Value| {
            mode.log(ctx, now, Some(to.id), Some(chat_id), detail);
        };
        for mode in hostile.iter_mut().filter(|h| h.chat() == Some(chat_id)) {
            let kind = delivery.kind();
            match (&mode.spec.mode, kind) {
                (Mode::DegenerateGA { value }, UpdateKind::EncryptionRequested)
                | (Mode::DegenerateGB { value }, UpdateKind::EncryptionAccepted) => {
                    let which = if kind == UpdateKind::EncryptionRequested {
                        "g_a"
                    } else {
                        "g_b"
                    };
                    let forged = value.value(config);
                    delivery = with_bytes(&delivery, |public| *public = forged);
                    mode.applied += 1;
                    note(
                        mode,
                        json!({"detail": format!("{which} replaced with {value:?}")}),
                    );
                }
                (Mode::AlteredFingerprint, UpdateKind::EncryptionAccepted) => {
                    if let Delivery::Other(enums::Update::UpdateEncryption(mut update)) = delivery {
                        if let enums::EncryptedChat::EncryptedChat(chat) = &mut update.chat {
                            let real = chat.key_fingerprint;
                            chat.key_fingerprint ^= 1;
                            note(
                                mode,
                                json!({
                                    "detail": "key_fingerprint XOR 1",
                                    "real_key_fingerprint": real.to_string(),
                                    "forwarded_key_fingerprint": chat.key_fingerprint.to_string(),
                                }),
                            );
                        }
                        mode.applied += 1;
                        delivery = Delivery::Other(enums::Update::UpdateEncryption(update));
                    }
                }
                (
                    Mode::PaddingMalleability(variant),
                    UpdateKind::NewEncryptedMessage | UpdateKind::NewEncryptedServiceMessage,
                ) => {
                    let how = match variant {
                        Malleability::AppendBlocks { blocks } => {
                            Corruption::Extend { blocks: *blocks }
                        }
                        Malleability::RewriteLastBlock => Corruption::ReplaceLastBlock,
                    };
                    let mut detail = String::new();
                    delivery = with_bytes(&delivery, |bytes| {
                        detail = corrupt(bytes, &how, &mut mode.rng)
                    });
                    mode.applied += 1;
                    note(mode, json!({"detail": detail}));
                }
                (Mode::Mitm, _) => {
                    delivery = intercept(ctx, mitm, mode, to, chat_id, delivery);
                }
                _ => {}
            }
        }
        delivery
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secretchat_common::dh::{check_config, check_public_value, DhError};

    #[test]
    fn every_bad_dh_kind_fails_the_client_check_it_names() {
        let check = |kind| {
            let (p, g) = bad_dh_params(kind);
            check_config(&p, g).unwrap_err()
        };
        assert_eq!(check(BadDh::NonSafePrime), DhError::PrimeNotSafe);
        assert_eq!(check(BadDh::Composite), DhError::PrimeNotPrime);
        assert!(matches!(
            check(BadDh::WrongSize),
            DhError::PrimeWrongSize {
                bits: 2047,
                len: 256
            }
        ));
        assert!(matches!(
            check(BadDh::GNotResidue),
            DhError::GeneratorNotQuadraticResidue { g: 2, .. }
        ));
        assert_eq!(check(BadDh::GOne), DhError::GeneratorOutOfRange { g: 1 });
    }

    #[test]
    fn every_degenerate_value_fails_the_public_value_check() {
        let config = CheckedConfig::telegram_default();
        for value in [
            Degenerate::Zero,
            Degenerate::One,
            Degenerate::PMinus1,
            Degenerate::Below2To1984,
        ] {
            assert!(
                check_public_value(&config, &value.value(&config)).is_err(),
                "{value:?}"
            );
        }
    }
}
