"""The audit log (sl_audit.h): an event for every security action, in the
transaction of the action (and one SL80001 line each), read through
GET /api/activity-logs/ (filters, pages, the permission) and the member's own
GET /api/current-user/activity; the retention's purge; and many actions at
once, each acknowledged one with its event."""
import collections
import concurrent.futures
import re
import time

import requests

ROLES_ON = "SialiRoles On\n"
LOGS = "/api/activity-logs/"
ORG = "/api/organizations/1"


def token_session(h, s):
    t = requests.Session()
    t.headers["Authorization"] = "Token " + s.get(h.url + "/api/current-user/token").json()["token"]
    return t


def events(h, who, **params):
    r = who.get(h.url + LOGS, params=dict(params, page_size=1000))
    assert r.status_code == 200, r.text
    return r.json()


def log_events(h):
    return collections.Counter(re.findall(r"SL80001: audit: event=(\w+)", h.log()))


def test_siali_920_01_every_action_has_its_event(httpd_factory):
    h = httpd_factory(directives=ROLES_ON).start()
    owner, _ = h.signup("owner@example.com")
    tok = token_session(h, owner)
    ua = {"User-Agent": "audit-test/1.0"}
    # logins: good, wrong password of a member, unknown account
    s = requests.Session()
    s.headers.update(ua)
    assert s.post(h.url + "/user/login/", data={"email": "owner@example.com",
                  "password": "secret-pass-1"}, allow_redirects=False).status_code == 302
    for login in ("owner@example.com", "nobody@example.com"):
        # a User-Agent that is not UTF-8: the event is still listed
        r = requests.post(h.url + "/user/login/", data={"email": login, "password": "typed-secret"},
                          headers={"User-Agent": b"bad\xff\xfeagent".decode("latin-1")})
        assert r.status_code == 400
    member, _ = h.signup("ann@example.com")
    ann = member.get(h.url + "/api/current-user/whoami").json()["id"]
    assert member.post(h.url + "/api/current-user/password", headers={"Origin": h.url}, json={
        "current_password": "secret-pass-1", "new_password": "secret-pass-2"}).status_code == 204
    assert tok.post(h.url + "/api/current-user/reset-token").status_code == 201
    tok = token_session(h, owner)
    pat = tok.post(h.url + "/api/token/")
    assert pat.status_code == 201, pat.text
    assert tok.post(h.url + "/api/token/blacklist/",
                    json={"refresh": pat.json()["token"]}).status_code == 204
    assert tok.post(h.url + "/api/invite/reset-token").status_code == 201
    assert tok.patch(h.url + "/api/session-policy/", json={"max_session_age": 20000}) \
        .status_code == 200
    assert tok.post(h.url + "/api/jwt/settings", json={"api_token_ttl_days": 30}) \
        .status_code in (200, 201)
    assert tok.patch(h.url + ORG + "/set-default-role", json={"default_role": "RE"}) \
        .status_code == 200
    assert tok.patch(h.url + ORG + "/memberships", json={"user_id": ann, "role": "MA"}) \
        .status_code == 200
    assert tok.patch(h.url + "/api/users/%d" % ann, json={"is_active": False}).status_code == 200
    assert tok.patch(h.url + "/api/users/%d" % ann, json={"is_active": True}).status_code == 200
    r = h.siali("reset_password", "--username", "ann@example.com", "--password", "cli-pass-123")
    assert r.returncode == 0, r.stderr
    assert tok.delete(h.url + "/api/users/%d" % ann).status_code == 204
    assert s.post(h.url + "/logout/", headers={"Origin": h.url},
                  allow_redirects=False).status_code == 302
    # saving what is already there changes nothing, and records nothing
    assert tok.patch(h.url + "/api/session-policy/", json={"max_session_age": 20000}) \
        .status_code == 200
    assert tok.patch(h.url + ORG + "/set-default-role", json={"default_role": "RE"}) \
        .status_code == 200
    # a logout without a session (a token) ends nothing: no event
    assert tok.post(h.url + "/logout/", allow_redirects=False).status_code == 302

    got = events(h, tok)
    names = collections.Counter(e["event"] for e in got["data"])
    assert names == {"signup": 2, "login": 1, "login_failed": 2, "password_changed": 1,
                     "token_reset": 1, "pat_created": 1, "pat_revoked": 1, "invite_reset": 1,
                     "session_policy_changed": 1, "token_settings_changed": 1,
                     "default_role_changed": 1, "role_changed": 1, "member_deactivated": 1,
                     "member_reactivated": 1, "password_reset": 1, "member_deleted": 1,
                     "logout": 1}, names
    assert got["recordsTotal"] == got["recordsFiltered"] == len(got["data"])
    by = {e["event"]: e for e in reversed(got["data"])}
    # shape, and who, about whom, from where
    e = by["login"]
    assert set(e) == {"id", "datetime", "event", "user_id", "user_email", "subject_id",
                      "subject_email", "ip", "user_agent", "detail"}
    assert e["ip"] == "127.0.0.1" and e["user_agent"] == "audit-test/1.0"
    assert e["user_email"] == e["subject_email"] == "owner@example.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["datetime"])
    assert by["role_changed"]["detail"] == {"from": "AN", "to": "MA"}
    assert by["role_changed"]["user_email"] == "owner@example.com"
    # a deleted member's events keep their email
    assert by["member_deleted"]["subject_email"] == "ann@example.com"
    assert by["member_deleted"]["subject_id"] == ann
    assert by["password_reset"]["user_id"] is None and by["password_reset"]["ip"] == ""
    # failed logins: the account when there is one, never what was typed
    failed = [x for x in got["data"] if x["event"] == "login_failed"]
    assert sorted(str(x["subject_email"]) for x in failed) == ["None", "owner@example.com"]
    assert "typed-secret" not in h.log() and "nobody@example.com" not in str(got)
    assert {x["user_agent"] for x in failed} == {"bad??agent"}
    # one error-log line per event the server made (the CLI's is its own)
    logged = log_events(h)
    assert logged == names - collections.Counter({"password_reset": 1}), logged


def test_siali_920_02_filters_pages_and_who_may_read(httpd_factory):
    h = httpd_factory(directives=ROLES_ON).start()
    owner, _ = h.signup("owner@example.com")
    tok = token_session(h, owner)
    an, _ = h.signup("annie@example.com")
    me = an.get(h.url + "/api/current-user/whoami").json()["id"]
    for _ in range(3):
        requests.post(h.url + "/user/login/", data={"email": "annie@example.com",
                                                     "password": "wrong-one-1"})
    # annotators may not read the organization's log; their own, yes
    r = an.get(h.url + LOGS)
    assert r.status_code == 403 and "view_activity_logs" in r.json()["detail"]
    mine = an.get(h.url + "/api/current-user/activity").json()
    assert [e["event"] for e in mine["data"]] == ["login_failed"] * 3 + ["signup"]
    assert all(e["subject_id"] == me for e in mine["data"])
    # filters
    assert events(h, tok, event="login_failed")["recordsFiltered"] == 3
    assert events(h, tok, user_id=me)["recordsFiltered"] == 4
    assert events(h, tok, search="ANNIE")["recordsFiltered"] == 4
    assert events(h, tok, search="%")["recordsFiltered"] == 0
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert events(h, tok, start_date=today, end_date=today)["recordsFiltered"] == 5
    assert events(h, tok, end_date="2001-01-01")["recordsFiltered"] == 0
    assert events(h, tok, start_date="2999-01-01T00:00:00Z")["recordsFiltered"] == 0
    # a transfer of ownership: both sides of it; and what the member reads of
    # an event an administrator caused is not the administrator's details
    assert tok.patch(h.url + ORG + "/memberships", json={"user_id": me, "role": "OW"},
                     headers={"User-Agent": "admin-browser/9"}).status_code == 200
    changes = events(h, tok, event="role_changed")["data"]
    assert sorted((c["subject_email"], c["detail"]["to"]) for c in changes) == [
        ("annie@example.com", "OW"), ("owner@example.com", "AD")]
    mine = an.get(h.url + "/api/current-user/activity").json()
    e = mine["data"][0]
    assert e["event"] == "role_changed" and e["detail"] == {"from": "AN", "to": "OW"}
    assert e["user_id"] is None and e["user_email"] is None
    assert e["ip"] == "" and e["user_agent"] == ""
    assert mine["recordsTotal"] == mine["recordsFiltered"] == 5
    # (annie owns it now; the old owner, an administrator, still reads the log)
    page = tok.get(h.url + LOGS, params={"page": 2, "page_size": 2}).json()
    assert len(page["data"]) == 2 and page["recordsTotal"] == 7
    assert page["data"][0]["event"] == "login_failed"     # newest first
    for bad in ({"event": "nap"}, {"start_date": "yesterday"}, {"page_size": 0},
                {"page": "x"}, {"end_date": "2020-13-01"}, {"start_date": "2026-02-30"}):
        r = tok.get(h.url + LOGS, params=bad)
        assert r.status_code == 400 and "detail" in r.json(), (bad, r.text)


def test_siali_920_03_retention_purges_in_batches(httpd_factory):
    h = httpd_factory(directives="SialiAuditRetention 30d\n", start_servers=1).start()
    h.signup("owner@example.com")
    old = int(time.time()) - 40 * 86400

    def add_old(n):
        h.sql_many([("INSERT INTO audit_log (created_at, event, address, user_agent, detail) "
                     "VALUES (?, 'login', '', '', '{}')", (old + i,)) for i in range(n)])

    def old_left():
        return h.sql("SELECT count(*) FROM audit_log WHERE created_at < ?", old + 2000)[0][0]

    # at start: all of them, batch after batch
    h.stop()
    add_old(1200)
    h.sql_many([("INSERT INTO audit_log (created_at, event, address, user_agent, detail) "
                 "VALUES (?, 'logout', '', '', '{}')", (int(time.time()) - 86400,))])
    h.start()
    assert old_left() == 0 and "SL10013: purged 1200 audit events" in h.log()
    # while running: a batch rides on a child's next event, and the next
    # event takes the rest when the batch was full
    add_old(700)
    for _ in range(3):
        requests.post(h.url + "/user/login/", data={"email": "owner@example.com",
                                                     "password": "wrong-pass-1"})
    assert old_left() == 0
    # younger than the retention: kept
    assert h.sql("SELECT count(*) FROM audit_log WHERE event = 'logout'")[0][0] == 1
    # Off: kept forever
    h2 = httpd_factory(directives="SialiAuditRetention Off\n").start()
    h2.stop()
    h2.sql_many([("INSERT INTO audit_log (created_at, event, address, user_agent, detail) "
                  "VALUES (?, 'login', '', '', '{}')", (old,))])
    h2.start()
    requests.post(h2.url + "/user/login/", data={"email": "x@example.com", "password": "y"})
    assert h2.sql("SELECT count(*) FROM audit_log WHERE created_at = ?", old)[0][0] == 1


def test_siali_920_04_many_actions_at_once(httpd_factory):
    """Signups, logins, failed logins and token resets from many clients at
    once: every acknowledged action has exactly its one event."""
    h = httpd_factory(directives="SialiLoginThrottle 1000 60\n").start()
    owner, _ = h.signup("owner@example.com")
    tok = token_session(h, owner)
    emails = ["p%02d@example.com" % i for i in range(16)]

    def signup_and_login(email):
        s, r = h.signup(email)
        ok = [r.status_code == 302]
        r = requests.post(h.url + "/user/login/", data={"email": email,
                          "password": "secret-pass-1"}, allow_redirects=False)
        ok.append(r.status_code == 302)
        r = requests.post(h.url + "/user/login/", data={"email": email, "password": "nope-nope"})
        ok.append(r.status_code == 400)
        r = s.post(h.url + "/api/current-user/reset-token", headers={"Origin": h.url})
        ok.append(r.status_code == 201)
        return ok

    # the same member from several clients at once, too
    def reset(_):
        return tok.post(h.url + "/api/current-user/reset-token").status_code

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        same = [pool.submit(reset, i) for i in range(8)]
        done = list(pool.map(signup_and_login, emails))
        resets = [f.result() for f in same]
    assert all(all(x) for x in done), done
    # the first reset changes the key the others sent: each is a 201 or a 401
    assert set(resets) <= {201, 401} and 201 in resets
    ok_resets = len(emails) + resets.count(201)
    names = collections.Counter(row[0] for row in h.sql("SELECT event FROM audit_log"))
    assert names == {"signup": 17, "login": 16, "login_failed": 16,
                     "token_reset": ok_resets}, names
    per = h.sql("SELECT subject_email, count(*) FROM audit_log WHERE event = 'login' "
                "GROUP BY subject_email")
    assert sorted(r[0] for r in per) == sorted(emails) and all(r[1] == 1 for r in per)
    assert log_events(h) == names
    # one session logged out from eight clients at once: one logout
    s, _ = h.signup("leaver@example.com")
    cookie = s.cookies.get("siali_session")

    def logout(_):
        return requests.post(h.url + "/logout/", cookies={"siali_session": cookie},
                             headers={"Origin": h.url}, allow_redirects=False).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(logout, range(8))) == {302}
    assert h.sql("SELECT count(*) FROM audit_log WHERE event = 'logout'")[0][0] == 1
