//! The binding message of `auth.bindTempAuthKey`: a temporary key proves it speaks for a
//! permanent one (core.telegram.org/mtproto/auth_key#perfect-forward-secrecy,
//! core.telegram.org/method/auth.bindTempAuthKey).
//!
//! A client with perfect forward secrecy (tdlib) makes a temporary key, and binds it to its
//! permanent key with `auth.bindTempAuthKey(perm_auth_key_id, nonce, expires_at,
//! encrypted_message)`, sent under the temporary key. `encrypted_message` is an MTProto
//! **1.0** message under the permanent key, with 16 random bytes where the salt and
//! session_id would be:
//!
//! ```text
//! perm_auth_key_id (8) | msg_key (16) | AES-256-IGE( random (16) | msg_id (8) | seq_no = 0 (4)
//!                                                     | length (4) | bind_auth_key_inner | padding 0..15 )
//! msg_key = SHA1(plaintext without padding)[4..20]      aes key, iv = MTProto 1.0 KDF, x = 0
//! bind_auth_key_inner#75a3f765 nonce:long temp_auth_key_id:long perm_auth_key_id:long
//!                              temp_session_id:long expires_at:int
//! ```
//!
//! `msg_id` must be the msg_id of the message carrying the call, and the inner fields must
//! repeat the call's and name the temporary key and its session: the server checks all of it
//! ([`open`]); [`seal`] is the client side.

use rand::{CryptoRng, RngCore};
use secretchat_common::crypto::ige;
use secretchat_common::crypto::kdf;
use secretchat_common::crypto::msg_key::{self, MsgKey, MSG_KEY_LEN};
use secretchat_common::tl::{TlRead, TlWrite};
use subtle::ConstantTimeEq;

use crate::auth_key::AuthKey;
use crate::fault::Fault;
use crate::service::enums::BindAuthKeyInner as BoxedInner;
use crate::service::types::BindAuthKeyInner;

/// random (16) | msg_id (8) | seq_no (4) | length (4).
const HEADER_LEN: usize = 32;

/// Why a binding message is refused (`ENCRYPTED_MESSAGE_INVALID`). All the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("the binding message is {len} bytes; it needs 8 + 16 + whole 16-byte blocks")]
    Shape { len: usize },
    #[error("the binding message is under key {got:016x}, not the permanent key named")]
    WrongKey { got: i64 },
    #[error("the binding message's msg_key does not match its plaintext")]
    MsgKeyMismatch,
    #[error("the binding message's length field {length} does not fit")]
    Length { length: i32 },
    #[error("the binding message's seq_no is {seq_no}, not 0")]
    SeqNo { seq_no: i32 },
    #[error("the binding message does not hold a bind_auth_key_inner: {reason}")]
    Inner { reason: String },
}

impl BindingError {
    pub fn fault(&self) -> Fault {
        Fault::Peer
    }
}

/// What an opened binding message says.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Must equal the msg_id of the message carrying `auth.bindTempAuthKey`.
    pub msg_id: i64,
    pub inner: BindAuthKeyInner,
}

/// Encrypts `inner` under the permanent key, for the call sent as `msg_id`.
pub fn seal(
    perm_key: &AuthKey,
    msg_id: i64,
    inner: &BindAuthKeyInner,
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u8> {
    let body = BoxedInner::BindAuthKeyInner(inner.clone()).to_bytes();
    let mut plaintext = vec![0u8; 16];
    rng.fill_bytes(&mut plaintext);
    plaintext.extend_from_slice(&msg_id.to_le_bytes());
    plaintext.extend_from_slice(&0i32.to_le_bytes());
    let length = i32::try_from(body.len()).unwrap_or(i32::MAX);
    plaintext.extend_from_slice(&length.to_le_bytes());
    plaintext.extend_from_slice(&body);
    let msg_key = msg_key::v1::compute(&plaintext);
    let padding = (ige::BLOCK_LEN - plaintext.len() % ige::BLOCK_LEN) % ige::BLOCK_LEN;
    let start = plaintext.len();
    plaintext.resize(start + padding, 0);
    rng.fill_bytes(&mut plaintext[start..]);
    let aes = kdf::v1::derive(perm_key.as_chat_key(), &msg_key);
    ige::encrypt_in_place(aes.key(), aes.iv(), &mut plaintext)
        .expect("the plaintext was padded to whole blocks");
    let mut message = perm_key.id().as_i64().to_le_bytes().to_vec();
    message.extend_from_slice(msg_key.as_bytes());
    message.extend_from_slice(&plaintext);
    message
}

/// Decrypts and checks a binding message under the permanent key.
pub fn open(perm_key: &AuthKey, message: &[u8]) -> Result<Binding, BindingError> {
    let shape = BindingError::Shape { len: message.len() };
    if message.len() < 8 + MSG_KEY_LEN + HEADER_LEN + 4
        || !(message.len() - 8 - MSG_KEY_LEN).is_multiple_of(ige::BLOCK_LEN)
    {
        return Err(shape);
    }
    let (id_bytes, rest) = message.split_at(8);
    let (msg_key_bytes, ciphertext) = rest.split_at(MSG_KEY_LEN);
    let got = i64::from_le_bytes(id_bytes.try_into().map_err(|_| shape.clone())?);
    if got != perm_key.id().as_i64() {
        return Err(BindingError::WrongKey { got });
    }
    let msg_key = MsgKey::from_bytes(msg_key_bytes.try_into().map_err(|_| shape.clone())?);
    let aes = kdf::v1::derive(perm_key.as_chat_key(), &msg_key);
    let mut plaintext = ciphertext.to_vec();
    ige::decrypt_in_place(aes.key(), aes.iv(), &mut plaintext).map_err(|_| shape)?;
    let word = |at: usize| {
        [
            plaintext[at],
            plaintext[at + 1],
            plaintext[at + 2],
            plaintext[at + 3],
        ]
    };
    let length = i32::from_le_bytes(word(28));
    let body_len = usize::try_from(length)
        .ok()
        .filter(|&len| len % 4 == 0 && HEADER_LEN + len <= plaintext.len())
        .filter(|&len| plaintext.len() - HEADER_LEN - len < ige::BLOCK_LEN)
        .ok_or(BindingError::Length { length })?;
    let computed = msg_key::v1::compute(&plaintext[..HEADER_LEN + body_len]);
    if !bool::from(computed.as_bytes().ct_eq(msg_key.as_bytes())) {
        return Err(BindingError::MsgKeyMismatch);
    }
    let seq_no = i32::from_le_bytes(word(24));
    if seq_no != 0 {
        return Err(BindingError::SeqNo { seq_no });
    }
    let mut msg_id = [0u8; 8];
    msg_id.copy_from_slice(&plaintext[16..24]);
    let BoxedInner::BindAuthKeyInner(inner) =
        BoxedInner::from_bytes(&plaintext[HEADER_LEN..HEADER_LEN + body_len]).map_err(|e| {
            BindingError::Inner {
                reason: e.to_string(),
            }
        })?;
    Ok(Binding {
        msg_id: i64::from_le_bytes(msg_id),
        inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn key(byte: u8) -> AuthKey {
        AuthKey::from_bytes(&[byte; 256]).unwrap()
    }

    fn inner() -> BindAuthKeyInner {
        BindAuthKeyInner {
            nonce: 11,
            temp_auth_key_id: 22,
            perm_auth_key_id: key(1).id().as_i64(),
            temp_session_id: 33,
            expires_at: 44,
        }
    }

    #[test]
    fn a_sealed_binding_opens_under_the_permanent_key_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sealed = seal(&key(1), 0x5f00_0000_0000_0004, &inner(), &mut rng);
        let opened = open(&key(1), &sealed).unwrap();
        assert_eq!(opened.msg_id, 0x5f00_0000_0000_0004);
        assert_eq!(opened.inner, inner());
        assert!(matches!(
            open(&key(2), &sealed),
            Err(BindingError::WrongKey { .. })
        ));
    }

    #[test]
    fn a_flipped_bit_in_the_ciphertext_or_msg_key_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let sealed = seal(&key(1), 4, &inner(), &mut rng);
        for at in [8, 30, sealed.len() - 1] {
            let mut tampered = sealed.clone();
            tampered[at] ^= 0x80;
            assert!(open(&key(1), &tampered).is_err(), "byte {at}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_opener(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = open(&key(1), &bytes);
        }
    }
}
