#!/usr/bin/env bash
# The README's two commands:
#   ./build.sh run    install what is missing, build, serve http://127.0.0.1:8080 (SQLite)
#   ./build.sh test   install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake libtool pkg-config apache2 apache2-dev
  libaprutil1-dev libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql libjansson-dev
  libargon2-dev libsqlite3-dev libssl-dev check libsubunit-dev sqlite3
  python3-pytest python3-requests python3-pil openssl wrk libgd-dev"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

install_packages() {
  local missing=""
  for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "build.sh: installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
  fi
}

build() {
  [ -x configure ] || ./autogen.sh
  [ -f Makefile ] || ./configure --with-apxs="$(command -v apxs)"
  make -j"$(nproc)"
}

case "${1:-}" in
  run)
    install_packages
    build
    shift
    exec ./siali start "$@"
    ;;
  test)
    install_packages
    build
    status=0
    make check || status=1
    cat test/unit/test_core.log 2>/dev/null | grep -E "Checks:|:[EF]:" || true
    log=$(mktemp)
    make integration 2>&1 | tee "$log" || status=1
    # one closing line for both runners: "N passed, N failed"
    unit=$( { grep -oE "Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+" test/unit/test_core.log || true; } \
           | tail -1 | grep -oE "[0-9]+" | tr '\n' ' ' || true)
    read -r u_all u_fail u_err <<<"${unit:-0 0 0}"
    i_pass=$(grep -oE "[0-9]+ passed" "$log" | tail -1 | grep -oE "[0-9]+" || echo 0)
    i_fail=$( { grep -oE "[0-9]+ (failed|errors?)\b" "$log" || true; } | awk '{s+=$1} END {print s+0}')
    rm -f "$log"
    [ "$status" -eq 0 ] || [ "$((u_fail + u_err + ${i_fail:-0}))" -gt 0 ] || i_fail=1
    echo "tests: $((u_all - u_fail - u_err + ${i_pass:-0})) passed, $((u_fail + u_err + ${i_fail:-0})) failed"
    exit "$status"
    ;;
  *)
    echo "usage: $0 run [siali start options] | test" >&2
    exit 2
    ;;
esac
