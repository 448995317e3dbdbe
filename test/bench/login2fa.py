#!/usr/bin/python3
"""Login time with and without two-factor login, at the default password cost
(argon2id m=19456 t=2 p=1), against a real httpd: one member with 2FA on, one
without; each round logs both in (password; for the first, then the code
page), in alternating order, and times the whole login as a browser would see
it (every request of it, on a fresh connection). Prints the medians and the
ratio, and the static file of the same server as the floor. Not a test: it
asserts nothing.

    /usr/bin/python3 test/bench/login2fa.py [--rounds 30] [--driver sqlite|pgsql]
"""
import argparse
import base64
import hashlib
import hmac
import os
import statistics
import struct
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import conftest  # noqa: E402


def totp(secret, t):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t // 30)), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--driver", default="sqlite")
    a = ap.parse_args()
    h = conftest.Httpd(driver=a.driver, hash_cost="argon2id m=19456 t=2 p=1",
                       directives="SialiLoginThrottle 1000000 60")
    h.start()
    try:
        s, _ = h.signup("two@example.com")
        s.headers["Origin"] = h.url
        secret = s.post(h.url + "/api/current-user/two-factor/setup").json()["secret"]
        r = s.post(h.url + "/api/current-user/two-factor/enable",
                   json={"code": totp(secret, time.time()), "password": "secret-pass-1"})
        assert r.status_code == 200, r.text
        h.signup("one@example.com")

        def login_plain():
            t0 = time.perf_counter()
            r = requests.post(h.url + "/user/login/", allow_redirects=False,
                              data={"email": "one@example.com", "password": "secret-pass-1"})
            assert r.status_code == 302 and "siali_session" in r.cookies
            return time.perf_counter() - t0

        def login_2fa():
            """(password page, code page GET + POST) in seconds"""
            b = requests.Session()
            t0 = time.perf_counter()
            r = b.post(h.url + "/user/login/", allow_redirects=False,
                       data={"email": "two@example.com", "password": "secret-pass-1"})
            t1 = time.perf_counter()
            assert r.status_code == 302 and "siali_2fa" in b.cookies
            # a new step each round would take 30 s: the step is forgotten,
            # outside the timed part
            h.sql("UPDATE user_totp SET last_step = 0")
            t2 = time.perf_counter()
            b.get(h.url + "/user/login/two-factor/")
            r = b.post(h.url + "/user/login/two-factor/", allow_redirects=False,
                       data={"code": totp(secret, time.time())}, headers={"Origin": h.url})
            assert r.status_code == 302, r.text
            return t1 - t0, time.perf_counter() - t2

        plain, first, second, floor = [], [], [], []
        for i in range(a.rounds):
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                if which == 0:
                    plain.append(login_plain())
                else:
                    f, c = login_2fa()
                    first.append(f)
                    second.append(c)
            t0 = time.perf_counter()
            requests.get(h.url + "/static/siali.css")
            floor.append(time.perf_counter() - t0)
        m = statistics.median
        with2 = m(first) + m(second)
        print("driver %s, %d rounds, medians:" % (a.driver, a.rounds))
        print("  static file          %8.2f ms" % (m(floor) * 1000))
        print("  login, no 2FA        %8.2f ms" % (m(plain) * 1000))
        print("  login with 2FA       %8.2f ms  (password page %.2f + code page GET+POST %.2f)"
              % (with2 * 1000, m(first) * 1000, m(second) * 1000))
        print("  ratio 2FA / no 2FA   %8.2f" % (with2 / m(plain)))
        print("  code pages / static  %8.2f" % (m(second) / m(floor)))
    finally:
        h.stop()
        h.cleanup()


if __name__ == "__main__":
    main()
