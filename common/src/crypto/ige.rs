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
use zeroize::ZeroizeOnDrop;

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
    if buf.len().is_multiple_of(BLOCK_LEN) {
        Ok(())
    } else {
        Err(NotBlockAligned { len: buf.len() })
    }
}

/// One 16-byte block as a value the CPU can XOR in a single instruction.
///
/// On x86-64 it is an SSE2 register (`__m128i`; SSE2 is part of the x86-64 baseline), so the
/// chaining values stay in the vector registers AES-NI works in: with a plain `u128` the
/// compiler moves every block to general-purpose registers and back, which lengthens the
/// dependency chain between two AES calls. Elsewhere a `u128` does the job.
#[derive(Clone, Copy)]
struct Lane(lane::Repr);

#[cfg(target_arch = "x86_64")]
mod lane {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128, _mm_xor_si128};

    pub type Repr = __m128i;

    #[inline(always)]
    pub fn load(bytes: &[u8; 16]) -> Repr {
        // SAFETY: `bytes` is 16 readable bytes, and `loadu` has no alignment requirement.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }

    #[inline(always)]
    pub fn store(value: Repr, out: &mut [u8; 16]) {
        // SAFETY: `out` is 16 writable bytes, and `storeu` has no alignment requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), value) }
    }

    #[inline(always)]
    pub fn xor(a: Repr, b: Repr) -> Repr {
        // SAFETY: SSE2 is always available on x86-64.
        unsafe { _mm_xor_si128(a, b) }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod lane {
    pub type Repr = u128;

    #[inline(always)]
    pub fn load(bytes: &[u8; 16]) -> Repr {
        u128::from_ne_bytes(*bytes)
    }

    #[inline(always)]
    pub fn store(value: Repr, out: &mut [u8; 16]) {
        *out = value.to_ne_bytes();
    }

    #[inline(always)]
    pub fn xor(a: Repr, b: Repr) -> Repr {
        a ^ b
    }
}

impl Lane {
    #[inline(always)]
    fn zero() -> Self {
        Self::load(&[0; BLOCK_LEN])
    }

    #[inline(always)]
    fn load(bytes: &[u8; BLOCK_LEN]) -> Self {
        Self(lane::load(bytes))
    }

    #[inline(always)]
    fn store(self, out: &mut [u8; BLOCK_LEN]) {
        lane::store(self.0, out)
    }

    #[inline(always)]
    fn xor(self, other: Self) -> Self {
        Self(lane::xor(self.0, other.0))
    }

    #[inline(always)]
    fn to_block(self) -> Block<Aes256> {
        let mut bytes = [0u8; BLOCK_LEN];
        self.store(&mut bytes);
        Block::<Aes256>::from(bytes)
    }

    #[inline(always)]
    fn from_block(block: Block<Aes256>) -> Self {
        Self::load(&block.into())
    }
}

/// Runs `step` on every 16-byte block of `buf` (whose length is a multiple of 16).
#[inline(always)]
fn for_each_block(buf: &mut [u8], mut step: impl FnMut(&mut [u8; BLOCK_LEN])) {
    for chunk in buf.chunks_exact_mut(BLOCK_LEN) {
        if let Ok(block) = <&mut [u8; BLOCK_LEN]>::try_from(chunk) {
            step(block);
        }
    }
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
        // The textbook step XORs twice between two AES calls (with y_{i−1}, then x_{i−1}).
        // Since y_{i−1} = e_{i−1} ⊕ x_{i−2}, where e_{i−1} is the raw AES output, the next
        // AES input is e_{i−1} ⊕ (x_i ⊕ x_{i−2}): the bracket does not wait for AES, so only
        // one XOR sits between two AES calls. The state is (e_{i−1}, x_{i−2}, x_{i−1}),
        // starting from (y₋₁, 0, x₋₁).
        let mut e_prev = Lane::load(self.y_prev);
        let mut x_prev_prev = Lane::zero();
        let mut x_prev = Lane::load(self.x_prev);
        for_each_block(self.buf, |chunk| {
            let x_i = Lane::load(chunk);
            // E_K input: x_i ⊕ y_{i−1} = e_{i−1} ⊕ (x_i ⊕ x_{i−2})
            let mut block = e_prev.xor(x_i.xor(x_prev_prev)).to_block();
            backend.proc_block((&mut block).into());
            let e_i = Lane::from_block(block);
            // y_i = E_K(x_i ⊕ y_{i−1}) ⊕ x_{i−1}
            e_i.xor(x_prev).store(chunk);
            e_prev = e_i;
            x_prev_prev = x_prev;
            x_prev = x_i;
        });
        e_prev.xor(x_prev_prev).store(self.y_prev);
        x_prev.store(self.x_prev);
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
        // The mirror image of encryption: x_{i−1} = d_{i−1} ⊕ y_{i−2}, so the next AES input
        // is d_{i−1} ⊕ (y_i ⊕ y_{i−2}). The state is (d_{i−1}, y_{i−2}, y_{i−1}), starting
        // from (x₋₁, 0, y₋₁).
        let mut d_prev = Lane::load(self.x_prev);
        let mut y_prev_prev = Lane::zero();
        let mut y_prev = Lane::load(self.y_prev);
        for_each_block(self.buf, |chunk| {
            let y_i = Lane::load(chunk);
            // D_K input: y_i ⊕ x_{i−1} = d_{i−1} ⊕ (y_i ⊕ y_{i−2})
            let mut block = d_prev.xor(y_i.xor(y_prev_prev)).to_block();
            backend.proc_block((&mut block).into());
            let d_i = Lane::from_block(block);
            // x_i = D_K(y_i ⊕ x_{i−1}) ⊕ y_{i−1}
            d_i.xor(y_prev).store(chunk);
            d_prev = d_i;
            y_prev_prev = y_prev;
            y_prev = y_i;
        });
        y_prev.store(self.y_prev);
        d_prev.xor(y_prev_prev).store(self.x_prev);
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
