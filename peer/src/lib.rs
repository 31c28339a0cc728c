//! # secretchat-peer: the reference peer
//!
//! For now the peer is its tools: [`vectors`] checks known-answer vector files against the
//! implementation in `secretchat-common`, and [`codec_cli`] opens and seals single messages
//! (`decode` / `encode`) so any wire blob can be explained field by field.

pub mod codec_cli;
pub mod scenario;
pub mod vectors;
