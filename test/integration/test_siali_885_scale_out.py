"""Several nodes on one PostgreSQL: they share only the database. Pictures
uploaded on one node are served by every other one and gone from all of them
when replaced or removed; PostgreSQL stopped under running nodes gives 503 +
Retry-After (never another 5xx, never a crashed child) and every node serves
again soon after it is back, without a restart; migrations from several
nodes and CLIs at once happen once, under the database's advisory lock."""

# PostgreSQL is what these tests are about: they start it themselves
DRIVERS = ("sqlite",)
import concurrent.futures as cf
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter

import requests

from conftest import (CHEAP_HASH, SCHEMA_VERSION, SIALI, PgCluster, eventually, on_pg,
                      pg_fresh, pg_sql)
from test_siali_700_account import img

DB_ERRORS = ("SL00101", "SL00113", "SL10011", "no transaction")


def db_errors(*nodes):
    return [line for h in nodes for line in h.log().splitlines()
            if any(e in line for e in DB_ERRORS)]


def upload(node, s, uid, data):
    return s.post(node.url + "/api/users/%d/avatar" % uid,
                  files={"avatar": ("a.png", data, "image/png")}, timeout=30)


def session_on(node, s):
    """The same login, sent to another node (nothing is sticky)."""
    other = requests.Session()
    other.cookies.set("siali_session", s.cookies["siali_session"])
    return other


# ---- 2. nodes share only the database: pictures ----

def test_siali_885_01_a_picture_from_one_node_is_served_by_the_other(pg, httpd_factory):
    params = pg_fresh(pg)
    a = on_pg(httpd_factory, params)
    b = on_pg(httpd_factory, params)
    sa, _ = a.signup("pictured@example.org")
    sb = session_on(b, sa)
    uid = sa.get(a.url + "/api/current-user/whoami").json()["id"]

    r = upload(a, sa, uid, img("PNG", (40, 30)))
    assert r.status_code == 200, r.text
    url = r.json()["avatar"]
    from_a = sa.get(a.url + url)
    from_b = sb.get(b.url + url)
    assert from_a.status_code == from_b.status_code == 200
    assert from_a.content == from_b.content                      # the same bytes
    assert from_a.headers["ETag"] == from_b.headers["ETag"] \
        == '"%s"' % hashlib.sha256(from_b.content).hexdigest()
    assert sb.get(b.url + "/api/current-user/whoami").json()["avatar"] == url
    # revalidated on the other node by the same ETag
    assert sb.get(b.url + url, headers={"If-None-Match": from_a.headers["ETag"]}) \
        .status_code == 304

    # replaced on B: A serves the new one and not the old one, at once
    r = upload(b, sb, uid, img("JPEG", (20, 20)))
    assert r.status_code == 200
    new = r.json()["avatar"]
    assert sa.get(a.url + url).status_code == 404
    assert sa.get(a.url + new).content == sb.get(b.url + new).content
    assert eventually(lambda: sa.get(a.url + "/api/current-user/whoami").json()["avatar"],
                      lambda a: a == new) == new

    # removed on A: gone on B, cached or not
    etag = sb.get(b.url + new).headers["ETag"]
    assert sa.delete(a.url + "/api/users/%d/avatar" % uid).status_code == 204
    assert sb.get(b.url + new).status_code == 404
    assert sb.get(b.url + new, headers={"If-None-Match": etag}).status_code == 404
    # (B's caller cache hears of it by PostgreSQL's notification)
    assert eventually(lambda: sb.get(b.url + "/api/current-user/whoami").json()["avatar"],
                      lambda a: a is None) is None
    assert pg_sql(params, "SELECT count(*) FROM avatars") == [["0"]]
    assert not db_errors(a, b)


def test_siali_885_02_uploads_on_both_nodes_at_once(pg, httpd_factory):
    """Distinct users upload on alternating nodes in parallel; one user
    uploads from both nodes at once: every acknowledged picture is served by
    both nodes, and a user is left with exactly the one their account names."""
    params = pg_fresh(pg)
    a = on_pg(httpd_factory, params, start_servers=3)
    b = on_pg(httpd_factory, params, start_servers=3)
    users = []
    for i in range(16):
        s, _ = (a if i % 2 else b).signup("up%02d@example.org" % i)
        users.append((s, s.get(a.url + "/api/current-user/whoami").json()["id"]))

    def distinct(i):
        s, uid = users[i % len(users)]
        node = a if i % 2 else b
        data = img("PNG", (8 + i % 40, 8 + i % 17))
        r = upload(node, session_on(node, s), uid, data)
        return uid, r.status_code, r.json().get("avatar") if r.status_code == 200 else r.text

    with cf.ThreadPoolExecutor(24) as ex:
        results = list(ex.map(distinct, range(96)))
    assert Counter(code for _, code, _ in results) == {200: 96}, \
        [r for r in results if r[1] != 200][:5]
    named = dict(pg_sql(params, "SELECT id, avatar FROM users"))
    for s, uid in users:
        current = "/data/avatars/" + named[str(uid)]
        got = [session_on(n, s).get(n.url + current) for n in (a, b)]
        assert [g.status_code for g in got] == [200, 200]
        assert got[0].content == got[1].content
        # the current one is one of those acknowledged for this user
        assert current in [url for u, _, url in results if u == uid]
    # one picture a user, none left over
    assert pg_sql(params, "SELECT count(*), count(DISTINCT user_id) FROM avatars") \
        == [["16", "16"]]

    # identical inputs: one user, the same picture, from both nodes at once
    s, uid = users[0]
    same = img("PNG", (33, 33))
    with cf.ThreadPoolExecutor(12) as ex:
        codes = Counter(ex.map(lambda i: upload(a if i % 2 else b,
                                                session_on(a if i % 2 else b, s), uid,
                                                same).status_code, range(24)))
    assert codes == {200: 24}, codes
    rows = pg_sql(params, "SELECT a.name FROM avatars a JOIN users u ON u.avatar = a.name "
                          "WHERE u.id = %d" % uid)
    assert len(rows) == 1
    assert pg_sql(params, "SELECT count(*) FROM avatars WHERE user_id = %d" % uid) == [["1"]]
    assert not db_errors(a, b)


# ---- 3. outages ----

# mod_dbd's own lines for every failed try (AH00629/AH00639 cannot connect,
# AH02655 no connection from the pool, AH00633/AH00636 pool not made) and
# ours: one SL00101 per child when it goes away
# (AH00632: a child that starts while the cluster stops cannot prepare)
OUTAGE_WAIVE = ("AH00629", "AH00632", "AH00633", "AH00636", "AH00639", "AH02655",
                "SL00101", "SL00119", "SL00114")


def test_siali_885_03_postgresql_stopped_and_back(httpd_factory):
    """A cluster of its own (this test stops it): while it is down every
    answer is 503 + Retry-After (API) or the unavailable page (pages), or a
    page that needs no database; once it is back, both nodes serve again
    without a restart."""
    cluster = PgCluster()
    try:
        params = cluster.create()
        a = on_pg(httpd_factory, params, start_servers=2, waive=OUTAGE_WAIVE)
        b = on_pg(httpd_factory, params, start_servers=2, waive=OUTAGE_WAIVE)
        s, _ = a.signup("outage@example.org")
        token = s.get(a.url + "/api/current-user/token").json()["token"]
        auth = {"Authorization": "Token " + token}
        for n in (a, b):
            assert requests.get(n.url + "/api/current-user/whoami", headers=auth).ok

        cluster.stop("fast")
        seen, bad, conn_errors = Counter(), [], []
        stop = threading.Event()

        def probe(i):
            node = a if i % 2 else b
            while not stop.is_set():
                for method, path, kw in (
                        ("GET", "/api/current-user/whoami", {"headers": auth}),
                        ("GET", "/api/users", {"cookies": s.cookies}),
                        ("POST", "/user/signup/", {"data": {
                            "email": "during%d@example.org" % i,
                            "password": "secret-pass-1"}}),
                        ("POST", "/user/login/", {"data": {"email": "outage@example.org",
                                                           "password": "secret-pass-1"}}),
                        ("GET", "/people", {"cookies": s.cookies}),
                        ("GET", "/api/health", {})):
                    try:
                        r = requests.request(method, node.url + path, timeout=20,
                                             allow_redirects=False, **kw)
                    except requests.RequestException as e:
                        conn_errors.append((path, repr(e)))
                        continue
                    seen[(path, r.status_code)] += 1
                    if r.status_code >= 500:
                        if r.status_code != 503 or not r.headers.get("Retry-After", "").isdigit():
                            bad.append((path, r.status_code, r.text[:200]))
                        elif path == "/api/health":
                            if r.json() != {"status": "unavailable"}:
                                bad.append((path, r.status_code, r.text[:200]))
                        elif path.startswith("/api/"):
                            if r.json().get("status_code") != 503:
                                bad.append((path, r.status_code, r.text[:200]))
                        elif "unavailable" not in r.text.lower():
                            bad.append((path, r.status_code, r.text[:200]))
                    elif path != "/api/health" and r.status_code not in (200, 302, 401):
                        bad.append((path, r.status_code, r.text[:200]))

        threads = [threading.Thread(target=probe, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(4)
        stop.set()
        for t in threads:
            t.join()
        down = dict(seen)
        assert not bad, bad[:5]
        assert not conn_errors, conn_errors[:5]
        assert down.get(("/api/current-user/whoami", 503), 0) > 0, down
        assert down.get(("/user/signup/", 503), 0) > 0, down

        cluster.start()
        back = time.monotonic()
        pending = {a.url, b.url}
        while pending:
            assert time.monotonic() - back < 60, "not serving again: %s" % pending
            for url in list(pending):
                r = requests.get(url + "/api/current-user/whoami", headers=auth, timeout=20)
                assert r.status_code in (200, 503), (r.status_code, r.text)
                if r.status_code == 200:
                    pending.discard(url)
            time.sleep(0.05)
        recovered = time.monotonic() - back
        # and everything works again on every child of both nodes
        with cf.ThreadPoolExecutor(16) as ex:
            codes = Counter(ex.map(lambda i: (a if i % 2 else b).signup(
                "after%02d@example.org" % i)[1].status_code, range(40)))
        assert codes == {302: 40}, codes
        with cf.ThreadPoolExecutor(16) as ex:
            codes = Counter(ex.map(lambda i: requests.get(
                (a if i % 2 else b).url + "/api/current-user/whoami", headers=auth,
                timeout=20).status_code, range(200)))
        assert codes == {200: 200}, codes
        assert pg_sql(params, "SELECT count(*) FROM users WHERE email LIKE 'after%'") \
            == [["40"]]
        print("\n885_03: while down: %s; both nodes serving %.2f s after PostgreSQL was back"
              % (", ".join("%s %d: %d" % (p, c, n) for (p, c), n in sorted(down.items())),
                 recovered))
        a.stop()
        b.stop()
        # one line per child when it went away (not one per request), one
        # when it came back
        for n in (a, b):
            went = [l for l in n.log().splitlines() if "SL00101" in l]
            pids = Counter(re.search(r"\[pid (\d+)", l).group(1) for l in went)
            assert went and max(pids.values()) == 1, went[:4]
            assert n.count_log("SL00120") >= 1
    finally:
        cluster.cleanup()


# ---- 4. migrations from several places at once ----

def test_siali_885_04_migrations_at_once_happen_once(pg, httpd_factory):
    """An old database; four `siali migrate` and two nodes at the same
    instant: all succeed, the schema is migrated once."""
    params = pg_fresh(pg)
    spec = "pgsql:" + params
    r = subprocess.run([SIALI, "--db", spec, "migrate", "--target", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    barrier = threading.Barrier(6)
    outs = {}

    def cli(i):
        barrier.wait()
        outs[i] = subprocess.run([SIALI, "--db", spec, "--password-hash", CHEAP_HASH,
                                  "migrate"], capture_output=True, text=True)

    nodes = {}

    def node(i):
        barrier.wait()
        nodes[i] = on_pg(httpd_factory, params)

    threads = [threading.Thread(target=cli, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=node, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(o.returncode == 0 for o in outs.values()), [o.stderr for o in outs.values()]
    assert pg_sql(params, "SELECT version FROM schema_version") == [[str(SCHEMA_VERSION)]]
    said = sum("migrated" in o.stdout + o.stderr and "from schema 1" in o.stdout + o.stderr
               for o in outs.values())
    said += sum(n.log().count("from schema 1 to") for n in nodes.values())
    assert said == 1, ([o.stdout + o.stderr for o in outs.values()],
                       [n.log() for n in nodes.values()])
    for n in nodes.values():
        _, r = n.signup("n%d@example.org" % n.port)
        assert r.status_code == 302
    assert not db_errors(*nodes.values())


def test_siali_885_05_migrate_while_nodes_serve(pg, httpd_factory):
    """`siali migrate` (and create_user, which migrates first) against the
    database running nodes use, under write load: nothing refused, nothing
    lost."""
    params = pg_fresh(pg)
    a = on_pg(httpd_factory, params, start_servers=2)
    b = on_pg(httpd_factory, params, start_servers=2)
    stop = threading.Event()
    acked, failures = [], []

    def writer(i):
        n = 0
        while not stop.is_set():
            email = "w%d-%d@example.org" % (i, n)
            n += 1
            _, r = (a if i % 2 else b).signup(email)
            (acked.append(email) if r.status_code == 302 else failures.append(r.status_code))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    try:
        results = []
        for i in range(6):
            cmd = ["migrate"] if i % 2 else ["create_user", "--username", "cli%d" % i,
                                             "--password", "cli-pass-%d" % i]
            results.append(subprocess.run([SIALI, "--db", "pgsql:" + params,
                                           "--password-hash", CHEAP_HASH] + cmd,
                                          capture_output=True, text=True))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert not failures, Counter(failures)
    stored = {e for e, in pg_sql(params, "SELECT email FROM users")}
    assert set(acked) <= stored and len(acked) > 20
    assert pg_sql(params, "SELECT count(*) FROM users WHERE username LIKE 'cli%'") == [["3"]]
    assert not db_errors(a, b)


# ---- 5. moving a SQLite installation to PostgreSQL ----

def move(src, dst):
    return subprocess.run([SIALI, "--password-hash", CHEAP_HASH, "migrate", "--from", src,
                           "--to", dst], capture_output=True, text=True, timeout=300)


def test_siali_885_06_sqlite_installation_moved_to_postgresql(httpd_factory):
    """`siali migrate --from sqlite3:… --to pgsql:…` copies every table: on
    PostgreSQL the old passwords, tokens, session cookies, pictures, invite
    link and project history work unchanged, and new accounts get new ids."""
    pg = pg_fresh()
    old = httpd_factory().start()
    with cf.ThreadPoolExecutor(12) as ex:
        made = list(ex.map(lambda i: old.signup("moved%02d@example.org" % i), range(40)))
    assert all(r.status_code == 302 for _, r in made)
    s = made[0][0]
    me = s.get(old.url + "/api/current-user/whoami").json()
    token = s.get(old.url + "/api/current-user/token").json()["token"]
    picture = upload(old, s, me["id"], img("PNG", (32, 32)))
    assert picture.status_code == 200
    avatar = picture.json()["avatar"]
    picture_bytes = s.get(old.url + avatar).content
    proj = s.post(old.url + "/api/projects", json={"title": "Moved"}).json()
    r = made[1][0].post(old.url + "/api/projects/%d/import" % proj["id"],
                        json=[{"data": {"i": 1}, "annotations": [{"result": []}]}])
    assert r.status_code == 201
    invite = s.get(old.url + "/api/invite").json()
    before = s.get(old.url + "/api/organizations/1/memberships",
                   params={"page_size": 100, "contributed_to_projects": 1}).json()

    # refused while an httpd writes to it: what it wrote later would be lost
    r = move("sqlite3:" + old.db, "pgsql:" + pg)
    assert r.returncode == 1 and "stop it first" in r.stderr, r.stderr
    old.stop()
    r = move("sqlite3:" + old.db, "pgsql:" + pg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"users\s+40\b", r.stdout), r.stdout
    assert pg_sql(pg, "SELECT count(*) FROM users") == [["40"]]

    new = on_pg(httpd_factory, pg)
    # the same session cookie, token and password, on the new database
    t = session_on(new, s)
    assert t.get(new.url + "/api/current-user/whoami").json()["id"] == me["id"]
    r = requests.get(new.url + "/api/current-user/whoami",
                     headers={"Authorization": "Token " + token})
    assert r.status_code == 200 and r.json()["email"] == "moved00@example.org"
    r = requests.post(new.url + "/user/login/", allow_redirects=False,
                      data={"email": "moved07@example.org", "password": "secret-pass-1"})
    assert r.status_code == 302 and "siali_session" in r.cookies, r.text
    assert t.get(new.url + avatar).content == picture_bytes
    assert t.get(new.url + "/api/invite").json() == invite
    after = t.get(new.url + "/api/organizations/1/memberships",
                  params={"page_size": 100, "contributed_to_projects": 1}).json()
    assert after == before
    # new rows after the copied ones, from many clients at once
    with cf.ThreadPoolExecutor(12) as ex:
        codes = Counter(ex.map(lambda i: new.signup("later%02d@example.org" % i)[1]
                               .status_code, range(30)))
    assert codes == {302: 30}, codes
    ids = [int(x[0]) for x in pg_sql(pg, "SELECT id FROM users WHERE email LIKE 'later%'")]
    assert len(ids) == 30 and min(ids) > max(m["user"]["id"] for m in before["results"])
    p2 = t.post(new.url + "/api/projects", json={"title": "After"}).json()
    assert p2["id"] > proj["id"]

    # never into a database that has accounts
    r = move("sqlite3:" + old.db, "pgsql:" + pg)
    assert r.returncode == 1 and "not empty" in r.stderr, r.stderr
    assert pg_sql(pg, "SELECT count(*) FROM users") == [["70"]]
    # a source that does not exist is not created
    r = move("sqlite3:" + old.db + ".none", "pgsql:" + pg_fresh())
    assert r.returncode == 1 and not os.path.exists(old.db + ".none")
    new.stop()
