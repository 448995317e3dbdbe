#!/bin/sh
# make check: every stored fuzz input through its target (no libFuzzer).
set -e
here=$(dirname "$0")
build=${SIALI_BUILD_DIR:-.}
for t in multipart json validate image form credentials patch; do
  "$build/test/fuzz/fuzz_${t}_replay" "$here/corpus/$t"
done
