#!/bin/sh
# make deb: libapache2-mod-siali_<version>_<arch>.deb in out/deb/, built by
# dpkg-buildpackage (debhelper, dh_apache2) from a copy of the tree (it
# cleans the tree it builds in), then lintian's verdict when lintian is there
# (out/deb/lintian.txt; an error fails).
set -eu
src="$(cd "$(dirname "$0")/../.." && pwd)"
out="$src/out/deb"
rm -rf "$out"
mkdir -p "$out/src"
# the files git knows (tracked, or new and not ignored): no build outputs
(cd "$src" && git ls-files -z --cached --others --exclude-standard) \
  | (cd "$src" && xargs -0 cp --parents -t "$out/src")
cd "$out/src"
dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$out/build.log" 2>&1 \
  || { tail -40 "$out/build.log"; echo "make deb: dpkg-buildpackage failed (out/deb/build.log)"; exit 1; }
deb=$(ls "$out"/libapache2-mod-siali_*.deb)
echo "make deb: $deb"
if command -v lintian >/dev/null; then
  # as root lintian wants --allow-root; its tags: E errors, W warnings
  lintian --allow-root --info "$out"/*.changes >"$out/lintian.txt" 2>&1 || true
  cat "$out/lintian.txt"
  if grep -q "^E: " "$out/lintian.txt"; then
    echo "make deb: lintian reports errors"
    exit 1
  fi
fi
