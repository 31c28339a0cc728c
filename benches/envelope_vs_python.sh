#!/usr/bin/env bash
# Seal + open of a 256-byte message: this implementation (criterion, `envelope_256B`)
# against a Python baseline on tgcrypto + hashlib, measured in one command so the ratio
# is taken on the same machine at the same time. Needs `pip install tgcrypto`.
set -euo pipefail
cd "$(dirname "$0")/.."

to_ns() { # "2.95 µs" -> 2950
  awk -v v="$1" -v u="$2" 'BEGIN { m = (u == "ns") ? 1 : (u == "µs" || u == "us") ? 1000 : (u == "ms") ? 1000000 : 0; printf "%.0f", v * m }'
}

rust=$(cargo bench -p secretchat-common --bench crypto -- envelope_256B --warm-up-time 1 --measurement-time 4 2>/dev/null)
python=$(python3 benches/seal_open_tgcrypto.py)
for version in v1 v2; do
  line=$(grep -A1 "seal_open_${version}" <<<"$rust" | grep -o 'time: *\[[^]]*\]')
  read -r _ _ _ median unit _ <<<"$(tr -d '[]' <<<"$line")"
  rust_ns=$(to_ns "$median" "$unit")
  python_ns=$(awk -v v="$version" '$1 == v { print $2 }' <<<"$python")
  awk -v v="$version" -v r="$rust_ns" -v p="$python_ns" \
    'BEGIN { printf "%s seal+open 256 B: rust %d ns, python/tgcrypto %d ns, speed-up %.1fx\n", v, r, p, p / r }'
done
