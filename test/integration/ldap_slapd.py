"""A throw-away OpenLDAP slapd for tests (stdlib only).

    with Slapd() as ldap:
        ldap.add_user("ann", "secret", mail="ann@example.test")
        ldap.add_group("staff", ["ann"])
        ldap.member_of("ann")   # ['cn=staff,ou=groups,dc=siali,dc=test']

One slapd per `with`, as the current user, on ldap://127.0.0.1:<free port>/
only, configured by an old-style slapd.conf (-f; slapd 2.5 still reads it)
in a tempfile.mkdtemp() directory that also holds the mdb database and the
log, and which goes when the block ends. The memberof overlay is on, so
entries are added through the running server (ldapadd/ldapmodify): slapadd
would write them straight into the database, past the overlay.
After start, `start_seconds` says how long slapd took to answer (~0.1 s).
"""
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

from conftest import free_port

SLAPD = "/usr/sbin/slapd"
SCHEMA = "/etc/ldap/schema"
MODULES = "/usr/lib/ldap"
TIMEOUT = 10     # seconds, for any one ldap* client call


class Slapd:
    base = "dc=siali,dc=test"
    people_dn = "ou=people," + base
    groups_dn = "ou=groups," + base
    rootdn = "cn=admin," + base

    def __init__(self, start_timeout=10):
        self.start_timeout = start_timeout
        self.rootpw = secrets.token_urlsafe(16)
        self.port = free_port()
        self.url = "ldap://127.0.0.1:%d" % self.port
        self.dir = None
        self.proc = None

    # -- life cycle --------------------------------------------------------

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="siali-slapd-")
        os.mkdir(os.path.join(self.dir, "db"))
        self.log_path = os.path.join(self.dir, "slapd.log")
        conf = os.path.join(self.dir, "slapd.conf")
        with open(conf, "w") as f:
            f.write(self._conf())
        # -d: stay in the foreground (so the PID is ours to signal) and log
        # to stderr; "stats" logs each connection and operation, which is
        # what one wants to read when a test fails.
        # -h: this address only, never the system's ldap:/// or ldapi:///
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [SLAPD, "-f", conf, "-h", self.url + "/", "-d", "stats"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
            self._add_ldif(self._base_ldif())
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self):
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited (%s) at start:\n%s"
                                   % (self.proc.returncode, self.log()))
            # the suffix entry does not exist yet: rc 32 (noSuchObject)
            # still means the server is up and answering
            r = self._client("ldapsearch", "-b", self.base, "-s", "base",
                             check=False, timeout=2)
            if r.returncode in (0, 32):
                self.start_seconds = time.monotonic() - t0
                return
            if time.monotonic() > deadline:
                raise RuntimeError("slapd did not answer in %ds:\n%s"
                                   % (self.start_timeout, self.log()))
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except (AttributeError, FileNotFoundError):
            return ""

    # -- configuration -----------------------------------------------------

    def _conf(self):
        includes = "".join("include %s/%s.schema\n" % (SCHEMA, s)
                           for s in ("core", "cosine", "inetorgperson", "nis"))
        return f"""{includes}
pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
modulepath {MODULES}
moduleload back_mdb
moduleload memberof

database mdb
suffix "{self.base}"
rootdn "{self.rootdn}"
rootpw "{self.rootpw}"
directory {self.dir}/db
# the default map size; a test directory stays far below it
maxsize 10485760

# memberOf on each member of a groupOfNames, kept when it leaves (refint)
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

# mod_authnz_ldap searches anonymously unless AuthLDAPBindDN is set, then
# binds as the user found: passwords serve binds only, the rest is public
access to attrs=userPassword
    by anonymous auth
    by self write
    by * none
access to *
    by * read
"""

    def _base_ldif(self):
        return f"""dn: {self.base}
objectClass: dcObject
objectClass: organization
dc: siali
o: siali

dn: {self.people_dn}
objectClass: organizationalUnit
ou: people

dn: {self.groups_dn}
objectClass: organizationalUnit
ou: groups
"""

    # -- clients -----------------------------------------------------------

    def _client(self, tool, *args, input=None, check=True, timeout=TIMEOUT,
                bind=True):
        cmd = [tool, "-x", "-H", self.url]
        if bind:
            cmd += ["-D", self.rootdn, "-w", self.rootpw]
        # LDAPNOINIT: no ldap.conf / ldaprc of the machine or user (a
        # BASE or URI there must not leak into the tests)
        env = dict(os.environ, LDAPNOINIT="1")
        r = subprocess.run(cmd + list(args), input=input, capture_output=True,
                           text=True, timeout=timeout, env=env)
        if check and r.returncode != 0:
            raise RuntimeError("%s %s failed (%d): %s%s"
                               % (tool, " ".join(args), r.returncode,
                                  r.stdout, r.stderr))
        return r

    def _add_ldif(self, ldif):
        self._client("ldapadd", input=ldif)

    def _modify(self, ldif):
        self._client("ldapmodify", input=ldif)

    def user_dn(self, uid):
        return "uid=%s,%s" % (uid, self.people_dn)

    def group_dn(self, cn):
        return "cn=%s,%s" % (cn, self.groups_dn)

    # -- entries -----------------------------------------------------------

    def add_user(self, uid, password, mail=None, cn=None):
        # {SSHA} as a real directory stores it; slappasswd hashes locally
        hashed = subprocess.run(["slappasswd", "-s", password], check=True,
                                capture_output=True, text=True,
                                timeout=TIMEOUT).stdout.strip()
        ldif = (f"dn: {self.user_dn(uid)}\nobjectClass: inetOrgPerson\n"
                f"uid: {uid}\ncn: {cn or uid}\nsn: {uid}\n"
                f"userPassword: {hashed}\n")
        if mail:
            ldif += "mail: %s\n" % mail
        self._add_ldif(ldif)
        return self.user_dn(uid)

    def add_group(self, cn, members=()):
        # groupOfNames needs at least one member: an empty group gets the
        # rootdn as a placeholder (no user entry, so no one's memberOf)
        dns = [self.user_dn(u) for u in members] or [self.rootdn]
        ldif = f"dn: {self.group_dn(cn)}\nobjectClass: groupOfNames\ncn: {cn}\n"
        ldif += "".join("member: %s\n" % d for d in dns)
        self._add_ldif(ldif)
        return self.group_dn(cn)

    def add_member(self, group_cn, uid):
        self._modify(f"dn: {self.group_dn(group_cn)}\nchangetype: modify\n"
                     f"add: member\nmember: {self.user_dn(uid)}\n")

    def remove_member(self, group_cn, uid):
        # removing the last member fails (objectClassViolation), as in any
        # directory: add another member (e.g. the rootdn) first
        self._modify(f"dn: {self.group_dn(group_cn)}\nchangetype: modify\n"
                     f"delete: member\nmember: {self.user_dn(uid)}\n")

    def member_of(self, uid):
        # memberOf is operational: returned only when asked for by name.
        # -LLL -o ldif-wrap=no: plain "attr: value" lines, none folded
        r = self._client("ldapsearch", "-LLL", "-o", "ldif-wrap=no",
                         "-b", self.user_dn(uid), "-s", "base", "memberOf")
        return [line.split(": ", 1)[1] for line in r.stdout.splitlines()
                if line.lower().startswith("memberof: ")]
