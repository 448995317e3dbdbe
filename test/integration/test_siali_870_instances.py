"""`siali start` instances: each keeps its generated files apart (derived
from the database and the address), two run side by side as root and as a
normal user, and a start that does not end up serving exits non-zero and
says why."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import CHEAP_HASH, SIALI, child_env, free_port


class Instance:
    def __init__(self, state, db, port, user=None):
        self.state, self.db, self.port = state, db, port
        self.url = "http://127.0.0.1:%d" % port
        prefix = ["runuser", "-u", user, "--"] if user else []
        self.argv = prefix + [SIALI, "--state-dir", state, "--db", "sqlite3:" + db,
                              "--password-hash", CHEAP_HASH, "start", "--port", str(port),
                              "-C", "SialiPasswordHash " + CHEAP_HASH]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=child_env())
        deadline = time.time() + 20
        while time.time() < deadline:
            assert self.proc.poll() is None, self.proc.stdout.read().decode(errors="replace")
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("instance on %d did not answer" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out = self.proc.communicate(timeout=20)[0].decode(errors="replace") if self.proc else ""
        return out


def run_once(argv, timeout=30):
    """A start that must not serve: it ends by itself, non-zero."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env=child_env())


def side_by_side(state, user=None):
    a = Instance(state, os.path.join(state, "a", "a.db"), free_port(), user)
    b = Instance(state, os.path.join(state, "b", "b.db"), free_port(), user)
    try:
        a.start()
        b.start()
        requests.post(a.url + "/user/signup/", data={"email": "only-a@example.org",
                      "password": "secret-pass-1"}, allow_redirects=False)
        # as root the generated files live in /run/siali (root's), else
        # under the state folder: one folder each
        where = "/run/siali" if os.geteuid() == 0 and not user else state
        confs = [os.path.join(root, f) for root, _, files in os.walk(where)
                 for f in files if f == "httpd.conf"
                 and (str(a.port) in root or str(b.port) in root)]
        assert len(confs) == 2, confs
        for inst in (a, b):
            assert requests.get(inst.url + "/api/health").status_code == 200
        r = requests.post(b.url + "/user/login/", data={"email": "only-a@example.org",
                          "password": "secret-pass-1"}, allow_redirects=False)
        assert r.status_code == 400      # b has its own database
        # the same instance again: refused with the reason, while a serves on
        again = run_once(a.argv)
        assert again.returncode != 0
        assert "already runs" in again.stderr, again.stderr
        # another database on a's port: refused too
        other = run_once(a.argv[:a.argv.index("--db") + 1]
                         + ["sqlite3:" + os.path.join(state, "c.db")]
                         + a.argv[a.argv.index("--db") + 2:])
        assert other.returncode != 0 and "in use" in other.stderr, other.stderr
        assert requests.get(a.url + "/api/health").status_code == 200
    finally:
        outs = [a.stop(), b.stop()]
    for out in outs:
        assert "[siali:error]" not in out and "crit]" not in out, out


def test_siali_870_01_two_instances_side_by_side():
    state = tempfile.mkdtemp(prefix="siali-inst-")
    os.chmod(state, 0o755)
    try:
        side_by_side(state)
    finally:
        shutil.rmtree(state, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, a normal user is at hand: "
                    "otherwise 870_01 already runs as one")
def reachable_by_others(path):
    """The folders above path that others cannot traverse (a clone in a
    `mktemp -d` folder is 0700), opened to traversal only; returns what to
    restore."""
    changed = []
    d = os.path.dirname(os.path.abspath(path))
    while d != "/":
        mode = os.stat(d).st_mode & 0o7777
        if not mode & 0o001:
            os.chmod(d, mode | 0o001)
            changed.append((d, mode))
        d = os.path.dirname(d)
    return changed


def test_siali_870_02_two_instances_as_a_normal_user():
    state = tempfile.mkdtemp(prefix="siali-inst-user-")
    shutil.chown(state, "nobody", "nogroup")
    changed = reachable_by_others(SIALI)
    try:
        side_by_side(state, user="nobody")
    finally:
        for d, mode in changed:
            os.chmod(d, mode)
        shutil.rmtree(state, ignore_errors=True)


def test_siali_870_03_a_start_that_cannot_serve_fails():
    state = tempfile.mkdtemp(prefix="siali-inst-bad-")
    os.chmod(state, 0o755)
    taken = free_port()
    import socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", taken))
    s.listen(1)
    try:
        r = run_once([SIALI, "--state-dir", state, "--password-hash", CHEAP_HASH, "start",
                      "--port", str(taken)])
        assert r.returncode != 0 and "in use" in r.stderr, r.stderr
        r = run_once([SIALI, "--state-dir", state, "--db", "sqlite3:/proc/no/such.db",
                      "start", "--port", str(free_port())])
        assert r.returncode != 0 and r.stderr.strip(), r.stderr
    finally:
        s.close()
        shutil.rmtree(state, ignore_errors=True)
