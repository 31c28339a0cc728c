//! The knobs of a chat: whose reading of the protocol it follows, its own layer, when to re-key, which NotifyLayer rules to follow.

use serde::{Deserialize, Serialize};

use super::layer::Layer;
use super::profile::Profile;
use super::rekey::RekeyPolicy;

/// How a [`super::SecretChat`] behaves. `ChatConfig::default()` is what the reference peer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatConfig {
    /// Whose reading of the protocol the chat follows where the clients differ
    /// ([`super::profile`]; default tdlib, the reference peer's own reading).
    #[serde(default)]
    pub profile: Profile,
    /// Our maximum layer, 8..=144 (default 144).
    pub own_layer: Layer,
    /// What we assume of the peer until it tells us (default 8, the v1 docs; SPEC §10 —
    /// see [`super::layer`] for why).
    pub initial_remote_layer: Layer,
    /// When to start re-keying (default 100 messages or 7 days).
    pub rekey: RekeyPolicy,
    /// NotifyLayer case 2 of the v1 docs: repeat NotifyLayer when the remote layer is
    /// raised to ≥ 17 and the chat is older than 15 s (default on; the current docs drop it).
    pub notify_when_remote_raised: bool,
    /// How long to wait before asking again for a hole a Resend did not fill (default 10 s).
    pub resend_retry_seconds: u64,
    /// Record the explain trace ([`super::SecretChat::poll_step`]); off by default.
    pub explain: bool,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            profile: Profile::default(),
            own_layer: Layer::MAX,
            initial_remote_layer: Layer::BASE,
            rekey: RekeyPolicy::default(),
            notify_when_remote_raised: true,
            resend_retry_seconds: 10,
            explain: false,
        }
    }
}
