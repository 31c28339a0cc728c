//! # secretchat-mtproto: MTProto 2.0 with no I/O
//!
//! The transport protocol Telegram's clients speak to its servers, from both sides, as
//! sans-I/O pieces: bytes in, bytes and events out; the clock and the random source are
//! parameters. The mock server's MTProto front door (`secretchat-server`) puts sockets around
//! them; tests and benchmarks use the client side to drive that door without Python.
//!
//! A tour, in the order a connection meets the pieces (each module opens with what it is in
//! the protocol):
//!
//! * [`transport`] — how a TCP byte stream is cut into packets (abridged, intermediate,
//!   padded intermediate, full, obfuscated2), detected from the first bytes; quick acks and
//!   transport errors;
//! * [`message`] — what a packet holds: an unencrypted message (the handshake's) or an
//!   MTProto 2.0 encrypted one (msg_key and key derivation, both directions), under an
//!   [`auth_key`];
//! * [`handshake`] — creating an auth key: req_pq_multi, [`rsa`], the DH exchange, both sides;
//! * the session ([`session`]) — msg_id and seq_no rules, salts, acks, containers, gzip,
//!   rpc_result, with the hand-parsed envelopes in [`service_messages`];
//! * the schemas — the service schema ([`service`]) and the API at the layers clients send
//!   ([`api`]).
//!
//! Every error type of the wire modules says whose fault it is ([`fault::Fault`]).

pub mod api;
pub mod auth_key;
pub mod fault;
pub mod handshake;
pub mod message;
pub mod rsa;
pub mod service;
pub mod service_messages;
pub mod session;
pub mod transport;
