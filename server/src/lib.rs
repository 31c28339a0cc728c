//! # secretchat-server: the Telegram side of secret chats
//!
//! (The tour is written once the routes exist.)

pub mod clock;
pub mod config;
pub mod error;
pub mod files;
pub mod update_queue;
