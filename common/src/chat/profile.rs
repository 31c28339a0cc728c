//! Peer profiles: whose reading of the protocol a chat follows where the clients differ.
//!
//! The spec (SPEC.md, from the official docs) leaves room, and the clients people run fill
//! it differently. Telegram Android decrypts a message with MTProto 1.0 when MTProto 2.0
//! fails, until it has processed an MTProto 2.0 message; tdlib refuses MTProto 1.0 in any
//! message that says layer 73 or more and closes the chat. Someone fuzzing a client needs
//! both: how the strict reference reacts, and how the client their users run reacts. A
//! [`Profile`] names one reading:
//!
//! ```text
//!   tdlib     the reference peer as it has always been: tdlib's SecretChatActor, with
//!             the spec's stricter readings where tdlib is laxer (the default)
//!   android   Telegram Android's SecretChatHelper, where its source shows a difference
//!   spec      the strictest reading of the spec, where it is stricter than the default
//! ```
//!
//! A profile is data, not a switch: [`Profile::rules`] gives its [`Rules`], one field per
//! decision where the readings differ, and the chat asks its own config's rules at each of
//! those decisions (never a global). Every field is a [`Row`] of `docs/profiles.md` with the
//! source that shows each profile's behaviour. When a profile decides something, the
//! explain trace names it: `android: MTProto 2.0 failed, tried 1.0 [E1 …]`.
//!
//! Behaviours all profiles share are not here: they are simply what the chat does.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whose reading of the protocol a chat follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// tdlib's `SecretChatActor` with the spec's stricter readings (the default).
    #[default]
    Tdlib,
    /// Telegram Android's `SecretChatHelper`.
    Android,
    /// The strictest reading of the spec.
    Spec,
}

impl Profile {
    /// Every profile, in the order reports list them.
    pub const ALL: [Profile; 3] = [Profile::Tdlib, Profile::Android, Profile::Spec];

    /// The name on the command line and in scenario files.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Tdlib => "tdlib",
            Profile::Android => "android",
            Profile::Spec => "spec",
        }
    }

    /// The client whose behaviour the profile follows, as messages name it.
    pub const fn client(self) -> &'static str {
        match self {
            Profile::Tdlib => "tdlib",
            Profile::Android => "Telegram Android",
            Profile::Spec => "the spec's strictest reading",
        }
    }

    /// The profile called `name`.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The names, for error messages: "tdlib, android, spec".
    pub fn names() -> String {
        Profile::ALL.map(Profile::name).join(", ")
    }

    /// The profile's behaviours.
    pub const fn rules(self) -> Rules {
        match self {
            Profile::Tdlib => Rules::TDLIB,
            Profile::Android => Rules::ANDROID,
            Profile::Spec => Rules::SPEC,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which envelope versions a received message may use (rows E1–E3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPolicy {
    /// Try the version the common layer calls for, then the other; refuse MTProto 1.0
    /// (abort) in a message that says layer 73 or more, and above the first MTProto 2.0
    /// message's out_seq_no.
    ByLayer,
    /// Try MTProto 2.0, then 1.0 only while the chat's first wrapped message processed in
    /// order was not MTProto 2.0 (Android's `mtproto_seq`); no rule by layer. A message
    /// neither allowed version opens is a message that does not open (row E4).
    V2ThenV1UntilFirstInOrderV2,
}

/// A message under a key we hold that does not open (row E4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUndecryptable {
    /// Close the chat.
    Abort,
    /// Drop the message silently; the chat goes on.
    Drop,
}

/// A wrapped message whose layer is below the last one's (row L3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLayerDecrease {
    /// Process the message; the remote layer is only ever raised.
    Keep,
    /// Close the chat.
    Abort,
}

/// One profile's behaviour at every decision where the readings differ. Each field names
/// its row of `docs/profiles.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// E1–E3: which envelope versions are tried and refused.
    pub versions: VersionPolicy,
    /// E4: a message under a known key that does not open.
    pub undecryptable: OnUndecryptable,
    /// L3: a message at a lower layer than the last one.
    pub layer_decrease: OnLayerDecrease,
}

impl Rules {
    /// The default: what the reference peer has always done.
    pub const TDLIB: Rules = Rules {
        versions: VersionPolicy::ByLayer,
        undecryptable: OnUndecryptable::Abort,
        layer_decrease: OnLayerDecrease::Keep,
    };

    /// Telegram Android, `SecretChatHelper.java` at dff21c0a.
    pub const ANDROID: Rules = Rules {
        versions: VersionPolicy::V2ThenV1UntilFirstInOrderV2,
        undecryptable: OnUndecryptable::Drop,
        layer_decrease: OnLayerDecrease::Keep,
    };

    /// The strictest reading of SPEC.md.
    pub const SPEC: Rules = Rules {
        versions: VersionPolicy::ByLayer,
        undecryptable: OnUndecryptable::Abort,
        layer_decrease: OnLayerDecrease::Abort,
    };
}

/// One row of `docs/profiles.md` a profile decides: a decision where the readings differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Row {
    /// E1: which versions are tried, in which order.
    E1,
    /// E2: an MTProto 1.0 message that says layer 73 or more.
    E2,
    /// E4: a message under a key we hold does not open.
    E4,
    /// L3: a message at a lower layer than the last.
    L3,
}

impl Row {
    /// Every row, in the order of `docs/profiles.md`.
    pub const ALL: [Row; 4] = [Row::E1, Row::E2, Row::E4, Row::L3];

    /// The decision, in a few words.
    pub const fn decision(self) -> &'static str {
        match self {
            Row::E1 => "which envelope versions are tried, in which order",
            Row::E2 => "an MTProto 1.0 message that says layer 73 or more",
            Row::E4 => "a message under a key we hold does not open",
            Row::L3 => "a message at a lower layer than the last",
        }
    }

    /// Where `profile`'s behaviour is shown: a file and function of the client's source,
    /// or the SPEC section.
    pub const fn source(self, profile: Profile) -> &'static str {
        match (profile, self) {
            (Profile::Tdlib, Row::E1) => {
                "repo receive.rs open (by common layer); tdlib SecretChatActor.cpp decrypt l.777 tries {2, 1}"
            }
            (Profile::Tdlib, Row::E2) => {
                "tdlib td/telegram/SecretChatActor.cpp do_inbound_message_encrypted l.853"
            }
            (Profile::Tdlib, Row::E4) => {
                "tdlib td/telegram/SecretChatActor.cpp decrypt → check_status (fatal)"
            }
            (Profile::Tdlib, Row::L3) => {
                "SPEC §5 (the remote layer is only raised); tdlib check_seq_no l.898 aborts"
            }
            (Profile::Android, Row::E1 | Row::E2) => {
                "Telegram Android SecretChatHelper.java decryptMessage (tryAnotherDecrypt, mtproto_seq)"
            }
            (Profile::Android, Row::E4) => {
                "Telegram Android SecretChatHelper.java decryptMessage (return null)"
            }
            (Profile::Android, Row::L3) => "Telegram Android SecretChatHelper.java applyPeerLayer",
            (Profile::Spec, Row::E1 | Row::E2) => "SPEC §2.5",
            (Profile::Spec, Row::E4) => "SPEC §2.6",
            (Profile::Spec, Row::L3) => "SPEC §3.4 (\"aborts if the peer's layer decreases\")",
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip_and_unknown_names_are_refused() {
        for profile in Profile::ALL {
            assert_eq!(Profile::from_name(profile.name()), Some(profile));
        }
        assert_eq!(Profile::from_name("Android"), None);
        assert_eq!(Profile::from_name("ios"), None);
        assert_eq!(Profile::names(), "tdlib, android, spec");
    }

    #[test]
    fn the_default_profile_is_tdlib_with_the_rules_the_peer_always_had() {
        assert_eq!(Profile::default(), Profile::Tdlib);
        assert_eq!(Profile::Tdlib.rules().versions, VersionPolicy::ByLayer);
        assert_eq!(Profile::Tdlib.rules().undecryptable, OnUndecryptable::Abort);
        assert_eq!(Profile::Tdlib.rules().layer_decrease, OnLayerDecrease::Keep);
    }

    #[test]
    fn every_row_names_a_source_for_every_profile() {
        for row in Row::ALL {
            assert!(!row.decision().is_empty());
            for profile in Profile::ALL {
                assert!(!row.source(profile).is_empty(), "{row} {profile}");
            }
            assert!(row
                .source(Profile::Android)
                .starts_with("Telegram Android SecretChatHelper.java"));
        }
    }

    #[test]
    fn profiles_serialize_by_name() {
        assert_eq!(
            serde_json::to_string(&Profile::Android).unwrap(),
            "\"android\""
        );
        let back: Profile = serde_json::from_str("\"spec\"").unwrap();
        assert_eq!(back, Profile::Spec);
    }
}
