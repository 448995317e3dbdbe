"""Password-reset links (sl_resetlink.h): made by an administrator (API,
member panel's API, siali reset_link), one use, retired by a newer link, an
expiry or a deactivation; using one ends every session; and "Forgot password?"
through a throw-away SMTP relay (plain, and AUTH PLAIN after STARTTLS), which
answers alike for every email and is throttled per address and per account."""
import concurrent.futures
import os
import re

import requests

from smtp_sink import SmtpSink, closed_port

PW = "secret-pass-1"
RESET = "/user/reset-password/"
FORGOT = "/user/forgot-password/"
SAME = "If an account has that email"


def admin_api(h, s):
    s.headers["Origin"] = h.url
    return s


def uid(h, email):
    return h.sql("SELECT id FROM users WHERE email = ?", email)[0][0]


def make_link(h, admin, email):
    r = admin.post(h.url + "/api/users/%d/reset-link" % uid(h, email))
    assert r.status_code == 201, r.text
    return r.json()


def token_of(url):
    return re.search(r"[?&]token=([A-Za-z0-9_-]{43})$", url).group(1)


def use(h, token, password, session=None):
    return (session or requests).post(h.url + RESET, data={"token": token, "password": password},
                                      headers={"Origin": h.url}, allow_redirects=False)


def can_login(h, email, password):
    r = requests.post(h.url + "/user/login/", data={"email": email, "password": password},
                      allow_redirects=False)
    return r.status_code == 302


def test_siali_935_01_link_sets_password_once_and_ends_sessions(httpd_factory):
    h = httpd_factory().start()
    admin, _ = h.signup("admin@example.com")
    admin_api(h, admin)
    member, _ = h.signup("ann@example.com")
    other_session = requests.Session()
    assert can_login(h, "ann@example.com", PW)
    link = make_link(h, admin, "ann@example.com")
    assert link["url"].startswith(h.url + RESET + "?token=") and link["expires_at"]
    token = token_of(link["url"])
    # only the hash is stored
    assert token not in str(h.sql("SELECT * FROM reset_links"))
    page = requests.get(link["url"])
    assert page.status_code == 200 and "ann@example.com" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # a short password: the form again, the link still good
    r = use(h, token, "short")
    assert r.status_code == 400 and "password-error" in r.text
    r = use(h, token, "brand-new-pass-7", other_session)
    assert r.status_code == 200 and "Password set" in r.text, r.text
    # every session of the member ended; the new password works, the old not
    assert member.get(h.url + "/api/current-user/whoami").status_code == 401
    assert can_login(h, "ann@example.com", "brand-new-pass-7")
    assert not can_login(h, "ann@example.com", PW)
    # once
    r = use(h, token, "another-pass-8")
    assert r.status_code == 400 and "does not work" in r.text
    assert requests.get(link["url"]).status_code == 400
    events = admin.get(h.url + "/api/activity-logs/", params={"user_id": uid(h, "ann@example.com")})
    names = [e["event"] for e in events.json()["data"]]
    assert "reset_link_created" in names and "reset_link_used" in names \
        and "password_reset" in names
    created = [e for e in events.json()["data"] if e["event"] == "reset_link_created"][0]
    assert created["user_email"] == "admin@example.com"


def test_siali_935_02_newer_link_expiry_deactivation_retire_it(httpd_factory):
    h = httpd_factory().start()
    admin, _ = h.signup("admin@example.com")
    admin_api(h, admin)
    h.signup("bob@example.com")
    old = token_of(make_link(h, admin, "bob@example.com")["url"])
    new = token_of(make_link(h, admin, "bob@example.com")["url"])
    assert use(h, old, "brand-new-pass-7").status_code == 400
    h.sql("UPDATE reset_links SET expires_at = 1")
    assert use(h, new, "brand-new-pass-7").status_code == 400
    third = token_of(make_link(h, admin, "bob@example.com")["url"])
    bob = uid(h, "bob@example.com")
    assert admin.patch(h.url + "/api/users/%d" % bob, json={"is_active": False}).status_code == 200
    assert use(h, third, "brand-new-pass-7").status_code == 400
    # no link for a deactivated member; back again, the old link stays dead
    r = admin.post(h.url + "/api/users/%d/reset-link" % bob)
    assert r.status_code == 409, r.text
    assert admin.patch(h.url + "/api/users/%d" % bob, json={"is_active": True}).status_code == 200
    assert use(h, third, "brand-new-pass-7").status_code == 400
    assert can_login(h, "bob@example.com", PW)
    # deleting the member takes the link along
    make_link(h, admin, "bob@example.com")
    assert admin.delete(h.url + "/api/users/%d" % bob).status_code == 204
    assert h.sql("SELECT count(*) FROM reset_links") == [(0,)]
    assert admin.post(h.url + "/api/users/%d/reset-link" % bob).status_code == 404


def test_siali_935_03_who_may_make_one(httpd_factory):
    h = httpd_factory(directives="SialiRoles On").start()
    owner, _ = h.signup("owner@example.com")
    admin_api(h, owner)
    adm, _ = h.signup("adm@example.com")
    admin_api(h, adm)
    ann, _ = h.signup("ann@example.com")
    admin_api(h, ann)
    org = "/api/organizations/1/memberships"
    assert owner.patch(h.url + org, json={"user_id": uid(h, "adm@example.com"), "role": "AD"}) \
        .status_code == 200
    r = ann.post(h.url + "/api/users/%d/reset-link" % uid(h, "adm@example.com"))
    assert r.status_code == 403 and "manage_members" in r.text, r.text
    # the owner's account: only the owner
    r = adm.post(h.url + "/api/users/%d/reset-link" % uid(h, "owner@example.com"))
    assert r.status_code == 403, r.text
    assert adm.post(h.url + "/api/users/%d/reset-link" % uid(h, "ann@example.com")) \
        .status_code == 201
    assert owner.post(h.url + "/api/users/%d/reset-link" % uid(h, "adm@example.com")) \
        .status_code == 201
    # and cross-site, refused before anything
    r = requests.post(h.url + "/api/users/%d/reset-link" % uid(h, "ann@example.com"),
                      cookies=owner.cookies, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_siali_935_04_cli_link_and_no_token_in_the_access_log(httpd_factory):
    h = httpd_factory(directives='LogFormat "%h \\"%r\\" %>s %q" plain\n'
                                 'CustomLog "{root}/access.log" plain')
    with open(h.conf) as f:
        conf = f.read().replace("{root}", h.root)
    with open(h.conf, "w") as f:
        f.write(conf)
    h.start()
    h.signup("cli@example.com")
    r = h.siali("reset_link", "--username", "cli@example.com", "--base-url", h.url + "/")
    assert r.returncode == 0, r.stderr
    url = r.stdout.splitlines()[1]
    assert url.startswith(h.url + RESET + "?token=") and "valid once until" in r.stdout
    token = token_of(url)
    assert requests.get(url).status_code == 200
    assert use(h, token, "from-the-shell-1").status_code == 200
    assert can_login(h, "cli@example.com", "from-the-shell-1")
    r = h.siali("reset_link", "--username", "nobody@example.com")
    assert r.returncode == 1
    h.stop()
    with open(os.path.join(h.root, "access.log")) as f:
        log = f.read()
    assert token not in log and "token=REDACTED" in log, log


def test_siali_935_05_guessed_links_are_throttled(httpd_factory):
    h = httpd_factory(directives="SialiAuthThrottle 5 60").start()
    for i in range(5):
        assert requests.get(h.url + RESET + "?token=" + "A" * 42 + str(i)).status_code == 400
    r = requests.get(h.url + RESET + "?token=" + "B" * 43)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert h.count_log("SL30012") == 6


def test_siali_935_06_one_link_many_clients_at_once(httpd_factory):
    h = httpd_factory().start()
    admin, _ = h.signup("admin@example.com")
    admin_api(h, admin)
    h.signup("race@example.com")
    token = token_of(make_link(h, admin, "race@example.com")["url"])
    pws = ["racing-pass-%d" % i for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda pw: use(h, token, pw).status_code, pws))
    assert codes.count(200) == 1 and codes.count(400) == 7, codes
    winner = pws[codes.index(200)]
    assert can_login(h, "race@example.com", winner)
    assert sum(can_login(h, "race@example.com", pw) for pw in pws) == 1
    # distinct members' links at once: every one works
    emails = ["m%d@example.com" % i for i in range(6)]
    for e in emails:
        h.signup(e)
    links = [token_of(make_link(h, admin, e)["url"]) for e in emails]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda t: use(h, t, "parallel-pass-1").status_code, links))
    assert codes == [200] * 6, codes
    assert all(can_login(h, e, "parallel-pass-1") for e in emails)


def test_siali_935_07_forgot_password_by_mail(httpd_factory):
    with SmtpSink() as sink:
        h = httpd_factory(directives="SialiMailRelay %s\nSialiMailFrom labels@example.org"
                          % sink.relay).start()
        h.signup("mail@example.com")
        login = requests.get(h.url + "/user/login/").text
        assert FORGOT in login
        assert requests.get(h.url + FORGOT).status_code == 200
        # a forged Host header does not make the link
        known = requests.post(h.url + FORGOT, data={"email": "MAIL@example.com"},
                              headers={"Origin": "http://evil.example", "Host": "evil.example"})
        unknown = requests.post(h.url + FORGOT, data={"email": "nobody@example.com"},
                                headers={"Origin": h.url})
        assert known.status_code == unknown.status_code == 200
        assert SAME in known.text and known.text == unknown.text
        msgs = sink.wait(1)
        assert len(msgs) == 1 and msgs[0]["to"] == ["<mail@example.com>"]
        assert msgs[0]["from"] == "<labels@example.org>" and not msgs[0]["tls"]
        body = msgs[0]["data"]
        assert "Subject: Reset your Siali Label password" in body
        assert "for 24 hours" in body
        url = re.search(r"(http://\S+)", body).group(1)
        assert url.startswith(h.url + RESET + "?token="), url
        assert "evil.example" not in body
        assert use(h, token_of(url), "mailed-pass-12").status_code == 200
        assert can_login(h, "mail@example.com", "mailed-pass-12")
        # the member's budget: 3 mails an hour, then the same answer and no mail
        for _ in range(3):
            r = requests.post(h.url + FORGOT, data={"email": "mail@example.com"},
                              headers={"Origin": h.url})
            assert r.status_code == 200 and SAME in r.text
        assert len(sink.wait(3)) == 3
        sink.wait(4, timeout=2)
        assert len(sink.messages) == 3
        assert h.count_log("SL00902") == 1
        # the address's budget: 10 requests an hour, then 429 for any email
        for _ in range(5):
            requests.post(h.url + FORGOT, data={"email": "x@example.com"},
                          headers={"Origin": h.url})
        r = requests.post(h.url + FORGOT, data={"email": "y@example.com"},
                          headers={"Origin": h.url})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert requests.post(h.url + FORGOT, data={"email": "not an email"},
                             headers={"Origin": h.url}).status_code in (400, 429)


def test_siali_935_08_relay_with_starttls_and_auth_plain(httpd_factory, tmp_path):
    with SmtpSink(tls=True, users={"relay-user": "relay-secret"}) as sink:
        pwfile = tmp_path / "relay.pw"
        pwfile.write_text("relay-secret\n")
        h = httpd_factory(directives="SialiMailRelay %s\nSialiMailFrom labels@example.org\n"
                          "SialiMailUser relay-user\nSialiMailPasswordFile %s\n"
                          "SialiMailCAFile %s" % (sink.relay, pwfile, sink.cert)).start()
        h.signup("tls@example.com")
        r = requests.post(h.url + FORGOT, data={"email": "tls@example.com"},
                          headers={"Origin": h.url})
        assert r.status_code == 200
        msgs = sink.wait(1)
        assert len(msgs) == 1 and msgs[0]["tls"] and msgs[0]["user"] == "relay-user"
        assert sink.auth_in_clear == 0
        assert "relay-secret" not in h.log()


def test_siali_935_09_relay_down_or_off(httpd_factory):
    h = httpd_factory(directives="SialiMailRelay 127.0.0.1:%d\nSialiMailFrom a@example.org"
                      % closed_port(), waive=["SL10030"]).start()
    h.signup("down@example.com")
    r = requests.post(h.url + FORGOT, data={"email": "down@example.com"},
                      headers={"Origin": h.url})
    assert r.status_code == 200 and SAME in r.text
    off = httpd_factory().start()
    assert FORGOT not in requests.get(off.url + "/user/login/").text
    assert requests.get(off.url + FORGOT).status_code == 404
    # the answer went out before the relay was tried; the failure is logged
    import time
    for _ in range(100):
        if h.count_log("SL10030"):
            break
        time.sleep(0.1)
    assert h.count_log("SL10030") == 1
    # a relay without its sender is refused at start
    bad = httpd_factory(directives="SialiMailRelay 127.0.0.1:25")
    out = bad.start(expect_fail=True)
    assert "SialiMailFrom" in out


def test_siali_935_10_who_else_a_link_may_not_serve(httpd_factory):
    """With roles off every member is an administrator, but only the owner
    hands out links; a link never outlives a password change, nor reaches an
    owner it was not made by, nor an account of single sign-on only."""
    h = httpd_factory().start()
    owner, _ = h.signup("owner@example.com")
    admin_api(h, owner)
    eve, _ = h.signup("eve@example.com")
    admin_api(h, eve)
    h.signup("bob@example.com")
    r = eve.post(h.url + "/api/users/%d/reset-link" % uid(h, "bob@example.com"))
    assert r.status_code == 403 and "owner" in r.text, r.text
    # and the page does not offer it to her
    assert "make_reset_links" not in eve.get(h.url + "/people/").text
    assert "make_reset_links" in owner.get(h.url + "/people/").text
    # a password change retires the link made before it
    token = token_of(make_link(h, owner, "bob@example.com")["url"])
    bob = requests.Session()
    bob.post(h.url + "/user/login/", data={"email": "bob@example.com", "password": PW})
    assert bob.post(h.url + "/api/current-user/password", headers={"Origin": h.url}, json={
        "current_password": PW, "new_password": "bobs-own-pass-2"}).status_code == 204
    assert use(h, token, "taken-over-1").status_code == 400
    token = token_of(make_link(h, owner, "bob@example.com")["url"])
    assert h.siali("reset_password", "--username", "bob@example.com", "--password",
                   "shell-pass-123").returncode == 0
    assert use(h, token, "taken-over-1").status_code == 400
    # single sign-on only: no password to reset
    h.sql("UPDATE users SET password = '!' WHERE email = ?", "bob@example.com")
    r = owner.post(h.url + "/api/users/%d/reset-link" % uid(h, "bob@example.com"))
    assert r.status_code == 409 and "single sign-on" in r.text


def test_siali_935_11_a_link_made_for_a_future_owner_dies_with_the_transfer(httpd_factory):
    h = httpd_factory(directives="SialiRoles On").start()
    owner, _ = h.signup("owner@example.com")
    admin_api(h, owner)
    adm, _ = h.signup("adm@example.com")
    admin_api(h, adm)
    h.signup("ann@example.com")
    org = "/api/organizations/1/memberships"
    assert owner.patch(h.url + org, json={"user_id": uid(h, "adm@example.com"), "role": "AD"}) \
        .status_code == 200
    assert owner.patch(h.url + org, json={"user_id": uid(h, "ann@example.com"), "role": "AD"}) \
        .status_code == 200
    by_adm = token_of(make_link(h, adm, "ann@example.com")["url"])
    by_owner_before = token_of(make_link(h, owner, "adm@example.com")["url"])
    assert owner.patch(h.url + org, json={"user_id": uid(h, "ann@example.com"), "role": "OW"}) \
        .status_code == 200
    # ann owns it now: the administrator's link for her is dead
    assert requests.get(h.url + RESET + "?token=" + by_adm).status_code == 400
    assert use(h, by_adm, "taken-over-1").status_code == 400
    assert can_login(h, "ann@example.com", PW)
    # a link for someone else stays good
    assert use(h, by_owner_before, "adm-new-pass-1").status_code == 200
    created = [e for e in owner.get(h.url + "/api/activity-logs/",
                                    params={"event": "reset_link_created"}).json()["data"]]
    assert {e["user_email"] for e in created} == {"adm@example.com", "owner@example.com"}


def test_siali_935_12_a_stalled_relay_holds_no_request(httpd_factory):
    with SmtpSink(stall=30) as sink:
        h = httpd_factory(directives="SialiMailRelay %s\nSialiMailFrom a@example.org"
                          % sink.relay, waive=["SL10030"]).start()
        s, _ = h.signup("stall@example.com")
        s.get(h.url + "/user/logout/")
        # a logged-in member asking for someone's mail is not its actor
        s2, _ = h.signup("asker@example.com")
        for _ in range(3):
            r = s2.post(h.url + FORGOT, data={"email": "stall@example.com"},
                        headers={"Origin": h.url}, timeout=5)
            assert r.status_code == 200
            # the same keep-alive connection answers at once: the relay is
            # talked to elsewhere (a hang here is the bug)
            assert s2.get(h.url + "/api/health", timeout=5).status_code == 200
        ev = [e for e in requests.get(h.url + "/api/activity-logs/", headers={
            "Authorization": "Token " + s2.get(h.url + "/api/current-user/token").json()
            ["token"]}, params={"event": "reset_link_created"}).json()["data"]]
        assert len(ev) == 3 and all(e["user_id"] is None for e in ev), ev
        assert h.sql("SELECT created_by FROM reset_links") == [(0,)]


def test_siali_935_13_forgot_password_from_many_clients_at_once(httpd_factory):
    """Distinct members asking at once each get one working link by mail;
    one member asking eight times at once gets at most the account's budget,
    and the newest link is the one that works."""
    with SmtpSink() as sink:
        h = httpd_factory(directives="SialiMailRelay %s\nSialiMailFrom labels@example.org"
                          % sink.relay).start()
        emails = ["par%d@example.com" % i for i in range(5)]
        for e in emails:
            h.signup(e)

        def ask(e):
            return requests.post(h.url + FORGOT, data={"email": e},
                                 headers={"Origin": h.url}).status_code

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            assert list(pool.map(ask, emails)) == [200] * 5
        msgs = sink.wait(5)
        assert sorted(m["to"][0] for m in msgs) == sorted("<%s>" % e for e in emails)
        assert h.sql("SELECT count(*) FROM reset_links") == [(5,)]
        for m in msgs:
            url = re.search(r"(http://\S+)", m["data"]).group(1)
            assert use(h, token_of(url), "parallel-mail-1").status_code == 200
        # one member, five requests at once (the address has 5 left of 10)
        h.signup("same@example.com")
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            assert list(pool.map(ask, ["same@example.com"] * 5)) == [200] * 5
        mine = [m for m in sink.wait(8) if m["to"] == ["<same@example.com>"]]
        assert len(mine) == 3, len(mine)
        assert h.sql("SELECT count(*) FROM reset_links WHERE user_id = ?",
                     uid(h, "same@example.com")) == [(1,)]
        works = [use(h, token_of(re.search(r"(http://\S+)", m["data"]).group(1)),
                     "newest-wins-1").status_code for m in mine]
        assert works.count(200) == 1, works
