//! RSA in the auth-key handshake: the server's key, its fingerprint, and the two ways clients
//! wrap `p_q_inner_data` for it (core.telegram.org/mtproto/auth_key, step 4).
//!
//! The server's public key is known to clients beforehand (Telethon: `rsa.add_key(pem)`
//! takes it as PKCS#1 PEM; Pyrogram: `(n, e)` under its fingerprint). `resPQ` lists the
//! fingerprints of the server's keys:
//!
//! ```text
//! fingerprint = SHA1(tl_bytes(n) + tl_bytes(e))[12 .. 20] as a little-endian long
//!               (n, e minimal big-endian; Telethon crypto/rsa.py `_compute_fingerprint`)
//! ```
//!
//! The client encrypts `data` (the serialized `p_q_inner_data*`) into 256 bytes with raw RSA,
//! `m^e mod n`, after one of two paddings; the server decrypts `m = c^d mod n` and tries
//! RSA_PAD first, then the legacy one:
//!
//! ```text
//! legacy (Telethon, Pyrogram):  m = 0 | SHA1(data) (20) | data | random          (1 + 255 bytes)
//!     the server reads the hash at m[1..21], the object at m[21..], and checks
//!     SHA1(its serialized bytes) — at these fixed offsets, never by stripping zero bytes
//!     (piltover's lstrip breaks when the hash itself starts with 0x00)
//!
//! RSA_PAD (tdlib):              data_with_padding = data + random     (192 bytes, data ≤ 144)
//!     temp_key        = 32 random bytes
//!     data_with_hash  = reverse(data_with_padding) + SHA256(temp_key + data_with_padding)
//!     aes_encrypted   = AES256-IGE(data_with_hash, temp_key, iv = 0)            (224 bytes)
//!     m               = (temp_key XOR SHA256(aes_encrypted)) + aes_encrypted    (256 bytes; redrawn while ≥ n)
//! the server inverts it:
//!     temp_key = m[0..32] XOR SHA256(m[32..256]);  dwh = AES256-IGE-decrypt(m[32..256], temp_key, 0)
//!     data_with_padding = reverse(dwh[0..192]);   valid iff SHA256(temp_key + data_with_padding) == dwh[192..224]
//! ```
//!
//! The RSA itself comes from RustCrypto's `rsa` crate (PEM in and out, key generation, and
//! the raw `hazmat` operations, with blinding on decryption). Keys must be 2048-bit: clients
//! write exactly 256 bytes of ciphertext.
//!
//! A note on side channels: `rsa` 0.9 is affected by the Marvin timing attack
//! (RUSTSEC-2023-0071) on PKCS#1 v1.5 decryption; this handshake uses no PKCS#1 v1.5, the
//! decryption is blinded, and the server is a local mock.

use std::fmt;

use ::rsa::hazmat::{rsa_decrypt_and_check, rsa_encrypt};
use ::rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use ::rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use ::rsa::traits::PublicKeyParts;
use ::rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use rand::{CryptoRng, RngCore};
use secretchat_common::crypto::ige;
use secretchat_common::tl::encode::write_tl_bytes;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::fault::Fault;

/// Bytes of the modulus, of `encrypted_data` and of `m`.
pub const RSA_LEN: usize = 256;
/// The size of key clients can use.
pub const KEY_BITS: usize = 2048;
/// RSA_PAD: `data` and its random padding.
pub const RSA_PAD_DATA_WITH_PADDING_LEN: usize = 192;
/// RSA_PAD: the longest `data` (tdlib `RSA_PAD` refuses more).
pub const RSA_PAD_MAX_DATA_LEN: usize = 144;
/// Legacy padding: `SHA1(data) + data + random` fill 255 bytes.
pub const LEGACY_LEN: usize = 255;
/// Legacy padding: the longest `data` (255 − 20 bytes of hash).
pub const LEGACY_MAX_DATA_LEN: usize = LEGACY_LEN - 20;

/// The fingerprint of an RSA public key, a TL `long` in `resPQ` and `req_DH_params`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RsaFingerprint(i64);

impl RsaFingerprint {
    pub const fn from_i64(value: i64) -> Self {
        Self(value)
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }
}

impl fmt::Debug for RsaFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaFingerprint({:016x})", self.0 as u64)
    }
}

impl fmt::Display for RsaFingerprint {
    /// As Telegram's docs and clients print it: the unsigned value in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0 as u64)
    }
}

/// Why a key could not be loaded, made or written. A configuration problem: the caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaKeyError {
    #[error("not an RSA key in PEM ({what}): {reason}")]
    Pem { what: &'static str, reason: String },
    #[error("clients need a {KEY_BITS}-bit RSA key, this one has {bits} bits")]
    WrongSize { bits: usize },
    #[error("RSA key generation failed: {reason}")]
    Generate { reason: String },
}

impl RsaKeyError {
    pub fn fault(&self) -> Fault {
        Fault::Caller
    }
}

/// Why `encrypted_data` could not be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RsaError {
    /// The client did not send a 256-byte ciphertext.
    #[error("encrypted_data is {RSA_LEN} bytes, got {len}")]
    EncryptedDataLength { len: usize },
    /// `c ≥ n`: not a ciphertext of this key.
    #[error("encrypted_data is not below the key's modulus")]
    NotBelowModulus,
    /// Neither padding fits: RSA_PAD's hash is wrong and the legacy form's first byte is not 0.
    /// A ciphertext for another key, or garbage.
    #[error("encrypted_data decrypts to neither RSA_PAD nor the legacy padding")]
    NoPaddingFits,
    /// Encrypting: `data` is longer than the padding can carry (a caller bug).
    #[error("{padding} carries at most {max} bytes of data, got {len}")]
    DataTooLong {
        padding: &'static str,
        len: usize,
        max: usize,
    },
    /// Encrypting with a given padding: the random bytes are not the length that fills the block.
    #[error("{padding} needs exactly {expected} random bytes here, got {got}")]
    PaddingLength {
        padding: &'static str,
        got: usize,
        expected: usize,
    },
    /// Encrypting with RSA_PAD and a given temp_key: the result is not below the modulus, so
    /// another temp_key must be drawn (the random version does that itself).
    #[error(
        "RSA_PAD with this temp_key gives a number not below the modulus; draw another temp_key"
    )]
    TempKeyRejected,
}

impl RsaError {
    pub fn fault(&self) -> Fault {
        match self {
            RsaError::EncryptedDataLength { .. }
            | RsaError::NotBelowModulus
            | RsaError::NoPaddingFits => Fault::Peer,
            _ => Fault::Caller,
        }
    }
}

/// A server's (or, for a client, the expected server's) RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerPublicKey {
    key: RsaPublicKey,
    fingerprint: RsaFingerprint,
}

impl fmt::Debug for ServerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerPublicKey(fingerprint {})", self.fingerprint)
    }
}

impl ServerPublicKey {
    fn new(key: RsaPublicKey) -> Result<Self, RsaKeyError> {
        let bits = key.n().bits();
        if bits != KEY_BITS {
            return Err(RsaKeyError::WrongSize { bits });
        }
        let fingerprint = fingerprint_of(&key);
        Ok(Self { key, fingerprint })
    }

    /// `-----BEGIN RSA PUBLIC KEY-----`, as Telethon's `add_key` and Telegram's docs give it.
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, RsaKeyError> {
        let key = RsaPublicKey::from_pkcs1_pem(pem).map_err(|e| RsaKeyError::Pem {
            what: "PKCS#1 public key",
            reason: e.to_string(),
        })?;
        Self::new(key)
    }

    /// `(n, e)` as big-endian numbers, the form Pyrogram keeps.
    pub fn from_n_e(n: &[u8], e: &[u8]) -> Result<Self, RsaKeyError> {
        let key = RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e)).map_err(
            |e| RsaKeyError::Pem {
                what: "(n, e)",
                reason: e.to_string(),
            },
        )?;
        Self::new(key)
    }

    /// `-----BEGIN RSA PUBLIC KEY-----` PEM (PKCS#1), what to hand to Telethon's `add_key`.
    pub fn to_pkcs1_pem(&self) -> Result<String, RsaKeyError> {
        self.key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| RsaKeyError::Pem {
                what: "PKCS#1 public key",
                reason: e.to_string(),
            })
    }

    /// The modulus `n`, minimal big-endian.
    pub fn n(&self) -> Vec<u8> {
        self.key.n().to_bytes_be()
    }

    /// The public exponent `e`, minimal big-endian.
    pub fn e(&self) -> Vec<u8> {
        self.key.e().to_bytes_be()
    }

    pub fn fingerprint(&self) -> RsaFingerprint {
        self.fingerprint
    }

    /// Legacy padding with fresh random bytes (what Telethon and Pyrogram send).
    pub fn encrypt_legacy(
        &self,
        data: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<[u8; RSA_LEN], RsaError> {
        let mut padding = vec![0u8; LEGACY_MAX_DATA_LEN.saturating_sub(data.len())];
        rng.fill_bytes(&mut padding);
        self.encrypt_legacy_with_padding(data, &padding)
    }

    /// Legacy padding with the given random bytes (exactly `235 − len(data)` of them).
    pub fn encrypt_legacy_with_padding(
        &self,
        data: &[u8],
        padding: &[u8],
    ) -> Result<[u8; RSA_LEN], RsaError> {
        check_lengths(
            "the legacy padding",
            data,
            padding,
            LEGACY_MAX_DATA_LEN,
            LEGACY_MAX_DATA_LEN,
        )?;
        // data_with_hash = SHA1(data) + data + random, 255 bytes
        let mut data_with_hash = Zeroizing::new(Vec::with_capacity(LEGACY_LEN));
        data_with_hash.extend_from_slice(&Sha1::digest(data));
        data_with_hash.extend_from_slice(data);
        data_with_hash.extend_from_slice(padding);
        self.raw_encrypt(&data_with_hash)
    }

    /// RSA_PAD with fresh random bytes and temp_keys (what tdlib sends).
    pub fn encrypt_rsa_pad(
        &self,
        data: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<[u8; RSA_LEN], RsaError> {
        let mut padding = vec![0u8; RSA_PAD_DATA_WITH_PADDING_LEN.saturating_sub(data.len())];
        rng.fill_bytes(&mut padding);
        loop {
            let mut temp_key = Zeroizing::new([0u8; 32]);
            rng.fill_bytes(temp_key.as_mut_slice());
            match self.encrypt_rsa_pad_with(data, &padding, &temp_key) {
                Err(RsaError::TempKeyRejected) => continue,
                result => return result,
            }
        }
    }

    /// RSA_PAD with the given padding (`192 − len(data)` bytes) and temp_key.
    pub fn encrypt_rsa_pad_with(
        &self,
        data: &[u8],
        padding: &[u8],
        temp_key: &[u8; 32],
    ) -> Result<[u8; RSA_LEN], RsaError> {
        check_lengths(
            "RSA_PAD",
            data,
            padding,
            RSA_PAD_MAX_DATA_LEN,
            RSA_PAD_DATA_WITH_PADDING_LEN,
        )?;
        // data_with_padding = data + random (192 bytes)
        let mut data_with_padding = Zeroizing::new(Vec::with_capacity(192));
        data_with_padding.extend_from_slice(data);
        data_with_padding.extend_from_slice(padding);
        // data_with_hash = reverse(data_with_padding) + SHA256(temp_key + data_with_padding)
        let mut m = Zeroizing::new([0u8; RSA_LEN]);
        let (temp_key_xor, aes_encrypted) = m.split_at_mut(32);
        aes_encrypted[..192].copy_from_slice(&data_with_padding);
        aes_encrypted[..192].reverse();
        aes_encrypted[192..].copy_from_slice(
            &Sha256::new()
                .chain_update(temp_key)
                .chain_update(data_with_padding.as_slice())
                .finalize(),
        );
        // aes_encrypted = AES256-IGE(data_with_hash, temp_key, 0)
        ige::encrypt_in_place(temp_key, &[0; 32], aes_encrypted)
            .map_err(|_| RsaError::NotBelowModulus)?;
        // temp_key_xor = temp_key XOR SHA256(aes_encrypted)
        let hash = Sha256::digest(&*aes_encrypted);
        for ((out, key), hash) in temp_key_xor.iter_mut().zip(temp_key).zip(hash) {
            *out = key ^ hash;
        }
        if BigUint::from_bytes_be(m.as_slice()) >= *self.key.n() {
            return Err(RsaError::TempKeyRejected);
        }
        self.raw_encrypt(m.as_slice())
    }

    /// `m^e mod n` as 256 big-endian bytes, for `m < n`.
    fn raw_encrypt(&self, m: &[u8]) -> Result<[u8; RSA_LEN], RsaError> {
        let m = BigUint::from_bytes_be(m);
        if m >= *self.key.n() {
            return Err(RsaError::NotBelowModulus);
        }
        let c = rsa_encrypt(&self.key, &m).map_err(|_| RsaError::NotBelowModulus)?;
        Ok(left_padded(&c))
    }
}

/// The server's RSA key.
#[derive(Clone)]
pub struct ServerKey {
    private: RsaPrivateKey,
    public: ServerPublicKey,
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ServerKey(<redacted>, fingerprint {})",
            self.public.fingerprint
        )
    }
}

/// What the server found inside `encrypted_data`, before the object is parsed.
#[derive(Clone, PartialEq, Eq)]
pub enum InnerData {
    /// RSA_PAD, verified by its SHA256: `data` and its random padding (192 bytes).
    RsaPad {
        data_with_padding: Zeroizing<Vec<u8>>,
    },
    /// The legacy form, not yet verified: the claimed `SHA1(data)` and the 235 bytes after it.
    /// The object must be parsed from the start of `data_with_padding` and its serialized
    /// bytes checked against `sha1` ([`InnerData::legacy_hash_matches`]).
    Legacy {
        sha1: [u8; 20],
        data_with_padding: Zeroizing<Vec<u8>>,
    },
}

impl fmt::Debug for InnerData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InnerData::RsaPad { .. } => f.write_str("InnerData::RsaPad(<redacted>)"),
            InnerData::Legacy { .. } => f.write_str("InnerData::Legacy(<redacted>)"),
        }
    }
}

impl InnerData {
    /// The bytes the object is parsed from (the data and its padding).
    pub fn data_with_padding(&self) -> &[u8] {
        match self {
            InnerData::RsaPad { data_with_padding }
            | InnerData::Legacy {
                data_with_padding, ..
            } => data_with_padding,
        }
    }

    /// Legacy: does `SHA1(data_with_padding[..data_len])` equal the hash in front? Always
    /// true for RSA_PAD, whose hash was checked on decryption.
    pub fn legacy_hash_matches(&self, data_len: usize) -> bool {
        match self {
            InnerData::RsaPad { .. } => true,
            InnerData::Legacy {
                sha1,
                data_with_padding,
            } => data_with_padding
                .get(..data_len)
                .is_some_and(|data| bool::from(Sha1::digest(data).as_slice().ct_eq(sha1))),
        }
    }
}

impl ServerKey {
    /// A private key in PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, RsaKeyError> {
        let (what, parsed) = if pem.contains("BEGIN RSA PRIVATE KEY") {
            (
                "PKCS#1 private key",
                RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| e.to_string()),
            )
        } else if pem.contains("BEGIN PRIVATE KEY") {
            (
                "PKCS#8 private key",
                RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string()),
            )
        } else {
            return Err(RsaKeyError::Pem {
                what: "private key",
                reason: "expected -----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----"
                    .to_owned(),
            });
        };
        let private = parsed.map_err(|reason| RsaKeyError::Pem { what, reason })?;
        Self::from_private(private)
    }

    /// A fresh 2048-bit key with `e = 65537`.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Result<Self, RsaKeyError> {
        let private = RsaPrivateKey::new(rng, KEY_BITS).map_err(|e| RsaKeyError::Generate {
            reason: e.to_string(),
        })?;
        Self::from_private(private)
    }

    fn from_private(private: RsaPrivateKey) -> Result<Self, RsaKeyError> {
        let public = ServerPublicKey::new(private.to_public_key())?;
        Ok(Self { private, public })
    }

    /// The key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), to save a generated key.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, RsaKeyError> {
        self.private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| RsaKeyError::Pem {
                what: "PKCS#8 private key",
                reason: e.to_string(),
            })
    }

    /// The key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, RsaKeyError> {
        self.private
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| RsaKeyError::Pem {
                what: "PKCS#1 private key",
                reason: e.to_string(),
            })
    }

    pub fn public_key(&self) -> &ServerPublicKey {
        &self.public
    }

    pub fn fingerprint(&self) -> RsaFingerprint {
        self.public.fingerprint
    }

    /// `m = c^d mod n` as 256 big-endian bytes (blinded with `rng`).
    pub fn decrypt_raw(
        &self,
        encrypted_data: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Zeroizing<[u8; RSA_LEN]>, RsaError> {
        if encrypted_data.len() != RSA_LEN {
            return Err(RsaError::EncryptedDataLength {
                len: encrypted_data.len(),
            });
        }
        let c = BigUint::from_bytes_be(encrypted_data);
        if c >= *self.private.n() {
            return Err(RsaError::NotBelowModulus);
        }
        let m = rsa_decrypt_and_check(&self.private, Some(rng), &c)
            .map_err(|_| RsaError::NotBelowModulus)?;
        let bytes = Zeroizing::new(m.to_bytes_be());
        Ok(Zeroizing::new(left_padded_slice(&bytes)))
    }

    /// Decrypts `encrypted_data` of `req_DH_params` and undoes its padding: RSA_PAD if its
    /// hash checks out, else the legacy form if `m[0] = 0` (module docs).
    pub fn decrypt_inner_data(
        &self,
        encrypted_data: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<InnerData, RsaError> {
        let m = self.decrypt_raw(encrypted_data, rng)?;
        if let Some(data_with_padding) = rsa_pad_inverse(&m) {
            return Ok(InnerData::RsaPad { data_with_padding });
        }
        if m[0] != 0 {
            return Err(RsaError::NoPaddingFits);
        }
        let mut sha1 = [0u8; 20];
        sha1.copy_from_slice(&m[1..21]);
        Ok(InnerData::Legacy {
            sha1,
            data_with_padding: Zeroizing::new(m[21..].to_vec()),
        })
    }
}

/// RSA_PAD's inverse (module docs); `None` when its SHA256 does not match.
fn rsa_pad_inverse(m: &[u8; RSA_LEN]) -> Option<Zeroizing<Vec<u8>>> {
    let (temp_key_xor, aes_encrypted) = m.split_at(32);
    // temp_key = m[0..32] XOR SHA256(m[32..256])
    let hash = Sha256::digest(aes_encrypted);
    let mut temp_key = Zeroizing::new([0u8; 32]);
    for ((out, xored), hash) in temp_key.iter_mut().zip(temp_key_xor).zip(hash) {
        *out = xored ^ hash;
    }
    // dwh = AES256-IGE-decrypt(m[32..256], temp_key, 0)
    let mut dwh = Zeroizing::new(aes_encrypted.to_vec());
    ige::decrypt_in_place(&temp_key, &[0; 32], &mut dwh).ok()?;
    // data_with_padding = reverse(dwh[0..192])
    let mut data_with_padding = Zeroizing::new(dwh[..RSA_PAD_DATA_WITH_PADDING_LEN].to_vec());
    data_with_padding.reverse();
    // valid iff SHA256(temp_key + data_with_padding) == dwh[192..224]
    let expected = Sha256::new()
        .chain_update(temp_key.as_slice())
        .chain_update(data_with_padding.as_slice())
        .finalize();
    bool::from(
        expected
            .as_slice()
            .ct_eq(&dwh[RSA_PAD_DATA_WITH_PADDING_LEN..]),
    )
    .then_some(data_with_padding)
}

/// `data` fits the padding (at most `max_data` bytes) and `padding` fills it to `total`.
fn check_lengths(
    name: &'static str,
    data: &[u8],
    padding: &[u8],
    max_data: usize,
    total: usize,
) -> Result<(), RsaError> {
    if data.len() > max_data {
        return Err(RsaError::DataTooLong {
            padding: name,
            len: data.len(),
            max: max_data,
        });
    }
    let expected = total - data.len();
    if padding.len() != expected {
        return Err(RsaError::PaddingLength {
            padding: name,
            got: padding.len(),
            expected,
        });
    }
    Ok(())
}

/// `SHA1(tl_bytes(n) + tl_bytes(e))[12..20]` read as a little-endian long.
fn fingerprint_of(key: &RsaPublicKey) -> RsaFingerprint {
    let mut serialized = Vec::with_capacity(RSA_LEN + 12);
    write_tl_bytes(&key.n().to_bytes_be(), &mut serialized);
    write_tl_bytes(&key.e().to_bytes_be(), &mut serialized);
    let digest = Sha1::digest(&serialized);
    let mut last8 = [0u8; 8];
    last8.copy_from_slice(&digest[12..20]);
    RsaFingerprint(i64::from_le_bytes(last8))
}

/// A number below the 2048-bit modulus as exactly 256 big-endian bytes.
fn left_padded(n: &BigUint) -> [u8; RSA_LEN] {
    left_padded_slice(&n.to_bytes_be())
}

fn left_padded_slice(be: &[u8]) -> [u8; RSA_LEN] {
    let mut out = [0u8; RSA_LEN];
    let len = be.len().min(RSA_LEN);
    out[RSA_LEN - len..].copy_from_slice(&be[be.len() - len..]);
    out
}
