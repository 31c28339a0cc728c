//! The server's Diffie-Hellman parameters, checked once and cached by version.
//!
//! Every handshake starts with `messages.getDhConfig(version, random_length)`. The first
//! answer (`messages.dhConfig`) carries `p` and `g`, which are checked before any use — a
//! 2048-bit safe prime, `g` generating the right subgroup
//! ([`secretchat_common::dh::check_config`]); the checked config is cached with its
//! `version`, and later answers (`messages.dhConfigNotModified`) reuse it. Only the fresh
//! server `random` is new each time.

use secretchat_common::chat::DhParams;
use secretchat_common::dh;
use secretchat_common::tl::api::{enums, functions};
use serde::{Deserialize, Serialize};

use super::{Device, DeviceError};
use crate::explain::shorten;

/// How many bytes of server randomness a device asks for with each getDhConfig.
pub(super) const DH_RANDOM_LENGTH: i32 = 256;

/// The cached, checked DH config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DhCache {
    version: i32,
    params: DhParams,
}

impl Device {
    /// The checked DH parameters and fresh server randomness: `messages.getDhConfig` with
    /// the cached version; `dhConfigNotModified` reuses the cache.
    pub(super) async fn dh_config(&mut self) -> Result<(DhParams, Vec<u8>), DeviceError> {
        let version = self.dh.as_ref().map_or(0, |cache| cache.version);
        let answer = self
            .api
            .call(&functions::MessagesGetDhConfig {
                version,
                random_length: DH_RANDOM_LENGTH,
            })
            .await?;
        let random = match answer {
            enums::MessagesDhConfig::MessagesDhConfig(config) => {
                let checked = dh::check_config(&config.p, config.g)?;
                self.explain.line("dh", || {
                    format!(
                        "messages.getDhConfig → p = {}, g = {}, version {}",
                        shorten(&config.p),
                        config.g,
                        config.version
                    )
                });
                self.explain.line("check", || {
                    format!(
                        "p is 2048 bits, p and (p − 1)/2 are prime, g = {} is in 2..=7 and a quadratic residue mod p: ok (cached as version {})",
                        config.g, config.version
                    )
                });
                self.dh = Some(DhCache {
                    version: config.version,
                    params: DhParams::from_checked(checked),
                });
                config.random
            }
            enums::MessagesDhConfig::MessagesDhConfigNotModified(not_modified) => {
                if self.dh.is_none() {
                    return Err(DeviceError::Protocol(
                        "messages.dhConfigNotModified, but this device has no DH config cached"
                            .to_owned(),
                    ));
                }
                self.explain.line("dh", || {
                    format!("messages.getDhConfig(version {version}) → dhConfigNotModified: the cached, checked config is reused")
                });
                not_modified.random
            }
        };
        if random.len() != DH_RANDOM_LENGTH as usize {
            return Err(DeviceError::Protocol(format!(
                "messages.getDhConfig gave {} random bytes, {DH_RANDOM_LENGTH} were asked for",
                random.len()
            )));
        }
        let params = self
            .dh
            .as_ref()
            .map(|cache| cache.params.clone())
            .ok_or_else(|| DeviceError::Protocol("no DH config".to_owned()))?;
        Ok((params, random))
    }
}
