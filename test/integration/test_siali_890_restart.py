"""Graceful restarts under load, and a schema change under running children.

A graceful restart (SIGUSR1) lets the old children finish what they serve
while the parent migrates the schema and starts a new generation on the same
listening sockets: no new connection may be refused or reset, no request may
get a 5xx, and no acknowledged write may be lost. A schema changed from
outside (or by the new generation's migration) leaves the statements the old
children prepared stale: the module prepares them again (SL00115), it does
not answer with a database error (SL00101)."""
import itertools
import os
import re
import signal
import sqlite3
import threading
import time

import requests

# a fresh TCP connection per request: a keep-alive connection that an old
# child closes while exiting is not a server failure; a refused or reset
# NEW connection is
CLOSE = {"Connection": "close"}
TIMEOUT = 15


class Load:
    """Counts requests, 5xx answers and connection errors of many threads."""

    def __init__(self, base):
        self.base = base
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.done = 0
        self.failures = []          # (time, method, path, status, body)
        self.conn_errors = []       # (time, method, path, exception text)
        self.acked_signups = []
        self.acked_at = {}          # email -> when its 302 came
        self.acked_names = {}       # user id -> last first_name answered 200
        self.seq = itertools.count()

    def call(self, method, path, **kw):
        headers = dict(CLOSE)
        headers.update(kw.pop("headers", {}))
        try:
            r = requests.request(method, self.base + path, headers=headers,
                                 allow_redirects=False, timeout=TIMEOUT, **kw)
        except requests.RequestException as e:
            with self.lock:
                self.done += 1
                self.conn_errors.append((time.time(), method, path, repr(e)))
            return None
        with self.lock:
            self.done += 1
            if r.status_code >= 500:
                self.failures.append((time.time(), method, path, r.status_code, r.text[:200]))
        return r

    def reader(self, token):
        auth = {"Authorization": "Token " + token}
        while not self.stop.is_set():
            r = self.call("GET", "/api/current-user/whoami", headers=auth)
            if r is not None and r.status_code not in (200, 500, 502, 503, 504):
                with self.lock:
                    self.failures.append((time.time(), "GET", "whoami", r.status_code,
                                          r.text[:200]))
            self.call("GET", "/api/health")

    def writer(self, tag, token, uid):
        auth = {"Authorization": "Token " + token}
        while not self.stop.is_set():
            n = next(self.seq)
            email = "load-%s-%d@example.org" % (tag, n)
            r = self.call("POST", "/user/signup/",
                          data={"email": email, "password": "secret-pass-1"})
            if r is not None and r.status_code == 302:
                with self.lock:
                    self.acked_signups.append(email)
                    self.acked_at[email] = time.time()
            name = "n%d" % n
            r = self.call("PATCH", "/api/users/%d" % uid, json={"first_name": name},
                          headers=auth)
            if r is not None and r.status_code == 200:
                with self.lock:
                    self.acked_names[uid] = name


def account(h, email):
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    uid = s.get(h.url + "/api/current-user/whoami").json()["id"]
    return token, uid


def generations(h):
    return h.count_log("resuming normal operations")


def children_of(ppid):
    kids = []
    for name in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
        except (OSError, ValueError):
            continue
        rest = st[st.rindex(")") + 2:].split()
        if int(rest[1]) == ppid and rest[0] != "Z":
            kids.append(int(name))
    return kids


def deleted_db_files(h):
    """children that still have a -wal/-shm file open that was unlinked: they
    write into a file nobody will read again"""
    found = {}
    for pid in children_of(h.proc.pid):
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith(h.db) and target.endswith("(deleted)"):
                found.setdefault(pid, set()).add(os.path.basename(target))
    return found


def integrity_ok(h, driver):
    """SQLite's own check of the file; PostgreSQL keeps its own files whole,
    what can go wrong there is ours: every membership names a user"""
    if driver == "sqlite":
        return h.sql("PRAGMA integrity_check") == [("ok",)]
    return h.sql("SELECT count(*) FROM memberships m LEFT JOIN users u "
                 "ON u.id = m.user_id WHERE u.id IS NULL") == [(0,)]


def test_siali_890_01_graceful_restarts_under_load(httpd_factory, driver):
    h = httpd_factory(start_servers=2).start()
    accounts = [account(h, "restart%d@example.org" % i) for i in range(4)]
    load = Load(h.url)
    threads = [threading.Thread(target=load.reader, args=(accounts[0][0],)),
               threading.Thread(target=load.reader, args=(accounts[0][0],)),
               threading.Thread(target=load.reader, args=(accounts[0][0],))]
    threads += [threading.Thread(target=load.writer, args=(i, accounts[i + 1][0],
                                                           accounts[i + 1][1]))
                for i in range(3)]
    for t in threads:
        t.start()
    restarts, slow, sent_at, stale_children = 0, [], [], {}
    started = time.time()
    try:
        time.sleep(0.5)
        for i in range(30):
            before = generations(h)
            t0 = time.time()
            os.kill(h.proc.pid, signal.SIGUSR1)
            sent_at.append(t0)
            deadline = t0 + 15
            while generations(h) <= before:
                assert time.time() < deadline, "restart %d: no new generation:\n%s" % (
                    i, h.log()[-3000:])
                for pid, files in deleted_db_files(h).items():
                    stale_children.setdefault(pid, set()).update(files)
                time.sleep(0.01)
            while requests.get(h.url + "/api/health", headers=CLOSE,
                               timeout=TIMEOUT).status_code != 200:
                assert time.time() < deadline, "restart %d: not healthy" % i
                time.sleep(0.02)
            restarts += 1
            slow.append(time.time() - t0)
            for pid, files in deleted_db_files(h).items():
                stale_children.setdefault(pid, set()).update(files)
            time.sleep(0.5 + (i % 6) * 0.1)    # 0.5 .. 1.0 s
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=TIMEOUT + 5)
    elapsed = time.time() - started
    stored = {row[0] for row in h.sql("SELECT email FROM users")}
    missing = [e for e in load.acked_signups if e not in stored]
    # how long after the SIGUSR1 before it each lost signup was acknowledged
    after = sorted(round(1000 * (load.acked_at[e] - max([t for t in sent_at
                                                          if t <= load.acked_at[e]],
                                                         default=started)))
                   for e in missing)
    names = dict(h.sql("SELECT id, first_name FROM users"))
    wrong_names = {uid: (v, names.get(uid)) for uid, v in load.acked_names.items()
                   if names.get(uid) != v}
    print("\n890_01: %d requests in %.1f s, %d graceful restarts (new generation answering "
          "after %.3f s at most), %d failed requests (5xx), %d connection errors, "
          "%d acknowledged signups (%d missing), %d users patched"
          % (load.done, elapsed, restarts, max(slow), len(load.failures),
             len(load.conn_errors), len(load.acked_signups), len(missing),
             len(load.acked_names)))
    if missing:
        print("  lost signups acknowledged this many ms after a SIGUSR1:", after)
    if stale_children:
        files = sorted({f for v in stale_children.values() for f in v})
        print("  children seen (sampled while restarting) with an unlinked database file "
              "open: %d (%s)" % (len(stale_children), ", ".join(files)))
    for f in load.failures[:10]:
        print("  5xx:", f)
    for e in load.conn_errors[:10]:
        print("  connection error:", e)
    assert restarts == 30
    assert load.done > 300, "too little load to mean anything"
    assert integrity_ok(h, driver)
    assert not missing, (
        "%d acknowledged signups lost, acknowledged %s ms after a SIGUSR1; %d children "
        "were seen with an unlinked -wal/-shm open" % (len(missing), after,
                                                       len(stale_children)))
    assert not wrong_names, wrong_names
    assert not load.failures, load.failures[:10]
    assert not load.conn_errors, load.conn_errors[:10]


def test_siali_890_02_schema_change_under_running_children(httpd_factory, driver):
    """SQLite expires every prepared statement of every pooled connection at
    a schema change (each is prepared again where it fails: SL00115);
    PostgreSQL plans them again by itself. Either way nothing fails."""
    h = httpd_factory(start_servers=3).start()

    def change(sql):
        if driver == "pgsql":
            h.sql(sql)
            return
        con = sqlite3.connect(h.db, timeout=10)
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()
    accounts = [account(h, "schema%d@example.org" % i) for i in range(6)]
    load = Load(h.url)

    def burst(tag, rounds):
        """one signup, one whoami and one PATCH a round from each of 6 threads"""
        def work(i):
            token, uid = accounts[i]
            auth = {"Authorization": "Token " + token}
            for n in range(rounds):
                r = load.call("POST", "/user/signup/",
                              data={"email": "%s-%d-%d@example.org" % (tag, i, n),
                                    "password": "secret-pass-1"})
                assert r is not None and r.status_code == 302, r and r.text
                r = load.call("GET", "/api/current-user/whoami", headers=auth)
                assert r is not None and r.status_code == 200, r and r.text
                r = load.call("PATCH", "/api/users/%d" % uid,
                              json={"first_name": "%s%d" % (tag, n)}, headers=auth)
                assert r is not None and r.status_code == 200, r and r.text
        errors = []

        def run(i):
            try:
                work(i)
            except AssertionError as e:
                errors.append(e)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return errors

    # every child has its pooled connection(s) with prepared statements
    assert not burst("warm", 5)
    children = set(re.findall(r"\[pid (\d+):tid \d+\] \[client", h.log()))
    assert h.count_log("SL00115") == 0

    change("CREATE INDEX IF NOT EXISTS test_extra_idx ON users (first_name)")
    if driver == "pgsql":
        change("ALTER TABLE users ADD COLUMN test_extra TEXT")
    errors = burst("after", 4)        # 6 threads x 4 x 3 = 72 requests
    stale_after_create = h.count_log("SL00115")

    # and back: a second change staled the statements prepared again
    change("DROP INDEX test_extra_idx")
    if driver == "pgsql":
        change("ALTER TABLE users DROP COLUMN test_extra")
    errors += burst("dropped", 2)
    log = h.log()
    stale_pids = set(re.findall(r"\[pid (\d+):tid \d+\][^\n]*SL00115", log))
    print("\n890_02: %d requests, %d 5xx, %d connection errors; children that served the "
          "warm-up: %d; SL00115 after CREATE INDEX: %d, after DROP INDEX: %d, in %d children"
          % (load.done, len(load.failures), len(load.conn_errors), len(children),
             stale_after_create, h.count_log("SL00115") - stale_after_create,
             len(stale_pids)))
    assert not errors, errors[:5]
    assert not load.failures and not load.conn_errors
    assert not [line for line in log.splitlines() if "SL00101" in line]
    if driver == "sqlite":
        assert stale_after_create >= 1
        assert h.count_log("SL00115") > stale_after_create
    assert integrity_ok(h, driver)
