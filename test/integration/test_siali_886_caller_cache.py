"""The caller cache on PostgreSQL (SialiAuthCache): who a token or a
session is, kept per child between changes. A change made through a node is
seen by every child of that node on its next request, exactly; a change made
on another node or outside httpd once PostgreSQL's notification arrives; a
lookup that raced a change never puts the old answer back; while the
listening connection is lost nothing is served from the cache."""
import concurrent.futures as cf
import threading
import time
from collections import Counter

import requests

from conftest import pg_fresh, pg_sql

DRIVERS = ("pgsql",)
# the listening connections of this test's database (the cluster is shared)
LISTENERS = "WHERE query = 'LISTEN siali_auth' AND datname = current_database()"

# several children, so that a change in one must reach the caches of others
SPREAD = ("ServerLimit 4\nThreadsPerChild 8\nMaxRequestWorkers 32\nMinSpareThreads 8\n"
          "MaxSpareThreads 32")


def account(h, email):
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    return s, token


def whoami(h, token=None, cookie=None):
    kw = {"headers": {"Authorization": "Token " + token}} if token else \
        {"cookies": {"siali_session": cookie}}
    # a fresh connection each time: the event MPM hands it to any child
    return requests.get(h.url + "/api/current-user/whoami", timeout=20,
                        headers=dict(kw.get("headers", {}), Connection="close"),
                        cookies=kw.get("cookies"))


def warm(h, n=120, **kw):
    with cf.ThreadPoolExecutor(16) as ex:
        return Counter(ex.map(lambda _: whoami(h, **kw).status_code, range(n)))


def until(h, want, deadline=10, **kw):
    """Polls until the answer is `want` (a notification from another
    process has no fixed arrival time); then many clients at once, all
    of which must agree."""
    end = time.monotonic() + deadline
    while whoami(h, **kw).status_code != want:
        assert time.monotonic() < end, "still not %d" % want
        time.sleep(0.02)
    return warm(h, **kw)


def test_siali_886_01_changes_through_a_node_are_seen_by_all_its_children(httpd_factory):
    h = httpd_factory(directives=SPREAD, start_servers=4).start()
    # without the database's notifications: what makes this exact is the
    # node's own shared counter, not how fast a notification arrives
    for t in pg_sql(h.db, "SELECT DISTINCT tgname, tgrelid::regclass FROM pg_trigger "
                          "WHERE tgname LIKE 'siali_%'"):
        pg_sql(h.db, "DROP TRIGGER %s ON %s" % (t[0], t[1]))
    admin, _ = account(h, "admin@example.org")
    s, token = account(h, "cached@example.org")
    cookie = s.cookies["siali_session"]
    uid = s.get(h.url + "/api/current-user/whoami").json()["id"]
    assert warm(h, token=token) == {200: 120}
    assert warm(h, cookie=cookie) == {200: 120}

    # a new token: the old one refused by every child at once
    new = s.post(h.url + "/api/current-user/reset-token").json()["token"]
    assert warm(h, token=token) == {401: 120}
    assert warm(h, token=new) == {200: 120}
    # a new name: every child says it at once
    assert admin.patch(h.url + "/api/users/%d" % uid, json={"first_name": "Renamed"}) \
        .status_code == 200
    with cf.ThreadPoolExecutor(16) as ex:
        names = Counter(ex.map(lambda _: whoami(h, token=new).json()["first_name"],
                               range(120)))
    assert names == {"Renamed": 120}
    # deactivated by an admin: token and session refused everywhere at once
    assert admin.patch(h.url + "/api/users/%d" % uid, json={"is_active": False}) \
        .status_code == 200
    assert warm(h, token=new) == {401: 120}
    assert warm(h, cookie=cookie) == {401: 120}


def test_siali_886_02_changes_elsewhere_arrive_by_notification(httpd_factory):
    """Two nodes; changes on the other node and straight in the database."""
    pg = pg_fresh()
    a = httpd_factory(db=pg, directives=SPREAD, start_servers=4).start()
    b = httpd_factory(db=pg, directives=SPREAD, start_servers=4).start()
    s, token = account(a, "far@example.org")
    cookie = s.cookies["siali_session"]
    assert warm(b, token=token) == {200: 120} and warm(b, cookie=cookie) == {200: 120}

    new = s.post(a.url + "/api/current-user/reset-token").json()["token"]
    assert until(b, 401, token=token) == {401: 120}
    assert warm(b, token=new) == {200: 120}
    # logged out on A: the cookie is gone on B too
    assert s.post(a.url + "/logout/", allow_redirects=False).status_code == 302
    assert until(b, 401, cookie=cookie) == {401: 120}
    # outside httpd: psql deactivates, then reactivates
    pg_sql(pg, "UPDATE users SET is_active = 0 WHERE email = 'far@example.org'")
    assert until(b, 401, token=new) == {401: 120}
    assert until(a, 401, token=new) == {401: 120}
    pg_sql(pg, "UPDATE users SET is_active = 1 WHERE email = 'far@example.org'")
    assert until(b, 200, token=new) == {200: 120}
    # the activity writes announce nothing (they would flush every cache
    # once a minute per user): the triggers exist and skip them
    triggers = {r[0] for r in pg_sql(pg, "SELECT tgname FROM pg_trigger WHERE "
                                         "tgname LIKE 'siali_%'")}
    assert {"siali_users_changed", "siali_tokens_changed", "siali_sessions_gone",
            "siali_sessions_changed", "siali_memberships_changed"} <= triggers


def test_siali_886_03_a_lookup_racing_a_reset_never_revives_the_old_token(httpd_factory):
    race_resets(httpd_factory(directives=SPREAD, start_servers=4).start())


def race_resets(h):
    """Many clients at once on the same token (identical inputs) and on
    their own tokens (distinct ones) while the tokens are reset: every
    request sent after a reset was answered refuses the old token, and no
    request with a current token is refused."""
    users = [account(h, "racer%d@example.org" % i) for i in range(4)]
    bad, dropped, stop = [], [], threading.Event()
    current = {i: t for i, (_, t) in enumerate(users)}
    retired = {}          # token -> time its reset was answered
    order = []            # the retired tokens, oldest first

    def hammer(i):
        sess = requests.Session()
        while not stop.is_set():
            # two in three on a current token, the rest on the last one retired
            tok = current[i % 4] if i % 3 or not order else order[-1]
            sent = time.monotonic()
            try:
                r = sess.get(h.url + "/api/current-user/whoami", timeout=20,
                             headers={"Authorization": "Token " + tok})
            except requests.ConnectionError:
                # a keep-alive connection the server closed as the request
                # went out (a crashed child shows in the error log instead)
                dropped.append(tok)
                sess = requests.Session()
                continue
            gone = retired.get(tok)
            if r.status_code == 200 and gone is not None and sent > gone:
                bad.append(("old token admitted", tok[:6]))
            if r.status_code not in (200, 401):
                bad.append(("status", r.status_code))

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    resets = 0
    try:
        for rnd in range(15):
            for i, (s, _) in enumerate(users):
                old = current[i]
                # a connection of its own (not the session's pooled one, which
                # a child that MaxSpareThreads retires may close just as the
                # POST goes out, and a POST is never retried)
                r = requests.post(h.url + "/api/current-user/reset-token", timeout=20,
                                  cookies=s.cookies,
                                  headers=dict(s.headers, Connection="close"))
                assert r.status_code == 201, r.text
                retired[old] = time.monotonic()
                order.append(old)
                current[i] = r.json()["token"]
                resets += 1
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not bad, bad[:5]
    assert len(dropped) < 10, len(dropped)
    for i, (s, _) in enumerate(users):
        assert whoami(h, token=current[i]).status_code == 200
        for old in order[:20]:
            assert whoami(h, token=old).status_code == 401
    assert resets == 60


def test_siali_886_04_no_cache_while_the_listener_is_gone(httpd_factory):
    """The listening connection is killed; a change made meanwhile is not
    served from the cache; once it listens again the cache works again."""
    pg = pg_fresh()
    h = httpd_factory(db=pg, directives=SPREAD, start_servers=4,
                      waive=("SL00101",)).start()
    s, token = account(h, "listener@example.org")
    assert warm(h, token=token) == {200: 120}
    killed = pg_sql(pg, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        + LISTENERS)
    assert len(killed) >= 4, killed
    pg_sql(pg, "UPDATE users SET is_active = 0 WHERE email = 'listener@example.org'")
    assert until(h, 401, token=token) == {401: 120}
    pg_sql(pg, "UPDATE users SET is_active = 1 WHERE email = 'listener@example.org'")
    assert until(h, 200, token=token) == {200: 120}
    # listening again (each child reconnects by itself)
    end = time.monotonic() + 20
    while len(pg_sql(pg, "SELECT pid FROM pg_stat_activity " + LISTENERS)) < 4:
        assert time.monotonic() < end
        time.sleep(0.1)
    pg_sql(pg, "UPDATE users SET is_active = 0 WHERE email = 'listener@example.org'")
    assert until(h, 401, token=token) == {401: 120}


def test_siali_886_05_off_asks_the_database_every_time(httpd_factory):
    pg = pg_fresh()
    h = httpd_factory(db=pg, directives=SPREAD + "\nSialiAuthCache Off",
                      start_servers=4).start()
    s, token = account(h, "uncached@example.org")
    assert warm(h, token=token) == {200: 120}
    assert not pg_sql(pg, "SELECT pid FROM pg_stat_activity " + LISTENERS)
    # straight in the database, seen by the very next request
    pg_sql(pg, "UPDATE users SET is_active = 0 WHERE email = 'uncached@example.org'")
    assert warm(h, token=token) == {401: 120}


def test_siali_886_06_a_stalled_listener_turns_the_cache_off(httpd_factory):
    """The listening backends frozen (SIGSTOP: the connection stays open,
    nothing is heard): a change made meanwhile is still seen, because the
    listener's round trip comes back late and the cache goes off."""
    import os
    import signal
    pg = pg_fresh()
    h = httpd_factory(db=pg, directives=SPREAD, start_servers=4,
                      waive=("SL10026",)).start()
    s, token = account(h, "frozen@example.org")
    assert warm(h, token=token) == {200: 120}
    pids = [int(r[0]) for r in pg_sql(pg, "SELECT pid FROM pg_stat_activity " + LISTENERS)]
    assert len(pids) >= 4, pids
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        pg_sql(pg, "UPDATE users SET is_active = 0 WHERE email = 'frozen@example.org'")
        assert until(h, 401, deadline=15, token=token) == {401: 120}
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert h.count_log("SL10026") >= 1
