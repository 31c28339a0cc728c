//! Which envelope version a received message may use (SPEC §2.5).
//!
//! MTProto 1.0 was the first encryption of secret-chat messages; 2.0 replaced it and is
//! mandatory once both sides are at layer 73. A chat that started below 73 moves from one
//! to the other, so for a while both can arrive. The rules for the receiver:
//!
//! ```text
//!   try the version the common layer calls for first, then the other one;
//!   refuse MTProto 1.0 for a message whose decryptedMessageLayer says layer ≥ 73;
//!   once an MTProto 2.0 message (or one at layer ≥ 73) arrived with out_seq_no N,
//!   refuse MTProto 1.0 for every out_seq_no above N (older ones may still fill gaps).
//! ```
//!
//! Both refusals abort the chat: a downgrade to the weaker version is an attack. That is
//! the default profile's reading ([`VersionPolicy::ByLayer`]). Telegram Android reads it
//! differently ([`VersionPolicy::V2ThenV1UntilFirstInOrderV2`], `SecretChatHelper.java`
//! `decryptMessage`):
//!
//! ```text
//!   try MTProto 2.0; try 1.0 only while the first wrapped message processed in order
//!   was not 2.0 (mtproto_seq == 0); no rule by layer — telethon-secret-chat's MTProto 1.0
//!   NotifyLayer at layer 101 is accepted; a message no allowed version opens is dropped
//! ```

use serde::{Deserialize, Serialize};

use super::layer::Layer;
use super::profile::VersionPolicy;
use super::violation::AbortReason;
use crate::envelope::Version;
use crate::seq_no::RawSeqNo;

/// What the receiver has learnt about the peer's envelope version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRules {
    /// The lowest raw out_seq_no that arrived under MTProto 2.0 or at layer ≥ 73.
    v2_from: Option<RawSeqNo>,
    /// The version of the first wrapped message processed in order (Android's
    /// `mtproto_seq` becomes non-zero when it was MTProto 2.0).
    #[serde(default)]
    first_in_order: Option<Version>,
}

impl VersionRules {
    /// The versions to try, in order, for a message received at this common layer.
    pub fn try_order(&self, policy: VersionPolicy, common: Layer) -> &'static [Version] {
        match policy {
            VersionPolicy::ByLayer => match common.sending_version() {
                Version::V1 => &[Version::V1, Version::V2],
                Version::V2 => &[Version::V2, Version::V1],
            },
            VersionPolicy::V2ThenV1UntilFirstInOrderV2 if self.locked_to_v2() => &[Version::V2],
            VersionPolicy::V2ThenV1UntilFirstInOrderV2 => &[Version::V2, Version::V1],
        }
    }

    /// Android: the first wrapped message processed in order was MTProto 2.0, so 1.0 is
    /// never tried again (`tryAnotherDecrypt = false` once `mtproto_seq != 0`).
    pub fn locked_to_v2(&self) -> bool {
        self.first_in_order == Some(Version::V2)
    }

    /// A wrapped message opened with `version` was processed in order.
    pub fn processed_in_order(&mut self, version: Version) {
        self.first_in_order.get_or_insert(version);
    }

    /// The raw out_seq_no from which MTProto 1.0 is refused, if it is known.
    pub fn v2_from(&self) -> Option<RawSeqNo> {
        self.v2_from
    }

    /// Checks a message that opened with `version` and carries `layer` and (if wrapped)
    /// `out_seq_no`, then remembers it.
    pub fn check(
        &mut self,
        policy: VersionPolicy,
        version: Version,
        layer: Layer,
        out_seq_no: Option<RawSeqNo>,
    ) -> Result<(), AbortReason> {
        if policy == VersionPolicy::V2ThenV1UntilFirstInOrderV2 {
            // Android tries only what it may open ([`Self::try_order`]); no rule by layer.
            return Ok(());
        }
        match version {
            Version::V1 => {
                if layer >= Layer::MTPROTO_2 {
                    return Err(AbortReason::MtProto1AtLayer73 {
                        layer,
                        out_seq_no: out_seq_no.unwrap_or_default(),
                    });
                }
                if let (Some(out), Some(v2_from)) = (out_seq_no, self.v2_from) {
                    if out > v2_from {
                        return Err(AbortReason::MtProto1AfterMtProto2 {
                            out_seq_no: out,
                            v2_from,
                        });
                    }
                }
            }
            Version::V2 => self.remember_v2(out_seq_no),
        }
        if layer >= Layer::MTPROTO_2 {
            self.remember_v2(out_seq_no);
        }
        Ok(())
    }

    fn remember_v2(&mut self, out_seq_no: Option<RawSeqNo>) {
        if let Some(out) = out_seq_no {
            self.v2_from = Some(self.v2_from.map_or(out, |known| known.min(out)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BY_LAYER: VersionPolicy = VersionPolicy::ByLayer;
    const ANDROID: VersionPolicy = VersionPolicy::V2ThenV1UntilFirstInOrderV2;

    #[test]
    fn expected_version_is_tried_first() {
        assert_eq!(
            VersionRules::default().try_order(BY_LAYER, Layer(46)),
            [Version::V1, Version::V2]
        );
        assert_eq!(
            VersionRules::default().try_order(BY_LAYER, Layer(144)),
            [Version::V2, Version::V1]
        );
    }

    #[test]
    fn mtproto_1_message_at_layer_73_is_rejected() {
        let mut rules = VersionRules::default();
        assert_eq!(
            rules.check(BY_LAYER, Version::V1, Layer(73), Some(RawSeqNo(4))),
            Err(AbortReason::MtProto1AtLayer73 {
                layer: Layer(73),
                out_seq_no: RawSeqNo(4)
            })
        );
    }

    #[test]
    fn mtproto_1_after_mtproto_2_with_a_higher_seq_no_is_rejected() {
        let mut rules = VersionRules::default();
        rules
            .check(BY_LAYER, Version::V2, Layer(46), Some(RawSeqNo(5)))
            .unwrap();
        assert_eq!(
            rules.check(BY_LAYER, Version::V1, Layer(46), Some(RawSeqNo(6))),
            Err(AbortReason::MtProto1AfterMtProto2 {
                out_seq_no: RawSeqNo(6),
                v2_from: RawSeqNo(5)
            })
        );
    }

    #[test]
    fn mtproto_1_may_still_fill_an_older_gap() {
        let mut rules = VersionRules::default();
        rules
            .check(BY_LAYER, Version::V2, Layer(73), Some(RawSeqNo(5)))
            .unwrap();
        assert_eq!(
            rules.check(BY_LAYER, Version::V1, Layer(46), Some(RawSeqNo(3))),
            Ok(())
        );
    }

    #[test]
    fn a_layer_73_message_counts_as_mtproto_2_seen() {
        let mut rules = VersionRules::default();
        rules
            .check(BY_LAYER, Version::V2, Layer(144), Some(RawSeqNo(2)))
            .unwrap();
        assert_eq!(rules.v2_from(), Some(RawSeqNo(2)));
    }

    /// Telegram Android SecretChatHelper.java `decryptMessage`: `int mtprotoVersion = 2;`
    /// then `tryAnotherDecrypt = false` once `decryptedWithVersion == 2 &&
    /// chat.mtproto_seq != 0` — set when the first message processed in order was 2.0.
    #[test]
    fn android_stops_trying_mtproto_1_once_its_first_in_order_message_was_mtproto_2() {
        let mut rules = VersionRules::default();
        assert_eq!(
            rules.try_order(ANDROID, Layer(8)),
            [Version::V2, Version::V1]
        );
        rules.processed_in_order(Version::V2);
        rules.processed_in_order(Version::V1);
        assert_eq!(rules.try_order(ANDROID, Layer(144)), [Version::V2]);

        let mut first_v1 = VersionRules::default();
        first_v1.processed_in_order(Version::V1);
        first_v1.processed_in_order(Version::V2);
        assert_eq!(
            first_v1.try_order(ANDROID, Layer(144)),
            [Version::V2, Version::V1]
        );
    }

    /// Telegram Android SecretChatHelper.java `decryptMessage` has no rule by layer: an
    /// MTProto 1.0 message at layer 101 (telethon-secret-chat 0.2.4's NotifyLayer) passes;
    /// tdlib SecretChatActor.cpp `do_inbound_message_encrypted` l.853 refuses it.
    #[test]
    fn mtproto_1_at_layer_101_passes_android_and_aborts_the_default() {
        let mut rules = VersionRules::default();
        assert_eq!(
            rules.check(ANDROID, Version::V1, Layer(101), Some(RawSeqNo(0))),
            Ok(())
        );
        assert!(matches!(
            rules.check(BY_LAYER, Version::V1, Layer(101), Some(RawSeqNo(0))),
            Err(AbortReason::MtProto1AtLayer73 { .. })
        ));
    }
}
