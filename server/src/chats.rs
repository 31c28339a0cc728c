//! # Secret chats as the server sees them
//!
//! The server relays the key exchange without taking part in it (SPEC §1.4, §9):
//!
//! ```text
//!  A (one device)                 server                       B (every device)
//!  requestEncryption(g_a) ──▶ chat id = random_id, Waiting ──▶ encryptedChatRequested
//!  ◀── encryptedChatWaiting
//!                                                    ◀── acceptEncryption(g_b, fp)  (one device)
//!  encryptedChat{g_b, fp} ◀── Accepted(bound device) ──▶ encryptedChat{g_a}  (its answer)
//!                                                    ──▶ encryptedChatDiscarded  (B's others)
//!  discardEncryption ──▶ Discarded ──▶ encryptedChatDiscarded (the other side)
//! ```
//!
//! A chat belongs to one device on each side: A's initiating device, and on B's side any
//! of B's devices while the request is pending, then only the device that accepted.
//! Every call naming the chat with `inputEncryptedChat{chat_id, access_hash}` is checked
//! against that, with the `access_hash` the caller's side was given (each side gets its
//! own, as Telegram's may differ per user). The server never checks `key_fingerprint`; it
//! cannot.

use secretchat_common::tl::api::{enums, types};

use crate::device::DeviceId;

/// Where the key exchange stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatState {
    /// Requested; waiting for one of B's devices to accept.
    Waiting,
    /// Accepted by `participant_device`.
    Accepted {
        participant_device: DeviceId,
        g_b: Vec<u8>,
        key_fingerprint: i64,
    },
    /// Discarded by either side (before or after acceptance).
    Discarded {
        history_deleted: bool,
        participant_device: Option<DeviceId>,
    },
}

/// Which side of a chat a device is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The initiator (`admin_id`).
    Admin,
    /// The invited user (`participant_id`).
    Participant,
}

/// One secret chat.
#[derive(Debug, Clone)]
pub struct ChatRecord {
    /// The initiator's `random_id`.
    pub id: i32,
    pub date: i32,
    pub admin_id: i64,
    pub admin_device: DeviceId,
    pub admin_access_hash: i64,
    pub participant_id: i64,
    pub participant_access_hash: i64,
    pub g_a: Vec<u8>,
    pub state: ChatState,
    /// How many times `messages.reportEncryptedSpam` named this chat.
    pub spam_reports: u32,
}

impl ChatRecord {
    /// The participant's bound device, once there is one.
    pub fn participant_device(&self) -> Option<DeviceId> {
        match &self.state {
            ChatState::Accepted {
                participant_device, ..
            } => Some(*participant_device),
            ChatState::Discarded {
                participant_device, ..
            } => *participant_device,
            ChatState::Waiting => None,
        }
    }

    /// The side `device` (of `user_id`) is on, if the chat is usable by it at all:
    /// the admin's initiating device; any of the participant's devices while none is
    /// bound; afterwards only the bound one.
    pub fn role_of(&self, device: DeviceId, user_id: i64) -> Option<Role> {
        if device == self.admin_device {
            return Some(Role::Admin);
        }
        if user_id != self.participant_id {
            return None;
        }
        match self.participant_device() {
            Some(bound) if bound != device => None,
            _ => Some(Role::Participant),
        }
    }

    /// The side `device` is on if it also presents the `access_hash` given to that side:
    /// the check behind every `inputEncryptedChat`.
    pub fn check_access(&self, device: DeviceId, user_id: i64, access_hash: i64) -> Option<Role> {
        let role = self.role_of(device, user_id)?;
        (access_hash == self.access_hash_for(role)).then_some(role)
    }

    pub fn access_hash_for(&self, role: Role) -> i64 {
        match role {
            Role::Admin => self.admin_access_hash,
            Role::Participant => self.participant_access_hash,
        }
    }

    /// `encryptedChatWaiting`, the initiator's view right after the request.
    pub fn waiting_view(&self) -> enums::EncryptedChat {
        enums::EncryptedChat::EncryptedChatWaiting(types::EncryptedChatWaiting {
            id: self.id,
            access_hash: self.admin_access_hash,
            date: self.date,
            admin_id: self.admin_id,
            participant_id: self.participant_id,
        })
    }

    /// `encryptedChatRequested`, what each of the participant's devices is told.
    pub fn requested_view(&self) -> enums::EncryptedChat {
        enums::EncryptedChat::EncryptedChatRequested(types::EncryptedChatRequested {
            folder_id: None,
            id: self.id,
            access_hash: self.participant_access_hash,
            date: self.date,
            admin_id: self.admin_id,
            participant_id: self.participant_id,
            g_a: self.g_a.clone(),
        })
    }

    /// `encryptedChat` as `role` sees it: `g_a_or_b` is the *other* side's public value
    /// (g_b for the admin, g_a for the participant). `None` before acceptance.
    pub fn accepted_view(&self, role: Role) -> Option<enums::EncryptedChat> {
        let ChatState::Accepted {
            g_b,
            key_fingerprint,
            ..
        } = &self.state
        else {
            return None;
        };
        let g_a_or_b = match role {
            Role::Admin => g_b.clone(),
            Role::Participant => self.g_a.clone(),
        };
        Some(enums::EncryptedChat::EncryptedChat(types::EncryptedChat {
            id: self.id,
            access_hash: self.access_hash_for(role),
            date: self.date,
            admin_id: self.admin_id,
            participant_id: self.participant_id,
            g_a_or_b,
            key_fingerprint: *key_fingerprint,
        }))
    }

    /// `encryptedChatDiscarded{history_deleted, id}`.
    pub fn discarded_view(&self, history_deleted: bool) -> enums::EncryptedChat {
        enums::EncryptedChat::EncryptedChatDiscarded(types::EncryptedChatDiscarded {
            history_deleted,
            id: self.id,
        })
    }

    /// A short name of the state, for logs and the admin surface.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            ChatState::Waiting => "waiting",
            ChatState::Accepted { .. } => "accepted",
            ChatState::Discarded { .. } => "discarded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> ChatRecord {
        ChatRecord {
            id: 7,
            date: 1,
            admin_id: 10,
            admin_device: DeviceId(100),
            admin_access_hash: 1000,
            participant_id: 20,
            participant_access_hash: 2000,
            g_a: vec![2; 256],
            state: ChatState::Waiting,
            spam_reports: 0,
        }
    }

    #[test]
    fn any_participant_device_may_use_a_waiting_chat_but_only_the_bound_one_later() {
        let mut chat = chat();
        assert_eq!(chat.role_of(DeviceId(201), 20), Some(Role::Participant));
        assert_eq!(chat.role_of(DeviceId(202), 20), Some(Role::Participant));
        chat.state = ChatState::Accepted {
            participant_device: DeviceId(201),
            g_b: vec![3; 256],
            key_fingerprint: 5,
        };
        assert_eq!(chat.role_of(DeviceId(201), 20), Some(Role::Participant));
        assert_eq!(chat.role_of(DeviceId(202), 20), None);
    }

    #[test]
    fn only_the_initiating_device_is_the_admin() {
        let chat = chat();
        assert_eq!(chat.role_of(DeviceId(100), 10), Some(Role::Admin));
        assert_eq!(chat.role_of(DeviceId(101), 10), None);
        assert_eq!(chat.role_of(DeviceId(300), 30), None);
    }

    #[test]
    fn each_side_must_present_its_own_access_hash() {
        let chat = chat();
        assert_eq!(
            chat.check_access(DeviceId(100), 10, 1000),
            Some(Role::Admin)
        );
        assert_eq!(chat.check_access(DeviceId(100), 10, 2000), None);
        assert_eq!(
            chat.check_access(DeviceId(201), 20, 2000),
            Some(Role::Participant)
        );
        assert_eq!(chat.check_access(DeviceId(201), 20, 1000), None);
    }

    #[test]
    fn accepted_view_gives_each_side_the_other_sides_public_value() {
        let mut chat = chat();
        assert!(chat.accepted_view(Role::Admin).is_none());
        chat.state = ChatState::Accepted {
            participant_device: DeviceId(201),
            g_b: vec![3; 256],
            key_fingerprint: 5,
        };
        let Some(enums::EncryptedChat::EncryptedChat(admin)) = chat.accepted_view(Role::Admin)
        else {
            panic!("expected encryptedChat");
        };
        assert_eq!((admin.g_a_or_b[0], admin.access_hash), (3, 1000));
        let Some(enums::EncryptedChat::EncryptedChat(participant)) =
            chat.accepted_view(Role::Participant)
        else {
            panic!("expected encryptedChat");
        };
        assert_eq!(
            (participant.g_a_or_b[0], participant.access_hash),
            (2, 2000)
        );
    }
}
