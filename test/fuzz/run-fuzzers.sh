#!/usr/bin/env bash
# Fuzzes each parser with libFuzzer + AddressSanitizer for SECONDS each
# (default 60), growing test/fuzz/corpus/<target>/. Needs clang; run from
# a configured build tree: test/fuzz/run-fuzzers.sh [SECONDS]
# (FUZZ_TARGETS="form credentials" for some of them)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
flags="$(pkg-config --cflags apr-1 apr-util-1 jansson libargon2 sqlite3 libcrypto gdlib libpq) -Imod_siali/core -D_GNU_SOURCE"
libs="$(pkg-config --libs apr-1 apr-util-1 jansson libjwt libargon2 sqlite3 libcrypto gdlib libpq) -lunistring"
core=$(ls mod_siali/core/*.c)
mkdir -p out/fuzz
for t in ${FUZZ_TARGETS:-multipart json validate image form credentials patch}; do
  clang -g -O1 -fsanitize=fuzzer,address,undefined $flags -o "out/fuzz/fuzz_$t" \
    "test/fuzz/fuzz_$t.c" $core $libs
  mkdir -p "test/fuzz/corpus/$t"
  "out/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 "test/fuzz/corpus/$t" \
    > "out/fuzz/$t.log" 2>&1 || { tail -40 "out/fuzz/$t.log"; exit 1; }
  echo "fuzz_$t: $(grep -c . "out/fuzz/$t.log") log lines, corpus $(ls "test/fuzz/corpus/$t" | wc -l)"
done
