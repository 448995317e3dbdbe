"""PostgreSQL under a single client and under load, on one node and two:
each signup finishes promptly and its session works on the very next
request; parallel signups all land; two `siali start` nodes started at the
same instant with the same start-up account both come up."""
import concurrent.futures as cf
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter

import requests

from conftest import CHEAP_HASH, SIALI, child_env, free_port, on_pg, pg_fresh, pg_sql

DB_ERRORS = ("SL00101", "SL00113", "SL10011", "no transaction")


def db_errors(*nodes):
    return [line for h in nodes for line in h.log().splitlines()
            if any(e in line for e in DB_ERRORS)]


def test_siali_880_01_sequential_signups_one_node(pg, httpd_factory):
    a = on_pg(httpd_factory, pg_fresh(pg))
    worst = 0
    for i in range(60):
        t = time.monotonic()
        s, r = a.signup("seq%02d@example.org" % i)
        worst = max(worst, time.monotonic() - t)
        assert r.status_code == 302, r.text
        # the session a 302 signup made works on the very next request
        assert s.get(a.url + "/api/current-user/whoami", timeout=10).status_code == 200
    assert not db_errors(a)
    a.stop()
    print("60 sequential signups on PostgreSQL: worst %.3f s" % worst)


def test_siali_880_02_sequential_signups_across_nodes(pg, httpd_factory):
    params = pg_fresh(pg)
    a = on_pg(httpd_factory, params)
    b = on_pg(httpd_factory, params)
    for i in range(30):
        here, there = (a, b) if i % 2 else (b, a)
        s, r = here.signup("x%02d@example.org" % i)
        assert r.status_code == 302
        r = requests.get(there.url + "/api/current-user/whoami", timeout=10,
                         cookies={"siali_session": s.cookies["siali_session"]})
        assert r.status_code == 200 and r.json()["email"] == "x%02d@example.org" % i
    assert not db_errors(a, b)
    a.stop()
    b.stop()


def test_siali_880_03_parallel_signups_two_nodes(pg, httpd_factory):
    params = pg_fresh(pg)
    a = on_pg(httpd_factory, params, start_servers=3)
    b = on_pg(httpd_factory, params, start_servers=3)

    def one(i):
        node = a if i % 2 else b
        return node.signup("pp%03d@example.org" % i)[1].status_code

    with cf.ThreadPoolExecutor(40) as ex:
        codes = Counter(ex.map(one, range(200)))
    assert codes == {302: 200}, codes
    assert pg_sql(params, "SELECT count(*), count(DISTINCT username) FROM users") \
        == [["200", "200"]]
    assert pg_sql(params, "SELECT members_count, active_count FROM organization") \
        == [["200", "200"]]
    # identical inputs on both nodes: one account, the rest told it exists
    with cf.ThreadPoolExecutor(20) as ex:
        same = Counter(ex.map(lambda i: (a if i % 2 else b).signup("twin@example.org")[1]
                              .status_code, range(20)))
    assert same == {302: 1, 400: 19}, same
    assert not db_errors(a, b)
    a.stop()
    b.stop()


def start_node(params, port, state):
    return subprocess.Popen(
        [SIALI, "--state-dir", state, "--db", "pgsql:" + params, "--password-hash", CHEAP_HASH,
         "start", "--username", "boss@example.org", "--password", "boss-pass-1",
         "--user-token", "boss-token-1", "--port", str(port),
         "-C", "SialiPasswordHash " + CHEAP_HASH],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env())


def test_siali_880_04_two_nodes_start_at_once_same_account(pg):
    params = pg_fresh(pg)
    state = tempfile.mkdtemp(prefix="siali-nodes-")
    os.chmod(state, 0o755)
    ports = [free_port(), free_port()]
    procs = [start_node(params, port, state) for port in ports]
    try:
        for port, proc in zip(ports, procs):
            deadline = time.time() + 20
            while time.time() < deadline:
                assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
                try:
                    if requests.get("http://127.0.0.1:%d/api/health" % port,
                                    timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            r = requests.get("http://127.0.0.1:%d/api/current-user/whoami" % port,
                             headers={"Authorization": "Token boss-token-1"})
            assert r.status_code == 200 and r.json()["email"] == "boss@example.org"
        assert pg_sql(params, "SELECT count(*) FROM users") == [["1"]]
        assert pg_sql(params, "SELECT version FROM schema_version") == [["3"]]
    finally:
        outs = []
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            outs.append(proc.communicate(timeout=20)[0].decode(errors="replace"))
        shutil.rmtree(state, ignore_errors=True)
    for out in outs:
        assert "[siali:error]" not in out and "crit]" not in out, out


def test_siali_880_05_two_httpd_start_at_once_with_directives(pg, httpd_factory):
    """The module's own start-up account (SialiUsername...) on two nodes that
    start at the same moment: both come up, the account exists once."""
    params = pg_fresh(pg)
    nodes = []
    for _ in range(2):
        h = httpd_factory(directives="SialiUsername ops@example.org\n"
                                     "SialiPassword ops-pass-123\nSialiUserToken ops-token-1")
        with open(h.conf) as f:
            conf = f.read()
        with open(h.conf, "w") as f:
            f.write(conf.replace("DBDriver sqlite3", "DBDriver pgsql")
                        .replace('DBDParams "%s"' % h.db, 'DBDParams "%s"' % params))
        nodes.append(h)
    with cf.ThreadPoolExecutor(2) as ex:
        list(ex.map(lambda h: h.start(), nodes))
    for h in nodes:
        r = requests.get(h.url + "/api/current-user/whoami",
                         headers={"Authorization": "Token ops-token-1"})
        assert r.status_code == 200 and r.json()["email"] == "ops@example.org"
    assert pg_sql(params, "SELECT count(*) FROM users") == [["1"]]
    for h in nodes:
        h.stop()


def test_siali_880_06_mixed_writes_two_nodes(pg, httpd_factory):
    """Signups, profile edits, token resets and logins from 12 threads over
    two nodes: no 5xx, every acknowledged write there."""
    import threading
    params = pg_fresh(pg)
    a = on_pg(httpd_factory, params, start_servers=2)
    b = on_pg(httpd_factory, params, start_servers=2)
    users = []
    for i in range(12):
        node = (a, b)[i % 2]
        s, r = node.signup("mx%02d@example.org" % i)
        me = s.get(node.url + "/api/current-user/whoami").json()
        users.append({"id": me["id"], "email": me["email"], "node": node,
                      "token": s.get(node.url + "/api/current-user/token").json()["token"]})
    failures, created, latencies = [], [], []
    lock = threading.Lock()
    stop = time.monotonic() + 20

    def worker(n):
        u, i = users[n], 0
        while time.monotonic() < stop:
            i += 1
            node = (a, b)[i % 2]
            auth = {"Authorization": "Token " + u["token"]}
            t = time.monotonic()
            if i % 4 == 0:
                email = "p%02d-%05d@example.org" % (n, i)
                r = requests.post(node.url + "/user/signup/", allow_redirects=False, timeout=30,
                                  data={"email": email, "password": "secret-pass-1"})
                ok = r.status_code == 302
                if ok:
                    with lock:
                        created.append(email)
            elif i % 4 == 1:
                r = requests.patch(node.url + "/api/users/%d" % u["id"], headers=auth,
                                   json={"first_name": "N%d" % i}, timeout=30)
                ok = r.status_code == 200
                if ok:
                    u["first_name"] = "N%d" % i
            elif i % 4 == 2:
                r = requests.post(node.url + "/api/current-user/reset-token", headers=auth,
                                  timeout=30)
                ok = r.status_code == 201
                if ok:
                    u["token"] = r.json()["token"]
            else:
                r = requests.post(node.url + "/user/login/", allow_redirects=False, timeout=30,
                                  data={"email": u["email"], "password": "secret-pass-1"})
                ok = r.status_code == 302
            with lock:
                latencies.append(time.monotonic() - t)
                if not ok:
                    failures.append((i % 4, r.status_code, r.text[:200]))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:5]
    stored = {row[0] for row in pg_sql(params, "SELECT email FROM users")}
    assert set(created) <= stored
    for u in users:
        if "first_name" in u:
            assert pg_sql(params, "SELECT first_name FROM users WHERE id = %d" % u["id"]) \
                == [[u["first_name"]]]
        assert requests.get(a.url + "/api/current-user/whoami",
                            headers={"Authorization": "Token " + u["token"]}).status_code == 200
    assert not db_errors(a, b), db_errors(a, b)[:5]
    a.stop()
    b.stop()
    latencies.sort()
    print("PostgreSQL mixed writes, two nodes: %d in 20 s, p99 %.3f s, worst %.3f s"
          % (len(latencies), latencies[int(0.99 * len(latencies))], latencies[-1]))
