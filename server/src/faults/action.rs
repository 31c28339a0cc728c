//! # What a fault rule does
//!
//! Faults act on protocol messages, not on bytes on a socket: a delivery is one update for
//! one device, and the actions are what a broken or hostile network and server could do
//! to it. The server never loses what it accepted by accident; every action here is the
//! test operator's deliberate choice, and each one is written to the event log.
//!
//! | action | what the device sees |
//! |---|---|
//! | `drop` | nothing: the update is taken out on purpose |
//! | `duplicate {copies}` | the update, then `copies` more copies (messages under new qts) |
//! | `reorder {window}` | `window` matching updates held, then released shuffled (never in the original order) |
//! | `hold {after_deliveries?, until_server_time?}` | nothing until released: by `POST /admin/faults/{id}/release`, after K more deliveries to the device, or at a server-clock date |
//! | `delay {seconds, clock}` | the update `seconds` later: `"server"` clock (released on the first request at or after that date or by the minute sweep; `POST /admin/clock/advance` releases at once) or `"wall"` clock (a timer) |
//! | `skip_qts {count}` | a gap: `count` qts values are never used before this message |
//! | `corrupt {how}` | the `bytes` (or g_a / g_b) changed: `flip_bits {bits}`, `truncate {bytes}`, `extend {blocks}` random blocks, `replace_last_block` |
//! | `replay {after_deliveries}` | the message now, and again (new qts) after K more deliveries |
//! | `reflect` | the message, and a copy sent back to its sender as if from the peer |
//! | `error {error_code, error_message}` | (answers only) the call fails with this `rpc_error`; use `times` for N failures |

use rand::RngCore;
use serde::Deserialize;

use super::rule::DeliveryView;

/// Which clock a `delay` counts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// The server clock (real time plus the admin offset): deterministic in tests.
    Server,
    /// Real time, by a timer.
    Wall,
}

/// How `corrupt` changes bytes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(tag = "how", rename_all = "snake_case", deny_unknown_fields)]
pub enum Corruption {
    /// Flips the given bits; bit `i` is bit `7 − i % 8` of byte `i / 8` (bit 0 is the
    /// most significant bit of the first byte). Without `bits`, one bit of the ciphertext
    /// (after the 24-byte header) is picked by the rule's generator.
    FlipBits {
        #[serde(default)]
        bits: Option<Vec<u64>>,
    },
    /// Cuts `bytes` bytes off the end (default 16: one AES block).
    Truncate {
        #[serde(default = "sixteen")]
        bytes: u64,
    },
    /// Appends `blocks` random 16-byte blocks (default 1).
    Extend {
        #[serde(default = "one_block")]
        blocks: u64,
    },
    /// Replaces the last 16 bytes with random ones.
    ReplaceLastBlock,
}

fn sixteen() -> u64 {
    16
}

fn one_block() -> u64 {
    1
}

/// The most bits one `flip_bits` may name, and the most blocks `extend` may add.
pub const MAX_BITS: usize = 4096;
pub const MAX_BLOCKS: u64 = 1024;

/// What a matching rule does (`"action"`).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    Drop,
    /// Queued (with its qts or pts) but not pushed to the device's live connections: what a
    /// packet lost on the way does. The device learns of it only from `updates.getDifference`
    /// — MTProto clients ask when the next pushed update shows a gap.
    LosePush,
    Duplicate {
        #[serde(default = "one_copy")]
        copies: u32,
    },
    Reorder {
        window: u32,
    },
    Hold {
        #[serde(default)]
        after_deliveries: Option<u32>,
        #[serde(default)]
        until_server_time: Option<i32>,
    },
    Delay {
        seconds: u32,
        #[serde(default = "server_clock")]
        clock: Clock,
    },
    SkipQts {
        count: u32,
    },
    Corrupt(Corruption),
    Replay {
        #[serde(default = "one_copy")]
        after_deliveries: u32,
    },
    Reflect,
    Error {
        error_code: u16,
        error_message: String,
    },
}

fn one_copy() -> u32 {
    1
}

fn server_clock() -> Clock {
    Clock::Server
}

impl FaultAction {
    /// The action's name in events.
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::Drop => "drop",
            FaultAction::LosePush => "lose_push",
            FaultAction::Duplicate { .. } => "duplicate",
            FaultAction::Reorder { .. } => "reorder",
            FaultAction::Hold { .. } => "hold",
            FaultAction::Delay { .. } => "delay",
            FaultAction::SkipQts { .. } => "skip_qts",
            FaultAction::Corrupt(_) => "corrupt",
            FaultAction::Replay { .. } => "replay",
            FaultAction::Reflect => "reflect",
            FaultAction::Error { .. } => "error",
        }
    }

    /// Checks the action's own parameters.
    pub fn check(&self) -> Result<(), String> {
        match self {
            FaultAction::Duplicate { copies } if *copies == 0 || *copies > 100 => {
                Err(format!("duplicate copies must be 1..=100, got {copies}"))
            }
            FaultAction::Reorder { window } if *window < 2 || *window > 1000 => Err(format!(
                "reorder window must be 2..=1000 (one update cannot be reordered), got {window}"
            )),
            FaultAction::Hold {
                after_deliveries: Some(0),
                ..
            } => Err("hold after_deliveries must be at least 1".into()),
            FaultAction::Hold {
                after_deliveries: Some(_),
                until_server_time: Some(_),
            } => Err("hold takes after_deliveries or until_server_time, not both".into()),
            FaultAction::SkipQts { count } if *count == 0 || *count > 1_000_000 => {
                Err(format!("skip_qts count must be 1..=1000000, got {count}"))
            }
            FaultAction::Replay { after_deliveries } if *after_deliveries == 0 => {
                Err("replay after_deliveries must be at least 1".into())
            }
            FaultAction::Corrupt(Corruption::FlipBits { bits: Some(bits) })
                if bits.is_empty() || bits.len() > MAX_BITS =>
            {
                Err(format!(
                    "flip_bits takes 1..={MAX_BITS} bit indices, got {}",
                    bits.len()
                ))
            }
            FaultAction::Corrupt(Corruption::Truncate { bytes }) if *bytes == 0 => {
                Err("truncate bytes must be at least 1".into())
            }
            FaultAction::Corrupt(Corruption::Extend { blocks })
                if *blocks == 0 || *blocks > MAX_BLOCKS =>
            {
                Err(format!(
                    "extend blocks must be 1..={MAX_BLOCKS}, got {blocks}"
                ))
            }
            FaultAction::Error {
                error_code,
                error_message,
            } => {
                if !(400..=599).contains(error_code) {
                    return Err(format!("error_code must be 400..=599, got {error_code}"));
                }
                let valid = !error_message.is_empty()
                    && error_message.len() <= 64
                    && error_message
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                if !valid {
                    return Err(format!(
                        "error_message must be 1..=64 characters of A-Z, 0-9 and _, got {error_message:?}"
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether this action can act on the delivery (a rule matches only those).
    pub fn applies_to(&self, delivery: &DeliveryView<'_>) -> bool {
        use crate::delivery::UpdateKind::*;
        match self {
            FaultAction::Error { .. } => false,
            FaultAction::SkipQts { .. } | FaultAction::Replay { .. } => delivery.kind.is_message(),
            FaultAction::Reflect => delivery.kind.is_message() && delivery.has_sender,
            FaultAction::Corrupt(_) => matches!(
                delivery.kind,
                NewEncryptedMessage
                    | NewEncryptedServiceMessage
                    | EncryptionRequested
                    | EncryptionAccepted
            ),
            _ => true,
        }
    }
}

/// Applies a corruption to `bytes`; answers a sentence of what changed.
pub fn corrupt(bytes: &mut Vec<u8>, how: &Corruption, rng: &mut impl RngCore) -> String {
    match how {
        Corruption::FlipBits { bits } => {
            let total = bytes.len() as u64 * 8;
            let bits = match bits {
                Some(bits) => bits.clone(),
                None if total > 24 * 8 => vec![24 * 8 + rng.next_u64() % (total - 24 * 8)],
                None if total > 0 => vec![rng.next_u64() % total],
                None => vec![],
            };
            let mut flipped = Vec::new();
            for bit in bits {
                let Ok(byte) = usize::try_from(bit / 8) else {
                    continue;
                };
                if let Some(b) = bytes.get_mut(byte) {
                    *b ^= 0x80 >> (bit % 8);
                    flipped.push(bit);
                }
            }
            format!("flipped bits {flipped:?} of {} bytes", bytes.len())
        }
        Corruption::Truncate { bytes: cut } => {
            let before = bytes.len();
            let keep = before.saturating_sub(usize::try_from(*cut).unwrap_or(usize::MAX));
            bytes.truncate(keep);
            format!("truncated {before} bytes to {keep}")
        }
        Corruption::Extend { blocks } => {
            let before = bytes.len();
            let mut extra = vec![0u8; 16 * usize::try_from(*blocks).unwrap_or(1)];
            rng.fill_bytes(&mut extra);
            bytes.extend_from_slice(&extra);
            format!(
                "extended {before} bytes by {blocks} random blocks to {}",
                bytes.len()
            )
        }
        Corruption::ReplaceLastBlock => {
            let len = bytes.len();
            let start = len.saturating_sub(16);
            if let Some(tail) = bytes.get_mut(start..) {
                rng.fill_bytes(tail);
            }
            format!("replaced bytes {start}..{len} (the last block) with random ones")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn flip_bits_counts_bit_zero_as_the_top_bit_of_the_first_byte() {
        let mut bytes = vec![0u8; 4];
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        corrupt(
            &mut bytes,
            &Corruption::FlipBits {
                bits: Some(vec![0, 15, 999]),
            },
            &mut rng,
        );
        assert_eq!(bytes, vec![0x80, 0x01, 0, 0]);
    }

    #[test]
    fn truncate_extend_and_replace_change_exactly_the_tail() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let original: Vec<u8> = (0..64).collect();
        let mut cut = original.clone();
        corrupt(&mut cut, &Corruption::Truncate { bytes: 16 }, &mut rng);
        assert_eq!(cut, original[..48]);
        let mut longer = original.clone();
        corrupt(&mut longer, &Corruption::Extend { blocks: 2 }, &mut rng);
        assert_eq!((&longer[..64], longer.len()), (&original[..], 96));
        let mut replaced = original.clone();
        corrupt(&mut replaced, &Corruption::ReplaceLastBlock, &mut rng);
        assert_eq!(replaced[..48], original[..48]);
        assert_ne!(replaced[48..], original[48..]);
    }
}
