//! # The MTProto front door: Telegram's own protocol over TCP
//!
//! The HTTP/JSON door ([`crate::methods`]) serves clients written against the mock's dialect;
//! this one serves the clients people really run (Telethon, Pyrogram, tdlib builds). Both
//! doors turn a request into the same generated call types and hand it to the same
//! transport-free `apply` of each method; the chat core and the queues never learn which door
//! a device used.
//!
//! The door owns only what MTProto adds on top of the server:
//!
//! * [`api`] — the calls at the layer the connection declared: the query's bytes decoded
//!   with that layer's schema, answered in that layer's form (sign-in by phone, users,
//!   config, and every method of the HTTP door).
