//! # Configuration: flags, environment variables, limits
//!
//! Every knob is a command-line flag with an environment-variable twin (for containers),
//! documented by `secretchat-server --help`. The limits protect the server's memory; their
//! defaults are generous for a local lab and every one is enforced with a clear error.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser};

/// Default `--max-body-bytes`: one request body, JSON text. A 512 KiB file part is about
/// 700 KB once base64-encoded, so it fits.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default `--max-message-bytes`: one encrypted message (`data`), after base64 decoding.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Default `--max-file-bytes`: one uploaded file (files live in memory).
pub const DEFAULT_MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Default `--max-file-parts`: Telegram's `upload_max_fileparts_default`.
pub const DEFAULT_MAX_FILE_PARTS: i32 = 4000;
/// Default `--max-queue-len`: unacknowledged encrypted messages per device.
pub const DEFAULT_MAX_QUEUE_LEN: usize = 10_000;
/// Default `--max-devices-per-user`.
pub const DEFAULT_MAX_DEVICES_PER_USER: usize = 10;
/// Default `--max-random-length` for `messages.getDhConfig` (real clients ask for 256).
pub const DEFAULT_MAX_RANDOM_LENGTH: usize = 1024;
/// Default `--max-poll-timeout`, seconds: the longest `updates.getDifference` long-poll.
pub const DEFAULT_MAX_POLL_TIMEOUT: u64 = 60;
/// Default `--difference-limit`: updates of each kind per `updates.getDifference` answer.
pub const DEFAULT_DIFFERENCE_LIMIT: usize = 100;

/// The mock Telegram server for secret chats: HTTP/JSON API, per-device update queues,
/// encrypted file storage. It never decrypts anything.
#[derive(Debug, Clone, Parser)]
#[command(name = "secretchat-server", version, about, long_about = None)]
pub struct ServerConfig {
    /// Address the client API listens on.
    #[arg(long, env = "SECRETCHAT_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port of the client API (`POST /api/<method>`); 0 picks a free one.
    #[arg(long, env = "SECRETCHAT_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Address the admin surface listens on (keep it on loopback).
    #[arg(long, env = "SECRETCHAT_ADMIN_BIND", default_value = "127.0.0.1")]
    pub admin_bind: IpAddr,
    /// Port of the admin surface (`/admin/...`); 0 picks a free one.
    #[arg(long, env = "SECRETCHAT_ADMIN_PORT", default_value_t = 8081)]
    pub admin_port: u16,
    /// Bearer token of the admin surface. If absent a random one is generated and logged.
    #[arg(long, env = "SECRETCHAT_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Seed for every random choice the server makes (ids, access hashes, tokens,
    /// getDhConfig `random`), for reproducible runs. Absent: seeded from the OS.
    #[arg(long, env = "SECRETCHAT_SEED")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub dh: DhOptions,
    #[command(flatten)]
    pub mtproto: MtprotoOptions,
}

/// The limits; each is enforced with a documented error.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Largest request body in bytes (answer: 413 INPUT_REQUEST_TOO_LONG).
    #[arg(long, env = "SECRETCHAT_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Largest encrypted message `data` in bytes (answer: 400 DATA_TOO_LONG).
    #[arg(long, env = "SECRETCHAT_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    /// Largest uploaded file in bytes (answer: 400 FILE_PARTS_INVALID).
    #[arg(long, env = "SECRETCHAT_MAX_FILE_BYTES", default_value_t = DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: usize,
    /// Most parts per file; part numbers run 0..max-1 (answer: FILE_PART_INVALID / FILE_PARTS_INVALID).
    #[arg(long, env = "SECRETCHAT_MAX_FILE_PARTS", default_value_t = DEFAULT_MAX_FILE_PARTS)]
    pub max_file_parts: i32,
    /// Most unacknowledged encrypted messages per device (answer to the sender: 400 PEER_QUEUE_FULL).
    #[arg(long, env = "SECRETCHAT_MAX_QUEUE_LEN", default_value_t = DEFAULT_MAX_QUEUE_LEN)]
    pub max_queue_len: usize,
    /// Most devices one user may sign in (answer: 400 DEVICES_TOO_MANY).
    #[arg(long, env = "SECRETCHAT_MAX_DEVICES_PER_USER", default_value_t = DEFAULT_MAX_DEVICES_PER_USER)]
    pub max_devices_per_user: usize,
    /// Largest `random_length` for messages.getDhConfig (answer: 400 RANDOM_LENGTH_INVALID).
    #[arg(long, env = "SECRETCHAT_MAX_RANDOM_LENGTH", default_value_t = DEFAULT_MAX_RANDOM_LENGTH)]
    pub max_random_length: usize,
    /// Longest updates.getDifference long-poll `timeout`, seconds (longer ones are shortened).
    #[arg(long, env = "SECRETCHAT_MAX_POLL_TIMEOUT", default_value_t = DEFAULT_MAX_POLL_TIMEOUT)]
    pub max_poll_timeout: u64,
    /// Most updates of each kind in one updates.getDifference answer (more: differenceSlice).
    #[arg(long, env = "SECRETCHAT_DIFFERENCE_LIMIT", default_value_t = DEFAULT_DIFFERENCE_LIMIT)]
    pub difference_limit: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_file_parts: DEFAULT_MAX_FILE_PARTS,
            max_queue_len: DEFAULT_MAX_QUEUE_LEN,
            max_devices_per_user: DEFAULT_MAX_DEVICES_PER_USER,
            max_random_length: DEFAULT_MAX_RANDOM_LENGTH,
            max_poll_timeout: DEFAULT_MAX_POLL_TIMEOUT,
            difference_limit: DEFAULT_DIFFERENCE_LIMIT,
        }
    }
}

/// The Diffie-Hellman parameters `messages.getDhConfig` serves.
#[derive(Debug, Clone, Default, Args)]
pub struct DhOptions {
    /// The prime p, big-endian hex (256 bytes). Default: Telegram's 2048-bit safe prime.
    #[arg(long, env = "SECRETCHAT_DH_PRIME")]
    pub dh_prime: Option<String>,
    /// The generator g. Default: 3, Telegram's.
    #[arg(long, env = "SECRETCHAT_DH_G")]
    pub dh_g: Option<i32>,
    /// The config `version` (clients cache by it; must not be 0). Default: 1.
    #[arg(long, env = "SECRETCHAT_DH_VERSION")]
    pub dh_version: Option<i32>,
}

/// Default `--mtproto-port`.
pub const DEFAULT_MTPROTO_PORT: u16 = 8443;
/// Default `--mtproto-idle-timeout`, seconds. Pyrogram pings every 5 s and Telethon every
/// 60 s, so a live client is never idle this long.
pub const DEFAULT_MTPROTO_IDLE_TIMEOUT: u64 = 120;

/// The MTProto 2.0 front door (on by default, beside the HTTP API).
#[derive(Debug, Clone, Args)]
pub struct MtprotoOptions {
    /// Port of the MTProto door (Telegram's TCP transports, for unmodified clients such as
    /// Telethon and Pyrogram); it listens on `--bind`. On by default; 0 picks a free port.
    #[arg(long, env = "SECRETCHAT_MTPROTO_PORT", default_value_t = DEFAULT_MTPROTO_PORT)]
    pub mtproto_port: u16,
    /// Turn the MTProto door off (HTTP only).
    #[arg(long, env = "SECRETCHAT_NO_MTPROTO")]
    pub no_mtproto: bool,
    /// The door's RSA private key, PEM (PKCS#1 or PKCS#8, 2048 bits). Absent: one is
    /// generated at start (from --seed when given); its public half is logged and served at
    /// GET /mtproto/public-key.
    #[arg(long, env = "SECRETCHAT_RSA_KEY")]
    pub rsa_key: Option<PathBuf>,
    /// Seconds an MTProto connection may stay silent before the server closes it.
    #[arg(long, env = "SECRETCHAT_MTPROTO_IDLE_TIMEOUT", default_value_t = DEFAULT_MTPROTO_IDLE_TIMEOUT,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub mtproto_idle_timeout: u64,
}

impl Default for MtprotoOptions {
    fn default() -> Self {
        Self {
            mtproto_port: DEFAULT_MTPROTO_PORT,
            no_mtproto: false,
            rsa_key: None,
            mtproto_idle_timeout: DEFAULT_MTPROTO_IDLE_TIMEOUT,
        }
    }
}

impl ServerConfig {
    /// A configuration for tests: ports 0 (free ones), default limits, a fixed seed and a
    /// fixed, public admin token — for tests only.
    pub fn for_tests() -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            admin_bind: IpAddr::from([127, 0, 0, 1]),
            admin_port: 0,
            admin_token: Some("test-admin-token".to_owned()),
            seed: Some(7),
            limits: Limits::default(),
            dh: DhOptions::default(),
            mtproto: MtprotoOptions {
                mtproto_port: 0,
                ..MtprotoOptions::default()
            },
        }
    }

    /// A configuration for a server embedded in another process (`secretchat-peer`'s
    /// `demo`, `load` and `run`): loopback, ports 0, default limits, seeded from the OS
    /// unless the caller sets `seed`, and an admin token of 32 random bytes from the OS —
    /// never the fixed token of [`Self::for_tests`], and not derivable from the seed a run
    /// prints.
    pub fn embedded() -> Self {
        Self {
            admin_token: Some(hex::encode(rand::random::<[u8; 32]>())),
            seed: None,
            ..Self::for_tests()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_flag_is_documented_in_help() {
        let help = ServerConfig::command().render_long_help().to_string();
        for flag in [
            "--bind",
            "--port",
            "--admin-bind",
            "--admin-port",
            "--admin-token",
            "--seed",
            "--max-body-bytes",
            "--max-message-bytes",
            "--max-file-bytes",
            "--max-file-parts",
            "--max-queue-len",
            "--max-devices-per-user",
            "--max-random-length",
            "--max-poll-timeout",
            "--difference-limit",
            "--dh-prime",
            "--dh-g",
            "--dh-version",
            "--mtproto-port",
            "--no-mtproto",
            "--rsa-key",
            "--mtproto-idle-timeout",
        ] {
            assert!(help.contains(flag), "{flag} missing from --help");
        }
        assert!(help.contains("SECRETCHAT_PORT"));
    }

    #[test]
    fn defaults_of_the_flags_equal_limits_default() {
        let parsed = ServerConfig::try_parse_from(["secretchat-server"]).unwrap();
        let default = Limits::default();
        assert_eq!(parsed.limits.max_body_bytes, default.max_body_bytes);
        assert_eq!(parsed.limits.max_queue_len, default.max_queue_len);
        assert_eq!(parsed.limits.difference_limit, default.difference_limit);
        assert_eq!(parsed.port, 8080);
        assert_eq!(parsed.admin_port, 8081);
    }

    #[test]
    fn an_embedded_server_gets_a_fresh_random_admin_token_not_the_tests_one() {
        let (a, b) = (ServerConfig::embedded(), ServerConfig::embedded());
        let token = a.admin_token.clone().unwrap_or_default();
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a.admin_token, b.admin_token);
        assert_ne!(a.admin_token, ServerConfig::for_tests().admin_token);
    }

    #[test]
    fn the_flag_definitions_pass_claps_own_consistency_checks() {
        ServerConfig::command().debug_assert();
    }
}
