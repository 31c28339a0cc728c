//! # secretchat-common: the Secret Chats protocol, with no I/O
//!
//! Everything a Telegram secret chat needs that is pure computation lives here, shared by
//! the mock server (`secretchat-server`) and the reference peer (`secretchat-peer`).
//! Nothing in this crate opens a socket, reads a clock or asks the OS for randomness:
//! time and the random source are parameters, so every run can be replayed from a seed.
//!
//! A tour, in the order a message meets these modules:
//!
//! * [`tl`] — the end-to-end TL schema (layers 8 to 144) as Rust types, the strict binary
//!   codec, and the JSON form (`{"_": name, ...}`) the HTTP API and the CLI print.
//! * [`dh`] — Diffie-Hellman: checking the server's `(p, g)`, range checks on `g_a`/`g_b`,
//!   and deriving the 256-byte [`key::ChatKey`].
//! * [`key`] — the chat key and its `key_fingerprint`.
//! * [`crypto`] — AES-256-IGE, the MTProto 1.0 and 2.0 key derivation (`msg_key` → AES key
//!   and IV), the key visualization and the file key fingerprint.
//! * [`envelope`] — `seal` and `open`: TL bytes ⇄ `key_fingerprint ‖ msg_key ‖ ciphertext`,
//!   with every check the spec demands on the way in.
//! * [`side`] and [`seq_no`] — who created the chat, and the `2·raw + x` sequence numbers
//!   whose parity depends on it.
//! * [`chat`] — the secret chat as a sans-I/O state machine: the handshake, layer
//!   negotiation, sequence numbers and resends, re-keying; `handle_*` in, `poll_*` out.
//!
//! **Features.** `hostile` (off by default) adds the attack API: `chat::hostile`, a side
//! breaking the protocol on purpose so the other side's reaction can be checked. The
//! reference peer turns it on to play attackers; a client built on this crate leaves it off.

pub mod chat;
pub mod crypto;
pub mod dh;
pub mod envelope;
pub mod key;
pub mod seq_no;
pub mod side;
pub mod tl;

pub use key::{ChatKey, KeyFingerprint};
pub use side::Side;
