//! # secretchat-peer: the reference peer
//!
//! A client of the mock server that runs the whole secret-chat protocol, and the tools
//! around it. In the order a reader meets them:
//!
//! * [`client`] — [`client::ApiClient`], the one HTTP/JSON client of the server's API,
//!   built on the generated TL function types, with Telegram-shaped [`client::ApiError`]s.
//! * [`device`] — [`device::Device`], one device of one user: signs in, long-polls
//!   `updates.getDifference`, drives a [`secretchat_common::chat::SecretChat`] per chat,
//!   saves and resumes (one module per concern: chats, DH cache, actions, outbox, updates,
//!   files, saved state); [`device::HostileDevice`] wraps one to play the attacker.
//!   [`events`] is what a device reports ([`events::PeerEvent`]).
//! * [`files`] — encrypted files: one-time key, upload in parts, download in ranges.
//! * [`explain`] — `--explain`: every step as a line a learner can follow.
//! * [`embedded`] — [`embedded::EmbeddedServer`], the mock server in-process on
//!   ephemeral ports, and the admin client.
//! * [`demo`], [`bot`], [`load`] — the commands of the same names ([`commands`] holds
//!   their flags and exit statuses).
//! * [`scenario`] — scenario files, the runner, `run` and `actor`.
//! * [`vectors`] checks known-answer vector files; [`codec_cli`] opens and seals single
//!   messages (`decode` / `encode`).
//! * [`web`] — `--web`: the run as a live, illustrated page (a sequence diagram, every
//!   message opened and explained, the two key pictures side by side).

pub mod bot;
pub mod client;
pub mod codec_cli;
pub mod commands;
pub mod demo;
pub mod device;
pub mod embedded;
pub mod events;
pub mod explain;
pub mod files;
pub mod load;
pub mod scenario;
pub mod vectors;
pub mod web;
