#!/usr/bin/env bash
# The README's two commands:
#   ./build.sh run    install what is missing, build, serve http://127.0.0.1:8080 (SQLite)
#   ./build.sh test   install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")"

PKGS="chromium nodejs build-essential autoconf automake libtool pkg-config apache2 apache2-dev
  libaprutil1-dev libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql libjansson-dev libjwt-dev
  libargon2-dev libsqlite3-dev libpq-dev libunistring-dev libssl-dev check libsubunit-dev sqlite3
  python3-pytest python3-requests python3-pil python3-psycopg2 openssl wrk libgd-dev postgresql
  slapd ldap-utils liboath-dev libqrencode-dev libcurl4-openssl-dev gdb
  debhelper lintian"

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

# "N passed" / "N failed" (failed + errors) from pytest's closing line only,
# e.g. "1 failed, 112 passed, 1 error in 147.14s": other lines quote logs
pytest_count() {
  # (no match is 0, not a failed pipeline: set -o pipefail would end the run)
  { grep -E "(passed|failed|error).* in [0-9.]+s" "$1" || true; } | tail -1 \
    | { grep -oE "[0-9]+ ($2)" || true; } | awk '{s+=$1} END {print s+0}'
}

# fail2ban-regex for the test of conf/fail2ban (unpacked, not installed: no
# service starts on the machine)
fail2ban_tools() {
  local dir="$PWD/out/tools/fail2ban"
  if [ ! -x "$dir/usr/bin/fail2ban-regex" ]; then
    mkdir -p "$dir" && (cd "$dir/.." && apt-get download -q fail2ban >/dev/null 2>&1 \
      && dpkg -x fail2ban_*.deb "$dir") || echo "build.sh: fail2ban-regex not available"
  fi
  export SIALI_FAIL2BAN="$dir"
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
    command -v npm >/dev/null || { $SUDO apt-get install -y -qq npm; }
    fail2ban_tools
    status=0
    make check || status=1
    grep -E "Checks:|:[EF]:" test/unit/test_core.log || true
    log=$(mktemp)
    make integration 2>&1 | tee "$log" || status=1
    # the pages in real headless Chromium (Debian's), playwright-core from npm
    (cd test/browser && npm ci --no-audit --no-fund --loglevel=error) || status=1
    SIALI_BUILD_DIR="$PWD" node --test --test-concurrency=1 test/browser 2>&1 \
      | tee -a "$log" | grep -E "^(not )?ok |^# (tests|pass|fail)" || true
    grep -qE "^# fail 0$" "$log" || status=1
    # the same unit and integration suites with ASan+UBSan (a sanitized copy
    # of the tree in out/asan); any sanitizer report fails the run. Every
    # test once: the SQLite run of the modules that run on both databases,
    # and the PostgreSQL-only caller cache; not the several-node and restart
    # modules (880, 885, 890: minutes of load that the plain run covers) nor
    # the Debian package (950: it installs into the machine), so that one CI
    # run stays under 20 minutes on 2 cores
    asan=$(mktemp)
    make check-asan PYTEST_ARGS="-k '(not pgsql or caller_cache) and not 880_ and not 885_ and not 890_ and not 950_'" 2>&1 | tee "$asan" | grep -E "Checks:|passed|failed|check-asan:" || true
    grep -q "check-asan: 0 sanitizer reports" "$asan" || status=1
    a_pass=$(pytest_count "$asan" passed)
    a_fail=$(pytest_count "$asan" "failed|errors?")
    rm -f "$asan"
    # one closing line for all runners: "N passed, N failed"
    unit=$( { grep -oE "Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+" test/unit/test_core.log || true; } \
           | tail -1 | grep -oE "[0-9]+" | tr '\n' ' ' || true)
    read -r u_all u_fail u_err <<<"${unit:-0 0 0}"
    i_pass=$(pytest_count "$log" passed)
    i_fail=$(pytest_count "$log" "failed|errors?")
    b_pass=$( { grep -E "^# pass [0-9]+" "$log" || true; } | awk '{s+=$3} END {print s+0}')
    b_fail=$( { grep -E "^# fail [0-9]+" "$log" || true; } | awk '{s+=$3} END {print s+0}')
    rm -f "$log"
    failed=$((u_fail + u_err + ${i_fail:-0} + ${b_fail:-0} + ${a_fail:-0}))
    [ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
    echo "tests: $((u_all - u_fail - u_err + ${i_pass:-0} + ${b_pass:-0})) passed" \
         "(and ${a_pass:-0} again under ASan+UBSan), $failed failed"
    exit "$status"
    ;;
  deb)
    # the Debian package (debian/): out/deb/libapache2-mod-siali_*.deb
    install_packages
    build
    exec make deb
    ;;
  *)
    echo "usage: $0 run [siali start options] | test | deb" >&2
    exit 2
    ;;
esac
