#!/usr/bin/python3
"""mod_siali benchmark: a real httpd (event MPM), wrk on 127.0.0.1.

Measures a ~100-byte static file, whoami with a legacy token, with a Bearer
access token of a personal access token, and whoami with a
session cookie at 32 and 128 connections, and logins per second next to the
time of one argon2id hash, on SQLite and on PostgreSQL (a private cluster
on 127.0.0.1, as the integration suite starts it). Prints req/s, p50/p99,
errors and the ratio of each to the static file served by the same server
in the same run. Not a test: it asserts nothing about time.

    /usr/bin/python3 test/bench/bench.py [--duration 10] [--threads 2]
                                         [--driver sqlite|pgsql|both] [--rounds 3]
"""
import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import conftest  # noqa: E402  (the integration harness starts the server)

DEFAULT_HASH = "argon2id m=19456 t=2 p=1"


def wrk(url, conns, duration, threads, headers=(), script=None):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration, "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors += sum(int(x) for x in m.groups()) if m else 0
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "errors": errors}


def argon2_ms(m_kib=19456, t=2, p=1, n=10):
    lib = ctypes.CDLL("libargon2.so.1")
    u32, sz, vp = ctypes.c_uint32, ctypes.c_size_t, ctypes.c_void_p
    lib.argon2id_hash_raw.argtypes = [u32, u32, u32, ctypes.c_char_p, sz, ctypes.c_char_p,
                                      sz, vp, sz]
    out = ctypes.create_string_buffer(32)
    salt = b"0123456789abcdef"
    pw = b"secret-pass-1"
    start = time.perf_counter()
    for _ in range(n):
        rc = lib.argon2id_hash_raw(t, m_kib, p, pw, len(pw), salt, len(salt), out, 32)
        assert rc == 0
    return (time.perf_counter() - start) * 1000 / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--driver", choices=("sqlite", "pgsql", "both"), default="both")
    ap.add_argument("--no-logins", action="store_true")
    ap.add_argument("--warmup", type=int, default=0,
                    help="seconds of wrk per case before the measured run")
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of every case, interleaved (static, token, ..., static, "
                    "token, ...); each figure is the median run of its case")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (apt-get install wrk)")
    print("mod_siali benchmark: event MPM, %d s per run, %d round(s), wrk -t%d, 127.0.0.1"
          % (args.duration, args.rounds, args.threads))
    print("%-7s %-16s %5s %10s %9s %9s %7s %7s" % ("driver", "case", "conns", "req/s",
                                                   "p50 ms", "p99 ms", "errors", "ratio"))
    for driver in (("sqlite", "pgsql") if args.driver == "both" else (args.driver,)):
        run(driver, args)
    if conftest._cluster:
        conftest._cluster[0].cleanup()


def run(driver, args):
    # A fixed pool with room for every connection: with the defaults the event
    # MPM closes keep-alive connections of a process over its share (and retires
    # spare children), which wrk counts as read errors, for the static file as
    # much as for the module. No request cap per connection either.
    mpm = ("MaxKeepAliveRequests 0\nServerLimit 4\nThreadsPerChild 64\n"
           "MaxRequestWorkers 256\nMinSpareThreads 64\nMaxSpareThreads 256\n"
           # as a production server (and Debian's apache2.conf): the static
           # file is not slowed by an .htaccess probe in every directory
           "<Directory />\n  AllowOverride None\n</Directory>")
    h = conftest.Httpd(hash_cost=DEFAULT_HASH, loglevel="siali:warn", start_servers=4,
                       directives=mpm, driver=driver)
    with open(os.path.join(h.root, "htdocs", "static", "bench.txt"), "w") as f:
        f.write("x" * 99 + "\n")
    h.start()
    try:
        s, r = h.signup("bench@example.org", "bench-password-1")
        assert r.status_code == 302
        token = s.get(h.url + "/api/current-user/token").json()["token"]
        cookie = s.cookies["siali_session"]
        pat = s.post(h.url + "/api/token/").json()["token"]
        for conns in (32, 128):
            # an access token lives five minutes: a fresh one for each round
            access = requests.post(h.url + "/api/token/refresh/",
                                   json={"refresh": pat}).json()["access"]
            cases = [
                ("static 100 B", h.url + "/static/bench.txt", ()),
                ("whoami token", h.url + "/api/current-user/whoami",
                 ("Authorization: Token " + token,)),
                ("whoami bearer", h.url + "/api/current-user/whoami",
                 ("Authorization: Bearer " + access,)),
                ("whoami session", h.url + "/api/current-user/whoami",
                 ("Cookie: siali_session=" + cookie,)),
            ]
            # rounds interleave the cases, so a quiet or a busy moment of
            # the machine is shared by all of them rather than by one
            runs = {name: [] for name, _, _ in cases}
            for rnd in range(args.rounds):
                for name, url, hdrs in cases:
                    if args.warmup and rnd == 0:
                        wrk(url, conns, args.warmup, args.threads, hdrs)
                    runs[name].append(wrk(url, conns, args.duration, args.threads, hdrs))
            base = None
            for name, _, _ in cases:
                res = sorted(runs[name], key=lambda x: x["rps"])[len(runs[name]) // 2]
                res["errors"] = sum(x["errors"] for x in runs[name])
                base = base or res["rps"]
                print("%-7s %-16s %5d %10.0f %9.2f %9.2f %7d %6.2fx" % (
                    driver, name, conns, res["rps"], res["p50"], res["p99"], res["errors"],
                    res["rps"] / base))
        if args.no_logins:
            return
        # logins: the form POST, 302 on success, at the default argon2id cost
        lua = os.path.join(h.root, "login.lua")
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.body = "email=bench%40example.org&password=bench-password-1"\n'
                    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        res = wrk(h.url + "/user/login/", 8, args.duration, args.threads, script=lua)
        one = argon2_ms()
        print("%s logins (%s, 8 conns): %.0f/s, p50 %.1f ms, p99 %.1f ms, errors %d; "
              "one hash %.1f ms on one core (%d cores: at most %.0f hashes/s)"
              % (driver, DEFAULT_HASH, res["rps"], res["p50"], res["p99"], res["errors"], one,
                 os.cpu_count(), os.cpu_count() * 1000 / one))
        bad = h.bad_log_lines()
        if bad:
            print("error log:\n" + "\n".join(bad[:10]))
    finally:
        h.stop()
        h.cleanup()


if __name__ == "__main__":
    main()
