"""Baseline for the envelope bench: seal + open of a 256-byte message in Python, on tgcrypto
(AES-256-IGE in C) and hashlib, the way Python secret-chat libraries do it.

Prints the median time per seal+open for MTProto 1.0 and 2.0, in nanoseconds, as
`v1 <ns>` and `v2 <ns>` lines. Used by benches/envelope_vs_python.sh.
"""
import hashlib
import os
import statistics
import struct
import time

import tgcrypto

KEY = os.urandom(256)
TL = os.urandom(252)  # le_u32(L) + 252 bytes = 256 bytes of plaintext
FINGERPRINT = hashlib.sha1(KEY).digest()[12:20]


def kdf_v1(msg_key):
    x = 0
    a = hashlib.sha1(msg_key + KEY[x:x + 32]).digest()
    b = hashlib.sha1(KEY[32 + x:48 + x] + msg_key + KEY[48 + x:64 + x]).digest()
    c = hashlib.sha1(KEY[64 + x:96 + x] + msg_key).digest()
    d = hashlib.sha1(msg_key + KEY[96 + x:128 + x]).digest()
    return a[0:8] + b[8:20] + c[4:16], a[8:20] + b[0:8] + c[16:20] + d[0:8]


def kdf_v2(msg_key, x):
    a = hashlib.sha256(msg_key + KEY[x:x + 36]).digest()
    b = hashlib.sha256(KEY[40 + x:76 + x] + msg_key).digest()
    return a[0:8] + b[8:24] + a[24:32], b[0:8] + a[8:24] + b[24:32]


def seal_open_v1():
    plain = struct.pack("<I", len(TL)) + TL
    msg_key = hashlib.sha1(plain).digest()[4:20]
    padded = plain + os.urandom(-len(plain) % 16)
    key, iv = kdf_v1(msg_key)
    wire = FINGERPRINT + msg_key + tgcrypto.ige256_encrypt(padded, key, iv)
    # open
    msg_key = wire[8:24]
    key, iv = kdf_v1(msg_key)
    out = tgcrypto.ige256_decrypt(wire[24:], key, iv)
    (length,) = struct.unpack("<I", out[:4])
    assert hashlib.sha1(out[:4 + length]).digest()[4:20] == msg_key


def seal_open_v2():
    plain = struct.pack("<I", len(TL)) + TL
    padded = plain + os.urandom(12 + (-(len(plain) + 12) % 16))
    msg_key = hashlib.sha256(KEY[88:120] + padded).digest()[8:24]
    key, iv = kdf_v2(msg_key, 0)
    wire = FINGERPRINT + msg_key + tgcrypto.ige256_encrypt(padded, key, iv)
    # open (as the receiver, with the sender's x = 0)
    msg_key = wire[8:24]
    key, iv = kdf_v2(msg_key, 0)
    out = tgcrypto.ige256_decrypt(wire[24:], key, iv)
    assert hashlib.sha256(KEY[88:120] + out).digest()[8:24] == msg_key


def median_ns(function, runs=31, loops=2000):
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        for _ in range(loops):
            function()
        samples.append((time.perf_counter_ns() - start) / loops)
    return statistics.median(samples)


if __name__ == "__main__":
    print(f"v1 {median_ns(seal_open_v1):.0f}")
    print(f"v2 {median_ns(seal_open_v2):.0f}")
