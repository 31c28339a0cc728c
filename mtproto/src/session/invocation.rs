//! How an API call is invoked: the wrappers around the query.
//!
//! A client does not send a bare query on a new connection; it wraps it in generic functions
//! that say how to run it (core.telegram.org/api/invoking):
//!
//! ```text
//! invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;            the API layer to speak
//! initConnection#c1cd5ea9 {X:Type} flags:# api_id:int device_model:string system_version:string
//!     app_version:string system_lang_code:string lang_pack:string lang_code:string
//!     proxy:flags.0?InputClientProxy params:flags.1?JSONValue query:!X = X;   who the app is
//! invokeWithoutUpdates#bf9459b7 {X:Type} query:!X = X;                 no updates on this session
//! invokeAfterMsg#cb9f372d {X:Type} msg_id:long query:!X = X;           run after another call
//! invokeAfterMsgs#3dc4b4f0 {X:Type} msg_ids:Vector<long> query:!X = X;
//! ```
//!
//! Telethon sends `invokeWithLayer(229, initConnection(…, help.getConfig))` on every connect,
//! inside `invokeWithoutUpdates` with `receive_updates=False`, and `invokeAfterMsg` for
//! requests sent with `ordered=True`; Pyrogram sends `invokeWithLayer(158, initConnection(…,
//! help.getConfig))` on every session (NOTES.md section e). The wrappers are the same in
//! both layers, so they are read with the layer-229 types; the query inside is left as bytes
//! for the application to decode at the caller's layer.

use secretchat_common::tl::{DecodeError, RawQuery, TlRead, TlWrite};

use crate::api::layer229::enums::{InputClientProxy, JSONValue};
use crate::api::layer229::functions::{
    InitConnection as InitConnectionFn, InvokeAfterMsg, InvokeAfterMsgs, InvokeWithLayer,
    InvokeWithoutUpdates,
};
use crate::api::layer229::types::{InputClientProxy as TypesInputClientProxy, JsonObject};
use crate::service_messages::constructor_id;

/// How deep wrappers may nest (each wrapper appears once in practice).
pub const MAX_WRAPPERS: usize = 8;

/// What `initConnection` said about the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitConnection {
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub system_lang_code: String,
    pub lang_pack: String,
    pub lang_code: String,
    /// `proxy`: the MTProxy the client came through (address, port); Telethon sets it when
    /// it connects through one.
    pub proxy: Option<(String, i32)>,
    /// Whether `params` (a JSONValue of app-specific data) was given.
    pub has_params: bool,
}

impl InitConnection {
    /// `initConnection(self, query)`: the wrapper a client puts around its first call.
    pub fn wrap(&self, query: Vec<u8>) -> Vec<u8> {
        InitConnectionFn {
            api_id: self.api_id,
            device_model: self.device_model.clone(),
            system_version: self.system_version.clone(),
            app_version: self.app_version.clone(),
            system_lang_code: self.system_lang_code.clone(),
            lang_pack: self.lang_pack.clone(),
            lang_code: self.lang_code.clone(),
            proxy: self.proxy.clone().map(|(address, port)| {
                InputClientProxy::InputClientProxy(TypesInputClientProxy { address, port })
            }),
            params: self
                .has_params
                .then(|| JSONValue::JsonObject(JsonObject { value: Vec::new() })),
            query: RawQuery(query),
        }
        .to_bytes()
    }
}

/// A fixed description of this crate as an app, for the test client (real clients describe
/// their host).
impl Default for InitConnection {
    fn default() -> Self {
        Self {
            api_id: 1,
            device_model: "secretchat-mtproto".to_owned(),
            system_version: "test".to_owned(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            system_lang_code: "en".to_owned(),
            lang_pack: String::new(),
            lang_code: "en".to_owned(),
            proxy: None,
            has_params: false,
        }
    }
}

/// The wrappers found around one query, outermost first where it matters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// `invokeWithLayer`'s layer.
    pub layer: Option<i32>,
    pub init_connection: Option<InitConnection>,
    /// Wrapped in `invokeWithoutUpdates`: the session wants no updates pushed.
    pub without_updates: bool,
    /// `invokeAfterMsg`/`invokeAfterMsgs`: the calls this one must run after.
    pub after_msg_ids: Vec<i64>,
}

/// Why the wrappers could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    #[error("{wrapper}: {source}")]
    Decode {
        wrapper: &'static str,
        source: DecodeError,
    },
    #[error("more than {max} wrappers around one query")]
    TooDeep { max: usize },
}

/// Peels the wrappers off `body`: what they said, and the query inside (boxed bytes).
pub fn unwrap(body: &[u8]) -> Result<(Invocation, Vec<u8>), InvocationError> {
    let mut invocation = Invocation::default();
    let mut query = body.to_vec();
    for _ in 0..=MAX_WRAPPERS {
        let decode = |wrapper| move |source| InvocationError::Decode { wrapper, source };
        query = match constructor_id(&query) {
            Some(InvokeWithLayer::CONSTRUCTOR_ID) => {
                let wrapper =
                    InvokeWithLayer::from_bytes(&query).map_err(decode("invokeWithLayer"))?;
                invocation.layer = Some(wrapper.layer);
                wrapper.query.0
            }
            Some(InitConnectionFn::CONSTRUCTOR_ID) => {
                let wrapper =
                    InitConnectionFn::from_bytes(&query).map_err(decode("initConnection"))?;
                invocation.init_connection = Some(InitConnection {
                    api_id: wrapper.api_id,
                    device_model: wrapper.device_model,
                    system_version: wrapper.system_version,
                    app_version: wrapper.app_version,
                    system_lang_code: wrapper.system_lang_code,
                    lang_pack: wrapper.lang_pack,
                    lang_code: wrapper.lang_code,
                    proxy: wrapper
                        .proxy
                        .map(|InputClientProxy::InputClientProxy(proxy)| {
                            (proxy.address, proxy.port)
                        }),
                    has_params: wrapper.params.is_some(),
                });
                wrapper.query.0
            }
            Some(InvokeWithoutUpdates::CONSTRUCTOR_ID) => {
                let wrapper = InvokeWithoutUpdates::from_bytes(&query)
                    .map_err(decode("invokeWithoutUpdates"))?;
                invocation.without_updates = true;
                wrapper.query.0
            }
            Some(InvokeAfterMsg::CONSTRUCTOR_ID) => {
                let wrapper =
                    InvokeAfterMsg::from_bytes(&query).map_err(decode("invokeAfterMsg"))?;
                invocation.after_msg_ids.push(wrapper.msg_id);
                wrapper.query.0
            }
            Some(InvokeAfterMsgs::CONSTRUCTOR_ID) => {
                let wrapper =
                    InvokeAfterMsgs::from_bytes(&query).map_err(decode("invokeAfterMsgs"))?;
                invocation.after_msg_ids.extend(wrapper.msg_ids);
                wrapper.query.0
            }
            _ => return Ok((invocation, query)),
        };
    }
    Err(InvocationError::TooDeep { max: MAX_WRAPPERS })
}
