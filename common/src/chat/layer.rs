//! Layer negotiation: which schema layer two peers can speak (SPEC §5).
//!
//! The end-to-end schema has grown in *layers* (8, 17, 20, 23, 45/46, 66, 73, 101, 143,
//! 144). Each side knows its own maximum and learns the peer's, the **remote layer**, from
//! what the peer sends: the `layer` field of every `decryptedMessageLayer` and every
//! `decryptedMessageActionNotifyLayer`. The remote layer is only ever *raised*: a message
//! carrying a lower layer (an old message re-sent, say) never lowers it.
//!
//! ```text
//!   common layer = min(own maximum, remote layer)
//!
//!   common < 17   bare decryptedMessage8 / decryptedMessageService8, no seq numbers
//!   common ≥ 17   decryptedMessageLayer{random_bytes, layer, in_seq_no, out_seq_no, message}
//!   common ≥ 20   re-keying (PFS) is available
//!   common ≥ 46   decryptedMessage with flags (entities, reply_to, via_bot_name)
//!   common ≥ 73   decryptedMessage with silent/grouped_id, and MTProto 2.0 is mandatory
//! ```
//!
//! Where the remote layer starts is one of the places the sources disagree (SPEC §10):
//! the v1 docs say 8, the current docs 46, tdlib never goes below 73. This crate follows
//! the **v1 docs (8)** by default, because it is the only choice that can talk to a
//! layer-8 peer; [`crate::chat::ChatConfig::initial_remote_layer`] changes it. The first
//! NotifyLayer is then sent in the bare layer-8 form, which every layer accepts.
//!
//! When to send `decryptedMessageActionNotifyLayer{layer = own maximum}` (SPEC §5):
//! 1. right after the key exchange succeeds (both sides);
//! 2. (v1 docs) right after the remote layer is raised to 17 or more, unless the chat is
//!    younger than 15 seconds — case 1 already covered it;
//! 3. after the local maximum is raised (an upgrade), to every existing chat.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::envelope::Version;

/// A layer of the end-to-end schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Layer(pub i32);

impl Layer {
    /// The first layer: bare `decryptedMessage8`, no sequence numbers.
    pub const BASE: Layer = Layer(8);
    /// `decryptedMessageLayer` wrapper, sequence numbers, Resend, NotifyLayer, TTL per message.
    pub const SEQ_NO: Layer = Layer(17);
    /// Perfect-forward-secrecy re-keying (RequestKey … CommitKey).
    pub const PFS: Layer = Layer(20);
    /// `decryptedMessage` with flags: entities, `via_bot_name`, `reply_to_random_id`.
    pub const FLAGS_MESSAGE: Layer = Layer(46);
    /// MTProto 2.0 mandatory; `silent` and `grouped_id`.
    pub const MTPROTO_2: Layer = Layer(73);
    /// Underline, strike and blockquote entities.
    pub const NEW_ENTITIES: Layer = Layer(101);
    /// `decryptedMessageMediaDocument` with `size:long`.
    pub const BIG_FILES: Layer = Layer(143);
    /// The newest layer this crate implements (spoiler and custom-emoji entities).
    pub const MAX: Layer = Layer(144);

    /// Whether messages at this layer travel inside `decryptedMessageLayer` with
    /// sequence numbers (17 and up) or bare (8).
    pub const fn has_seq_no(self) -> bool {
        self.0 >= Layer::SEQ_NO.0
    }

    /// Whether re-keying exists at this layer.
    pub const fn has_pfs(self) -> bool {
        self.0 >= Layer::PFS.0
    }

    /// The message envelope version to *send* at this common layer (SPEC §2.5): MTProto 1.0
    /// below 73, MTProto 2.0 from 73 on.
    pub const fn sending_version(self) -> Version {
        if self.0 >= Layer::MTPROTO_2.0 {
            Version::V2
        } else {
            Version::V1
        }
    }

    /// Which `decryptedMessage` constructor carries a user message at this layer.
    pub const fn message_form(self) -> MessageForm {
        if self.0 >= Layer::MTPROTO_2.0 {
            MessageForm::Layer73
        } else if self.0 >= Layer::FLAGS_MESSAGE.0 {
            MessageForm::Layer46
        } else if self.0 >= Layer::SEQ_NO.0 {
            MessageForm::Layer17
        } else {
            MessageForm::Layer8
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layer {}", self.0)
    }
}

/// The `decryptedMessage` constructor family used at a layer (the schema has four).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageForm {
    /// `decryptedMessage#1f814f1f` (random_bytes, no ttl), sent bare.
    Layer8,
    /// `decryptedMessage#204d3878` (ttl, no flags).
    Layer17,
    /// `decryptedMessage#36b091de` (flags: entities, via_bot_name, reply_to_random_id).
    Layer46,
    /// `decryptedMessage#91cc4674` (adds silent, grouped_id).
    Layer73,
}

/// An own maximum layer outside what this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("own layer must be between {} and {}, got {}", Layer::BASE.0, Layer::MAX.0, got.0)]
pub struct UnsupportedLayer {
    pub got: Layer,
}

/// What a layer seen in an incoming message did to the remote layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteLayerChange {
    /// Not higher than what we knew: nothing changes (the remote layer never goes down).
    Unchanged,
    /// The peer supports more than we knew.
    Raised { from: Layer, to: Layer },
}

/// Both sides' layers, as known to one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layers {
    own_max: Layer,
    remote: Layer,
}

impl Layers {
    /// `own_max` must be one of the layers this crate implements (8..=144).
    pub fn new(own_max: Layer, initial_remote: Layer) -> Result<Self, UnsupportedLayer> {
        check_own_layer(own_max)?;
        Ok(Self {
            own_max,
            remote: initial_remote.max(Layer::BASE),
        })
    }

    pub const fn own_max(&self) -> Layer {
        self.own_max
    }

    /// The highest layer the peer is known to support.
    pub const fn remote(&self) -> Layer {
        self.remote
    }

    /// `common layer = min(own maximum, remote layer)`: what we write in outgoing messages.
    pub fn common(&self) -> Layer {
        self.own_max.min(self.remote)
    }

    /// Whether the peer has announced a layer above the newest one we implement: the user
    /// should be told to update (SPEC §5).
    pub fn peer_is_newer(&self) -> bool {
        self.remote > self.own_max
    }

    /// Records a layer the peer revealed. The remote layer is only ever raised.
    pub fn observe_remote(&mut self, layer: Layer) -> RemoteLayerChange {
        if layer > self.remote {
            let from = self.remote;
            self.remote = layer;
            RemoteLayerChange::Raised { from, to: layer }
        } else {
            RemoteLayerChange::Unchanged
        }
    }

    /// Raises our own maximum (an upgrade: NotifyLayer case 3). Returns whether it changed.
    pub fn upgrade_own(&mut self, own_max: Layer) -> Result<bool, UnsupportedLayer> {
        check_own_layer(own_max)?;
        if own_max > self.own_max {
            self.own_max = own_max;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

/// A chat younger than this does not repeat NotifyLayer when the remote layer is raised
/// (SPEC §5, case 2): the NotifyLayer sent at creation already told the peer.
pub const NOTIFY_LAYER_QUIET_SECONDS: i64 = 15;

/// NotifyLayer case 2 (v1 docs): the remote layer was raised to 17 or more, and the chat is
/// at least 15 seconds old.
pub fn raise_calls_for_notify_layer(change: RemoteLayerChange, chat_age_seconds: i64) -> bool {
    match change {
        RemoteLayerChange::Raised { to, .. } => {
            to.has_seq_no() && chat_age_seconds >= NOTIFY_LAYER_QUIET_SECONDS
        }
        RemoteLayerChange::Unchanged => false,
    }
}

fn check_own_layer(layer: Layer) -> Result<(), UnsupportedLayer> {
    if (Layer::BASE..=Layer::MAX).contains(&layer) {
        Ok(())
    } else {
        Err(UnsupportedLayer { got: layer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(own: i32, remote: i32) -> Layers {
        Layers::new(Layer(own), Layer(remote)).unwrap()
    }

    #[test]
    fn own_layer_outside_8_to_144_is_refused() {
        assert_eq!(
            Layers::new(Layer(7), Layer::BASE),
            Err(UnsupportedLayer { got: Layer(7) })
        );
        assert_eq!(
            Layers::new(Layer(145), Layer::BASE),
            Err(UnsupportedLayer { got: Layer(145) })
        );
        assert!(Layers::new(Layer(8), Layer::BASE).is_ok());
        assert!(Layers::new(Layer(144), Layer::BASE).is_ok());
    }

    #[test]
    fn common_layer_is_the_smaller_of_own_and_remote() {
        assert_eq!(layers(144, 46).common(), Layer(46));
        assert_eq!(layers(17, 144).common(), Layer(17));
    }

    #[test]
    fn remote_layer_is_only_ever_raised() {
        let mut layers = layers(144, 8);
        assert_eq!(
            layers.observe_remote(Layer(73)),
            RemoteLayerChange::Raised {
                from: Layer(8),
                to: Layer(73)
            }
        );
        assert_eq!(
            layers.observe_remote(Layer(46)),
            RemoteLayerChange::Unchanged
        );
        assert_eq!(layers.remote(), Layer(73));
    }

    #[test]
    fn a_remote_layer_above_ours_marks_the_peer_as_newer_but_common_stays_ours() {
        let mut layers = layers(73, 8);
        layers.observe_remote(Layer(200));
        assert!(layers.peer_is_newer());
        assert_eq!(layers.common(), Layer(73));
    }

    #[test]
    fn mtproto_2_is_sent_from_layer_73_and_mtproto_1_below() {
        assert_eq!(Layer(72).sending_version(), Version::V1);
        assert_eq!(Layer(73).sending_version(), Version::V2);
        assert_eq!(Layer(8).sending_version(), Version::V1);
    }

    #[test]
    fn message_constructor_follows_the_common_layer() {
        assert_eq!(Layer(8).message_form(), MessageForm::Layer8);
        assert_eq!(Layer(17).message_form(), MessageForm::Layer17);
        assert_eq!(Layer(45).message_form(), MessageForm::Layer17);
        assert_eq!(Layer(46).message_form(), MessageForm::Layer46);
        assert_eq!(Layer(144).message_form(), MessageForm::Layer73);
    }

    #[test]
    fn raise_to_17_or_more_calls_for_notify_layer_only_after_15_seconds() {
        let raise = RemoteLayerChange::Raised {
            from: Layer(8),
            to: Layer(46),
        };
        assert!(!raise_calls_for_notify_layer(raise, 14));
        assert!(raise_calls_for_notify_layer(raise, 15));
        let small = RemoteLayerChange::Raised {
            from: Layer(8),
            to: Layer(9),
        };
        assert!(!raise_calls_for_notify_layer(small, 100));
        assert!(!raise_calls_for_notify_layer(
            RemoteLayerChange::Unchanged,
            100
        ));
    }

    #[test]
    fn upgrading_own_layer_reports_a_change_only_when_it_goes_up() {
        let mut layers = layers(46, 144);
        assert_eq!(layers.upgrade_own(Layer(73)), Ok(true));
        assert_eq!(layers.upgrade_own(Layer(46)), Ok(false));
        assert_eq!(
            layers.upgrade_own(Layer(300)),
            Err(UnsupportedLayer { got: Layer(300) })
        );
        assert_eq!(layers.common(), Layer(73));
    }
}
