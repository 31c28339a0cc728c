//! Is the server's `p` a safe prime? The test, and the cache of its verdicts.
//!
//! SPEC §1.2, check 2: `p` and `(p − 1)/2` must both be prime (`p` is a *safe prime*), so
//! that the group mod `p` has a subgroup of prime order `q = (p − 1)/2` and no small
//! subgroups an attacker could push a key into. The server chooses `p`, so the test must
//! hold against a `p` built on purpose to fool it, not merely against random numbers.
//!
//! How we decide, cheapest steps first:
//!
//! 1. **Trial division** of `p` and `q` by the odd primes below 2000: most composites die
//!    here for free. (`p ≡ 0 (mod r)` is read off `q mod r` as `2·(q mod r) + 1 ≡ 0`.)
//! 2. **Fermat test of `p` to base 2**: `2^(p−1) ≡ 1 (mod p)`. A failure proves `p`
//!    composite.
//! 3. **Baillie–PSW on `q`**, then [`EXTRA_MILLER_RABIN_ROUNDS`] more Miller–Rabin rounds:
//!    * a strong probable-prime (Miller–Rabin) test to base 2;
//!    * a strong Lucas probable-prime test with Selfridge's method A parameters: `D` is
//!      the first of 5, −7, 9, −11, … with Jacobi symbol `(D/q) = −1` (a perfect square
//!      has no such `D`, so after a few tries we check for one), `P = 1`, `Q = (1 − D)/4`;
//!    * one more Miller–Rabin round whose base is drawn from SHA-256 of `q`, spread over
//!      `[2, q − 2]`. There is no RNG in this crate; whoever picks `p` cannot pick this base
//!      apart from `q`.
//! 4. **No further test of `p` is needed.** Pocklington's criterion with `p − 1 = 2·q`:
//!    if `q` is prime, `q > √p − 1`, `2^(p−1) ≡ 1 (mod p)` and `gcd(2^2 − 1, p) = gcd(3, p) = 1`
//!    (step 1 checked that 3 does not divide `p`), then `p` is prime. Step 2 already
//!    computed that power, so once `q` passes, `p` is proven prime, not just "probably".
//!
//! ## Why Baillie–PSW, and not 50 random-looking Miller–Rabin rounds
//!
//! Tables that allow 2 or 3 Miller–Rabin rounds for a 2048-bit number (FIPS 186 style)
//! assume the number was drawn at random; here the server draws it. Against a chosen
//! composite, Miller–Rabin alone only promises that each round is fooled with probability
//! at most 1/4, which is why this module used to run 50 rounds (`2^−100`) at about 51
//! exponentiations, dozens of handshakes' worth of work (measured in `BENCHMARKS.md`,
//! "Diffie-Hellman").
//!
//! Baillie–PSW gets its strength differently. The two halves fail on numbers of opposite
//! shapes: base-2 pseudoprimes tend to have factors `r` with `r ≡ 1` modulo small numbers,
//! Lucas pseudoprimes with `r ≡ −1`, and no number is known to fool both. No composite
//! below 2^64 passes it (checked against Feitsma and Galway's complete list of base-2
//! pseudoprimes up to 2^64), the prize Pomerance, Selfridge and Wagstaff offered in 1980
//! for a counterexample is unclaimed, and Baillie, Fiori and Wagstaff ("Strengthening the
//! Baillie–PSW primality test", Math. Comp. 2021) still know of none.
//! Heuristics (Pomerance 1984) say counterexamples should exist, but none has been
//! constructed, unlike the composites that fool any fixed set of Miller–Rabin bases
//! (Arnault 1995; Albrecht, Massimo, Paterson and Somorovsky, "Prime and Prejudice:
//! Primality Testing Under Adversarial Conditions", CCS 2018, who fooled several libraries
//! this way and recommend Baillie–PSW for untrusted input). It is what GMP
//! (`mpz_probab_prime_p`), PARI/GP (`ispseudoprime`), Go's `math/big` and Java's
//! `BigInteger` rely on, and FIPS 186-5 (Appendix B.3) likewise pairs Miller–Rabin rounds
//! with one Lucas test.
//!
//! The one extra round with a hash-derived base is defence in depth, as Go and LibreSSL add
//! Miller–Rabin rounds before their Lucas test: even a future Baillie–PSW pseudoprime would
//! also have to be a strong liar for a base the attacker does not choose, which a composite
//! is for at most 1/4 of bases. It costs one exponentiation, a small part of the cold check
//! and less than one handshake (the Lucas test is the big part: some three exponentiations'
//! worth of multiplications). A second round would cost about as much again to gain at most
//! another factor of 4, so we stop at one. `BENCHMARKS.md` ("Diffie-Hellman") has the
//! measured cost of the cold check with 50 rounds, with Baillie–PSW alone and with this
//! round, with the command that measures it.
//!
//! The verdicts are still kept in a [`PrimeCache`] (both good and bad ones, as tdlib and
//! Android do): the same `p` is tested once per process. The process-wide cache starts out
//! knowing Telegram's own prime.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};
use sha2::{Digest, Sha256};

use super::config::{SafePrime, TELEGRAM_PRIME};
use super::P_LEN;

/// Miller–Rabin rounds with hash-derived bases run on `(p − 1)/2` after Baillie–PSW
/// (module docs, step 3).
pub const EXTRA_MILLER_RABIN_ROUNDS: u32 = 1;

/// How many distinct primes one cache remembers. A hostile server could send a new `p` on
/// every `getDhConfig`; past this many we still answer correctly, we just stop remembering.
const CACHE_CAPACITY: usize = 256;

/// The odd primes below 2000, for trial division.
const SMALL_ODD_PRIMES_LIMIT: u32 = 2000;

/// What the primality test concluded about one `p` (already known to be 2048 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimeVerdict {
    /// `p` and `(p − 1)/2` are both prime.
    SafePrime,
    /// `p` is composite (a witness was found).
    NotPrime,
    /// `(p − 1)/2` is composite. `p` passed the base-2 Fermat test; whether it is prime
    /// does not matter, it is refused either way.
    NotSafePrime,
}

/// Remembered verdicts, keyed by the 256 big-endian bytes of `p`.
///
/// [`check_config`](super::check_config) uses one process-wide cache (pre-seeded with
/// Telegram's prime); [`PrimeCache::new`] makes an empty one, e.g. to measure a cold check.
/// For a safe prime the cache also keeps the shared [`SafePrime`] (the number, its bounds and
/// the lazily built tables for `g^a`), so a cached check costs a hash-map lookup.
#[derive(Debug, Default)]
pub struct PrimeCache {
    verdicts: Mutex<HashMap<[u8; P_LEN], Entry>>,
}

#[derive(Debug, Clone)]
enum Entry {
    Safe(Arc<SafePrime>),
    Refused(PrimeVerdict),
}

impl PrimeCache {
    /// An empty cache: the first check of any `p`, even Telegram's, runs the full test.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache that already knows Telegram's standard prime (SPEC §1.1) is safe, as tdlib
    /// hard-codes it (`DhCache.cpp`). The process-wide cache starts like this.
    pub fn with_telegram_prime() -> Self {
        let cache = Self::new();
        cache.remember(
            TELEGRAM_PRIME,
            Entry::Safe(Arc::new(SafePrime::new(BigUint::from_bytes_be(
                &TELEGRAM_PRIME,
            )))),
        );
        cache
    }

    /// The process-wide cache used by [`check_config`](super::check_config).
    pub fn global() -> &'static PrimeCache {
        static GLOBAL: LazyLock<PrimeCache> = LazyLock::new(PrimeCache::with_telegram_prime);
        &GLOBAL
    }

    /// The remembered verdict for these 256 bytes, if any (does not run the test).
    pub fn verdict(&self, p: &[u8; P_LEN]) -> Option<PrimeVerdict> {
        self.lookup(p).map(|entry| match entry {
            Entry::Safe(_) => PrimeVerdict::SafePrime,
            Entry::Refused(verdict) => verdict,
        })
    }

    /// How many primes this cache remembers.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tests `p` (256 bytes, top bit set) unless its verdict is already known.
    pub(super) fn judge(&self, bytes: &[u8; P_LEN]) -> Result<Arc<SafePrime>, PrimeVerdict> {
        if let Some(entry) = self.lookup(bytes) {
            return entry.into_result();
        }
        // The test runs without the lock held: two threads testing the same new p at once
        // both compute the same verdict, which is harmless.
        let p = BigUint::from_bytes_be(bytes);
        let entry = match safe_prime_verdict(&p) {
            PrimeVerdict::SafePrime => Entry::Safe(Arc::new(SafePrime::new(p))),
            refused => Entry::Refused(refused),
        };
        self.remember(*bytes, entry.clone());
        entry.into_result()
    }

    fn lookup(&self, bytes: &[u8; P_LEN]) -> Option<Entry> {
        self.lock().get(bytes).cloned()
    }

    fn remember(&self, bytes: [u8; P_LEN], entry: Entry) {
        let mut verdicts = self.lock();
        if verdicts.len() < CACHE_CAPACITY {
            verdicts.insert(bytes, entry);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; P_LEN], Entry>> {
        // The map is never left half-updated, so a panic elsewhere does not spoil it.
        self.verdicts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Entry {
    fn into_result(self) -> Result<Arc<SafePrime>, PrimeVerdict> {
        match self {
            Entry::Safe(prime) => Ok(prime),
            Entry::Refused(verdict) => Err(verdict),
        }
    }
}

/// Runs the whole test (module docs, steps 1–4) on an odd `p ≥ 2^2047`. No cache.
pub fn safe_prime_verdict(p: &BigUint) -> PrimeVerdict {
    let one = BigUint::one();
    // q = (p − 1)/2
    let q: BigUint = p >> 1u32;

    if p.is_even() {
        return PrimeVerdict::NotPrime;
    }
    // Step 1: trial division. r | p  ⇔  2·(q mod r) + 1 ≡ 0 (mod r).
    let mut q_has_small_factor = q.is_even();
    for r in small_odd_primes() {
        let q_mod_r = (&q % r).iter_u32_digits().next().unwrap_or(0);
        if (2 * q_mod_r + 1).is_multiple_of(r) {
            return PrimeVerdict::NotPrime;
        }
        q_has_small_factor |= q_mod_r == 0;
    }

    // Step 2: Fermat, 2^(p−1) ≡ 1 (mod p). Also the Pocklington condition of step 4.
    let p_minus_one = p - &one;
    if BigUint::from(2u32).modpow(&p_minus_one, p) != one {
        return PrimeVerdict::NotPrime;
    }

    // Step 3: Baillie–PSW (and the extra rounds) on q, whose trial division is done.
    if q_has_small_factor || q <= small_primes_bound() || !passes_hardened_bpsw(&q) {
        return PrimeVerdict::NotSafePrime;
    }

    // Step 4: Pocklington with a = 2 and the prime factor q of p − 1 = 2·q (q > √p − 1):
    // 2^(p−1) ≡ 1 was checked in step 2, and gcd(2^2 − 1, p) = gcd(3, p) = 1 because step 1
    // found no factor 3. So p is prime.
    debug_assert!(p % 3u32 != BigUint::ZERO);
    PrimeVerdict::SafePrime
}

/// Is `n` prime? Trial division, then Baillie–PSW and the extra rounds (module docs,
/// step 3). Any `n`, of any size.
///
/// The safe-prime test calls the pieces itself; this whole form is what the tests compare
/// against references.
pub fn is_probable_prime(n: &BigUint) -> bool {
    if n < &BigUint::from(2u32) {
        return false;
    }
    if n.is_even() {
        return n == &BigUint::from(2u32);
    }
    for r in small_odd_primes() {
        if (n % r).is_zero() {
            return n == &BigUint::from(r);
        }
    }
    // A composite below 2000² has a prime factor below 2000, which trial division found.
    n < &small_primes_bound() || passes_hardened_bpsw(n)
}

/// 2000²: below it, trial division by the primes below 2000 is a complete test.
fn small_primes_bound() -> BigUint {
    BigUint::from(SMALL_ODD_PRIMES_LIMIT) * SMALL_ODD_PRIMES_LIMIT
}

/// Baillie–PSW, then [`EXTRA_MILLER_RABIN_ROUNDS`] rounds with bases derived from `n`.
///
/// `n` must be odd, above 2000² and free of the small factors trial division looks for.
fn passes_hardened_bpsw(n: &BigUint) -> bool {
    is_strong_probable_prime(n, &BigUint::from(2u32))
        && is_strong_lucas_probable_prime(n)
        && (0..EXTRA_MILLER_RABIN_ROUNDS)
            .all(|round| is_strong_probable_prime(n, &miller_rabin_base(n, round)))
}

/// One Miller–Rabin round: is the odd `n > 3` a strong probable prime to base `x`?
///
/// Write `n − 1 = d · 2^s` with `d` odd. `x` is a witness of compositeness unless
/// `x^d ≡ 1` or `x^(d·2^r) ≡ −1 (mod n)` for some `0 ≤ r < s`.
fn is_strong_probable_prime(n: &BigUint, x: &BigUint) -> bool {
    let one = BigUint::one();
    let n_minus_one = n - &one;
    let s = n_minus_one.trailing_zeros().unwrap_or(0);
    let d = &n_minus_one >> s;

    let mut y = x.modpow(&d, n);
    if y == one || y == n_minus_one {
        return true;
    }
    for _ in 1..s {
        y = (&y * &y) % n;
        if y == n_minus_one {
            return true;
        }
        if y == one {
            return false;
        }
    }
    false
}

/// Base number `round` for `n`: SHA-256 in counter mode over `(n, round)`, stretched to the
/// length of `n`, reduced into `[2, n − 2]` (`n > 4`).
fn miller_rabin_base(n: &BigUint, round: u32) -> BigUint {
    let n_bytes = n.to_bytes_be();
    let mut stream = Vec::with_capacity(n_bytes.len() + 32);
    let mut block = 0u32;
    while stream.len() < n_bytes.len() + 16 {
        let digest = Sha256::new()
            .chain_update(b"secretchat-lab miller-rabin base")
            .chain_update(&n_bytes)
            .chain_update(round.to_be_bytes())
            .chain_update(block.to_be_bytes())
            .finalize();
        stream.extend_from_slice(&digest);
        block += 1;
    }
    // x = 2 + (stream mod (n − 3)): 16 extra bytes keep the bias of the reduction negligible.
    let span = n - 3u32;
    BigUint::from(2u32) + BigUint::from_bytes_be(&stream) % span
}

/// The strong Lucas probable-prime test with Selfridge's method A parameters, for an odd
/// `n > 1` that trial division did not factor (smaller `n` work too; see the tests).
///
/// Method A: `D` is the first of 5, −7, 9, −11, 13, … with Jacobi symbol `(D/n) = −1`,
/// `P = 1`, `Q = (1 − D)/4`. For a prime `n` with `(D/n) = −1`, `n + 1 = d · 2^s` with `d`
/// odd, either `U_d ≡ 0` or `V_(d·2^r) ≡ 0 (mod n)` for some `0 ≤ r < s`; a composite that
/// also does so is a strong Lucas pseudoprime.
fn is_strong_lucas_probable_prime(n: &BigUint) -> bool {
    let discriminant = match selfridge_discriminant(n) {
        Discriminant::Found(discriminant) => discriminant,
        Discriminant::Composite => return false,
    };
    // Q = (1 − D)/4 is an integer: D ≡ 1 (mod 4) for every D of the sequence.
    let lucas = LucasMod::new(n, discriminant, (1 - discriminant) / 4);

    let n_plus_one = n + 1u32;
    let s = n_plus_one.trailing_zeros().unwrap_or(0);
    let d = &n_plus_one >> s;

    let (u, mut v, mut q_k) = lucas.u_v_qk(&d);
    if u.is_zero() || v.is_zero() {
        return true;
    }
    for r in 1..s {
        // V_(2m) = V_m² − 2·Q^m, then Q^(2m) = (Q^m)², for m = d·2^(r−1).
        v = lucas.sub(&lucas.mul(&v, &v), &(&q_k << 1u32));
        if v.is_zero() {
            return true;
        }
        if r + 1 < s {
            q_k = lucas.mul(&q_k, &q_k);
        }
    }
    false
}

/// What the search for Selfridge's `D` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discriminant {
    /// The first `D` of 5, −7, 9, −11, … with `(D/n) = −1`.
    Found(i64),
    /// `n` is composite: a `D` shares a factor with it, or `n` is a perfect square (for
    /// which no `D` has symbol −1, so the search would never end).
    Composite,
}

/// Selfridge's method A search for `D`, for an odd `n > 1`.
fn selfridge_discriminant(n: &BigUint) -> Discriminant {
    /// After this many `D`s with symbol +1 we ask whether `n` is a square. A non-square
    /// usually stops at the first or second `D`, so the square root is rarely paid for.
    const TRIES_BEFORE_SQUARE_CHECK: u32 = 8;

    let mut d: i64 = 5;
    for tries in 1.. {
        match jacobi(d, n) {
            -1 => return Discriminant::Found(d),
            // (D/n) = 0: D and n share a factor, a proper one unless n = |D| (a prime).
            0 if BigUint::from(d.unsigned_abs()) != *n => return Discriminant::Composite,
            _ => {}
        }
        if tries == TRIES_BEFORE_SQUARE_CHECK {
            let root = n.sqrt();
            if &root * &root == *n {
                return Discriminant::Composite;
            }
        }
        // 5, −7, 9, −11, 13, …
        d = if d > 0 { -(d + 2) } else { -d + 2 };
    }
    unreachable!("the search for D ends for every non-square n")
}

/// The Jacobi symbol `(a/n)` for an odd `n > 0`: 1, −1 or 0.
fn jacobi(a: i64, n: &BigUint) -> i32 {
    debug_assert!(n.is_odd());
    let n_mod_8 = n.iter_u32_digits().next().unwrap_or(0) % 8;
    let mut result = 1;
    // (−1/n) = −1 exactly when n ≡ 3 (mod 4).
    if a < 0 && n_mod_8 % 4 == 3 {
        result = -result;
    }
    let mut a = a.unsigned_abs();
    if a == 0 {
        return i32::from(n.is_one());
    }
    // (2/n) = −1 exactly when n ≡ 3 or 5 (mod 8).
    let twos = a.trailing_zeros();
    a >>= twos;
    if twos % 2 == 1 && (n_mod_8 == 3 || n_mod_8 == 5) {
        result = -result;
    }
    if a == 1 {
        return result;
    }
    // Quadratic reciprocity for the odd a and n: (a/n) = (n/a), negated when both ≡ 3 (mod 4).
    if a % 4 == 3 && n_mod_8 % 4 == 3 {
        result = -result;
    }
    let n_mod_a = (n % a).iter_u64_digits().next().unwrap_or(0);
    result * jacobi_u64(n_mod_a, a)
}

/// The Jacobi symbol `(a/n)` for machine words, `n` odd.
fn jacobi_u64(mut a: u64, mut n: u64) -> i32 {
    debug_assert!(n % 2 == 1);
    a %= n;
    let mut result = 1;
    while a != 0 {
        while a.is_multiple_of(2) {
            a /= 2;
            if n % 8 == 3 || n % 8 == 5 {
                result = -result;
            }
        }
        std::mem::swap(&mut a, &mut n);
        if a % 4 == 3 && n % 4 == 3 {
            result = -result;
        }
        a %= n;
    }
    if n == 1 {
        result
    } else {
        0
    }
}

/// Arithmetic mod `n` for the Lucas sequences with `P = 1` and small `D`, `Q`. Every value
/// is kept reduced into `[0, n)`.
struct LucasMod<'a> {
    n: &'a BigUint,
    d: i64,
    q: i64,
}

impl<'a> LucasMod<'a> {
    fn new(n: &'a BigUint, d: i64, q: i64) -> Self {
        Self { n, d, q }
    }

    /// `(U_k, V_k, Q^k) mod n` for `k ≥ 1`, by binary doubling from the top bit of `k`:
    ///
    /// ```text
    /// U_2m = U_m·V_m          U_(m+1) = (P·U_m + V_m)/2
    /// V_2m = V_m² − 2·Q^m     V_(m+1) = (D·U_m + P·V_m)/2
    /// ```
    ///
    /// (the halvings are exact mod the odd `n`).
    fn u_v_qk(&self, k: &BigUint) -> (BigUint, BigUint, BigUint) {
        // m = 1: U_1 = 1, V_1 = P = 1, Q^1 = Q.
        let mut u = BigUint::one();
        let mut v = BigUint::one();
        let mut q_m = self.small(self.q);
        for bit in (0..k.bits() - 1).rev() {
            u = self.mul(&u, &v);
            v = self.sub(&self.mul(&v, &v), &(&q_m << 1u32));
            q_m = self.mul(&q_m, &q_m);
            if k.bit(bit) {
                let d_u = self.mul_small(&u, self.d);
                u = self.half(&u + &v);
                v = self.half(d_u + &v);
                q_m = self.mul_small(&q_m, self.q);
            }
        }
        (u, v, q_m)
    }

    fn mul(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x * y) % self.n
    }

    /// `x · c mod n` for a small signed `c`.
    fn mul_small(&self, x: &BigUint, c: i64) -> BigUint {
        let product = (x * c.unsigned_abs()) % self.n;
        if c < 0 {
            self.neg(product)
        } else {
            product
        }
    }

    /// `c mod n` for a small signed `c`.
    fn small(&self, c: i64) -> BigUint {
        let magnitude = BigUint::from(c.unsigned_abs()) % self.n;
        if c < 0 {
            self.neg(magnitude)
        } else {
            magnitude
        }
    }

    /// `x − y mod n` for `x, y` in `[0, 2n)`.
    fn sub(&self, x: &BigUint, y: &BigUint) -> BigUint {
        ((x + 2u32 * self.n) - y) % self.n
    }

    /// `−x mod n` for `x` in `[0, n)`.
    fn neg(&self, x: BigUint) -> BigUint {
        if x.is_zero() {
            x
        } else {
            self.n - x
        }
    }

    /// `x / 2 mod n` for `x` in `[0, 2n)`: add `n` to an odd `x`, then halve.
    fn half(&self, x: BigUint) -> BigUint {
        let even = if x.is_odd() { x + self.n } else { x };
        (even >> 1u32) % self.n
    }
}

/// The odd primes below [`SMALL_ODD_PRIMES_LIMIT`], by a small sieve (computed once).
fn small_odd_primes() -> impl Iterator<Item = u32> {
    static PRIMES: LazyLock<Vec<u32>> = LazyLock::new(|| {
        let limit = SMALL_ODD_PRIMES_LIMIT as usize;
        let mut composite = vec![false; limit];
        let mut primes = Vec::new();
        for n in 3..limit {
            if composite[n] || n % 2 == 0 {
                continue;
            }
            primes.push(n as u32);
            for multiple in (n * n..limit).step_by(n) {
                composite[multiple] = true;
            }
        }
        primes
    });
    PRIMES.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn big(n: u128) -> BigUint {
        BigUint::from(n)
    }

    fn decimal(digits: &str) -> BigUint {
        digits.parse().expect("a decimal number")
    }

    // ---- references, written independently of the code under test ----

    /// Deterministic Miller–Rabin on machine words with the first twelve prime bases,
    /// which is exact below 318665857834031151167461 > 2^64 (Sorenson & Webster, 2015).
    fn reference_is_prime(n: u64) -> bool {
        const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
        if n < 2 {
            return false;
        }
        for p in BASES {
            if n.is_multiple_of(p) {
                return n == p;
            }
        }
        let mul = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
        let pow = |mut x: u64, mut e: u64| {
            let mut acc = 1u64;
            while e > 0 {
                if e & 1 == 1 {
                    acc = mul(acc, x);
                }
                x = mul(x, x);
                e >>= 1;
            }
            acc
        };
        let s = (n - 1).trailing_zeros();
        let d = (n - 1) >> s;
        BASES.iter().all(|&a| {
            let mut y = pow(a, d);
            if y == 1 || y == n - 1 {
                return true;
            }
            for _ in 1..s {
                y = mul(y, y);
                if y == n - 1 {
                    return true;
                }
            }
            false
        })
    }

    /// The Jacobi symbol from its definition: factor `n`, multiply Legendre symbols found
    /// by Euler's criterion `a^((p−1)/2) mod p`.
    fn reference_jacobi(a: i64, n: u64) -> i32 {
        let mut result = 1;
        let mut rest = n;
        let mut p = 3;
        while rest > 1 {
            while rest.is_multiple_of(p) {
                rest /= p;
                let a_mod_p = a.rem_euclid(p as i64) as u64;
                let euler = (0..(p - 1) / 2).fold(1u64, |acc, _| acc * a_mod_p % p);
                result *= match euler {
                    0 => 0,
                    1 => 1,
                    _ => -1,
                };
            }
            p += 2;
        }
        result
    }

    fn sieve(limit: usize) -> Vec<bool> {
        let mut prime = vec![true; limit];
        prime[0] = false;
        prime[1] = false;
        for n in 2..limit {
            if prime[n] {
                for multiple in (n * n..limit).step_by(n) {
                    prime[multiple] = false;
                }
            }
        }
        prime
    }

    /// Telegram's 2048-bit safe prime.
    fn telegram_p() -> BigUint {
        BigUint::from_bytes_be(&TELEGRAM_PRIME)
    }

    // ---- the pieces ----

    #[test]
    fn small_odd_primes_start_and_end_where_expected() {
        let primes: Vec<u32> = small_odd_primes().collect();
        assert_eq!(primes[..5], [3, 5, 7, 11, 13]);
        assert_eq!(primes.last(), Some(&1999));
        assert_eq!(primes.len(), 302);
    }

    #[test]
    fn jacobi_symbol_agrees_with_eulers_criterion_on_every_small_pair() {
        for n in (1u64..400).step_by(2) {
            for a in -60i64..=60 {
                assert_eq!(
                    jacobi(a, &BigUint::from(n)),
                    reference_jacobi(a, n),
                    "({a}/{n})"
                );
            }
        }
    }

    #[test]
    fn jacobi_symbol_of_a_large_modulus_reduces_it_first() {
        // Telegram's p ≡ 3 (mod 8): (−1/p) = −1, (2/p) = −1 and so (8/p) = (2/p)³ = −1.
        let p = telegram_p();
        assert_eq!(&p % 8u32, big(3));
        assert_eq!(jacobi(-1, &p), -1);
        assert_eq!(jacobi(2, &p), -1);
        assert_eq!(jacobi(8, &p), -1);
        // p ≡ 3 (mod 4) and p ≡ 2 (mod 3): (3/p) = −(p/3) = −(2/3) = 1.
        assert_eq!(&p % 3u32, big(2));
        assert_eq!(jacobi(3, &p), 1);
        // p ≡ 3 (mod 5): (5/p) = (p/5) = (3/5) = −1, so Selfridge's D for p is 5.
        assert_eq!(jacobi(5, &p), -1);
        assert_eq!(selfridge_discriminant(&p), Discriminant::Found(5));
        // A multiple of the modulus has symbol 0.
        assert_eq!(jacobi(15, &big(5)), 0);
        assert_eq!(jacobi(-21, &big(7)), 0);
    }

    #[test]
    fn selfridge_search_follows_its_definition_for_every_small_odd_number() {
        // Walk 5, −7, 9, … with the reference symbol: −1 stops with D, 0 at |D| ≠ n means
        // a shared factor, and a square never stops.
        for n in (3u64..5000).step_by(2) {
            let root = (n as f64).sqrt() as u64;
            let expected = if root * root == n {
                Discriminant::Composite
            } else {
                let mut d = 5i64;
                loop {
                    match reference_jacobi(d, n) {
                        -1 => break Discriminant::Found(d),
                        0 if d.unsigned_abs() != n => break Discriminant::Composite,
                        _ => d = if d > 0 { -(d + 2) } else { -d + 2 },
                    }
                }
            };
            assert_eq!(selfridge_discriminant(&BigUint::from(n)), expected, "{n}");
        }
        assert_eq!(selfridge_discriminant(&big(11)), Discriminant::Found(13));
        assert_eq!(selfridge_discriminant(&big(5)), Discriminant::Found(-7));
    }

    #[test]
    fn selfridge_search_declares_perfect_squares_composite_instead_of_looping() {
        for root in [3u128, 7, 2003, 1_000_003, (1 << 61) - 1] {
            assert_eq!(
                selfridge_discriminant(&big(root * root)),
                Discriminant::Composite
            );
        }
        let huge = BigUint::from_bytes_be(&TELEGRAM_PRIME).pow(2);
        assert_eq!(selfridge_discriminant(&huge), Discriminant::Composite);
    }

    #[test]
    fn selfridge_search_declares_a_shared_factor_with_d_composite() {
        // (5/35) = 0 and 35 ≠ 5.
        assert_eq!(selfridge_discriminant(&big(35)), Discriminant::Composite);
    }

    #[test]
    fn strong_base_2_pseudoprimes_below_100000_are_exactly_oeis_a001262() {
        let prime = sieve(100_000);
        let fooled: Vec<u64> = (5u64..100_000)
            .step_by(2)
            .filter(|&n| !prime[n as usize])
            .filter(|&n| is_strong_probable_prime(&BigUint::from(n), &big(2)))
            .collect();
        assert_eq!(
            fooled,
            [
                2047, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 49141, 52633, 65281, 74665,
                80581, 85489, 88357, 90751
            ]
        );
    }

    #[test]
    fn strong_lucas_pseudoprimes_below_100000_are_exactly_oeis_a217255() {
        let prime = sieve(100_000);
        let mut fooled = Vec::new();
        for n in (3u64..100_000).step_by(2) {
            let passes = is_strong_lucas_probable_prime(&BigUint::from(n));
            if prime[n as usize] {
                assert!(passes, "the prime {n} fails the strong Lucas test");
            } else if passes {
                fooled.push(n);
            }
        }
        assert_eq!(
            fooled,
            [5459, 5777, 10877, 16109, 18971, 22499, 24569, 25199, 40309, 58519, 75077, 97439]
        );
    }

    #[test]
    fn miller_rabin_bases_stay_inside_two_to_n_minus_two() {
        let n = BigUint::from(1_000_003u32);
        for round in 0..200 {
            let x = miller_rabin_base(&n, round);
            assert!(x >= BigUint::from(2u32) && x <= &n - 2u32, "{x}");
        }
    }

    // ---- the whole test on composites built to fool one half of it ----

    #[test]
    fn strong_base_2_pseudoprimes_are_declared_composite() {
        for n in [
            2047u128, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 49141, 52633,
        ] {
            assert!(
                is_strong_probable_prime(&big(n), &big(2)),
                "{n} fools base 2"
            );
            assert!(!is_probable_prime(&big(n)), "{n}");
        }
    }

    #[test]
    fn strong_pseudoprimes_to_every_base_up_to_37_are_declared_composite() {
        // 3825123056546413051 fools bases 2..23; the two others fool the first twelve prime
        // bases 2..37 (and the second also 41): they bound the deterministic Miller–Rabin.
        for n in [
            3_825_123_056_546_413_051u128,
            318_665_857_834_031_151_167_461,
            3_317_044_064_679_887_385_961_981,
        ] {
            assert!(
                is_strong_probable_prime(&big(n), &big(2)),
                "{n} fools base 2"
            );
            assert!(!is_probable_prime(&big(n)), "{n}");
        }
    }

    #[test]
    fn carmichael_numbers_are_declared_composite() {
        // 3215031751 = 151·751·28351 is also a strong pseudoprime to bases 2, 3, 5 and 7.
        for n in [
            561u128, 1105, 1729, 2465, 2821, 6601, 8911, 41041, 825265, 3215031751,
        ] {
            assert!(!is_probable_prime(&big(n)), "{n}");
        }
        assert!(is_strong_probable_prime(&big(3215031751), &big(2)));
    }

    #[test]
    fn strong_lucas_pseudoprimes_are_declared_composite() {
        for n in [
            5459u128, 5777, 10877, 16109, 18971, 22499, 24569, 25199, 40309, 58519,
        ] {
            assert!(is_strong_lucas_probable_prime(&big(n)), "{n} fools Lucas");
            assert!(!is_probable_prime(&big(n)), "{n}");
        }
    }

    #[test]
    fn arnaults_1318_bit_carmichael_number_that_fools_every_prime_base_below_307_is_composite() {
        // F. Arnault, "Constructing Carmichael numbers which are strong pseudoprimes to
        // several bases" (J. Symbolic Computation, 1995): N = p·(313(p − 1) + 1)·(353(p − 1) + 1).
        let p = decimal(
            "29674495668685510550154174642905332730771991799853043350995075531276838753171770\
             199594238596428121188033664754218345562493168782883",
        );
        let n = &p * (&p * 313u32 - 312u32) * (&p * 353u32 - 352u32);
        assert_eq!(n.bits(), 1318);
        for base in [2u32, 3, 5, 7, 11, 13, 293] {
            assert!(
                is_strong_probable_prime(&n, &BigUint::from(base)),
                "base {base}"
            );
        }
        assert!(!is_strong_lucas_probable_prime(&n));
        assert!(!is_probable_prime(&n));
    }

    #[test]
    fn a_192_bit_strong_base_2_pseudoprime_p_times_2p_minus_1_is_composite() {
        // p and 2p − 1 are prime with 2p − 1 ≡ 1 (mod 8), so 2 has the same 2-adic order
        // mod both and n = p·(2p − 1) passes base 2 (and bases 5 and 7) while composite.
        let p = decimal("42262373968212698742686807221");
        let q = &p * 2u32 - 1u32;
        assert!(is_probable_prime(&p) && is_probable_prime(&q));
        let n = &p * &q;
        for base in [2u32, 5, 7] {
            assert!(
                is_strong_probable_prime(&n, &BigUint::from(base)),
                "base {base}"
            );
        }
        assert!(!is_probable_prime(&n));
    }

    #[test]
    fn products_of_two_large_primes_are_declared_composite() {
        let m127 = (BigUint::one() << 127u32) - 1u32;
        let m521 = (BigUint::one() << 521u32) - 1u32;
        assert!(!is_probable_prime(&(&m127 * &m521)));
        assert!(!is_probable_prime(&(&m127 * &m127)));
        assert!(!is_probable_prime(&(telegram_p() * &m127)));
    }

    // ---- primes ----

    #[test]
    fn small_primes_and_the_numbers_around_them_are_told_apart() {
        let prime = sieve(10_000);
        for n in 0..10_000u128 {
            assert_eq!(is_probable_prime(&big(n)), prime[n as usize], "{n}");
        }
        for n in [
            4_000_037u128,
            1_000_000_007,
            2_147_483_647,
            18_446_744_073_709_551_557,
        ] {
            assert!(is_probable_prime(&big(n)), "{n}");
        }
    }

    #[test]
    fn mersenne_primes_2_127_and_2_521_minus_one_are_prime_and_their_neighbours_are_not() {
        for exponent in [61u32, 89, 107, 127, 521] {
            let m = (BigUint::one() << exponent) - 1u32;
            assert!(is_probable_prime(&m), "2^{exponent} − 1");
            assert!(!is_probable_prime(&(&m + 2u32)), "2^{exponent} + 1");
        }
        // 2^67 − 1 = 193707721 · 761838257287 (Cole, 1903).
        assert!(!is_probable_prime(&((BigUint::one() << 67u32) - 1u32)));
    }

    #[test]
    fn telegrams_prime_and_its_half_are_prime() {
        let p = telegram_p();
        assert!(is_probable_prime(&p));
        assert!(is_probable_prime(&(&p >> 1u32)));
        assert!(is_strong_lucas_probable_prime(&(&p >> 1u32)));
        assert_eq!(safe_prime_verdict(&p), PrimeVerdict::SafePrime);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn bpsw_agrees_with_deterministic_miller_rabin_on_odd_numbers_up_to_64_bits(
            n in any::<u64>().prop_map(|n| n | 1),
            bits in 1u32..=64,
        ) {
            let n = if bits == 64 { n } else { (n & ((1u64 << bits) - 1)) | 1 };
            prop_assert_eq!(is_probable_prime(&BigUint::from(n)), reference_is_prime(n), "{}", n);
        }

        #[test]
        fn bpsw_agrees_with_deterministic_miller_rabin_on_products_of_two_primes(
            a in 3u32..(1 << 31),
            b in 3u32..(1 << 31),
        ) {
            // Semiprimes are where pseudoprimes live; random odd numbers rarely are one.
            let next_prime = |mut x: u64| { x |= 1; while !reference_is_prime(x) { x += 2; } x };
            let n = next_prime(u64::from(a)) * next_prime(u64::from(b));
            prop_assert!(!is_probable_prime(&BigUint::from(n)), "{}", n);
        }
    }
}
