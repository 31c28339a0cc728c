//! Telegram's main API at the two layers real clients send: a subset each, for what a
//! secret-chat mock serves (connection setup, config, sign-in, users, update state, every
//! encrypted-chat method and type, files).
//!
//! A client names its layer in `invokeWithLayer(layer, query)`
//! (core.telegram.org/api/invoking#layers) and expects every object back in that layer's
//! form. Telethon 1.45.0 sends 229, Pyrogram 2.0.106 sends 158; most constructors are the same
//! in both, but some changed id between them (`user#8f97c628` at 158 is `user#b1b8cc83` at
//! 229, likewise `userFull`, `peerSettings`, `peerNotifySettings`, `userStatusRecently`,
//! `auth.signUp`, `auth.resendCode`, `contacts.resolveUsername`, `updates.getDifference`), so
//! each layer is a module of its own: decode a request with the module of the caller's layer
//! and encode its answer with the same one. Pyrogram cannot read a 229 `user`.
//!
//! Both are generated at build time by `secretchat-tlgen` (see `build.rs`) with three
//! choices for a partial schema:
//!
//! * types the subset uses but does not define (`Photo`, `EmojiStatus`, `Message`, ... —
//!   listed in each file's header) are **opaque**: enums with no constructors, so such a
//!   field is always absent or an empty vector, and decoding one fails naming the type;
//! * the generic wrappers (`invokeWithLayer`, `initConnection`, `invokeWithoutUpdates`,
//!   `invokeAfterMsg`, `invokeAfterMsgs`: `{X:Type} ... query:!X = X`) are ordinary structs
//!   whose `query` is a [`secretchat_common::tl::RawQuery`] — the inner call's bytes, to be
//!   decoded at the layer the wrapper names ([`crate::session`] unwraps them);
//! * `Function` decodes any request of the layer by its constructor id.
//!
//! Print the source with `cargo run -p secretchat-tlgen -- mtproto/tl/api_telethon_L229.tl
//! --opaque-undefined --generic-functions --function-enum`.

/// Layer 229, Telethon 1.45.0's (`tl/api_telethon_L229.tl`).
pub mod layer229 {
    /// The layer number clients send in `invokeWithLayer`.
    pub const LAYER: i32 = 229;

    include!(concat!(env!("OUT_DIR"), "/layer229.rs"));
}

/// Layer 158, Pyrogram 2.0.106's (`tl/api_pyrogram_L158.tl`).
pub mod layer158 {
    /// The layer number clients send in `invokeWithLayer`.
    pub const LAYER: i32 = 158;

    include!(concat!(env!("OUT_DIR"), "/layer158.rs"));
}
