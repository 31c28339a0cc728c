//! The secret chat itself: a sans-I/O state machine (SPEC §1, §3, §4, §5, §8).
//!
//! This module is being assembled from its parts, each a concept of its own:
//! [`layer`] (negotiation), [`version`] (MTProto 1.0 or 2.0 on receipt), [`sequence`]
//! (incoming seq numbers), [`history`] (outgoing messages kept for Resend), [`rekey`]
//! (the PFS exchange), [`keys`] (which keys are held) and [`time`].

pub mod history;
pub mod keys;
pub mod layer;
pub mod rekey;
pub mod sequence;
pub mod time;
pub mod version;
pub mod violation;

pub use violation::AbortReason;
