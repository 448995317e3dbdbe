"""Integration harness: a real httpd per test module, the way mod_md and
mod_h2 test themselves. Each server gets its own ServerRoot, a generated
config, a free port on 127.0.0.1, and its error log is checked for crashes
and unexpected errors when it stops."""
import glob
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import warnings

import pytest
import requests

BUILD = os.environ.get("SIALI_BUILD_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HTTPD = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
SIALI = os.path.join(BUILD, "siali")
CHEAP_HASH = "argon2id m=64 t=1 p=1"

# lines in an error log that fail the test that produced them
BAD_LOG = re.compile(r"\[(?:[a-z_]+:)?(?:error|crit|alert|emerg)\]|AH00052|Segmentation|"
                     r"exit signal|AH00051|double free|assert")


def child_env(extra=None):
    """The environment for a program that starts httpd itself (siali start):
    under make check-asan the sanitizer runtime must come first there too."""
    e = dict(os.environ)
    if os.environ.get("SIALI_SANITIZER_PRELOAD"):
        e["LD_PRELOAD"] = os.environ["SIALI_SANITIZER_PRELOAD"]
    e.update(extra or {})
    return e


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Httpd:
    """One httpd with mod_siali. `directives` go into the main server."""

    def __init__(self, directives="", env=None, mpm="event", start_servers=2,
                 hash_cost=CHEAP_HASH, db=None, waive=(), loglevel="siali:info",
                 modules=(), mount=""):
        self.root = tempfile.mkdtemp(prefix="siali-it-")
        os.chmod(self.root, 0o755)   # the children (www-data under root) reach it
        self.port = free_port()
        self.url = "http://127.0.0.1:%d%s" % (self.port, mount)
        self.db = db or os.path.join(self.root, "state", "siali.db")
        self.error_log = os.path.join(self.root, "error.log")
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("LABEL_STUDIO_"):
                del self.env[k]
        self.env.update(env or {})
        # make check-asan: the sanitizer runtime first in an httpd that is
        # not instrumented itself
        if os.environ.get("SIALI_SANITIZER_PRELOAD"):
            self.env["LD_PRELOAD"] = os.environ["SIALI_SANITIZER_PRELOAD"]
        self.waive = list(waive)
        self.proc = None
        self.expected_failure = False
        shutil.copytree(os.path.join(SRC, "htdocs"), os.path.join(self.root, "htdocs"))
        root_user = os.geteuid() == 0
        extra_modules = "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, MODULES, m)
                                for m in modules)
        conf = f"""
ServerRoot "{self.root}"
DefaultRuntimeDir "{self.root}"
PidFile "{self.root}/httpd.pid"
Mutex file:{self.root} default
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1:{self.port}
ErrorLog "{self.error_log}"
LogLevel warn {loglevel}
LoadModule mpm_{mpm}_module {MODULES}/mod_mpm_{mpm}.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule alias_module {MODULES}/mod_alias.so
LoadModule dbd_module {MODULES}/mod_dbd.so
LoadModule reqtimeout_module {MODULES}/mod_reqtimeout.so
RequestReadTimeout handshake=5 header=20-40,MinRate=500 body=20,MinRate=500
TraceEnable off
{extra_modules}LoadModule siali_module "{BUILD}/.libs/mod_siali.so"
{"User www-data" if root_user else ""}
{"Group www-data" if root_user else ""}
StartServers {start_servers}
TypesConfig /etc/mime.types
DocumentRoot "{self.root}/htdocs"
<Directory />
  Require all denied
</Directory>
<Directory "{self.root}/htdocs">
  Require all granted
</Directory>
Alias {mount}/static/ "{self.root}/htdocs/static/"
DBDriver sqlite3
DBDParams "{self.db}"
SialiPasswordHash {hash_cost}
# every test signs up and guesses from 127.0.0.1: budgets out of the way,
# except where a test sets them
SialiSignupThrottle 1000000 60
SialiAuthThrottle 1000000 60
<Location {mount or "/"}>
  SetHandler siali
</Location>
<Location {mount}/static/>
  SetHandler none
</Location>
{directives}
"""
        self.conf = os.path.join(self.root, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self, expect_fail=False):
        self.proc = subprocess.Popen([HTTPD, "-f", self.conf, "-DFOREGROUND"],
                                     env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                if expect_fail:
                    # its errors were the point: the test reads them itself
                    self.expected_failure = True
                    return out + self.log()
                raise AssertionError("httpd exited at start:\n%s\n%s" % (out, self.log()))
            try:
                # verify=False: TLS tests serve a throw-away certificate
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    requests.get(self.url + "/api/health", timeout=1, verify=False)
                if expect_fail:
                    raise AssertionError("httpd started although it should not have")
                return self
            except (requests.ConnectionError, requests.Timeout):
                # listening already while post_config hashes (a costly
                # SialiPasswordHash makes that last)
                time.sleep(0.05)
        raise AssertionError("httpd did not answer in 15 s:\n" + self.log())

    def log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def bad_log_lines(self):
        bad = []
        if self.expected_failure:
            return bad
        for line in self.log().splitlines():
            if BAD_LOG.search(line) and not any(w in line for w in self.waive):
                bad.append(line)
        return bad

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    # helpers
    def sql(self, query, *args):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            cur = con.execute(query, args)
            rows = cur.fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def siali(self, *args, input=None, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([SIALI, "--db", "sqlite3:" + self.db,
                               "--password-hash", CHEAP_HASH] + list(args),
                              input=input, capture_output=True, text=True, env=e,
                              timeout=60)

    def count_log(self, tag):
        return sum(1 for line in self.log().splitlines() if tag in line)

    def signup(self, email, password="secret-pass-1", session=None, **extra):
        s = session or requests.Session()
        data = {"email": email, "password": password}
        data.update(extra)
        r = s.post(self.url + "/user/signup/", data=data, allow_redirects=False)
        return s, r


@pytest.fixture(scope="module")
def httpd_factory():
    """Starts servers for one test module and checks their logs at the end."""
    servers = []

    def make(**kw):
        h = Httpd(**kw)
        servers.append(h)
        return h

    yield make
    problems = []
    for h in servers:
        h.stop()
    for h in servers:
        problems += h.bad_log_lines()
        h.cleanup()
    assert not problems, "unexpected errors in the error log:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def httpd(httpd_factory):
    return httpd_factory().start()


# ---- PostgreSQL: a throw-away cluster on 127.0.0.1 ----

def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    assert found, "PostgreSQL is not installed (build.sh installs it)"
    return found[-1]


@pytest.fixture(scope="module")
def pg():
    """A private PostgreSQL cluster (initdb in a temp folder, 127.0.0.1, a free
    port) with an empty database "siali"; DBDParams text to reach it."""
    root = tempfile.mkdtemp(prefix="siali-pg-")
    os.chmod(root, 0o755)
    port = free_port()
    run_as = []
    if os.geteuid() == 0:       # initdb refuses root: the cluster runs as postgres
        shutil.chown(root, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    subprocess.run(run_as + [pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run(run_as + [pg_bin("pg_ctl"), "-D", data, "-l", os.path.join(root, "log"), "-w",
                             "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 "
                             "-c max_connections=500", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qc",
                        "CREATE DATABASE siali"], check=True, capture_output=True)
        yield f"host=127.0.0.1 port={port} dbname=siali user=postgres"
    finally:
        subprocess.run(run_as + [pg_bin("pg_ctl"), "-D", data, "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_pg_dbs = [0]


def pg_fresh(params):
    """A new empty database on the cluster of params; its DBDParams."""
    _pg_dbs[0] += 1
    name = "siali_%d_%d" % (os.getpid(), _pg_dbs[0])
    subprocess.run(["psql", params, "-qc", "CREATE DATABASE " + name], check=True,
                   capture_output=True)
    return params.replace("dbname=siali", "dbname=" + name)


def pg_sql(params, query):
    """One query through psql: the rows as lists of text."""
    out = subprocess.run(["psql", params, "-tAF", "\t", "-c", query], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def on_pg(factory, params, **kw):
    h = factory(**kw)
    with open(h.conf) as f:
        conf = f.read()
    conf = conf.replace("DBDriver sqlite3", "DBDriver pgsql")
    conf = conf.replace(f'DBDParams "{h.db}"', f'DBDParams "{params}"')
    with open(h.conf, "w") as f:
        f.write(conf)
    return h.start()


