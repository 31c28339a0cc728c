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
//! Both refusals abort the chat: a downgrade to the weaker version is an attack.

use serde::{Deserialize, Serialize};

use super::layer::Layer;
use super::violation::AbortReason;
use crate::envelope::Version;
use crate::seq_no::RawSeqNo;

/// What the receiver has learnt about the peer's envelope version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRules {
    /// The lowest raw out_seq_no that arrived under MTProto 2.0 or at layer ≥ 73.
    v2_from: Option<RawSeqNo>,
}

impl VersionRules {
    /// The versions to try, in order, for a message received at this common layer.
    pub fn try_order(common: Layer) -> [Version; 2] {
        let expected = common.sending_version();
        let other = match expected {
            Version::V1 => Version::V2,
            Version::V2 => Version::V1,
        };
        [expected, other]
    }

    /// The raw out_seq_no from which MTProto 1.0 is refused, if it is known.
    pub fn v2_from(&self) -> Option<RawSeqNo> {
        self.v2_from
    }

    /// Checks a message that opened with `version` and carries `layer` and (if wrapped)
    /// `out_seq_no`, then remembers it.
    pub fn check(
        &mut self,
        version: Version,
        layer: Layer,
        out_seq_no: Option<RawSeqNo>,
    ) -> Result<(), AbortReason> {
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

    #[test]
    fn expected_version_is_tried_first() {
        assert_eq!(
            VersionRules::try_order(Layer(46)),
            [Version::V1, Version::V2]
        );
        assert_eq!(
            VersionRules::try_order(Layer(144)),
            [Version::V2, Version::V1]
        );
    }

    #[test]
    fn mtproto_1_message_at_layer_73_is_rejected() {
        let mut rules = VersionRules::default();
        assert_eq!(
            rules.check(Version::V1, Layer(73), Some(RawSeqNo(4))),
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
            .check(Version::V2, Layer(46), Some(RawSeqNo(5)))
            .unwrap();
        assert_eq!(
            rules.check(Version::V1, Layer(46), Some(RawSeqNo(6))),
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
            .check(Version::V2, Layer(73), Some(RawSeqNo(5)))
            .unwrap();
        assert_eq!(
            rules.check(Version::V1, Layer(46), Some(RawSeqNo(3))),
            Ok(())
        );
    }

    #[test]
    fn a_layer_73_message_counts_as_mtproto_2_seen() {
        let mut rules = VersionRules::default();
        rules
            .check(Version::V2, Layer(144), Some(RawSeqNo(2)))
            .unwrap();
        assert_eq!(rules.v2_from(), Some(RawSeqNo(2)));
    }
}
