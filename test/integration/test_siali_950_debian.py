"""The Debian package (debian/, make deb): built, installed into this machine
with apt, enabled with a2enmod on Debian's own apache2 (its default site moved
to a spare 127.0.0.1 port, plus one extra virtual host), probed with a real
signup and login, upgraded over an older schema, disabled, purged; and
/etc/apache2 and the service left as they were. Runs as root on a machine
with dpkg and apt and without the package or /var/lib/siali already (it
would not touch a real installation); says why when it skips. Its log goes to
out/deb-install-test.log."""
import filecmp
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import SRC, free_port

PKG = "libapache2-mod-siali"
STATE = "/var/lib/siali"
LOG = os.path.join(SRC, "out", "deb-install-test.log")
ERROR_LOG = "/var/log/apache2/error.log"


def why_not():
    if os.geteuid() != 0:
        return "needs root (it installs a package)"
    for tool in ("dpkg", "apt-get", "dpkg-buildpackage", "apache2ctl", "a2enmod"):
        if not shutil.which(tool):
            return "no %s on this machine" % tool
    if subprocess.run(["dpkg", "-s", PKG], capture_output=True).returncode == 0:
        return "%s is installed here already: a real installation is left alone" % PKG
    if os.path.exists(STATE):
        return "%s exists: a real installation's data is left alone" % STATE
    if subprocess.run(["pgrep", "-x", "apache2"], capture_output=True).returncode == 0 \
            and not os.path.exists("/run/apache2/apache2.pid"):
        return "an apache2 runs that apache2ctl does not manage"
    return None


class Log:
    def __init__(self):
        os.makedirs(os.path.dirname(LOG), exist_ok=True)
        self.f = open(LOG, "w")

    def run(self, *cmd, check=True, env=None):
        e = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        e.update(env or {})
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=900)
        self.f.write("$ %s\n%s%s(exit %d)\n" % (" ".join(cmd), r.stdout, r.stderr, r.returncode))
        self.f.flush()
        if check:
            assert r.returncode == 0, "%s: %s%s" % (" ".join(cmd), r.stdout[-3000:],
                                                    r.stderr[-3000:])
        return r

    def say(self, text):
        self.f.write("# %s\n" % text)
        self.f.flush()


def wait_up(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            return requests.get(url, timeout=2, allow_redirects=False)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError("nothing answers at " + url)


def new_log_lines(offset):
    try:
        with open(ERROR_LOG, errors="replace") as f:
            f.seek(offset)
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def log_size():
    try:
        return os.path.getsize(ERROR_LOG)
    except FileNotFoundError:
        return 0


@pytest.fixture(scope="module")
def machine():
    reason = why_not()
    if reason:
        pytest.skip("Debian package test skipped: " + reason)
    log = Log()
    saved = tempfile.mkdtemp(prefix="siali-etc-apache2-")
    shutil.copytree("/etc/apache2", os.path.join(saved, "apache2"), symlinks=True)
    was_running = os.path.exists("/run/apache2/apache2.pid")
    log.say("apache2 running before: %s" % was_running)
    yield log
    # everything back as it was: the package gone, /etc/apache2 restored,
    # the service in its old state
    log.run("apache2ctl", "stop", check=False)
    for _ in range(50):
        if subprocess.run(["pgrep", "-x", "apache2"], capture_output=True).returncode:
            break
        time.sleep(0.1)
    log.run("apt-get", "purge", "-y", PKG, check=False)
    shutil.rmtree("/etc/apache2")
    shutil.copytree(os.path.join(saved, "apache2"), "/etc/apache2", symlinks=True)
    shutil.rmtree(saved)
    if was_running:
        log.run("apache2ctl", "start", check=False)
    log.f.close()


def tree_diff(a, b, where=""):
    """What differs between two folders (names relative to them)."""
    c = filecmp.dircmp(a, b)
    out = ["only before: " + os.path.join(where, n) for n in c.left_only]
    out += ["only now: " + os.path.join(where, n) for n in c.right_only]
    out += ["changed: " + os.path.join(where, n) for n in c.diff_files + c.funny_files]
    for d in c.common_dirs:
        out += tree_diff(os.path.join(a, d), os.path.join(b, d), os.path.join(where, d))
    return out


def test_siali_950_01_package_install_probe_upgrade_purge(machine):
    log = machine
    before = tempfile.mkdtemp(prefix="siali-etc-before-")
    shutil.copytree("/etc/apache2", os.path.join(before, "apache2"), symlinks=True)
    # the package, and what lintian says of it
    log.run(os.path.join(SRC, "test", "package", "build-deb.sh"))
    debs = [f for f in os.listdir(os.path.join(SRC, "out", "deb"))
            if f.endswith(".deb") and "-dbgsym_" not in f]
    assert len(debs) == 1 and re.fullmatch(r"libapache2-mod-siali_[^_]+_[a-z0-9]+\.deb", debs[0])
    deb = os.path.join(SRC, "out", "deb", debs[0])
    contents = log.run("dpkg", "-c", deb).stdout
    for path in ("./usr/lib/apache2/modules/mod_siali.so", "./etc/apache2/mods-available/siali.load",
                 "./etc/apache2/mods-available/siali.conf", "./usr/bin/siali",
                 "./usr/share/man/man1/siali.1.gz", "./usr/share/mod_siali/htdocs/static/app.js",
                 "./usr/share/doc/libapache2-mod-siali/examples/siali-vhost.conf",
                 "./usr/share/doc/libapache2-mod-siali/api.md"):
        assert path in contents, path

    # Debian's apache2 on a spare port: the default site there, and one more
    port = free_port()
    with open("/etc/apache2/ports.conf", "w") as f:
        f.write("Listen 127.0.0.1:%d\n" % port)
    with open("/etc/apache2/sites-available/000-default.conf") as f:
        site = f.read()
    with open("/etc/apache2/sites-available/000-default.conf", "w") as f:
        f.write(site.replace("<VirtualHost *:80>", "<VirtualHost 127.0.0.1:%d>" % port))
    with open("/etc/apache2/sites-available/siali-test-extra.conf", "w") as f:
        f.write("<VirtualHost 127.0.0.1:%d>\n    ServerName extra.test\n"
                "    DocumentRoot /var/www/html\n</VirtualHost>\n" % port)
    log.run("a2ensite", "000-default", "siali-test-extra")

    log.run("apt-get", "install", "-y", "--no-install-recommends", deb)
    with open("/etc/apache2/mods-available/siali.load") as f:
        assert "# Depends: dbd" in f.read()
    st = os.stat(STATE)
    assert stat.S_IMODE(st.st_mode) == 0o750
    assert st.st_uid == int(subprocess.run(["id", "-u", "www-data"], capture_output=True,
                                           text=True).stdout)
    offset = log_size()
    log.run("a2enmod", "siali")
    log.run("apache2ctl", "configtest")
    running = os.path.exists("/run/apache2/apache2.pid")
    log.run("apache2ctl", "graceful" if running else "start")
    url = "http://127.0.0.1:%d" % port
    r = wait_up(url + "/api/health")
    assert r.status_code == 200, r.text
    # / leads to login as under siali start (not to the default site's
    # index.html, which DirectoryIndex would make of it); on both hosts
    r = requests.get(url + "/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/login/", \
        (r.status_code, r.headers, r.text[:300])
    r = requests.get(url + "/", headers={"Host": "extra.test"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/login/"
    assert "/user/signup/" in requests.get(url + "/user/login/").text
    s = requests.Session()
    r = s.post(url + "/user/signup/", data={"email": "deb@example.org",
                                            "password": "package-pass-1"},
               allow_redirects=False)
    assert r.status_code == 302, r.text
    assert s.get(url + "/people/").status_code == 200
    assert "siali.css" in s.get(url + "/people/").text
    assert s.get(url + "/static/app.js").status_code == 200
    b = requests.Session()
    r = b.post(url + "/user/login/", data={"email": "deb@example.org",
                                           "password": "package-pass-1"}, allow_redirects=False)
    assert r.status_code == 302
    assert b.get(url + "/api/current-user/whoami").json()["email"] == "deb@example.org"
    assert b.get(url + "/", allow_redirects=False).headers["Location"] == "/people/"
    # the database: www-data's, 0640 or tighter
    db = os.path.join(STATE, "siali.db")
    st = os.stat(db)
    assert stat.S_IMODE(st.st_mode) & 0o137 == 0, oct(st.st_mode)
    # the command line as root, without --db
    r = log.run("siali", "user", "--username", "deb@example.org")
    assert "=> User info:" in r.stdout and "deb@example.org" in r.stdout
    # no warning from mod_siali or mod_dbd at start
    lines = new_log_lines(offset)
    log.say("error log at start:\n" + "\n".join(lines))
    bad = [l for l in lines if re.search(r"\[(siali|dbd):(warn|error|crit|alert|emerg)\]|AH02653", l)]
    assert not bad, bad

    # an upgrade over an older schema keeps the accounts and migrates
    log.run("apache2ctl", "stop")
    for _ in range(100):
        if subprocess.run(["pgrep", "-x", "apache2"], capture_output=True).returncode:
            break
        time.sleep(0.1)
    con = sqlite3.connect(db)
    for t in ("user_totp", "totp_recovery", "login_pending", "reset_links"):
        con.execute("DROP TABLE %s" % t)
    con.execute("UPDATE schema_version SET version = 11")
    con.commit()
    con.close()
    log.run("apt-get", "install", "-y", "--reinstall", "--no-install-recommends", deb)
    log.run("apache2ctl", "start")
    assert wait_up(url + "/api/health").status_code == 200
    con = sqlite3.connect(db)
    assert con.execute("SELECT version FROM schema_version").fetchone()[0] >= 12
    assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 1
    con.close()
    r = requests.post(url + "/user/login/", data={"email": "deb@example.org",
                                                  "password": "package-pass-1"},
                      allow_redirects=False)
    assert r.status_code == 302

    # a2dismod: the rest of Apache goes on (the default site's page)
    log.run("a2dismod", "siali")
    log.run("apache2ctl", "graceful")
    for _ in range(50):
        r = requests.get(url + "/", allow_redirects=False)
        if r.status_code == 200:
            break
        time.sleep(0.2)
    assert r.status_code == 200 and "Apache" in r.text, (r.status_code, r.text[:200])

    # purge: the state folder goes (README.Debian says so), the conffiles too
    log.run("apache2ctl", "stop")
    log.run("apt-get", "purge", "-y", PKG)
    assert not os.path.exists(STATE)
    assert not os.path.exists("/etc/apache2/mods-available/siali.load")
    assert subprocess.run(["dpkg", "-s", PKG], capture_output=True).returncode != 0
    log.run("a2dissite", "siali-test-extra")
    os.remove("/etc/apache2/sites-available/siali-test-extra.conf")
    with open("/etc/apache2/sites-available/000-default.conf", "w") as f:
        f.write(site)
    shutil.copy(os.path.join(before, "apache2", "ports.conf"), "/etc/apache2/ports.conf")
    # a2enmod siali enabled dbd, which a2dismod siali leaves (other modules
    # may use it): disabled again when it was off before
    if not os.path.exists(os.path.join(before, "apache2", "mods-enabled", "dbd.load")):
        log.run("a2dismod", "dbd")
    diff = tree_diff(os.path.join(before, "apache2"), "/etc/apache2")
    assert not diff, diff
    shutil.rmtree(before)
