#!/usr/bin/python3
"""Crash safety of mod_siali on SQLite: no acknowledged write is lost when
httpd processes die with SIGKILL, and the database stays intact.

Not part of the normal test run. From the repository root:

    /usr/bin/python3 test/stress/crash.py [--rounds 20] [--seconds 4] [--threads 8]
                                          [--seed N] [--keep]

One httpd (event MPM, StartServers 2, the harness's cheap argon2id) serves one
SQLite database that lives through every round. Each round:

  1. ~8 threads write: signups with unique emails (POST /user/signup/),
     PATCH /api/users/{id} {"first_name": ...} and
     POST /api/current-user/reset-token, both with the API token of an account
     made before the round. Every thread owns its accounts, so the order of
     the writes to one account is known. A fresh TCP connection is used for
     every request.
  2. Half way through, one random child gets SIGKILL; the load goes on.
  3. At the end, the parent is stopped (SIGSTOP, so it forks nothing more)
     and it and every child get SIGKILL, while requests are in flight.
  4. httpd is started again on the same database (its pid file and the
     -wal/-shm files are still there), PRAGMA integrity_check must say "ok",
     and every acknowledged write must be there:
       - every signup answered 302 exists in users;
       - per account, the stored first_name is the last one answered 200, or
         one sent after it whose answer was lost in a kill;
       - per account, the token that works (whoami with "Authorization:
         Token <t>" answers 200) is the last one answered 201, or - when a
         reset was sent after it and its answer was lost - the one now stored
         (the client never saw it; it must work and the old one must not).

Connection errors and 5xx caused by the kills (from the child kill to one
second after it, and from the final kill on) are expected: counted, not
failures. Errors outside those windows are printed as "unexpected".

Prints one line a round and a total. Exit status: 0 when nothing was lost and
every integrity check said ok, 1 when a write was lost or an integrity check
failed, 2 when the run itself broke (httpd would not start, Ctrl-C, ...).
Every httpd process it started is killed on every way out (also Ctrl-C and
exceptions) and its temporary folder removed (--keep leaves the folder).
"""
import argparse
import ctypes
import itertools
import os
import random
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
os.environ.setdefault("SIALI_BUILD_DIR", REPO)
sys.path.insert(0, os.path.join(REPO, "test", "integration"))
import conftest  # noqa: E402  (the integration harness: class Httpd)
import requests  # noqa: E402

CLOSE = {"Connection": "close"}
TIMEOUT = (3, 10)              # connect, read: the server answers within SialiDatabaseWait
CHILD_WINDOW = 1.0             # seconds after the child kill that errors are expected
EXPECTED_LOG = ("AH00052",)    # "child pid N exit signal Killed (9)": our own SIGKILL


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    """(state, ppid) of a pid, None when it is gone"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def children_of(ppid):
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st[1] == ppid and st[0] not in ("Z", "X"):
                kids.append(int(name))
    return kids


def processes_with_conf(conf):
    """every live process whose command line names this httpd's config"""
    found = []
    needle = conf.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd.split(b"\0") and alive(int(name)):
            found.append(int(name))
    return found


def become_subreaper():
    """children orphaned by the parent's SIGKILL come to us, to be reaped"""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0     # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class CrashHttpd(conftest.Httpd):
    """conftest.Httpd that can be killed with SIGKILL and started again."""

    def parent(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def kill_random_child(self, rng):
        kids = children_of(self.parent() or -1)
        if not kids:
            return None
        pid = rng.choice(kids)
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_all(self):
        """SIGKILL the parent and every child; wait until all are gone."""
        victims = set()
        parent = self.proc.pid if self.proc else None
        if parent and alive(parent):
            try:
                os.kill(parent, signal.SIGSTOP)       # forks no replacement now
            except ProcessLookupError:
                pass
            kids = children_of(parent)
            for pid in kids + [parent]:
                try:
                    os.kill(pid, signal.SIGKILL)
                    victims.add(pid)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 10
        while True:
            # orphans of an earlier parent, or anything that escaped
            left = [p for p in processes_with_conf(self.conf) if alive(p)]
            left += [p for p in victims if alive(p)]
            if not left:
                break
            if time.time() > deadline:
                raise RuntimeError("httpd processes survive SIGKILL: %s" % sorted(set(left)))
            for pid in set(left):
                try:
                    os.kill(pid, signal.SIGKILL)
                    victims.add(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        if self.proc:
            self.proc.wait()
            if self.proc.stdout:
                self.proc.stdout.close()
        for pid in victims:
            reap(pid)
        return len(victims)


# ---------------------------------------------------------------- accounts

class Account:
    """One account, written by one thread only: its writes are ordered."""

    def __init__(self, uid, email, token):
        self.uid = uid
        self.email = email
        self.token = token              # the one the client believes in
        self.name_acked = ""            # signup leaves first_name empty
        self.names_after = []           # sent after name_acked, answer lost
        self.token_acked = token
        self.reset_after = False        # a reset sent after token_acked, answer lost
        self.frozen = False             # its state is unknown until the check


class Round:
    def __init__(self, number):
        self.number = number
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.requests = 0
        self.acked = {"signup": 0, "patch": 0, "reset": 0}
        self.kill_errors = 0            # connection errors / 5xx in a kill window
        self.kill_conn = 0
        self.kill_5xx = 0
        self.unexpected = []            # anything else not 2xx/302
        self.windows = []               # (start, end) of kill windows
        self.signups_acked = []


def in_window(rnd, t):
    return any(a <= t <= (b if b is not None else float("inf")) for a, b in rnd.windows)


def request(h, rnd, method, path, **kw):
    """('ok', response) | ('answer', response) | ('lost', exc) | ('unsent', exc)"""
    headers = dict(CLOSE)
    headers.update(kw.pop("headers", {}))
    try:
        r = requests.request(method, h.url + path, headers=headers, timeout=TIMEOUT,
                             allow_redirects=False, **kw)
    except requests.RequestException as e:
        t = time.time()
        # refused: never reached a server, so nothing can have been written
        unsent = isinstance(e, requests.ConnectionError) and (
            "NewConnectionError" in repr(e) or "Connection refused" in repr(e))
        with rnd.lock:
            rnd.requests += 1
            if in_window(rnd, t):
                rnd.kill_errors += 1
                rnd.kill_conn += 1
            else:
                rnd.unexpected.append("%s %s: %r" % (method, path, e))
        kind = "unsent" if unsent else "lost"
        if isinstance(e, requests.Timeout) and not isinstance(e, requests.ConnectTimeout):
            kind = "timeout"
        return kind, e
    t = time.time()
    with rnd.lock:
        rnd.requests += 1
        if r.status_code in (200, 201, 302):
            return "ok", r
        if r.status_code >= 500 and in_window(rnd, t):
            rnd.kill_errors += 1
            rnd.kill_5xx += 1
        else:
            rnd.unexpected.append("%s %s: %d %s" % (method, path, r.status_code,
                                                      r.text[:120].replace("\n", " ")))
    return "answer", r


def worker(h, rnd, tid, accounts, acked_emails, rng, seq):
    while not rnd.stop.is_set():
        live = [a for a in accounts if not a.frozen]
        op = rng.random()
        n = next(seq)
        if op < 0.4 or not live:
            email = "crash-r%d-t%d-%d@example.org" % (rnd.number, tid, n)
            kind, r = request(h, rnd, "POST", "/user/signup/",
                              data={"email": email, "password": "secret-pass-1"})
            if kind == "ok" and r.status_code == 302:
                with rnd.lock:
                    rnd.acked["signup"] += 1
                    acked_emails.append(email)
            elif kind == "unsent":
                time.sleep(0.01)
            continue
        a = rng.choice(live)
        auth = {"Authorization": "Token " + a.token}
        if op < 0.85:
            name = "r%dt%dn%d" % (rnd.number, tid, n)
            kind, r = request(h, rnd, "PATCH", "/api/users/%d" % a.uid,
                              json={"first_name": name}, headers=auth)
            if kind == "ok":
                a.name_acked, a.names_after = name, []
                with rnd.lock:
                    rnd.acked["patch"] += 1
            elif kind != "unsent":
                # may have been written; its answer is unknown (or an error)
                a.names_after.append(name)
                if kind == "timeout":
                    a.frozen = True      # it may still run: nothing after it
            else:
                time.sleep(0.01)
        else:
            kind, r = request(h, rnd, "POST", "/api/current-user/reset-token", headers=auth)
            if kind == "ok":
                a.token = a.token_acked = r.json()["token"]
                a.reset_after = False
                with rnd.lock:
                    rnd.acked["reset"] += 1
            elif kind != "unsent":
                a.reset_after = True
                a.frozen = True          # which token is valid: only the check knows
            else:
                time.sleep(0.01)


# ---------------------------------------------------------------- checks

def whoami(h, token):
    r = requests.get(h.url + "/api/current-user/whoami", timeout=TIMEOUT,
                     headers=dict(CLOSE, Authorization="Token " + token))
    return r.status_code, (r.json() if r.status_code == 200 else None)


def verify(h, accounts, acked_emails):
    """-> (integrity text, lost writes, unacknowledged writes found applied);
    adopts the stored state"""
    lost = []
    applied = 0
    integrity = h.sql("PRAGMA integrity_check")
    integrity = "; ".join(row[0] for row in integrity)
    stored = {row[0] for row in h.sql("SELECT email FROM users")}
    for e in acked_emails:
        if e not in stored:
            lost.append("signup %s acknowledged, not in users" % e)
    names = dict(h.sql("SELECT id, first_name FROM users"))
    tokens = dict(h.sql("SELECT user_id, token FROM api_tokens"))
    for a in accounts:
        got = names.get(a.uid)
        if got != a.name_acked and got not in a.names_after:
            lost.append("user %d first_name %r, last acknowledged %r, sent after it %r"
                        % (a.uid, got, a.name_acked, a.names_after))
        elif got is not None:
            applied += got != a.name_acked
            a.name_acked, a.names_after = got, []
        status, me = whoami(h, a.token_acked)
        if status == 200 and me["id"] == a.uid:
            if tokens.get(a.uid) != a.token_acked:
                lost.append("user %d: acknowledged token works but is not the stored one"
                            % a.uid)
        elif a.reset_after and tokens.get(a.uid):
            # the reset whose answer was lost did happen: its token must work
            status2, me2 = whoami(h, tokens[a.uid])
            if status2 == 200 and me2["id"] == a.uid:
                a.token_acked = tokens[a.uid]
                applied += 1
            else:
                lost.append("user %d: neither the acknowledged token (%d) nor the stored "
                            "one (%d) works" % (a.uid, status, status2))
        else:
            lost.append("user %d: acknowledged token answers %d and no reset was sent "
                        "after it" % (a.uid, status))
        a.token = a.token_acked
        a.reset_after = False
        a.frozen = False
    return integrity, lost, applied


def new_log_lines(h, offset):
    try:
        with open(h.error_log, errors="replace") as f:
            f.seek(offset)
            text = f.read()
            return text.splitlines(), f.tell()
    except FileNotFoundError:
        return [], offset


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=4.0, help="load per round")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--accounts", type=int, default=2, help="accounts per thread")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    subreaper = become_subreaper()

    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    h = CrashHttpd(mpm="event", start_servers=2)
    status = 2
    log_offset = 0
    totals = {"acked": 0, "lost": 0, "integrity_ok": 0, "kill_errors": 0,
              "unexpected": 0, "requests": 0}
    rounds_done = 0
    try:
        print("crash: seed %d, httpd %s, database %s%s" % (
            seed, conftest.HTTPD, h.db, "" if subreaper else " (not a subreaper)"),
            flush=True)
        h.start()
        accounts = []
        for tid in range(args.threads):
            mine = []
            for k in range(args.accounts):
                email = "crash-owner-%d-%d@example.org" % (tid, k)
                s, r = h.signup(email)
                assert r.status_code == 302, r.text
                token = s.get(h.url + "/api/current-user/token").json()["token"]
                uid = s.get(h.url + "/api/current-user/whoami").json()["id"]
                mine.append(Account(uid, email, token))
            accounts.append(mine)
        everyone = [a for mine in accounts for a in mine]
        acked_emails = []
        seq = itertools.count()
        for number in range(1, args.rounds + 1):
            rnd = Round(number)
            round_emails = []
            threads = [threading.Thread(target=worker, daemon=True,
                                        args=(h, rnd, tid, accounts[tid], round_emails,
                                              random.Random(rng.random()), seq))
                       for tid in range(args.threads)]
            t0 = time.time()
            for t in threads:
                t.start()
            time.sleep(args.seconds / 2)
            with rnd.lock:
                rnd.windows.append((time.time(), time.time() + CHILD_WINDOW))
            child = h.kill_random_child(rng)
            time.sleep(args.seconds / 2)
            with rnd.lock:
                rnd.windows.append((time.time(), None))
            killed = h.kill_all()
            rnd.stop.set()
            for t in threads:
                t.join(timeout=30)
                if t.is_alive():
                    raise RuntimeError("a load thread does not end")
            acked_emails += round_emails
            t1 = time.time()
            h.start()
            restart = time.time() - t1
            integrity, lost, applied = verify(h, everyone, acked_emails)
            lines, log_offset = new_log_lines(h, log_offset)
            takeovers = sum("SL00111" in line for line in lines)
            odd = [line for line in lines if conftest.BAD_LOG.search(line)
                   and not any(x in line for x in EXPECTED_LOG)]
            acked = sum(rnd.acked.values())
            totals["acked"] += acked
            totals["lost"] += len(lost)
            totals["integrity_ok"] += integrity == "ok"
            totals["kill_errors"] += rnd.kill_errors
            totals["unexpected"] += len(rnd.unexpected)
            totals["requests"] += rnd.requests
            rounds_done = number
            print("round %d/%d: %d requests in %.1f s, %d acknowledged writes (signups %d, "
                  "first_name %d, tokens %d), killed child %s then %d processes, "
                  "client errors during kills %d (connection %d, 5xx %d), unexpected %d, "
                  "restart %.2f s, integrity %s, lost %d, unacknowledged but applied %d, "
                  "writer lock taken over from a dead child %d, odd log lines %d"
                  % (number, args.rounds, rnd.requests, time.time() - t0 - restart, acked,
                     rnd.acked["signup"], rnd.acked["patch"], rnd.acked["reset"],
                     child, killed, rnd.kill_errors, rnd.kill_conn, rnd.kill_5xx,
                     len(rnd.unexpected), restart, integrity, len(lost), applied, takeovers,
                     len(odd)),
                  flush=True)
            for x in lost[:20]:
                print("  LOST:", x, flush=True)
            for x in rnd.unexpected[:5]:
                print("  unexpected:", x, flush=True)
            for x in odd[:5]:
                print("  log:", x, flush=True)
        # a clean stop at the end, and the last state once more
        h.stop()
        status = 1 if totals["lost"] or totals["integrity_ok"] != rounds_done else 0
    except KeyboardInterrupt as e:
        print("crash: interrupted (%s)" % (str(e) or "Ctrl-C"), file=sys.stderr, flush=True)
    except Exception as e:        # the run itself broke: say so, clean up, exit 2
        print("crash: %s: %s\n%s" % (type(e).__name__, e, h.log()[-3000:]),
              file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # cleanup is not interrupted
        try:
            h.kill_all()
        finally:
            left = processes_with_conf(h.conf)
            if left:
                print("crash: httpd processes left: %s" % left, file=sys.stderr)
                status = 2
            if args.keep:
                print("crash: kept %s" % h.root)
            else:
                h.cleanup()
    print("TOTAL: rounds %d, requests %d, acknowledged writes %d, lost acknowledged writes "
          "%d, integrity ok %d/%d, client errors during kills %d, unexpected errors %d -> %s"
          % (rounds_done, totals["requests"], totals["acked"], totals["lost"],
             totals["integrity_ok"], rounds_done, totals["kill_errors"],
             totals["unexpected"], {0: "PASS", 1: "FAIL"}.get(status, "BROKEN")),
          flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
