//! `g^a mod p` with a table made once per `(p, g)`: fixed-base exponentiation.
//!
//! Every handshake and every re-keying computes `g_a = pow(g, a) mod p` (SPEC §1.3, §4) for
//! the same `g` and `p`; only `a` changes. Square-and-multiply spends most of its time
//! squaring `g` again and again. Here those squarings are done once:
//!
//! ```text
//! a = Σ a_i · 2^(w·i)         (a cut into 2048/w digits of w bits)
//! T[i] = g^(2^(w·i)) mod p    (the table: one entry per digit)
//! g^a = Π T[i]^(a_i)
//!     = Π_{d = 2^w−1 … 1} ( Π_{i : a_i ≥ d} T[i] )     (Yao's method)
//! ```
//!
//! The last line is computed with a running product `acc` (multiply in the `T[i]` whose
//! digit is `d`, for `d` going down) folded into the result once per `d`: about
//! `2048/w + 2·(2^w − 1)` modular multiplications and no squarings, against about
//! `2048 + 2048/4` for a plain 4-bit-window `modpow`. The bench `dh` shows both.
//!
//! Like `num-bigint` itself, this is not constant-time.

use num_bigint::BigUint;
use num_traits::One;
use zeroize::Zeroizing;

/// Bits per exponent digit. 5 gives 410 table entries (about 100 KiB) and the lowest count
/// of multiplications for a 2048-bit exponent (410 + 62).
const WINDOW_BITS: usize = 5;

/// Exponents are 2048 bits (SPEC §1.3).
const EXPONENT_BITS: usize = 2048;

const DIGITS: usize = EXPONENT_BITS.div_ceil(WINDOW_BITS);

/// `T[i] = g^(2^(w·i)) mod p` for one `(p, g)`.
pub(super) struct FixedBaseTable {
    powers: Vec<BigUint>,
}

impl FixedBaseTable {
    /// Builds the table: `DIGITS · w` modular squarings, about the cost of one `modpow`.
    pub(super) fn new(g: &BigUint, p: &BigUint) -> Self {
        let mut powers = Vec::with_capacity(DIGITS);
        let mut power = g % p;
        for _ in 0..DIGITS {
            let next = (0..WINDOW_BITS).fold(power.clone(), |x, _| (&x * &x) % p);
            powers.push(power);
            power = next;
        }
        Self { powers }
    }

    /// `g^a mod p` for a 256-byte big-endian `a`.
    pub(super) fn pow(&self, a: &[u8; EXPONENT_BITS / 8], p: &BigUint) -> BigUint {
        let multiply = |x: Option<BigUint>, y: &BigUint| match x {
            None => y.clone(),
            Some(x) => (x * y) % p,
        };
        // The digits are as secret as `a`: wiped when done.
        let mut digits = Zeroizing::new([0u8; DIGITS]);
        for (i, slot) in digits.iter_mut().enumerate() {
            *slot = digit(a, i);
        }
        let mut result: Option<BigUint> = None;
        let mut acc: Option<BigUint> = None;
        for d in (1..1u8 << WINDOW_BITS).rev() {
            for (power, _) in self
                .powers
                .iter()
                .zip(digits.iter())
                .filter(|(_, &a_i)| a_i == d)
            {
                acc = Some(multiply(acc.take(), power));
            }
            if let Some(acc) = &acc {
                result = Some(multiply(result.take(), acc));
            }
        }
        result.unwrap_or_else(BigUint::one)
    }
}

/// Digit `i` of `a`: bits `w·i .. w·i + w`, counted from the least significant bit.
fn digit(a: &[u8; EXPONENT_BITS / 8], i: usize) -> u8 {
    (0..WINDOW_BITS).fold(0u8, |digit, j| {
        let bit = i * WINDOW_BITS + j;
        let byte = a.len().checked_sub(1 + bit / 8).and_then(|k| a.get(k));
        let set = byte.is_some_and(|byte| byte >> (bit % 8) & 1 == 1);
        digit | (u8::from(set) << j)
    })
}

impl std::fmt::Debug for FixedBaseTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FixedBaseTable({} powers of g)", self.powers.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_read_the_exponent_from_its_least_significant_end() {
        let mut a = [0u8; 256];
        a[255] = 0b1010_0011; // digits 0 and 1: 0b00011, 0b101
        a[0] = 0x80; // bit 2047 is digit 409, bit 2
        assert_eq!(digit(&a, 0), 0b00011);
        assert_eq!(digit(&a, 1), 0b101);
        assert_eq!(digit(&a, 409), 0b100);
        assert_eq!(digit(&a, 410), 0);
    }

    #[test]
    fn table_power_matches_plain_modpow_on_a_small_modulus() {
        let p = BigUint::from(1_000_000_007u32);
        let g = BigUint::from(5u32);
        let table = FixedBaseTable::new(&g, &p);
        let mut a = [0u8; 256];
        for (i, byte) in a.iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        assert_eq!(table.pow(&a, &p), g.modpow(&BigUint::from_bytes_be(&a), &p));
        assert_eq!(table.pow(&[0u8; 256], &p), BigUint::one());
    }
}
