//! Speed of AES-256-IGE and of the envelope.
//!
//! IGE is a chain of dependent AES block operations, so its ceiling is a plain chain of
//! AES encryptions, each block's output the next one's input, run through the fastest path
//! the `aes` crate offers (the backend closure, AES-NI where available). The `ige` group
//! measures that chain (`aes_chain_encrypt`, and `aes_chain_decrypt` for the other
//! direction) next to IGE at the same sizes; IGE throughput / chain throughput is the
//! figure of merit (target ≥ 0.95 from 1 KiB up).
//!
//! Run: `cargo bench -p secretchat-common --bench crypto -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use aes::cipher::consts::U16;
use aes::cipher::{
    Block, BlockBackend, BlockClosure, BlockDecrypt, BlockEncrypt, BlockSizeUser, KeyInit,
};
use aes::Aes256;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use secretchat_common::crypto::ige::Ige256;
use secretchat_common::envelope::{self, Side, Version};
use secretchat_common::ChatKey;

const SIZES: [usize; 4] = [64, 1024, 64 * 1024, 1024 * 1024];

/// `n` AES block operations in a row, each on the previous one's output.
struct Chain<'a> {
    block: &'a mut Block<Aes256>,
    n: usize,
}

impl BlockSizeUser for Chain<'_> {
    type BlockSize = U16;
}

impl BlockClosure for Chain<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        for _ in 0..self.n {
            backend.proc_block(self.block.into());
        }
    }
}

fn ige(c: &mut Criterion) {
    let key = [0x42u8; 32];
    let iv = [0x24u8; 32];
    let aes = Aes256::new(&key.into());
    let mut group = c.benchmark_group("ige");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut block = Block::<Aes256>::default();
        group.bench_with_input(
            BenchmarkId::new("aes_chain_encrypt", size),
            &size,
            |b, &size| {
                b.iter(|| {
                    aes.encrypt_with_backend(Chain {
                        block: &mut block,
                        n: size / 16,
                    });
                    black_box(&block);
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("aes_chain_decrypt", size),
            &size,
            |b, &size| {
                b.iter(|| {
                    aes.decrypt_with_backend(Chain {
                        block: &mut block,
                        n: size / 16,
                    });
                    black_box(&block);
                })
            },
        );
        let mut buf = vec![0x5au8; size];
        group.bench_with_input(BenchmarkId::new("encrypt", size), &size, |b, _| {
            let mut ige = Ige256::new(&key, &iv);
            b.iter(|| ige.encrypt_in_place(black_box(&mut buf)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("decrypt", size), &size, |b, _| {
            let mut ige = Ige256::new(&key, &iv);
            b.iter(|| ige.decrypt_in_place(black_box(&mut buf)).unwrap())
        });
    }
    group.finish();
}

fn envelope_256_bytes(c: &mut Criterion) {
    let key = ChatKey::from_bytes(&std::array::from_fn::<u8, 256, _>(|i| i as u8)).unwrap();
    let tl = vec![0x33u8; 256];
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut group = c.benchmark_group("envelope_256B");
    for (name, version) in [("seal_open_v1", Version::V1), ("seal_open_v2", Version::V2)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let wire =
                    envelope::seal(&key, version, Side::Creator, black_box(&tl), &mut rng).unwrap();
                envelope::open(&key, version, Side::Creator, &wire).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ige, envelope_256_bytes);
criterion_main!(benches);
