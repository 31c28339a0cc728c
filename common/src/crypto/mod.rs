//! The cryptographic building blocks of secret chats, with no knowledge of TL.
//!
//! * [`ige`] — AES-256 in IGE mode, the only cipher mode used (SPEC §2.4).
//! * [`msg_key`] — the per-message hash sent in clear: SHA-1 of the plaintext for MTProto
//!   1.0, keyed SHA-256 of the padded plaintext for 2.0 (SPEC §2.2, §2.3).
//! * [`kdf`] — from chat key and `msg_key` to the per-message AES key and IV, in both
//!   versions (`kdf::v1`, `kdf::v2`).
//! * [`visualization`] — the 36-byte key hash users compare, and its 12×12 picture
//!   (SPEC §1.7).
//! * [`file`](mod@file) — encrypted files: the per-file key, its 32-bit fingerprint and the
//!   continuous IGE stream over upload parts (SPEC §6).
//!
//! The envelope that puts these together — `key_fingerprint ‖ msg_key ‖ ciphertext` — is
//! [`crate::envelope`]; the 64-bit chat key fingerprint lives with the key in [`crate::key`].

pub mod file;
pub mod ige;
pub mod kdf;
pub mod msg_key;
pub mod visualization;

pub use file::{FileKey, FileKeyFingerprint};
pub use ige::{Ige256, NotBlockAligned};
pub use kdf::{AesKeyIv, X};
pub use msg_key::MsgKey;
pub use visualization::KeyVisualization;
