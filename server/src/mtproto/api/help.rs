//! # `help.getConfig` and `help.getNearestDc`: the mock is one data center
//!
//! Every client asks for the config first, inside `initConnection`
//! (core.telegram.org/method/help.getConfig), and reads its data centers and limits from it.
//! The mock is a single DC, number 2 — where Telethon and Pyrogram start and what the test
//! phones `99966 2 YYYY` name — reachable at the door's own address, so nothing ever asks a
//! client to migrate (`PHONE_MIGRATE_X` would make Pyrogram create a key elsewhere). The
//! limits are Telegram's published values; the mock enforces only its own
//! (`secretchat-server --help`).

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{json, Value};

use crate::state::Server;

/// The one data center the mock is (also every stored file's `dc_id`).
pub const THIS_DC: i32 = crate::files::DC_ID;

/// How long a client may keep the config, in seconds.
const CONFIG_LIFETIME: i32 = 3600;

/// `config` for the door at its current address.
pub fn config(server: &Server) -> Value {
    let now = server.now();
    let (ip, port) = match server.mtproto.addr.get() {
        Some(addr) if !addr.ip().is_unspecified() => (addr.ip(), addr.port()),
        Some(addr) => (IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        None => (IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
    };
    json!({
        "_": "config",
        "date": now,
        "expires": now.saturating_add(CONFIG_LIFETIME),
        "test_mode": false,
        "this_dc": THIS_DC,
        "dc_options": [{
            "_": "dcOption",
            "ipv6": ip.is_ipv6(),
            "id": THIS_DC,
            "ip_address": ip.to_string(),
            "port": port,
        }],
        "dc_txt_domain_name": "",
        "chat_size_max": 200,
        "megagroup_size_max": 200_000,
        "forwarded_count_max": 100,
        "online_update_period_ms": 210_000,
        "offline_blur_timeout_ms": 5_000,
        "offline_idle_timeout_ms": 30_000,
        "online_cloud_timeout_ms": 300_000,
        "notify_cloud_delay_ms": 30_000,
        "notify_default_delay_ms": 1_500,
        "push_chat_period_ms": 60_000,
        "push_chat_limit": 2,
        "edit_time_limit": 172_800,
        "revoke_time_limit": i32::MAX,
        "revoke_pm_time_limit": i32::MAX,
        "rating_e_decay": 2_419_200,
        "stickers_recent_limit": 200,
        "channels_read_media_period": 604_800,
        "call_receive_timeout_ms": 20_000,
        "call_ring_timeout_ms": 90_000,
        "call_connect_timeout_ms": 30_000,
        "call_packet_timeout_ms": 10_000,
        "me_url_prefix": "https://t.me/",
        "caption_length_max": 1024,
        "message_length_max": 4096,
        "webfile_dc_id": THIS_DC,
    })
}

/// `nearestDc`: this one.
pub fn nearest_dc() -> Value {
    json!({"_": "nearestDc", "country": "", "this_dc": THIS_DC, "nearest_dc": THIS_DC})
}
