"""Login throttling: per account and per address, shared in the database,
answered before any hashing (counted through the debug log, not timed)."""
import requests

HASH_TAGS = ("SL00301", "SL00302")


def hashes(h):
    return sum(h.count_log(t) for t in HASH_TAGS)


# behind a reverse proxy: mod_remoteip takes the client address from
# X-Forwarded-For, so one test can be many clients
REMOTEIP = dict(modules=("remoteip",),
                directives_extra="RemoteIPHeader X-Forwarded-For\n"
                                 "RemoteIPInternalProxy 127.0.0.1\n")


def attempt(h, who, password, ip=None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return requests.post(h.url + "/user/login/", data={"email": who, "password": password},
                         headers=headers, allow_redirects=False)


def proxied(factory, directives):
    return factory(modules=REMOTEIP["modules"],
                   directives=directives + "\n" + REMOTEIP["directives_extra"]).start()


def test_siali_520_01_account_throttled_before_hashing(httpd_factory):
    h = httpd_factory(directives="SialiLoginThrottle 3 60", loglevel="siali:debug").start()
    h.signup("victim@example.org")
    for _ in range(3):
        assert attempt(h, "victim@example.org", "wrong-pass-1").status_code == 400
    before = hashes(h)
    r = attempt(h, "victim@example.org", "secret-pass-1")     # even the right password
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert "Too many failed logins" in r.text
    assert hashes(h) == before        # no hash for a throttled attempt
    # the account's other name is throttled by the address here, not by a
    # shared account counter (that would tell who shares an account)
    assert attempt(h, "VICTIM", "secret-pass-1").status_code == 429
    # the counters live in the database, one per typed login
    rows = sorted(f for (f,) in h.sql("SELECT failures FROM login_failures "
                                      "WHERE kind = 'account'"))
    assert rows == [1, 4]             # 3 failures + the refused attempt; 1 for "victim"
    assert h.sql("SELECT failures FROM login_failures WHERE kind = 'address'")[0][0] == 5


def test_siali_520_02_unknown_accounts_cost_one_hash_and_look_the_same(httpd_factory):
    h = httpd_factory(loglevel="siali:debug").start()
    h.signup("real@example.org")
    before = hashes(h)
    r1 = attempt(h, "real@example.org", "wrong-pass-1")
    mid = hashes(h)
    r2 = attempt(h, "ghost@example.org", "wrong-pass-1")
    after = hashes(h)
    assert mid - before == 1 and after - mid == 1
    assert r1.status_code == r2.status_code == 400
    strip = lambda t: t.replace("real@example.org", "X").replace("ghost@example.org", "X")
    assert strip(r1.text) == strip(r2.text)


def test_siali_520_03_success_resets_the_account(httpd_factory):
    h = proxied(httpd_factory, "SialiLoginThrottle 3 60")
    h.signup("forgetful@example.org")
    ips = iter("192.0.2.%d" % i for i in range(1, 50))
    for _ in range(2):
        attempt(h, "forgetful@example.org", "wrong-pass-1", next(ips))
    assert attempt(h, "forgetful@example.org", "secret-pass-1", next(ips)).status_code == 302
    assert h.sql("SELECT count(*) FROM login_failures WHERE kind='account'")[0][0] == 0
    for _ in range(2):
        assert attempt(h, "forgetful@example.org", "wrong-pass-1", next(ips)).status_code == 400
    assert attempt(h, "forgetful@example.org", "secret-pass-1", next(ips)).status_code == 302
    # without the reset, 4 failures in the window would have been over 3
    for _ in range(3):
        attempt(h, "forgetful@example.org", "wrong-pass-1", next(ips))
    assert attempt(h, "forgetful@example.org", "secret-pass-1", next(ips)).status_code == 429


def test_siali_520_04_address_throttled_across_accounts(httpd_factory):
    h = proxied(httpd_factory, "SialiLoginThrottle 4 60")
    h.signup("a1@example.org")
    for i in range(4):
        r = attempt(h, "nobody%d@example.org" % i, "wrong-pass-1", "198.51.100.7")
        assert r.status_code == 400
    r = attempt(h, "a1@example.org", "secret-pass-1", "198.51.100.7")
    assert r.status_code == 429       # this address used up its failures
    assert "Retry-After" in r.headers
    # another address still logs in
    assert attempt(h, "a1@example.org", "secret-pass-1", "198.51.100.8").status_code == 302


def test_siali_520_05_window_ends(httpd_factory):
    h = httpd_factory(directives="SialiLoginThrottle 2 2s").start()
    h.signup("patient@example.org")
    for _ in range(2):
        attempt(h, "patient@example.org", "wrong-pass-1")
    assert attempt(h, "patient@example.org", "secret-pass-1").status_code == 429
    import time
    time.sleep(2.2)
    assert attempt(h, "patient@example.org", "secret-pass-1").status_code == 302


def test_siali_520_06_hashing_capped_at_cores_across_children(httpd_factory):
    import concurrent.futures
    import os
    import re
    h = httpd_factory(loglevel="siali:debug", start_servers=3,
                      hash_cost="argon2id m=4096 t=3 p=1",
                      directives="SialiLoginThrottle 1000 60").start()
    for i in range(4):
        h.signup("cap%d@example.org" % i)

    def login(i):
        return attempt(h, "cap%d@example.org" % (i % 4), "secret-pass-1").status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert set(pool.map(login, range(48))) == {302}
    cores = os.cpu_count()
    # walk the shared error log in write order: +1 when a process took a slot
    # (logged after taking it), -1 when it gave one back (logged before): the
    # running count is the hashes under way in all children together
    running, peak, taken = 0, 0, 0
    for line in h.log().splitlines():
        m = re.search(r"SL00303: hashing slots in use: (\d+) of (\d+)", line)
        if m:
            assert int(m.group(2)) == cores
            running += 1
            taken += 1
            peak = max(peak, running)
        elif "SL00305" in line:
            running -= 1
    assert taken >= 48
    assert peak <= cores, peak


def test_siali_520_07_parallel_guesses_cannot_slip_past(httpd_factory):
    import concurrent.futures
    h = httpd_factory(directives="SialiLoginThrottle 3 300", loglevel="siali:debug",
                      start_servers=3).start()
    h.signup("racy@example.org")
    before = hashes(h)

    def guess(i):
        return attempt(h, "racy@example.org", "wrong-pass-%d" % i).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(guess, range(40)))
    # every attempt is counted before it is hashed: at most 3 get to hash
    assert codes.count(400) <= 3, codes
    assert codes.count(429) >= 37, codes
    assert hashes(h) - before <= 3


def test_siali_520_08_taken_email_refused_before_hashing(httpd_factory):
    h = httpd_factory(loglevel="siali:debug").start()
    h.signup("taken@example.org")
    before = hashes(h)
    for _ in range(5):
        _, r = h.signup("taken@example.org")
        assert r.status_code == 400 and "already exists" in r.text
    assert hashes(h) == before
