"""Single sign-on by composition (SialiTrustRemoteUser, sl_sso.h) with real
upstream modules: mod_auth_basic over an htpasswd file (the simplest
producer of r->user) and mod_authnz_ldap over a throw-away slapd (email and
groups from the environment it sets). Login, provisioning and the signup
restriction, group -> role and its change at the next login, roles set by
hand kept, headers a client forges ignored, the directives' errors, and
first logins of many people (and of one person) at once."""
import concurrent.futures
import os
import shutil
import subprocess

import pytest
import requests

from conftest import SIALI, count_change
from ldap_slapd import Slapd

ORG = "/api/organizations/1"
SSO_MODULES = ("authn_core", "authn_file", "auth_basic", "authz_user", "ldap", "authnz_ldap")
# what a refused Basic login or a misconfigured location writes at error level
WAIVE = ("AH01617", "AH01618", "SL61001")
PASSWORD = "ldap-pass-1"

needs_slapd = pytest.mark.skipif(not os.path.exists("/usr/sbin/slapd"),
                                 reason="slapd is not installed (Debian's slapd package)")


@pytest.fixture(scope="module")
def ldap(driver):
    """One directory per database: the same people are created on each."""
    if not os.path.exists("/usr/sbin/slapd"):
        yield None
        return
    with Slapd() as d:
        d.add_group("labeling-admins")
        d.add_group("reviewers")
        yield d


def htpasswd(path, users):
    for i, (name, pw) in enumerate(users):
        subprocess.run(["htpasswd", "-b" + ("c" if i == 0 else "") + "B", "-C", "4", path,
                        name, pw], check=True, capture_output=True)
    os.chmod(path, 0o644)


def sso_conf(h, ldap, mount=""):
    users = os.path.join(h.root, "htpasswd")
    htpasswd(users, [("owner@example.com", "pw-owner"), ("bob@example.com", "pw-bob"),
                     ("carol@example.com", "pw-carol"), ("owner", "pw-owner-name"),
                     ("x", "pw-x")])
    conf = f"""
<Location {mount}/sso/basic/>
  AuthType Basic
  AuthName "Siali"
  AuthBasicProvider file
  AuthUserFile "{users}"
  Require valid-user
  SialiTrustRemoteUser On
</Location>
<Location {mount}/sso/open/>
  SialiTrustRemoteUser On
</Location>
"""
    if ldap:
        conf += f"""
LDAPCacheEntries 0
LDAPOpCacheEntries 0
<Location {mount}/sso/ldap/>
  AuthType Basic
  AuthName "Siali LDAP"
  AuthBasicProvider ldap
  AuthLDAPURL "{ldap.url}/{ldap.people_dn}?uid,mail,memberOf"
  Require valid-user
  SialiTrustRemoteUser On
  SialiSSOEmailVar AUTHENTICATE_MAIL
  SialiSSOGroupsVar AUTHENTICATE_MEMBEROF
  SialiAutoProvision On
  SialiRoleFromGroup AD labeling-admins
  SialiRoleFromGroup RE reviewers
</Location>
<Location {mount}/sso/nogroups/>
  AuthType Basic
  AuthName "Siali LDAP"
  AuthBasicProvider ldap
  AuthLDAPURL "{ldap.url}/{ldap.people_dn}?uid,mail"
  Require valid-user
  SialiTrustRemoteUser On
  SialiSSOEmailVar AUTHENTICATE_MAIL
  SialiSSOGroupsVar AUTHENTICATE_MEMBEROF
  SialiRoleFromGroup AD labeling-admins
</Location>
"""
    return conf


def make(httpd_factory, ldap, directives="", mount="", **kw):
    h = httpd_factory(modules=SSO_MODULES, waive=WAIVE, mount=mount, **kw)
    with open(h.conf, "a") as f:
        f.write(sso_conf(h, ldap, mount) + directives)
    return h.start()


def sso(h, where, user, pw, next=None, session=None, headers=None):
    s = session or requests.Session()
    url = h.url + "/sso/%s/" % where + ("?next=" + next if next else "")
    r = s.get(url, auth=(user, pw), allow_redirects=False, headers=headers or {})
    return s, r


def owner_token(h):
    """The first account, signed up now, as a session sending its API token."""
    owner, _ = h.signup("owner@example.com")
    tok = requests.Session()
    tok.headers["Authorization"] = "Token " + owner.get(
        h.url + "/api/current-user/token").json()["token"]
    return tok


def whoami(h, s):
    r = s.get(h.url + "/api/current-user/whoami")
    return r.json() if r.status_code == 200 else None


def users(h):
    return {row[0]: row[1:] for row in
            h.sql("SELECT email, org_role, role_source, is_active FROM users")}


# a later section that matches the same URLs, with core directives of its
# own (the innermost for httpd): the SSO location's mount must still be found
LATER = "<Location /sso/>\n  Options None\n</Location>\n"


def test_siali_615_01_basic_signs_in_a_member(httpd_factory, ldap):
    h = make(httpd_factory, None, directives=LATER)
    owner, r = h.signup("owner@example.com")
    assert r.status_code == 302
    # by email
    s, r = sso(h, "basic", "owner@example.com", "pw-owner", next="/people/")
    assert r.status_code == 302 and r.headers["Location"] == "/people/", r.text
    cookie = [c for c in s.cookies if c.name == "siali_session"]
    assert cookie and "HttpOnly" in r.headers["Set-Cookie"]
    assert whoami(h, s)["email"] == "owner@example.com"
    assert "SL61004" in h.log()
    # never by username: that is the member's own choice, and a bare name
    # from the provider could be anybody's (a member renames themselves)
    s2, r = sso(h, "basic", "owner", "pw-owner-name")
    assert r.status_code == 403 and whoami(h, s2) is None
    mallory, _ = h.signup("mallory@evil.example")
    me = whoami(h, mallory)
    assert mallory.patch(h.url + "/api/users/%d" % me["id"], json={"username": "x"},
                         headers={"Origin": h.url}).status_code == 200
    s2, r = sso(h, "basic", "x", "pw-x")
    assert r.status_code == 403 and whoami(h, s2) is None
    assert h.count_log("SL61005") == 2 and h.count_log("SL40001") == 0
    # next= never leaves the site
    for bad in ("//evil.example/", "https://evil.example/", "/%2F/evil.example", "javascript:x"):
        _, r = sso(h, "basic", "owner@example.com", "pw-owner", next=bad)
        assert r.status_code == 302 and r.headers["Location"] == "/", (bad, r.headers)
    # the session this browser had before ends (rotation)
    _, r = h.signup("bob@example.com", session=requests.Session())
    bob = requests.Session()
    h.signup("bob2@example.com", session=bob)
    old = bob.cookies.get("siali_session")
    sso(h, "basic", "bob@example.com", "pw-bob", session=bob)
    assert bob.cookies.get("siali_session") != old
    gone = requests.get(h.url + "/api/current-user/whoami", cookies={"siali_session": old})
    assert gone.status_code == 401
    assert whoami(h, bob)["email"] == "bob@example.com"
    # a wrong password never reaches the module
    _, r = sso(h, "basic", "owner@example.com", "wrong")
    assert r.status_code == 401 and "siali_session" not in r.headers.get("Set-Cookie", "")


def test_siali_615_02_unknown_people_without_provisioning(httpd_factory, ldap):
    h = make(httpd_factory, None)
    h.signup("owner@example.com")
    before = users(h)
    s, r = sso(h, "basic", "carol@example.com", "pw-carol")
    assert r.status_code == 403
    assert "no account for you" in r.text and "text/html" in r.headers["Content-Type"]
    assert "siali_session" not in r.headers.get("Set-Cookie", "")
    assert users(h) == before
    assert h.count_log("SL61005") == 1
    # a name that is not an email cannot be provisioned either, and says so
    _, r = sso(h, "basic", "x", "pw-x")
    assert r.status_code == 403 and users(h) == before


def test_siali_615_03_forged_identity_is_ignored(httpd_factory, ldap):
    h = make(httpd_factory, ldap)
    h.signup("owner@example.com")
    h.signup("bob@example.com")
    forged = {"X-Remote-User": "owner@example.com", "Remote-User": "owner@example.com",
              "REMOTE_USER": "owner@example.com", "X-Forwarded-User": "owner@example.com",
              "AUTHENTICATE_MAIL": "owner@example.com", "Authenticate-Mail": "owner@example.com",
              "OIDC_CLAIM_email": "owner@example.com"}
    # without credentials: the upstream module answers, nobody is signed in
    r = requests.get(h.url + "/sso/basic/", headers=forged, allow_redirects=False)
    assert r.status_code == 401 and "siali_session" not in r.headers.get("Set-Cookie", "")
    # with bob's: bob, whatever the headers say
    s, r = sso(h, "basic", "bob@example.com", "pw-bob", headers=forged)
    assert r.status_code == 302 and whoami(h, s)["email"] == "bob@example.com"
    # a <Location> nothing authenticates trusts nobody, headers or not
    r = requests.get(h.url + "/sso/open/", headers=forged, allow_redirects=False)
    assert r.status_code == 403 and "siali_session" not in r.headers.get("Set-Cookie", "")
    assert h.count_log("SL61001") == 1
    if ldap:
        # the email comes from the environment mod_authnz_ldap set, not from
        # a header of the same name: a user without mail is refused
        ldap.add_user("nomail", PASSWORD)
        _, r = sso(h, "ldap", "nomail", PASSWORD, headers=forged)
        assert r.status_code == 403 and "email" in r.text
        assert "owner@example.com" not in r.text


@needs_slapd
def test_siali_615_04_ldap_provisioning_and_groups(httpd_factory, ldap):
    h = make(httpd_factory, ldap, directives="SialiRoles On\n")
    tok = owner_token(h)
    ldap.add_user("ann", PASSWORD, mail="ann@example.com")
    ldap.add_user("ben", PASSWORD, mail="ben@example.com")
    ldap.add_user("cid", PASSWORD, mail="cid@example.com")
    ldap.add_user("own", PASSWORD, mail="owner@example.com")
    ldap.add_member("labeling-admins", "ann")
    ldap.add_member("reviewers", "ben")
    ldap.add_member("reviewers", "own")
    for uid in ("ann", "ben", "cid", "own"):
        s, r = sso(h, "ldap", uid, PASSWORD, next="/people/")
        assert r.status_code == 302 and r.headers["Location"] == "/people/", (uid, r.text)
        assert whoami(h, s)["email"] in (uid + "@example.com", "owner@example.com")
    u = users(h)
    assert u["ann@example.com"][:2] == ("AD", "sso")
    assert u["ben@example.com"][:2] == ("RE", "sso")
    assert u["cid@example.com"][:2] == ("AN", "default")   # the default role
    assert u["owner@example.com"][0] == "OW"               # the owner stays the owner
    assert h.count_log("account created") == 3
    # a provisioned account has no password: the form refuses it like a wrong one
    r = requests.post(h.url + "/user/login/", data={"email": "ann@example.com",
                                                     "password": "!"}, allow_redirects=False)
    assert r.status_code == 400
    # the groups change: the role follows at the next login
    ldap.remove_member("labeling-admins", "ann")
    ldap.add_member("reviewers", "ann")
    ldap.add_member("labeling-admins", "cid")
    s, _ = sso(h, "ldap", "ann", PASSWORD)
    assert whoami(h, s)["role"] == "RE"
    s, _ = sso(h, "ldap", "cid", PASSWORD)
    assert whoami(h, s)["role"] == "AD"
    assert h.count_log("SL50006") == 2
    # a provider that was not asked for the groups (memberOf not in the
    # URL) says nothing about them: the role stays, with a warning
    s, r = sso(h, "nogroups", "cid", PASSWORD)
    assert r.status_code == 302 and whoami(h, s)["role"] == "AD"
    assert h.count_log("SL61006") == 1
    # a role set by hand stays: the groups no longer decide it
    ben = [m for m in tok.get(h.url + ORG + "/memberships?page_size=100").json()["results"]
           if m["user"]["email"] == "ben@example.com"][0]["user"]["id"]
    r = tok.patch(h.url + ORG + "/memberships", json={"user_id": ben, "role": "MA"})
    assert r.status_code == 200, r.text
    s, _ = sso(h, "ldap", "ben", PASSWORD)
    assert whoami(h, s)["role"] == "MA" and users(h)["ben@example.com"][:2] == ("MA", "manual")
    # deactivated: refused, and not reactivated by the provider
    r = tok.patch(h.url + ORG + "/memberships", json={"user_id": ben, "role": "DI"})
    assert r.status_code == 200
    s, r = sso(h, "ldap", "ben", PASSWORD)
    assert r.status_code == 403 and "deactivated" in r.text and whoami(h, s) is None


@needs_slapd
def test_siali_615_05_provisioning_and_the_signup_restriction(httpd_factory, ldap):
    ldap.add_user("dee", PASSWORD, mail="dee@example.com")
    restricted = ("SialiDisableSignupWithoutLink On\nSialiUsername owner@example.com\n"
                  "SialiPassword secret-pass-1\n")
    h = make(httpd_factory, ldap, directives=restricted)
    _, r = sso(h, "ldap", "dee", PASSWORD)
    assert r.status_code == 403 and "invitation" in r.text
    assert "dee@example.com" not in users(h)
    # Always: the identity provider decides who may come
    h2 = httpd_factory(modules=SSO_MODULES, waive=WAIVE)
    with open(h2.conf, "a") as f:
        f.write(sso_conf(h2, ldap).replace("SialiAutoProvision On", "SialiAutoProvision Always")
                + restricted)
    h2.start()
    s, r = sso(h2, "ldap", "dee", PASSWORD)
    assert r.status_code == 302 and whoami(h2, s)["email"] == "dee@example.com"
    # roles off: a provisioned member is an administrator like everyone
    assert users(h2)["dee@example.com"][:2] == ("AD", "default")


@needs_slapd
def test_siali_615_06_first_logins_at_once(httpd_factory, ldap):
    """Twenty new people and one person from ten browsers, all at once: every
    login acknowledged is an account (exactly one per email) and a session
    that works; nothing refused."""
    h = make(httpd_factory, ldap, directives="SialiRoles On\n", start_servers=2)
    h.signup("owner@example.com")
    many = ["p%02d" % i for i in range(20)]
    for uid in many + ["same"]:
        ldap.add_user(uid, PASSWORD, mail=uid + "@example.com")
    ldap.add_member("reviewers", "same")
    jobs = [(uid, None) for uid in many] + [("same", i) for i in range(10)]

    def one(job):
        s, r = sso(h, "ldap", job[0], PASSWORD)
        return job[0], r.status_code, whoami(h, s)

    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(one, jobs))
    for uid, status, me in results:
        assert status == 302, (uid, status)
        assert me and me["email"] == uid + "@example.com"
    u = users(h)
    for uid in many:
        assert u[uid + "@example.com"][:2] == ("AN", "default")
    assert u["same@example.com"][:2] == ("RE", "sso")
    rows = h.sql("SELECT count(*) FROM users WHERE email = 'same@example.com'")
    assert rows[0][0] == 1
    assert len(u) == 22


def test_siali_615_07_where_the_directives_may_go(httpd_factory, ldap):
    cases = [
        ("<Location />\n  SialiTrustRemoteUser On\n</Location>\n", "MOUNT/sso/NAME/"),
        ("<LocationMatch \"^/sso/x/\">\n  SialiTrustRemoteUser On\n</LocationMatch>\n",
         "MOUNT/sso/NAME/"),
        ("SialiTrustRemoteUser On\n", "SialiTrustRemoteUser"),
        ("<LocationMatch \"/sso/x/\">\n  SialiTrustRemoteUser On\n</LocationMatch>\n",
         "MOUNT/sso/NAME/"),
        ("<Location ~ \"/sso/x/\">\n  SialiTrustRemoteUser On\n</Location>\n",
         "MOUNT/sso/NAME/"),
        ("<Directory \"/tmp/sso/x\">\n  SialiTrustRemoteUser On\n</Directory>\n",
         "MOUNT/sso/NAME/"),
        ("<Location /sso/a/>\n  SialiRoleFromGroup OW admins\n</Location>\n", "AD, MA, RE or AN"),
        ("<Location /sso/a/>\n  SialiAutoProvision Maybe\n</Location>\n", "Always"),
        ("<Location /sso/a/>\n  SialiSSOEmailVar \"a b\"\n</Location>\n", "environment variable"),
    ]
    for directive, said in cases:
        h = httpd_factory(directives=directive)
        out = h.start(expect_fail=True)
        assert said in out, (directive, out)


def test_siali_615_08_login_page_and_addresses(httpd_factory, ldap):
    h = make(httpd_factory, ldap, mount="/label")
    r = requests.get(h.url + "/user/login/?next=/label/people/")
    assert 'href="/label/sso/basic/?next=%2flabel%2fpeople%2f"' in r.text.lower()
    assert "Log in with single sign-on (basic)" in r.text
    # without the slash: outside the protected <Location>, so sent into it
    r = requests.get(h.url + "/sso/basic?next=/label/people/", allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == "/label/sso/basic/?next=/label/people/"
    r = requests.get(h.url + "/sso/nothing/", allow_redirects=False)
    assert r.status_code == 404 and "not set up" in r.text
    # below a mount: the session's cookie and the way back are the mount's
    h.signup("owner@example.com")
    s, r = sso(h, "basic", "owner@example.com", "pw-owner")
    assert r.status_code == 302 and r.headers["Location"] == "/label/"
    assert "Path=/label" in r.headers["Set-Cookie"]
    assert whoami(h, s)["email"] == "owner@example.com"


@needs_slapd
def test_siali_615_09_deactivation_while_signing_in(httpd_factory, ldap):
    """Single sign-ons of one member racing their deactivation: once the
    deactivation is acknowledged, no session of theirs works, whichever
    committed first (the member's row is locked and read again)."""
    h = make(httpd_factory, ldap, directives="SialiRoles On\n")
    tok = owner_token(h)
    ldap.add_user("eve", PASSWORD, mail="eve@example.com")
    s, _ = sso(h, "ldap", "eve", PASSWORD)
    eve = whoami(h, s)["id"]
    for _ in range(8):
        with concurrent.futures.ThreadPoolExecutor(13) as pool:
            logins = [pool.submit(sso, h, "ldap", "eve", PASSWORD) for _ in range(12)]
            off = pool.submit(tok.patch, h.url + ORG + "/memberships",
                              json={"user_id": eve, "role": "DI"})
            assert off.result().status_code == 200, off.result().text
            got = [f.result() for f in logins]
        for s, r in got:
            assert r.status_code in (302, 403), r.status_code
            assert whoami(h, s) is None
        r = tok.patch(h.url + ORG + "/memberships", json={"user_id": eve, "role": "AN"})
        assert r.status_code == 200
        for s, r in got:
            assert whoami(h, s) is None      # ended, not only suspended


def test_siali_615_10_v10_keeps_roles_set_by_hand(httpd_factory, ldap):
    """Before v10 every role said 'manual': roles nobody chose become
    'default' (AD, OW, the default role), any other stays 'manual'."""
    h = make(httpd_factory, None, directives="SialiRoles On\n")
    h.signup("owner@example.com")
    for who in ("ad", "an", "re"):
        h.signup(who + "@example.com")
    h.stop()
    h.sql_many([("UPDATE users SET org_role = 'RE' WHERE email = 're@example.com'", ()),
                ("UPDATE users SET org_role = 'AD' WHERE email = 'ad@example.com'", ()),
                ("UPDATE users SET role_source = 'manual'", ()),
                ("UPDATE schema_version SET version = 9", ()),
                # what v11 and v12 add, so that the database is a v9 one again
                ("DROP TABLE audit_log", ()), ("DROP TABLE user_totp", ()),
                ("DROP TABLE totp_recovery", ()), ("DROP TABLE login_pending", ()),
                ("DROP TABLE reset_links", ())])
    h.start()
    u = users(h)
    assert u["owner@example.com"][:2] == ("OW", "default")
    assert u["ad@example.com"][:2] == ("AD", "default")
    assert u["an@example.com"][:2] == ("AN", "default")
    assert u["re@example.com"][:2] == ("RE", "manual")
