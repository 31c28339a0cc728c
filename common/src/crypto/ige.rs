//! AES-256 in Infinite Garble Extension (IGE) mode — the cipher under every secret-chat
//! message and every encrypted file.
//!
//! IGE chains each block to *both* the previous ciphertext block and the previous plaintext
//! block (SPEC §2.4):
//!
//! ```text
//! encrypt:  y_i = E_K(x_i ⊕ y_{i−1}) ⊕ x_{i−1}
//! decrypt:  x_i = D_K(y_i ⊕ x_{i−1}) ⊕ y_{i−1}
//!
//!            x_1                   x_2              (plaintext blocks)
//!             │                     │
//!   y_0 ───▶ ⊕           ┌──────▶ ⊕
//!             │           │         │
//!            E_K          │        E_K
//!             │           │         │
//!   x_0 ───▶ ⊕     x_1 ──┼──────▶ ⊕
//!             │           │         │
//!            y_1 ─────────┘        y_2 ───▶ …       (ciphertext blocks)
//! ```
//!
//! The 32-byte IV is `y₋₁ ‖ x₋₁` — `iv[0..16]` plays the "previous ciphertext block" and
//! `iv[16..32]` the "previous plaintext block" (the OpenSSL / tdlib layout). After a call the
//! state holds `(last ciphertext block ‖ last plaintext block)`, so feeding a long stream in
//! several 16-byte-aligned parts gives exactly the one-shot result; files rely on that (§6).
//!
//! Every block depends on the previous one in both directions, so IGE cannot be
//! parallelised: its speed is bounded by one AES block encryption after another. To get
//! there, the whole loop runs inside [`BlockEncrypt::encrypt_with_backend`], which picks the
//! AES-NI (or software) backend once per call instead of once per block.

use std::fmt;

use aes::cipher::consts::U16;
use aes::cipher::{
    Block, BlockBackend, BlockClosure, BlockDecrypt, BlockEncrypt, BlockSizeUser, KeyInit,
};
use aes::Aes256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// AES block size in bytes; IGE only processes whole blocks.
pub const BLOCK_LEN: usize = 16;
/// AES-256 key length in bytes.
pub const KEY_LEN: usize = 32;
/// IGE IV length in bytes: `y₋₁ ‖ x₋₁`.
pub const IV_LEN: usize = 32;

/// A buffer whose length is not a multiple of the 16-byte AES block.
///
/// A caller bug when encrypting (pad first); a malformed input when decrypting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AES-IGE works on whole 16-byte blocks, got {len} bytes")]
pub struct NotBlockAligned {
    pub len: usize,
}

/// AES-256-IGE with its chaining state, for a stream processed part by part.
///
/// The key schedule and the running IV are wiped on drop; `Debug` shows neither.
#[derive(ZeroizeOnDrop)]
pub struct Ige256 {
    #[zeroize(skip)] // `Aes256` wipes its own round keys (the `zeroize` feature of `aes`).
    cipher: Aes256,
    /// `y_{i−1}`: the previous ciphertext block (initially `iv[0..16]`).
    y_prev: [u8; BLOCK_LEN],
    /// `x_{i−1}`: the previous plaintext block (initially `iv[16..32]`).
    x_prev: [u8; BLOCK_LEN],
}

impl Ige256 {
    pub fn new(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN]) -> Self {
        let (y, x) = iv.split_at(BLOCK_LEN);
        let mut y_prev = [0u8; BLOCK_LEN];
        let mut x_prev = [0u8; BLOCK_LEN];
        y_prev.copy_from_slice(y);
        x_prev.copy_from_slice(x);
        Self {
            cipher: Aes256::new(key.into()),
            y_prev,
            x_prev,
        }
    }

    /// Encrypts `buf` in place and carries the chaining state on to the next call.
    pub fn encrypt_in_place(&mut self, buf: &mut [u8]) -> Result<(), NotBlockAligned> {
        check_aligned(buf)?;
        self.cipher.encrypt_with_backend(EncryptChain {
            buf,
            y_prev: &mut self.y_prev,
            x_prev: &mut self.x_prev,
        });
        Ok(())
    }

    /// Decrypts `buf` in place and carries the chaining state on to the next call.
    pub fn decrypt_in_place(&mut self, buf: &mut [u8]) -> Result<(), NotBlockAligned> {
        check_aligned(buf)?;
        self.cipher.decrypt_with_backend(DecryptChain {
            buf,
            y_prev: &mut self.y_prev,
            x_prev: &mut self.x_prev,
        });
        Ok(())
    }

    /// The current IV, `y_{last} ‖ x_{last}`: what tdlib writes back after each call.
    pub fn iv(&self) -> [u8; IV_LEN] {
        let mut iv = [0u8; IV_LEN];
        iv[..BLOCK_LEN].copy_from_slice(&self.y_prev);
        iv[BLOCK_LEN..].copy_from_slice(&self.x_prev);
        iv
    }
}

impl fmt::Debug for Ige256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ige256(<redacted>)")
    }
}

/// One-shot AES-256-IGE encryption of `buf` in place.
pub fn encrypt_in_place(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    buf: &mut [u8],
) -> Result<(), NotBlockAligned> {
    Ige256::new(key, iv).encrypt_in_place(buf)
}

/// One-shot AES-256-IGE decryption of `buf` in place.
pub fn decrypt_in_place(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    buf: &mut [u8],
) -> Result<(), NotBlockAligned> {
    Ige256::new(key, iv).decrypt_in_place(buf)
}

fn check_aligned(buf: &[u8]) -> Result<(), NotBlockAligned> {
    if buf.len() % BLOCK_LEN == 0 {
        Ok(())
    } else {
        Err(NotBlockAligned { len: buf.len() })
    }
}

#[inline(always)]
fn xor_into(out: &mut [u8; BLOCK_LEN], a: &[u8; BLOCK_LEN], b: &[u8; BLOCK_LEN]) {
    *out = (u128::from_ne_bytes(*a) ^ u128::from_ne_bytes(*b)).to_ne_bytes();
}

/// The encryption loop, run by the AES backend (see the module comment for why).
struct EncryptChain<'a> {
    buf: &'a mut [u8],
    y_prev: &'a mut [u8; BLOCK_LEN],
    x_prev: &'a mut [u8; BLOCK_LEN],
}

impl BlockSizeUser for EncryptChain<'_> {
    type BlockSize = U16;
}

impl BlockClosure for EncryptChain<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        let mut y_prev = *self.y_prev;
        let mut x_prev = *self.x_prev;
        for chunk in self.buf.chunks_exact_mut(BLOCK_LEN) {
            let mut x_i = [0u8; BLOCK_LEN];
            x_i.copy_from_slice(chunk);
            // y_i = E_K(x_i ⊕ y_{i−1}) ⊕ x_{i−1}
            let mut block = Block::<Aes256>::default();
            xor_into(block.as_mut(), &x_i, &y_prev);
            backend.proc_block((&mut block).into());
            let mut y_i = [0u8; BLOCK_LEN];
            xor_into(&mut y_i, block.as_ref(), &x_prev);
            chunk.copy_from_slice(&y_i);
            y_prev = y_i;
            x_prev = x_i;
        }
        *self.y_prev = y_prev;
        *self.x_prev = x_prev;
        y_prev.zeroize();
        x_prev.zeroize();
    }
}

/// The decryption loop, run by the AES backend.
struct DecryptChain<'a> {
    buf: &'a mut [u8],
    y_prev: &'a mut [u8; BLOCK_LEN],
    x_prev: &'a mut [u8; BLOCK_LEN],
}

impl BlockSizeUser for DecryptChain<'_> {
    type BlockSize = U16;
}

impl BlockClosure for DecryptChain<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        let mut y_prev = *self.y_prev;
        let mut x_prev = *self.x_prev;
        for chunk in self.buf.chunks_exact_mut(BLOCK_LEN) {
            let mut y_i = [0u8; BLOCK_LEN];
            y_i.copy_from_slice(chunk);
            // x_i = D_K(y_i ⊕ x_{i−1}) ⊕ y_{i−1}
            let mut block = Block::<Aes256>::default();
            xor_into(block.as_mut(), &y_i, &x_prev);
            backend.proc_block((&mut block).into());
            let mut x_i = [0u8; BLOCK_LEN];
            xor_into(&mut x_i, block.as_ref(), &y_prev);
            chunk.copy_from_slice(&x_i);
            y_prev = y_i;
            x_prev = x_i;
        }
        *self.y_prev = y_prev;
        *self.x_prev = x_prev;
        y_prev.zeroize();
        x_prev.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    // Published vector: mtcute crypto.test-utils.ts, "should encrypt and decrypt aes-ige".
    #[test]
    fn mtcute_published_aes256_ige_vector_round_trips() {
        let key = unhex::<32>("5468697320697320616e20696d706c655468697320697320616e20696d706c65");
        let iv = unhex::<32>("6d656e746174696f6e206f6620494745206d6f646520666f72204f70656e5353");
        let pt = hex::decode("99706487a1cde613bc6de0b6f24b1c7aa448c8b9c3403e3467a8cad89340f53b")
            .unwrap();
        let ct = hex::decode("792ea8ae577b1a66cb3bd92679b8030ca54ee631976bd3a04547fdcb4639fa69")
            .unwrap();
        let mut buf = pt.clone();
        encrypt_in_place(&key, &iv, &mut buf).unwrap();
        assert_eq!(buf, ct);
        decrypt_in_place(&key, &iv, &mut buf).unwrap();
        assert_eq!(buf, pt);
    }

    #[test]
    fn unaligned_buffer_is_rejected_with_its_length() {
        let mut ige = Ige256::new(&[0; 32], &[0; 32]);
        assert_eq!(
            ige.encrypt_in_place(&mut [0u8; 17]),
            Err(NotBlockAligned { len: 17 })
        );
        assert_eq!(
            ige.decrypt_in_place(&mut [0u8; 15]),
            Err(NotBlockAligned { len: 15 })
        );
    }

    #[test]
    fn empty_buffer_leaves_the_iv_unchanged() {
        let iv = [7u8; 32];
        let mut ige = Ige256::new(&[1; 32], &iv);
        ige.encrypt_in_place(&mut []).unwrap();
        assert_eq!(ige.iv(), iv);
    }

    #[test]
    fn debug_output_hides_key_and_iv() {
        let shown = format!("{:?}", Ige256::new(&[0xab; 32], &[0xcd; 32]));
        assert_eq!(shown, "Ige256(<redacted>)");
    }
}
