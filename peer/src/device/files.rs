//! Files in a chat, as the device handles them (the transfer itself is
//! [`crate::files`]: one-time key, upload in parts, download in ranges).
//!
//! Sending: the file is encrypted and uploaded, then a message carrying its key, IV and
//! size goes out by `messages.sendEncryptedFile`; once the server names the stored file
//! (`messages.sentEncryptedFile`), re-sends and forwards attach it by id. Receiving: a
//! message's `encryptedFile` waits until the chat releases the message (in order), then
//! is downloaded, checked against the key in the message, and decrypted
//! ([`PeerEvent::FileReceived`], or [`PeerEvent::FileFailed`] saying why).
//! Every file sent or received is remembered by its message's random_id
//! ([`Device::file_id`], [`Device::forward_file`]).

use secretchat_common::chat::{ChatError, FileKind, FileMedia, Media, Message};
use secretchat_common::crypto::file::FileKey;
use secretchat_common::tl::api::{enums, types};
use serde::{Deserialize, Serialize};

use super::{Device, DeviceError, PeerEvent};

/// A file this device knows how to attach again (sent or received): where it is stored
/// and how to decrypt it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct KnownFile {
    id: i64,
    access_hash: i64,
    media: FileMedia,
}

impl Device {
    /// Encrypts `bytes` with a one-time key, uploads it in parts, and sends it as a
    /// document. Returns the message's random_id.
    pub async fn send_file(
        &mut self,
        chat_id: i32,
        bytes: &[u8],
        file_name: &str,
        mime_type: &str,
    ) -> Result<i64, DeviceError> {
        let entry = self.entry_mut(chat_id)?;
        if !entry.chat.is_established() {
            return Err(DeviceError::Chat {
                chat_id,
                error: ChatError::WrongState {
                    state: "not established",
                    expected: "established",
                },
            });
        }
        let uploaded = crate::files::upload(&self.api, bytes, &mut self.rng).await?;
        self.explain.line("file", || {
            format!(
                "[chat {chat_id}] {file_name:?}: {} bytes → one-time key, fingerprint {}; {} encrypted bytes uploaded in parts of {}",
                bytes.len(),
                uploaded.key.fingerprint(),
                uploaded.encrypted_len,
                crate::files::PART_SIZE
            )
        });
        let media = FileMedia {
            kind: FileKind::Document,
            size: bytes.len() as i64,
            key: *uploaded.key.key(),
            iv: *uploaded.key.iv(),
            mime_type: mime_type.to_owned(),
            caption: String::new(),
            file_name: file_name.to_owned(),
            thumb: Vec::new(),
            thumb_w: 0,
            thumb_h: 0,
            w: 0,
            h: 0,
            duration: 0,
        };
        self.send_file_message(chat_id, media, uploaded.input).await
    }

    /// Sends again, into `chat_id`, a file this device sent or received before (by that
    /// message's random_id): the stored encrypted file is reused
    /// (`inputEncryptedFile{id, access_hash}`), the message carries its key again.
    pub async fn forward_file(
        &mut self,
        chat_id: i32,
        original_random_id: i64,
    ) -> Result<i64, DeviceError> {
        let known = self
            .known_files
            .get(&original_random_id)
            .cloned()
            .ok_or_else(|| {
                DeviceError::Protocol(format!(
                    "no file known for random_id {original_random_id} (send or receive it first)"
                ))
            })?;
        let input = enums::InputEncryptedFile::InputEncryptedFile(types::InputEncryptedFile {
            id: known.id,
            access_hash: known.access_hash,
        });
        self.send_file_message(chat_id, known.media, input).await
    }

    async fn send_file_message(
        &mut self,
        chat_id: i32,
        media: FileMedia,
        input: enums::InputEncryptedFile,
    ) -> Result<i64, DeviceError> {
        let message = Message {
            media: Some(Media::File(Box::new(media.clone()))),
            ..Message::default()
        };
        let random_id = self.on_chat(chat_id, |entry, now, rng| {
            let random_id = entry.chat.send_message(now, message, rng)?;
            entry.outgoing_files.insert(random_id, input);
            entry.outgoing_media.insert(random_id, media);
            Ok(random_id)
        })?;
        self.finish_action(chat_id, random_id).await
    }

    /// The server stored the file sent with message `random_id` (its
    /// `messages.sentEncryptedFile` answer): from now on (re-sends, forwards) the file is
    /// named by its id.
    pub(super) fn file_stored(&mut self, chat_id: i32, random_id: i64, file: enums::EncryptedFile) {
        let enums::EncryptedFile::EncryptedFile(file) = file else {
            return;
        };
        let Some(entry) = self.chats.get_mut(&chat_id) else {
            return;
        };
        entry.outgoing_files.insert(
            random_id,
            enums::InputEncryptedFile::InputEncryptedFile(types::InputEncryptedFile {
                id: file.id,
                access_hash: file.access_hash,
            }),
        );
        if let Some(media) = entry.outgoing_media.remove(&random_id) {
            self.known_files.insert(
                random_id,
                KnownFile {
                    id: file.id,
                    access_hash: file.access_hash,
                    media,
                },
            );
        }
    }

    /// The server's id of the stored file carried by message `random_id`: a file this
    /// device sent (named by the `sentEncryptedFile` answer) or received and checked.
    pub fn file_id(&self, random_id: i64) -> Option<i64> {
        self.known_files.get(&random_id).map(|file| file.id)
    }

    /// Downloads the files of messages the chat just released, and adds `FileReceived`
    /// (or `FileFailed`) right after each message event.
    pub(super) async fn fetch_files(&mut self, chat_id: i32) {
        let mut index = 0;
        while index < self.pending.len() {
            let wanted = match &self.pending[index] {
                PeerEvent::Message {
                    chat_id: c,
                    random_id,
                    media: Some(Media::File(media)),
                    ..
                } if *c == chat_id => Some((*random_id, media.as_ref().clone())),
                _ => None,
            };
            index += 1;
            let Some((random_id, media)) = wanted else {
                continue;
            };
            let file = self
                .chats
                .get_mut(&chat_id)
                .and_then(|entry| entry.incoming_files.remove(&random_id));
            let outcome = match file {
                None => Err("the message has a file but the server attached none".to_owned()),
                Some(file) => {
                    let key = FileKey::new(media.key, media.iv);
                    match crate::files::download(&self.api, &file, &key, media.size).await {
                        Ok(downloaded) => {
                            if let enums::EncryptedFile::EncryptedFile(stored) = &file {
                                self.known_files.insert(
                                    random_id,
                                    KnownFile {
                                        id: stored.id,
                                        access_hash: stored.access_hash,
                                        media: media.clone(),
                                    },
                                );
                            }
                            Ok(downloaded)
                        }
                        Err(error) => Err(error.to_string()),
                    }
                }
            };
            let event = match outcome {
                Ok(downloaded) => {
                    self.explain.line("file", || {
                        format!(
                            "[chat {chat_id}] {:?}: downloaded, key fingerprint and size checked, {} bytes decrypted, sha256 {}",
                            media.file_name,
                            downloaded.plaintext.len(),
                            downloaded.sha256.get(..16).unwrap_or_default()
                        )
                    });
                    PeerEvent::FileReceived {
                        chat_id,
                        random_id,
                        file_name: media.file_name.clone(),
                        mime_type: media.mime_type.clone(),
                        len: downloaded.plaintext.len(),
                        sha256: downloaded.sha256,
                        bytes: downloaded.plaintext,
                    }
                }
                Err(reason) => PeerEvent::FileFailed {
                    chat_id,
                    random_id,
                    reason,
                },
            };
            self.pending.insert(index, event);
            index += 1;
        }
    }
}
