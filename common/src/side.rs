//! The two roles in a secret chat (SPEC §0).
//!
//! The user who asked for the chat is its **creator** (`admin_id` in `EncryptedChat`,
//! "A"); the one who accepted is the **participant** ("B"). Roles never change, not even
//! when a re-keying exchange is started by B. Several rules depend on the role of the side
//! that *sent* a message: the parity bits of sequence numbers (§3.1) and, in MTProto 2.0,
//! the `x` offset into the key (0 for messages from the creator, 8 from the participant).

use serde::{Deserialize, Serialize};

use crate::crypto::kdf::X;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Asked for the chat (`messages.requestEncryption`).
    Creator,
    /// Accepted it (`messages.acceptEncryption`).
    Participant,
}

impl Side {
    /// MTProto 2.0 `x` for messages this side sends: 0 for the creator, 8 for the participant
    /// (SPEC §2.3).
    pub const fn x(self) -> X {
        match self {
            Side::Creator => X::Zero,
            Side::Participant => X::Eight,
        }
    }

    /// The other end of the chat.
    pub const fn peer(self) -> Side {
        match self {
            Side::Creator => Side::Participant,
            Side::Participant => Side::Creator,
        }
    }
}
