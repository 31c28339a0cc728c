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
//! 3. **Miller–Rabin on `q`** with [`MILLER_RABIN_ROUNDS`] bases. A composite passes one
//!    round with probability at most 1/4 whatever its shape, so 50 rounds leave at most
//!    `4^−50 = 2^−100`. There is no RNG in this crate, so the bases are drawn from
//!    SHA-256 of `q` and the round number, spread over the whole range `[2, q − 2]`: whoever
//!    picks `p` cannot pick the bases separately.
//! 4. **No further test of `p` is needed.** Pocklington's criterion with `p − 1 = 2·q`:
//!    if `q` is prime, `q > √p − 1`, `2^(p−1) ≡ 1 (mod p)` and `gcd(2^2 − 1, p) = gcd(3, p) = 1`
//!    (step 1 checked that 3 does not divide `p`), then `p` is prime. Step 2 already
//!    computed that power, so once `q` passes, `p` is proven prime, not just "probably".
//!
//! Why 50 rounds and not the 2 or 3 that tables for *random* 2048-bit candidates allow
//! (FIPS 186 style): those bounds assume the number was drawn at random, and here the
//! server draws it. The price is about 51 exponentiations of 2048 bits (the bench `dh`
//! measured about 285 ms, some 40 times one side's handshake), so verdicts are kept in a
//! [`PrimeCache`] (both good and bad ones, as tdlib and Android do): the same `p` is
//! tested once per process. The process-wide cache starts out knowing Telegram's own prime.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use sha2::{Digest, Sha256};

use super::config::{SafePrime, TELEGRAM_PRIME};
use super::P_LEN;

/// Miller–Rabin rounds on `(p − 1)/2`: `4^−50 = 2^−100` for the worst composite.
pub const MILLER_RABIN_ROUNDS: u32 = 50;

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
        if (2 * q_mod_r + 1) % r == 0 {
            return PrimeVerdict::NotPrime;
        }
        q_has_small_factor |= q_mod_r == 0;
    }

    // Step 2: Fermat, 2^(p−1) ≡ 1 (mod p). Also the Pocklington condition of step 4.
    let p_minus_one = p - &one;
    if BigUint::from(2u32).modpow(&p_minus_one, p) != one {
        return PrimeVerdict::NotPrime;
    }

    // Step 3: Miller–Rabin on q.
    if q_has_small_factor || !passes_miller_rabin(&q, MILLER_RABIN_ROUNDS) {
        return PrimeVerdict::NotSafePrime;
    }
    PrimeVerdict::SafePrime
}

/// Miller–Rabin with `rounds` bases derived from SHA-256 of `n` (odd, `n > 4`).
///
/// Write `n − 1 = d · 2^s` with `d` odd. A base `x` is a witness of compositeness unless
/// `x^d ≡ 1` or `x^(d·2^r) ≡ −1 (mod n)` for some `0 ≤ r < s`.
fn passes_miller_rabin(n: &BigUint, rounds: u32) -> bool {
    let one = BigUint::one();
    let n_minus_one = n - &one;
    let s = n_minus_one.trailing_zeros().unwrap_or(0);
    let d = &n_minus_one >> s;
    let n_bytes = n.to_bytes_be();

    (0..rounds).all(|round| {
        let x = miller_rabin_base(&n_bytes, n, round);
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
    })
}

/// Base number `round` for `n`: SHA-256 in counter mode over `(n, round)`, stretched to the
/// length of `n`, reduced into `[2, n − 2]`.
fn miller_rabin_base(n_bytes: &[u8], n: &BigUint, round: u32) -> BigUint {
    let mut stream = Vec::with_capacity(n_bytes.len() + 32);
    let mut block = 0u32;
    while stream.len() < n_bytes.len() + 16 {
        let digest = Sha256::new()
            .chain_update(b"secretchat-lab miller-rabin base")
            .chain_update(n_bytes)
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

    #[test]
    fn small_odd_primes_start_and_end_where_expected() {
        let primes: Vec<u32> = small_odd_primes().collect();
        assert_eq!(primes[..5], [3, 5, 7, 11, 13]);
        assert_eq!(primes.last(), Some(&1999));
        assert_eq!(primes.len(), 302);
    }

    #[test]
    fn miller_rabin_tells_known_small_primes_from_carmichael_numbers() {
        // 561 = 3·11·17 and 41041 = 7·11·13·41 fool the Fermat test, not Miller–Rabin.
        for carmichael in [561u32, 41041, 825265] {
            assert!(!passes_miller_rabin(&BigUint::from(carmichael), 20));
        }
        for prime in [7919u32, 104729, 2147483647] {
            assert!(passes_miller_rabin(&BigUint::from(prime), 20));
        }
    }

    #[test]
    fn miller_rabin_bases_stay_inside_two_to_n_minus_two() {
        let n = BigUint::from(1_000_003u32);
        for round in 0..200 {
            let x = miller_rabin_base(&n.to_bytes_be(), &n, round);
            assert!(x >= BigUint::from(2u32) && x <= &n - 2u32, "{x}");
        }
    }
}
