//! The handshake's proof of work: the server sends `pq`, a product of two primes, and the
//! client must send back `p < q` (core.telegram.org/mtproto/auth_key, steps 2–3).
//!
//! ```text
//! pq = p · q,  p < q prime,  as an 8-byte big-endian string with a non-zero first byte
//! ```
//!
//! The two clients encode the factors differently — Pyrogram echoes pq's bytes and writes p
//! and q as 4 bytes (`to_bytes(4, "big")`), Telethon writes each as its minimal big-endian
//! bytes — so the server draws `2^28 ≤ p < q < 2^31`: both factors then take exactly 4 bytes
//! either way and pq exactly 8 (≥ 2^56, so its first byte is not zero). pq also stays below
//! 2^63: Telethon reads it as a *signed* big-endian integer (`get_int(res_pq.pq)`,
//! telethon/network/authenticator.py) and cannot factor a negative one. It still compares the
//! answers as numbers. Telegram's example is `0x17ED48941A08F981 = 0x494C553B × 0x53911073`.
//! The primes come from `secretchat_common`'s primality test; the client side factors with
//! Pollard's rho in Brent's form, as Telethon does (telethon/crypto/factorization.py).

use num_bigint::BigUint;
use rand::RngCore;
use secretchat_common::dh::prime::is_probable_prime;

/// The least factor the server draws: 2^28.
const MIN_FACTOR: u32 = 1 << 28;
/// Factors stay below 2^31, so pq < 2^62.
const FACTOR_LIMIT: u32 = 1 << 31;

/// A `pq` and its two factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pq {
    p: u32,
    q: u32,
}

impl Pq {
    /// Two distinct random primes in `[2^28, 2^31)`.
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let a = random_prime(rng);
        let b = loop {
            let b = random_prime(rng);
            if b != a {
                break b;
            }
        };
        Self {
            p: a.min(b),
            q: a.max(b),
        }
    }

    /// Given factors (test vectors); `None` unless `p < q`.
    pub fn from_factors(p: u32, q: u32) -> Option<Self> {
        (p < q).then_some(Self { p, q })
    }

    pub fn p(&self) -> u32 {
        self.p
    }

    pub fn q(&self) -> u32 {
        self.q
    }

    pub fn pq(&self) -> u64 {
        u64::from(self.p) * u64::from(self.q)
    }
}

/// An odd random number in `[2^28, 2^31)`, then the next prime from there (wrapping back to
/// 2^28 + 1 at the top).
fn random_prime(rng: &mut impl RngCore) -> u32 {
    let mut candidate = (rng.next_u32() % FACTOR_LIMIT) | MIN_FACTOR | 1;
    loop {
        if is_probable_prime(&BigUint::from(candidate)) {
            return candidate;
        }
        candidate += 2;
        if candidate >= FACTOR_LIMIT {
            candidate = MIN_FACTOR + 1;
        }
    }
}

/// A big-endian number of at most 8 bytes (leading zeros allowed), as the clients send pq,
/// p and q.
pub fn be_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |n, &byte| n << 8 | u64::from(byte)))
}

/// The minimal big-endian bytes of `n` (Telethon's encoding; 4 bytes for our factors).
pub fn be_bytes(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    bytes[first..].to_vec()
}

/// The client's work: `pq = p · q` with `1 < p ≤ q`, `None` if `pq` is prime, 0 or 1.
pub fn factorize(pq: u64) -> Option<(u64, u64)> {
    if pq < 4 {
        return None;
    }
    if pq.is_multiple_of(2) {
        return Some((2, pq / 2));
    }
    // A few polynomials x² + c; each fails with small probability, almost never all.
    (1..=64u64)
        .find_map(|c| brent(pq, c))
        .map(|factor| (factor.min(pq / factor), factor.max(pq / factor)))
}

/// Pollard's rho with Brent's cycle detection on `x ↦ x² + c mod n`: a proper factor or `None`.
fn brent(n: u64, c: u64) -> Option<u64> {
    const BATCH: u64 = 128;
    let step = |x: u64| ((u128::from(x) * u128::from(x) + u128::from(c)) % u128::from(n)) as u64;
    let mul = |a: u64, b: u64| ((u128::from(a) * u128::from(b)) % u128::from(n)) as u64;
    let (mut y, mut r, mut q, mut g) = (2u64, 1u64, 1u64, 1u64);
    let (mut x, mut ys) = (y, y);
    while g == 1 {
        x = y;
        for _ in 0..r {
            y = step(y);
        }
        let mut k = 0;
        while k < r && g == 1 {
            ys = y;
            for _ in 0..BATCH.min(r - k) {
                y = step(y);
                q = mul(q, x.abs_diff(y));
            }
            g = gcd(q, n);
            k += BATCH;
        }
        r = r.checked_mul(2)?;
    }
    if g == n {
        // The batch overshot: walk again one step at a time.
        loop {
            ys = step(ys);
            g = gcd(x.abs_diff(ys), n);
            if g > 1 {
                break;
            }
        }
    }
    (g != n && g != 1).then_some(g)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn telegrams_example_pqs_factor_into_their_documented_primes() {
        // core.telegram.org/mtproto/samples-auth_key, 2013 and current revisions.
        assert_eq!(
            factorize(0x17ED48941A08F981),
            Some((0x494C553B, 0x53911073))
        );
        assert_eq!(
            factorize(1468428376148703121),
            Some((1008949199, 1455403679))
        );
    }

    #[test]
    fn generated_pqs_are_eight_bytes_of_two_four_byte_primes_and_factor_back() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for _ in 0..50 {
            let pq = Pq::generate(&mut rng);
            assert!(MIN_FACTOR <= pq.p() && pq.p() < pq.q() && pq.q() < FACTOR_LIMIT);
            assert_eq!(be_bytes(pq.pq()).len(), 8);
            assert!(pq.pq() < 1 << 63, "Telethon reads pq as signed");
            assert_eq!(be_bytes(u64::from(pq.p())).len(), 4);
            assert_eq!(
                factorize(pq.pq()),
                Some((u64::from(pq.p()), u64::from(pq.q())))
            );
        }
    }

    #[test]
    fn numbers_read_as_big_endian_with_or_without_leading_zeros() {
        assert_eq!(be_u64(&[0x49, 0x4c, 0x55, 0x3b]), Some(0x494C553B));
        assert_eq!(be_u64(&[0, 0, 0x49, 0x4c, 0x55, 0x3b]), Some(0x494C553B));
        assert_eq!(be_u64(&[1; 9]), None);
        assert_eq!(be_bytes(0x494C553B), vec![0x49, 0x4c, 0x55, 0x3b]);
        assert_eq!(be_bytes(0), vec![0]);
    }

    #[test]
    fn primes_and_tiny_numbers_do_not_factor() {
        assert_eq!(factorize(1), None);
        assert_eq!(factorize(4_294_967_291), None);
        assert_eq!(factorize(6), Some((2, 3)));
    }
}
