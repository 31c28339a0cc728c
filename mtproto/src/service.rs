//! The MTProto service schema (`tl/mtproto.tl`): everything that travels between client and
//! server around the API calls — creating the auth key (`req_pq_multi`, `resPQ`,
//! `p_q_inner_data`, `server_DH_params_ok`, `dh_gen_ok`, ...), acknowledgements, salts,
//! sessions, pings, and the requests about other messages (core.telegram.org/mtproto/auth_key,
//! /mtproto/service_messages, /mtproto/service_messages_about_messages).
//!
//! Generated at build time by `secretchat-tlgen` (see `build.rs`); every type's doc carries
//! its TL line. `int128`/`int256` (nonces, `new_nonce`, the nonce hashes) are raw
//! `[u8; 16]`/`[u8; 32]`, echoed byte for byte. The envelopes no generator can express — the
//! bare vectors of `msg_container` and `future_salts`, `rpc_result`'s `Object`, `gzip_packed`
//! — are commented out in the schema and hand-parsed in [`crate::service_messages`].
//!
//! * [`types`] / [`enums`] — the constructors and boxed types (`types::MsgsAck`,
//!   `enums::BadMsgNotification`, ...);
//! * [`functions`] and [`Function`] — the requests (`functions::Ping`,
//!   `functions::ReqPqMulti`, ...), and "decode whichever request this is";
//! * [`Object`] — any constructor by id; [`CONSTRUCTORS`] and [`FUNCTIONS`] — each one's id,
//!   name and TL line.
//!
//! Print the generated source with
//! `cargo run -p secretchat-tlgen -- mtproto/tl/mtproto.tl --function-enum`.

include!(concat!(env!("OUT_DIR"), "/service.rs"));
