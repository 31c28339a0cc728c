//! A small MTProto client over a real socket, built from `secretchat-mtproto`'s client
//! pieces: what the door's tests and benchmark drive it with (Telethon and Pyrogram themselves
//! run in `tests/interop/`).

#![allow(dead_code)] // each test binary uses its own part of it

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use secretchat_common::tl::{TlRead, TlWrite};
use secretchat_mtproto::auth_key::AuthKey;
use secretchat_mtproto::handshake::client::{self, ClientOptions, DhGenOutcome};
use secretchat_mtproto::message::encrypted::{self, Direction};
use secretchat_mtproto::message::unencrypted;
use secretchat_mtproto::rsa::ServerPublicKey;
use secretchat_mtproto::service::enums;
use secretchat_mtproto::service_messages::RpcAnswer;
use secretchat_mtproto::session::msg_id::ClientMsgIds;
use secretchat_mtproto::session::{ClientEvent, ClientSession, InitConnection, PlainMessage};
use secretchat_mtproto::transport::{self, ClientConnection, Transport};
use secretchat_server::config::ServerConfig;
use secretchat_server::device::DeviceRecord;
use secretchat_server::state::Server;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the server before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A server with its MTProto door on an ephemeral port.
pub struct Door {
    pub server: Arc<Server>,
    pub addr: std::net::SocketAddr,
}

impl Door {
    pub async fn start(config: ServerConfig) -> Door {
        let server = Arc::new(Server::new(&config).expect("valid config"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(secretchat_server::mtproto::serve(
            listener,
            Arc::clone(&server),
            std::future::pending(),
        ));
        Door { server, addr }
    }

    pub fn public_key(&self) -> ServerPublicKey {
        self.server.mtproto.server_key.key().public_key().clone()
    }

    /// A connection that has made its own auth key and opened a session.
    pub async fn client(&self, transport: Transport) -> Client {
        let mut client = Client::connect(self.addr, transport, false).await;
        let key = client
            .create_key(&self.public_key(), ClientOptions::TELETHON)
            .await;
        client.use_key(key.auth_key, key.server_salt);
        client
    }

    pub fn auth_key_count(&self) -> usize {
        self.server.mtproto.keys.all().len()
    }
}

/// What came out of the socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Packet(Vec<u8>),
    TransportError(i32),
    /// The server closed the connection.
    Closed,
}

/// An accepted chat `chat_id` from `admin` to `participant` (set up through the methods'
/// `apply`, untimed): the admin's `inputEncryptedChat`.
pub fn chat(door: &Door, admin: &DeviceRecord, participant: &DeviceRecord, chat_id: i32) -> Value {
    let server = &door.server;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let public = |seed: u8| {
        let exponent = secretchat_common::dh::Exponent::from_be_bytes(&[seed; 256]).unwrap();
        b64(&secretchat_common::dh::public_value(
            &server.dh.config,
            &exponent,
        ))
    };
    let run = |device: &DeviceRecord, method: &str, fields: Value| {
        secretchat_server::methods::apply_json(
            server,
            device,
            method,
            fields.as_object().unwrap().clone(),
        )
        .unwrap()
        .unwrap()
    };
    let hash = server
        .directory
        .access_hash(admin.user_id, participant.user_id);
    let waiting = run(
        admin,
        "messages.requestEncryption",
        json!({
            "user_id": {"_": "inputUser", "user_id": participant.user_id.to_string(), "access_hash": hash.to_string()},
            "random_id": chat_id, "g_a": public(1),
        }),
    );
    let participant_hash = server.chats.get(&chat_id).unwrap().participant_access_hash;
    run(
        participant,
        "messages.acceptEncryption",
        json!({
            "peer": {"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": participant_hash.to_string()},
            "g_b": public(2), "key_fingerprint": "1",
        }),
    );
    json!({"_": "inputEncryptedChat", "chat_id": chat_id, "access_hash": waiting["access_hash"]})
}

/// One client connection.
pub struct Client {
    stream: TcpStream,
    connection: ClientConnection,
    plain_msg_ids: ClientMsgIds,
    pub key: Option<AuthKey>,
    pub session: ClientSession,
}

impl Client {
    pub async fn connect(
        addr: std::net::SocketAddr,
        transport: Transport,
        obfuscated: bool,
    ) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let connection = if obfuscated {
            ClientConnection::obfuscated(transport, Some(2), None, &mut OsRng).unwrap()
        } else {
            ClientConnection::new(transport)
        };
        Client {
            stream,
            connection,
            plain_msg_ids: ClientMsgIds::default(),
            key: None,
            session: ClientSession::new(0, 0),
        }
    }

    /// Bytes as they are, no framing (garbage, half frames).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    pub async fn send_packet(&mut self, packet: &[u8]) {
        let framed = self.connection.encode(packet, &mut OsRng).unwrap();
        self.send_raw(&framed).await;
    }

    /// The next packet, transport error or close (fails the test after [`PATIENCE`]).
    pub async fn receive(&mut self) -> Received {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match self.connection.poll_event() {
                Ok(Some(transport::ClientEvent::Packet(packet))) => {
                    return match transport::transport_error_in(&packet) {
                        Some(code) => Received::TransportError(code),
                        None => Received::Packet(packet),
                    }
                }
                Ok(Some(transport::ClientEvent::TransportError(code))) => {
                    return Received::TransportError(code)
                }
                Ok(Some(transport::ClientEvent::QuickAck(_))) => continue,
                Ok(None) => {}
                Err(error) => panic!("the server's framing is broken: {error}"),
            }
            let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut buffer))
                .await
                .expect("the server answers in time");
            match read {
                Ok(0) | Err(_) => return Received::Closed,
                Ok(n) => self.connection.feed(&buffer[..n]),
            }
        }
    }

    /// An unencrypted request and its answer's body.
    pub async fn plain_call(&mut self, body: &[u8]) -> Vec<u8> {
        let msg_id = self.plain_msg_ids.next(SystemTime::now());
        self.send_packet(&unencrypted::encode(msg_id, body).unwrap())
            .await;
        match self.receive().await {
            Received::Packet(packet) => unencrypted::decode(&packet).unwrap().body,
            other => panic!("expected a handshake answer, got {other:?}"),
        }
    }

    /// The three round trips of the handshake, as `options` says the client sends them.
    pub async fn create_key(
        &mut self,
        server_key: &ServerPublicKey,
        options: ClientOptions,
    ) -> client::ClientAuthKey {
        let (req_pq, awaiting) = client::start(&mut OsRng);
        let answer = self.plain_call(&req_pq.to_bytes()).await;
        let res_pq = enums::ResPQ::from_bytes(&answer).unwrap();
        let enums::ResPQ::ResPQ(res_pq) = res_pq;
        let (req_dh, awaiting) = awaiting
            .handle_res_pq(
                &res_pq,
                std::slice::from_ref(server_key),
                &options,
                &mut OsRng,
            )
            .unwrap();
        let answer = self.plain_call(&req_dh.to_bytes()).await;
        let dh_params = enums::ServerDHParams::from_bytes(&answer).unwrap();
        let now = i32::try_from(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        let (mut request, mut awaiting) = awaiting
            .handle_server_dh_params(&dh_params, now, &mut OsRng)
            .unwrap();
        loop {
            let answer = self.plain_call(&request.to_bytes()).await;
            let dh_gen = enums::SetClientDHParamsAnswer::from_bytes(&answer).unwrap();
            match awaiting.handle_dh_gen(&dh_gen, &mut OsRng).unwrap() {
                DhGenOutcome::Done(key) => return key,
                DhGenOutcome::Retry {
                    request: again,
                    next,
                } => {
                    request = again;
                    awaiting = *next;
                }
            }
        }
    }

    /// From now on messages go under `key`, in a new session.
    pub fn use_key(&mut self, key: AuthKey, salt: i64) {
        self.key = Some(key);
        self.session = ClientSession::new(OsRng.next_u64() as i64, salt);
    }

    /// Seals `message` with the key and sends it.
    pub async fn send_message(&mut self, message: &PlainMessage) {
        let key = self.key.as_ref().expect("a key");
        let packet = encrypted::seal(key, Direction::ClientToServer, message, &mut OsRng).unwrap();
        self.send_packet(&packet).await;
    }

    /// The next server message, opened and read by the session.
    pub async fn events(&mut self) -> Result<Vec<ClientEvent>, Received> {
        match self.receive().await {
            Received::Packet(packet) => {
                let key = self.key.as_ref().expect("a key");
                let opened = encrypted::open(key, Direction::ServerToClient, &packet)
                    .expect("the server's packet opens under our key");
                Ok(self.session.handle_message(opened.message).unwrap())
            }
            other => Err(other),
        }
    }

    /// Sends `query` and returns its answer, resending once after `bad_server_salt` (as both
    /// clients do) and skipping service messages.
    pub async fn call(&mut self, query: Vec<u8>) -> RpcAnswer {
        let mut message = self.session.call(SystemTime::now(), query.clone());
        self.send_message(&message).await;
        loop {
            let events = self
                .events()
                .await
                .expect("an answer, not a closed connection");
            for event in events {
                match event {
                    ClientEvent::Result { req_msg_id, answer } if req_msg_id == message.msg_id => {
                        return answer
                    }
                    // The session has taken the new salt already.
                    ClientEvent::BadServerSalt(bad) if bad.bad_msg_id == message.msg_id => {
                        message = self.session.call(SystemTime::now(), query.clone());
                        self.send_message(&message).await;
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a prepared call message and returns its answer (no resend: the salt must be
    /// right).
    pub async fn call_message(&mut self, message: &PlainMessage) -> RpcAnswer {
        self.send_message(message).await;
        loop {
            for event in self
                .events()
                .await
                .expect("an answer, not a closed connection")
            {
                if let ClientEvent::Result { req_msg_id, answer } = event {
                    if req_msg_id == message.msg_id {
                        return answer;
                    }
                }
            }
        }
    }

    /// `invokeWithLayer(layer, initConnection(query))`, as clients send their first call.
    pub async fn call_with_layer(&mut self, layer: i32, query: Vec<u8>) -> RpcAnswer {
        self.call(ClientSession::wrap_with_layer(layer, &test_app(), query))
            .await
    }
}

/// The `initConnection` a test client sends.
pub fn test_app() -> InitConnection {
    InitConnection {
        api_id: 1,
        device_model: "door-test".into(),
        system_version: "linux".into(),
        app_version: "1.0".into(),
        system_lang_code: "en".into(),
        lang_pack: String::new(),
        lang_code: "en".into(),
        proxy: None,
        has_params: false,
    }
}
