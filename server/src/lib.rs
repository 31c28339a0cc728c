//! # secretchat-server: the Telegram side of secret chats
//!
//! The mock server relays encryption updates between devices, stores encrypted file parts
//! and keeps per-device update queues. It never decrypts anything. (Being built: see the
//! project's issue on the mock server.)
