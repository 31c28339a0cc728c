//! # The MTProto front door: Telegram's own protocol over TCP
//!
//! The HTTP/JSON door ([`crate::methods`]) serves clients written against the mock's dialect;
//! this one serves the clients people really run — Telethon, Pyrogram, tdlib builds — which
//! change only the server's address and RSA key. Both doors turn a request into the same
//! generated call types and hand it to the same transport-free `apply` of each method; the
//! chat core and the queues never learn which door a device used.
//!
//! The wire protocol itself is the sans-I/O crate `secretchat-mtproto`; the door puts sockets
//! and the server's state around it, one concept per module, in the order a client meets
//! them:
//!
//! * [`server_key`] — the RSA key clients must install (`--rsa-key`, or generated);
//! * [`connection`] — one TCP connection: transport detection, the handshake, opening and
//!   sealing packets, what bad input gets;
//! * [`auth_keys`] — the keys the handshake created, each with its sessions, connections and
//!   (once signed in) its device;
//! * [`dispatch`] — an auth key's sessions driven: calls out to the API, answers and
//!   service messages back to the right connection;
//! * [`pushes`] — updates sent to a signed-in key's sessions the moment they land;
//! * [`bind_temp`] — `auth.bindTempAuthKey`: a temporary key (tdlib's perfect forward
//!   secrecy) takes on its permanent key's sign-in;
//! * [`api`] — the calls at the layer the connection declared (sign-in by phone, users,
//!   config, and every method of the HTTP door).
//!
//! Time: the session layer (msg_ids, salts) runs on the machine's real clock, because clients
//! compare msg_ids with their own; the admin clock offset moves only the API's dates and
//! the queues' expiry.

pub mod api;
pub mod auth_keys;
pub mod bind_temp;
pub mod connection;
pub mod dispatch;
pub mod pushes;
pub mod server_key;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use rand::RngCore;
use secretchat_mtproto::handshake::{HandshakeServer, NewAuthKey};
use secretchat_mtproto::session::{self, AuthKeySessions, ConnectionId};
use tokio::net::TcpListener;

use self::auth_keys::{AuthKeyRecord, AuthKeys};
use self::server_key::{PublicKeyDocument, ServerKeySource};
use crate::state::Server;

/// The door's state inside [`Server`].
#[derive(Debug)]
pub struct Door {
    pub server_key: ServerKeySource,
    handshake: OnceLock<HandshakeServer>,
    pub keys: AuthKeys,
    /// Where [`serve`] listens, once it does.
    pub addr: OnceLock<SocketAddr>,
    /// How long a connection may stay silent before it is closed.
    pub idle_timeout: Duration,
    pub session_config: session::Config,
    next_connection: AtomicU64,
}

impl Door {
    pub fn new(server_key: ServerKeySource, idle_timeout: Duration) -> Self {
        Self {
            server_key,
            handshake: OnceLock::new(),
            keys: AuthKeys::default(),
            addr: OnceLock::new(),
            idle_timeout,
            session_config: session::Config::default(),
            next_connection: AtomicU64::new(1),
        }
    }

    /// The RSA key and DH group every handshake uses.
    pub fn handshake_server(&self) -> &HandshakeServer {
        self.handshake.get_or_init(|| {
            HandshakeServer::new(vec![self.server_key.key().clone()]).expect("one RSA key is given")
        })
    }

    /// Stores a key the handshake created, with fresh sessions.
    pub fn store_key(&self, key: NewAuthKey, now: SystemTime) -> Arc<AuthKeyRecord> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let sessions = AuthKeySessions::new(
            self.session_config.clone(),
            key.auth_key.id().as_i64(),
            secret,
        );
        self.keys.insert(key, sessions, now)
    }

    /// The public key, and where the door listens.
    pub fn public_document(&self) -> PublicKeyDocument {
        self.server_key
            .public_document(self.addr.get().map(SocketAddr::to_string))
    }
}

/// Serves the MTProto door on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let _ = server.mtproto.addr.set(addr);
    // Make (or load) the key before the first client waits for it.
    let fingerprint = server.mtproto.handshake_server().keys()[0].fingerprint();
    tracing::info!(%addr, rsa_fingerprint = %fingerprint, "mtproto: listening");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: the listener stays up.
                        tracing::warn!(%error, "mtproto: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let id = ConnectionId(server.mtproto.next_connection.fetch_add(1, Ordering::Relaxed));
                tokio::spawn(connection::run(Arc::clone(&server), stream, peer, id));
            }
        }
    }
}
