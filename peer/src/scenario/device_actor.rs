//! The runner's [`Actor`] and [`World`] on real things: the peer library's
//! [`Device`] talking HTTP to the mock server, and the server's admin surface.
//!
//! Each scenario step becomes one `Device` call (`send` → `send_text`, `read` →
//! `act(ReadMessages)` for the received messages *and* `messages.readEncryptedHistory`, so
//! the other side sees both the service action and the read receipt; `hostile` → the
//! [`HostileDevice`] every actor is, since any actor may play the attacker); each poll is one
//! `Device::poll` (an `updates.getDifference`, long-polled when the runner allows), whose
//! [`PeerEvent`]s are turned into the runner's [`Observed`] events. Server refusals keep
//! Telegram's error string, so `expect_error` can name it.

use std::time::Duration;

use secretchat_common::chat::{Media, RekeyPolicy, UserAction};
use secretchat_common::envelope::Version;

use super::expect::Observed;
use super::format::{ActionKind, ActorSpec};
use super::runner::{ActError, Actor, ActorOptions, ChatState, Command, Done, World};
use crate::client::ApiClient;
use crate::device::{Device, DeviceError, DeviceOptions, HostileDevice, PeerEvent};
use crate::embedded::AdminClient;
use crate::web::Trace;

fn act_error(error: DeviceError) -> ActError {
    match (error.rpc_message(), &error) {
        (Some(message), DeviceError::Api(crate::client::ApiError::Rpc { detail, .. })) => {
            ActError::Rpc {
                message: message.to_owned(),
                detail: detail.clone().unwrap_or_default(),
            }
        }
        (Some(message), _) => ActError::Rpc {
            message: message.to_owned(),
            detail: String::new(),
        },
        (None, _) => ActError::Other(error.to_string()),
    }
}

/// The mock server at `url`, with its admin surface when known.
pub struct DeviceWorld {
    pub url: String,
    pub admin: Option<Admin>,
    /// The web view's trace (`--web`): the devices record their calls, lines and keys.
    pub trace: Option<Trace>,
}

/// The admin surface: the peer library's client of it, and the same HTTP wrapper for
/// the admin calls `AdminClient` has no method for (fault rules, hostile modes).
pub struct Admin {
    client: AdminClient,
    api: Result<ApiClient, String>,
}

impl Admin {
    pub fn new(url: &str, token: &str) -> Admin {
        Admin {
            client: AdminClient::new(url, token),
            api: ApiClient::new(url)
                .map(|api| api.with_token(token))
                .map_err(|error| format!("bad admin URL {url}: {error}")),
        }
    }
}

/// One signed-in device.
pub struct DeviceActor {
    device: HostileDevice,
}

impl DeviceWorld {
    fn admin(&self) -> Result<&Admin, ActError> {
        self.admin.as_ref().ok_or_else(|| {
            ActError::Other(
                "this step needs the server's admin surface: pass --admin-url and --admin-token"
                    .to_owned(),
            )
        })
    }
}

impl World for DeviceWorld {
    type Actor = DeviceActor;

    async fn sign_in(
        &self,
        spec: &ActorSpec,
        options: ActorOptions,
    ) -> Result<DeviceActor, ActError> {
        let rekey = spec.rekey_after_messages.map(|after_messages| RekeyPolicy {
            after_messages,
            ..RekeyPolicy::default()
        });
        let device_options = DeviceOptions {
            layer: spec.layer,
            initial_remote_layer: spec.assume_peer_layer,
            rekey,
            profile: Some(options.profile),
            explain: options.explain,
            label: Some(spec.name.clone()),
            seed: Some(options.seed),
            trace: self.trace.clone(),
            ..DeviceOptions::default()
        };
        let device = Device::sign_in(&self.url, &spec.user, &spec.device, device_options)
            .await
            .map_err(act_error)?;
        Ok(DeviceActor {
            device: HostileDevice::new(device),
        })
    }

    async fn advance_clock(&self, seconds: u64) -> Result<(), ActError> {
        let seconds = u32::try_from(seconds)
            .map_err(|_| ActError::Other(format!("cannot move the clock by {seconds}s at once")))?;
        self.admin()?
            .client
            .advance_clock(seconds)
            .await
            .map(|_| ())
            .map_err(|error| ActError::Other(format!("the admin surface refused: {error}")))
    }

    async fn admin_post(&self, path: &str, body: &serde_json::Value) -> Result<(), ActError> {
        let api = self
            .admin()?
            .api
            .as_ref()
            .map_err(|error| ActError::Other(error.clone()))?;
        api.request(path, path, Some(body), Duration::ZERO)
            .await
            .map(|_| ())
            .map_err(|error| {
                ActError::Other(format!("the admin surface refused POST {path}: {error}"))
            })
    }

    async fn queued_messages(&self, user: &str, device: &str) -> Result<Option<usize>, ActError> {
        let state = self
            .admin()?
            .client
            .state()
            .await
            .map_err(|error| ActError::Other(format!("the admin surface refused: {error}")))?;
        let users = state["users"]
            .as_array()
            .ok_or_else(|| ActError::Other("admin state without a `users` list".to_owned()))?;
        let found = users
            .iter()
            .filter(|entry| entry["username"] == user)
            .flat_map(|entry| entry["devices"].as_array().into_iter().flatten())
            .find(|entry| entry["name"] == device);
        match found {
            None => Ok(None),
            Some(entry) => entry["queued_messages"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    ActError::Other(format!(
                        "admin state: device {device} without `queued_messages`"
                    ))
                }),
        }
    }
}

impl Actor for DeviceActor {
    async fn act(&mut self, command: Command) -> Result<Done, ActError> {
        let device = &mut self.device;
        let sent = |result: Result<i64, DeviceError>| result.map(Done::Sent).map_err(act_error);
        let nothing =
            |result: Result<(), DeviceError>| result.map(|()| Done::Nothing).map_err(act_error);
        match command {
            Command::Request { user } => device
                .request_chat(&user)
                .await
                .map(Done::Chat)
                .map_err(act_error),
            // A refused g_a is the device's own decision, not a failed step: the chat's
            // Aborted event (`expect = "aborted"`) and the requester's discard show it.
            Command::Accept { chat_id } => device
                .accept_chat(chat_id)
                .await
                .map(|_| Done::Nothing)
                .map_err(act_error),
            Command::Decline { chat_id } => nothing(device.decline_chat(chat_id).await),
            Command::Discard {
                chat_id,
                delete_history,
            } => nothing(device.discard_chat(chat_id, delete_history).await),
            Command::SendText { chat_id, text, ttl } => {
                sent(device.send_text(chat_id, &text, ttl).await)
            }
            Command::SendFile {
                chat_id,
                bytes,
                file_name,
                mime_type,
            } => sent(
                device
                    .send_file(chat_id, &bytes, &file_name, &mime_type)
                    .await,
            ),
            Command::ForwardFile {
                chat_id, random_id, ..
            } => sent(device.forward_file(chat_id, random_id).await),
            Command::Read {
                chat_id,
                random_ids,
            } => {
                if !random_ids.is_empty() {
                    device
                        .act(chat_id, UserAction::ReadMessages { random_ids })
                        .await
                        .map_err(act_error)?;
                }
                let max_date = i32::try_from(device.now().0).unwrap_or(i32::MAX);
                nothing(device.read_history(chat_id, max_date).await)
            }
            Command::Service { chat_id, action } => sent(device.act(chat_id, action).await),
            Command::Rekey { chat_id } => sent(device.rekey(chat_id).await),
            Command::Hostile {
                chat_id,
                action,
                deferred: false,
            } => sent(device.perform(chat_id, action).await),
            Command::Hostile {
                chat_id,
                action,
                deferred: true,
            } => nothing(device.arm(chat_id, action)),
            // Offline is the runner not polling; the device has nothing to do.
            Command::GoOffline | Command::ComeOnline => Ok(Done::Nothing),
            Command::Logout => nothing(device.log_out().await),
        }
    }

    async fn poll(&mut self, wait: Duration) -> Result<Vec<Observed>, ActError> {
        let events = self.device.poll(wait).await.map_err(act_error)?;
        Ok(events.into_iter().map(observed).collect())
    }

    async fn user_id_of(&mut self, username: &str) -> Result<i64, ActError> {
        if username == self.device.username() {
            return Ok(self.device.user_id());
        }
        let api: &ApiClient = self.device.api();
        let answer = api
            .call_json(
                "contacts.resolveUsername",
                &serde_json::json!({ "username": username }),
            )
            .await
            .map_err(|error| match error.rpc_message() {
                Some(message) => ActError::Rpc {
                    message: message.to_owned(),
                    detail: String::new(),
                },
                None => ActError::Other(error.to_string()),
            })?;
        answer["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| {
                ActError::Other(format!(
                    "contacts.resolveUsername answered without a user id: {answer}"
                ))
            })
    }

    fn advance_clock(&mut self, seconds: u64) {
        self.device.advance_clock(seconds);
    }

    fn file_id(&self, random_id: i64) -> Option<i64> {
        self.device.file_id(random_id)
    }

    fn chat_state(&self, chat_id: i32) -> Option<ChatState> {
        let device = &self.device;
        let (_, _, common) = device.layers(chat_id)?;
        let key_fingerprint = device.key_fingerprint(chat_id)?;
        let visualization = hex::encode(device.visualization(chat_id)?.as_bytes());
        let version = match common.sending_version() {
            Version::V1 => 1,
            Version::V2 => 2,
        };
        Some(ChatState {
            layer: common,
            version,
            key_fingerprint,
            visualization,
        })
    }
}

/// A device's event as the runner sees it.
fn observed(event: PeerEvent) -> Observed {
    let description = event.to_string();
    match event {
        PeerEvent::ChatRequested { chat_id, from_user } => {
            Observed::ChatRequested { chat_id, from_user }
        }
        PeerEvent::ChatEstablished {
            chat_id,
            key_fingerprint,
            ..
        } => Observed::Established {
            chat_id,
            key_fingerprint,
        },
        PeerEvent::ChatDiscarded {
            chat_id,
            history_deleted,
        } => Observed::Discarded {
            chat_id,
            history_deleted,
        },
        // A file's message (media, no caption) is reported again as FileReceived once
        // fetched, with the same random_id: that is the event expectations see.
        PeerEvent::Message {
            chat_id,
            text,
            media: Some(Media::File(_)),
            ..
        } if text.is_empty() => Observed::Other {
            chat_id,
            description: "a message carrying media (its file follows)".to_owned(),
        },
        PeerEvent::Message {
            chat_id,
            random_id,
            text,
            ttl,
            ..
        } => Observed::Message {
            chat_id,
            random_id,
            text,
            ttl,
        },
        PeerEvent::FileReceived {
            chat_id,
            random_id,
            file_name,
            len,
            sha256,
            ..
        } => Observed::File {
            chat_id,
            random_id,
            file_name,
            len,
            sha256,
        },
        PeerEvent::Action {
            chat_id,
            random_id,
            action,
        } => {
            let what = ActionKind::of(&action);
            let deletes_itself = matches!(&action,
                UserAction::DeleteMessages { random_ids } if random_ids == &[random_id]);
            match what {
                Some(what) => Observed::Action {
                    chat_id,
                    random_id,
                    what,
                    deletes_itself,
                },
                None => Observed::Typing { chat_id },
            }
        }
        PeerEvent::Typing { chat_id } => Observed::Typing { chat_id },
        PeerEvent::ReadReceipt { chat_id, .. } => Observed::ReadReceipt { chat_id },
        PeerEvent::PeerLayerRaised { chat_id, to, .. } => {
            Observed::PeerLayerRaised { chat_id, layer: to }
        }
        PeerEvent::KeyChanged {
            chat_id,
            key_fingerprint,
        } => Observed::KeyChanged {
            chat_id,
            key_fingerprint,
        },
        PeerEvent::Aborted { chat_id, reason } => Observed::Aborted { chat_id, reason },
        PeerEvent::Ignored { chat_id, reason } => Observed::Ignored { chat_id, reason },
        PeerEvent::FileFailed {
            chat_id,
            random_id,
            reason,
        } => Observed::FileRefused {
            chat_id,
            random_id,
            reason,
        },
        PeerEvent::ResendRequested {
            chat_id,
            start_seq_no,
            end_seq_no,
        } => Observed::ResendRequested {
            chat_id,
            start_seq_no,
            end_seq_no,
        },
        PeerEvent::PeerAskedForResend {
            chat_id,
            start_seq_no,
            end_seq_no,
            messages,
            placeholders,
        } => Observed::PeerAskedForResend {
            chat_id,
            start_seq_no,
            end_seq_no,
            messages,
            placeholders,
        },
        PeerEvent::RekeyAborted { chat_id, .. } => Observed::RekeyRefused { chat_id },
        PeerEvent::RekeyRejected { chat_id, why, .. } => Observed::RekeyRejected { chat_id, why },
        other => Observed::Other {
            chat_id: other.chat_id(),
            description,
        },
    }
}
