//! The keys a chat holds at once, and how each was used (SPEC §2.6, §4).
//!
//! Most of the time a chat has one key. During a re-keying exchange it can have three:
//!
//! ```text
//!   current    encrypts everything we send
//!   previous   the key we switched away from: kept to open messages still in flight,
//!              dropped once the peer is known to have switched too
//!   pending    the new key of an exchange we accepted (held by the exchange itself,
//!              see `rekey`): it becomes current at CommitKey or at the first message
//!              that arrives under it
//! ```
//!
//! The first 8 bytes of every encrypted message, the `key_fingerprint`, pick the key.
//! The SHA-1 of the very first key is kept for ever: the key visualization the users
//! compare is derived from it, even after many re-keys (SPEC §1.7, §4).
//!
//! Also here: `serde` for [`ChatKey`] (as hex, so a stopped peer can resume; the key file is
//! as secret as the key), and the usage counters that decide when to re-key.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use sha1::{Digest, Sha1};

use super::layer::Layer;
use super::time::UnixTime;
use crate::crypto::visualization::{KeyVisualization, KEY_HASH_LEN};
use crate::key::{ChatKey, KeyFingerprint};

/// `serde(with = "key_serde")` for a [`ChatKey`]: 256 bytes as lowercase hex.
pub mod key_serde {
    use super::*;

    pub fn serialize<S: Serializer>(key: &ChatKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(key.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ChatKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
        ChatKey::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

/// `serde(with = "option_key_serde")` for an `Option<ChatKey>`.
pub mod option_key_serde {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "key_serde")] ChatKey);

    pub fn serialize<S: Serializer>(
        key: &Option<ChatKey>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        key.clone().map(Wrapped).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<ChatKey>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|w| w.0))
    }
}

/// `serde(with = "hex_array")` for a fixed-size byte array, as lowercase hex.
pub mod hex_array {
    use super::*;

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
        let got = bytes.len();
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::invalid_length(got, &"a fixed number of bytes"))
    }
}

/// `serde(with = "option_hex_array")` for an optional fixed-size byte array.
pub mod option_hex_array {
    use super::*;

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &Option<[u8; N]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::hex_array::serialize(bytes, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|text| {
            let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
            let got = bytes.len();
            bytes
                .try_into()
                .map_err(|_| serde::de::Error::invalid_length(got, &"a fixed number of bytes"))
        })
        .transpose()
    }
}

/// How much a key has been used, for the re-keying rule of SPEC §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsage {
    /// When the key came into use.
    pub since: UnixTime,
    /// Messages we encrypted with it.
    pub encrypted: u32,
    /// Messages we decrypted with it.
    pub decrypted: u32,
}

impl KeyUsage {
    pub const fn new(since: UnixTime) -> Self {
        Self {
            since,
            encrypted: 0,
            decrypted: 0,
        }
    }

    /// Messages encrypted and decrypted with this key.
    pub const fn messages(&self) -> u32 {
        self.encrypted.saturating_add(self.decrypted)
    }
}

/// Which held key a fingerprint named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeySlot {
    Current,
    Previous,
    /// The new key of an exchange we accepted and that has not been committed yet.
    Pending,
}

/// The current key, maybe the previous one, and the original key's hashes.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyRing {
    #[serde(with = "key_serde")]
    current: ChatKey,
    usage: KeyUsage,
    #[serde(with = "option_key_serde")]
    previous: Option<ChatKey>,
    /// `SHA1(original key)[0..16]`, the first half of the key visualization (SPEC §1.7),
    /// kept for ever, across every re-key.
    #[serde(with = "hex_array")]
    original_sha1: [u8; 16],
    /// The whole visualization, fixed once the chat's common layer reached 46: its second
    /// half hashes the key in use at that moment. `None` while the chat is below 46.
    #[serde(with = "option_hex_array", default)]
    fixed_at_layer_46: Option<[u8; KEY_HASH_LEN]>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current.fingerprint())
            .field("usage", &self.usage)
            .field(
                "previous",
                &self.previous.as_ref().map(ChatKey::fingerprint),
            )
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// The ring of a chat whose first key was just agreed at `now`, at `common_layer`.
    pub fn new(initial: ChatKey, now: UnixTime, common_layer: Layer) -> Self {
        let mut original_sha1 = [0u8; 16];
        original_sha1.copy_from_slice(&Sha1::digest(initial.as_bytes())[..16]);
        let mut ring = Self {
            current: initial,
            usage: KeyUsage::new(now),
            previous: None,
            original_sha1,
            fixed_at_layer_46: None,
        };
        ring.note_common_layer(common_layer);
        ring
    }

    /// Fixes the visualization's second half the first time the chat's common layer is 46
    /// or more: `SHA256(key in use now)[0..20]` (SPEC §1.7). A chat created at layer ≥ 46
    /// fixes it at once, from its original key; one created below 46 and re-keyed before
    /// its peer announced 46 gets the key in use then.
    pub fn note_common_layer(&mut self, common_layer: Layer) {
        if self.fixed_at_layer_46.is_none() && common_layer >= Layer::FLAGS_MESSAGE {
            let visualization = KeyVisualization::from_parts(self.original_sha1, &self.current);
            self.fixed_at_layer_46 = Some(*visualization.as_bytes());
        }
    }

    pub fn current(&self) -> &ChatKey {
        &self.current
    }

    pub fn usage(&self) -> &KeyUsage {
        &self.usage
    }

    pub fn usage_mut(&mut self) -> &mut KeyUsage {
        &mut self.usage
    }

    /// Whether an old key is still held after a switch.
    pub fn holds_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// The 36-byte key visualization (SPEC §1.7): `SHA1(original key)[0..16]` ‖
    /// `SHA256(key at layer 46)[0..20]`. Below layer 46 the second half is provisional: it
    /// hashes the current key, which is what it becomes unless a re-key comes first.
    pub fn visualization(&self) -> KeyVisualization {
        match self.fixed_at_layer_46 {
            Some(bytes) => KeyVisualization::from_bytes(bytes),
            None => KeyVisualization::from_parts(self.original_sha1, &self.current),
        }
    }

    /// The held key (current or previous) with this fingerprint.
    pub fn find(&self, fingerprint: KeyFingerprint) -> Option<(KeySlot, &ChatKey)> {
        if self.current.fingerprint() == fingerprint {
            return Some((KeySlot::Current, &self.current));
        }
        self.previous
            .as_ref()
            .filter(|key| key.fingerprint() == fingerprint)
            .map(|key| (KeySlot::Previous, key))
    }

    /// Makes `new_key` current and keeps the old one as previous until [`Self::drop_previous`].
    pub fn switch_to(&mut self, new_key: ChatKey, now: UnixTime) {
        let old = std::mem::replace(&mut self.current, new_key);
        self.previous = Some(old);
        self.usage = KeyUsage::new(now);
    }

    /// Forgets the previous key: the peer has switched too. Returns whether one was held.
    pub fn drop_previous(&mut self) -> bool {
        self.previous.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ChatKey {
        ChatKey::from_bytes(&[byte; 256]).unwrap()
    }

    #[test]
    fn fingerprint_selects_current_or_previous_key() {
        let mut ring = KeyRing::new(key(1), UnixTime(0), Layer(144));
        ring.switch_to(key(2), UnixTime(10));
        assert_eq!(
            ring.find(key(2).fingerprint()).map(|(slot, _)| slot),
            Some(KeySlot::Current)
        );
        assert_eq!(
            ring.find(key(1).fingerprint()).map(|(slot, _)| slot),
            Some(KeySlot::Previous)
        );
        assert!(ring.drop_previous());
        assert_eq!(ring.find(key(1).fingerprint()).map(|(slot, _)| slot), None);
    }

    #[test]
    fn visualization_stays_the_original_keys_after_a_switch() {
        let mut ring = KeyRing::new(key(1), UnixTime(0), Layer(144));
        let before = ring.visualization();
        ring.switch_to(key(2), UnixTime(10));
        ring.drop_previous();
        assert_eq!(ring.visualization(), before);
        assert_eq!(before, KeyVisualization::of_key(&key(1)));
    }

    #[test]
    fn a_chat_rekeyed_below_layer_46_hashes_the_key_in_use_when_it_reaches_46() {
        let mut ring = KeyRing::new(key(1), UnixTime(0), Layer(23));
        ring.switch_to(key(2), UnixTime(10));
        ring.note_common_layer(Layer(46));
        let expected = KeyVisualization::new(&key(1), &key(2));
        assert_eq!(ring.visualization(), expected);
        // Later re-keys change nothing: the picture is fixed at layer 46.
        ring.switch_to(key(3), UnixTime(20));
        ring.note_common_layer(Layer(144));
        assert_eq!(ring.visualization(), expected);
    }

    #[test]
    fn visualization_survives_serde() {
        let mut ring = KeyRing::new(key(1), UnixTime(0), Layer(8));
        ring.switch_to(key(2), UnixTime(10));
        ring.note_common_layer(Layer(73));
        let json = serde_json::to_string(&ring).unwrap();
        let back: KeyRing = serde_json::from_str(&json).unwrap();
        assert_eq!(back.visualization(), ring.visualization());
    }

    #[test]
    fn switching_resets_the_usage_counters() {
        let mut ring = KeyRing::new(key(1), UnixTime(0), Layer(144));
        ring.usage_mut().encrypted = 5;
        ring.switch_to(key(2), UnixTime(10));
        assert_eq!(*ring.usage(), KeyUsage::new(UnixTime(10)));
    }

    #[test]
    fn ring_survives_a_serde_round_trip_and_debug_hides_the_keys() {
        let mut ring = KeyRing::new(key(0x5a), UnixTime(0), Layer(144));
        ring.switch_to(key(0x6b), UnixTime(10));
        let json = serde_json::to_string(&ring).unwrap();
        let back: KeyRing = serde_json::from_str(&json).unwrap();
        assert_eq!(back.current(), &key(0x6b));
        assert!(back.holds_previous());
        let shown = format!("{back:?}");
        assert!(!shown.contains("6b6b6b6b"), "{shown}");
    }
}
