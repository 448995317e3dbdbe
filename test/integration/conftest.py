"""Integration harness: a real httpd per test module, the way mod_md and
mod_h2 test themselves. Each server gets its own ServerRoot, a generated
config, a free port on 127.0.0.1, and its error log is checked for crashes
and unexpected errors when it stops."""
import atexit
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

import resource

import pytest
import requests

BUILD = os.environ.get("SIALI_BUILD_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HTTPD = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
SIALI = os.path.join(BUILD, "siali")
CHEAP_HASH = "argon2id m=64 t=1 p=1"
with open(os.path.join(SRC, "mod_siali", "core", "sl_schema.h")) as _f:
    SCHEMA_VERSION = int(re.search(r"#define SL_SCHEMA_VERSION (\d+)", _f.read()).group(1))

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


def eventually(fn, ok, timeout=10):
    """fn() until ok(result) (then that result) or timeout (the last one).
    For a change made straight in the database: on PostgreSQL the nodes'
    caller caches hear of it by notification, within milliseconds but not
    at a fixed instant."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if ok(v) or time.monotonic() > end:
            return v
        time.sleep(0.02)


def count_change(db):
    """After a write straight into an SQLite database, what the siali
    command does after its own: a new change stamp (eight random bytes at
    the start of <db>.lock, read by every httpd child), so the children's
    caller caches forget what they held."""
    try:
        fd = os.open(db + ".lock", os.O_WRONLY)
    except FileNotFoundError:
        return          # no process has opened it: nothing is cached
    try:
        os.pwrite(fd, os.urandom(8), 0)
    finally:
        os.close(fd)


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
                 modules=(), mount="", driver="sqlite"):
        self.root = tempfile.mkdtemp(prefix="siali-it-")
        os.chmod(self.root, 0o755)   # the children (www-data under root) reach it
        self.port = free_port()
        self.url = "http://127.0.0.1:%d%s" % (self.port, mount)
        self.driver = driver
        if driver == "pgsql":
            # DBDParams of a database of its own on the session's cluster,
            # unless the test shares one (db=another server's .db)
            self.db = db or pg_cluster().create()
        else:
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
# a crashed child leaves a core here; bad_log_lines prints its backtrace
CoreDumpDirectory "{self.root}/cores"
TypesConfig /etc/mime.types
DocumentRoot "{self.root}/htdocs"
<Directory />
  Require all denied
</Directory>
<Directory "{self.root}/htdocs">
  Require all granted
</Directory>
Alias {mount}/static/ "{self.root}/htdocs/static/"
DBDriver {"pgsql" if driver == "pgsql" else "sqlite3"}
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
        os.mkdir(os.path.join(self.root, "cores"))
        os.chmod(os.path.join(self.root, "cores"), 0o777)

    def start(self, expect_fail=False, timeout=15):
        self.proc = subprocess.Popen([HTTPD, "-f", self.conf, "-DFOREGROUND"],
                                     env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_allow_cores)
        deadline = time.time() + timeout
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
        raise AssertionError("httpd did not answer in %d s:\n%s" % (timeout, self.log()))

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
        return bad + core_backtraces(os.path.join(self.root, "cores"), HTTPD)

    def stop(self):
        # SIGTERM (apachectl stop) after a tenth of a second of quiet: on an
        # ungraceful stop httpd's event MPM walks the connections its
        # workers hold (close_worker_sockets) while a worker may be just
        # finishing one, and can crash the child (seen in CI as a segfault
        # in apr_os_sock_get from the child's main thread, after the test's
        # last answer had arrived but before its worker was done with the
        # request). A graceful-stop avoids it but costs 1 to 3 s a server.
        if self.proc and self.proc.poll() is None:
            time.sleep(0.1)
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
        """One statement on the server's database ('?' placeholders on both
        drivers): the rows as tuples."""
        if self.driver == "pgsql":
            import psycopg2
            con = psycopg2.connect(self.db)
            try:
                cur = con.cursor()
                cur.execute(query.replace("%", "%%").replace("?", "%s"), args)
                rows = cur.fetchall() if cur.description else []
                con.commit()
                return [tuple(r) for r in rows]
            finally:
                con.close()
        con = sqlite3.connect(self.db, timeout=10)
        try:
            cur = con.execute(query, args)
            rows = cur.fetchall()
            con.commit()
            if con.total_changes:
                count_change(self.db)
            return rows
        finally:
            con.close()

    def sql_many(self, statements):
        """(query, args) pairs in one transaction on the server's database
        ('?' placeholders on both drivers)."""
        if self.driver == "pgsql":
            import psycopg2
            con = psycopg2.connect(self.db)
            try:
                cur = con.cursor()
                for query, args in statements:
                    cur.execute(query.replace("%", "%%").replace("?", "%s"), args)
                con.commit()
            finally:
                con.close()
            return
        con = sqlite3.connect(self.db, timeout=10)
        try:
            for query, args in statements:
                con.execute(query, args)
            con.commit()
            count_change(self.db)
        finally:
            con.close()

    @property
    def db_spec(self):
        return ("pgsql:" if self.driver == "pgsql" else "sqlite3:") + self.db

    def siali(self, *args, input=None, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([SIALI, "--db", self.db_spec,
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


def _allow_cores():
    """A child that crashes in CI once in a few runs is found by its core."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                                  resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def core_backtraces(folder, program):
    """Every thread's backtrace of each core in folder (gdb, when there)."""
    out = []
    for core in sorted(glob.glob(os.path.join(folder, "core*"))):
        if not shutil.which("gdb"):
            out.append("core dumped: %s (no gdb to read it)" % core)
            continue
        # the crashing thread in full first, then every thread's frames
        r = subprocess.run(["gdb", "-batch", "-nx", "-ex", "bt full",
                            "-ex", "thread apply all bt", program, core],
                           capture_output=True, text=True, timeout=120)
        out.append("core %s:\n%s" % (core, r.stdout[:30000]))
    return out


def pytest_generate_tests(metafunc):
    """Every module whose tests start servers runs on both databases, unless
    it says otherwise (DRIVERS = ("sqlite",): it handles PostgreSQL itself,
    or what it tests is SQLite's alone)."""
    if "driver" in metafunc.fixturenames:
        drivers = getattr(metafunc.module, "DRIVERS", ("sqlite", "pgsql"))
        metafunc.parametrize("driver", drivers, scope="module", indirect=True)


@pytest.fixture(scope="module")
def driver(request):
    return getattr(request, "param", "sqlite")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(why): what the test checks exists on "
                            "SQLite alone (files, WAL, SQLite's own locking)")


@pytest.fixture(autouse=True)
def _sqlite_only(request):
    m = request.node.get_closest_marker("sqlite_only")
    if m and "driver" in request.fixturenames and request.getfixturevalue("driver") != "sqlite":
        pytest.skip("SQLite only: " + (m.args[0] if m.args else ""))


@pytest.fixture(scope="module")
def httpd_factory(driver):
    """Starts servers for one test module and checks their logs at the end."""
    servers = []

    def make(**kw):
        kw.setdefault("driver", driver)
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


class PgCluster:
    """A private PostgreSQL cluster: initdb in a temp folder (as postgres
    when we are root), 127.0.0.1, a free port; create() gives a new empty
    database and its DBDParams."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="siali-pg-")
        os.chmod(self.root, 0o755)
        self.port = free_port()
        self.run_as = []
        if os.geteuid() == 0:       # initdb refuses root: the cluster runs as postgres
            shutil.chown(self.root, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.root, "data")
        subprocess.run(self.run_as + [pg_bin("initdb"), "-D", self.data, "-A", "trust",
                                      "-U", "postgres"], check=True, capture_output=True)
        self.start()
        self.n = 0
        self.params = "host=127.0.0.1 port=%d dbname=postgres user=postgres" % self.port

    def start(self):
        subprocess.run(self.run_as + [pg_bin("pg_ctl"), "-D", self.data, "-l",
                                      os.path.join(self.root, "log"), "-w", "-o",
                                      f"-p {self.port} -k {self.root} "
                                      "-c listen_addresses=127.0.0.1 -c max_connections=500",
                                      "start"], check=True, capture_output=True)

    def stop(self, mode="fast"):
        subprocess.run(self.run_as + [pg_bin("pg_ctl"), "-D", self.data, "-m", mode, "stop"],
                       capture_output=True)

    def create(self):
        self.n += 1
        name = "siali_%d_%d" % (os.getpid(), self.n)
        subprocess.run(["psql", self.params, "-qc", "CREATE DATABASE " + name], check=True,
                       capture_output=True)
        # what the reference config recommends (README "Scaling out")
        return ("host=127.0.0.1 port=%d dbname=%s user=postgres connect_timeout=3 "
                "keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3"
                % (self.port, name))

    def cleanup(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


_cluster = []


def pg_cluster():
    """The session's cluster, started on first use, stopped at the end."""
    if not _cluster:
        _cluster.append(PgCluster())
        atexit.register(_cluster[0].cleanup)
    return _cluster[0]


@pytest.fixture(scope="module")
def pg():
    """DBDParams of a new empty database on the session's cluster."""
    return pg_cluster().create()




def pg_fresh(params=None):
    """A new empty database on the session's cluster; its DBDParams."""
    return pg_cluster().create()


def pg_sql(params, query):
    """One query through psql: the rows as lists of text."""
    out = subprocess.run(["psql", params, "-tAF", "\t", "-c", query], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def on_pg(factory, params, **kw):
    kw["driver"] = "pgsql"
    return factory(db=params, **kw).start()


