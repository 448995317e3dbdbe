"""Two-factor login (sl_twofactor.h): enrolment on Account & Settings, the
login's second step (a pending login that is no session), replay refused,
one step of drift either way, the throttle (5 wrong codes, then 429),
recovery codes, disabling with password and code, SialiRequireTwoFactor, the
CLI's way back, and many clients with one code at once."""
import base64
import concurrent.futures
import hashlib
import hmac
import re
import struct
import time

import requests

PAGE = "/user/login/two-factor/"
API = "/api/current-user/two-factor"
PW = "secret-pass-1"


def totp(secret, t=None, step=30):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if t is None else t) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def away_from_step_edge():
    """A code computed now is still the server's current one when it arrives."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)


def forget_steps(h):
    """As if no code had been used yet (enrolment spent the current step):
    the next code of this step is good once, without waiting 30 s."""
    h.sql("UPDATE user_totp SET last_step = 0")


def api(h, s):
    s.headers["Origin"] = h.url
    return s


def enrol(h, email):
    """A member with two-factor login on: (session, secret, recovery codes)."""
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    api(h, s)
    setup = s.post(h.url + API + "/setup")
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    away_from_step_edge()
    r = s.post(h.url + API + "/enable", json={"code": totp(secret), "password": PW})
    assert r.status_code == 200, r.text
    return s, secret, r.json()["recovery_codes"]


def first_step(h, email, password=PW):
    s = requests.Session()
    r = s.post(h.url + "/user/login/", data={"email": email, "password": password},
               allow_redirects=False)
    return s, r


def second_step(h, s, code):
    return s.post(h.url + PAGE, data={"code": code}, headers={"Origin": h.url},
                  allow_redirects=False)


def test_siali_930_01_enrol_then_login_needs_the_code(httpd_factory):
    h = httpd_factory().start()
    s, r = h.signup("ann@example.com")
    api(h, s)
    assert s.get(h.url + API).json() == {"enabled": False, "required": False,
                                         "recovery_codes_left": 0}
    setup = s.post(h.url + API + "/setup").json()
    assert re.fullmatch(r"[A-Z2-7]{32}", setup["secret"])
    assert setup["otpauth_uri"].startswith("otpauth://totp/Siali%20Label:ann%40example.com?")
    assert "secret=" + setup["secret"] in setup["otpauth_uri"]
    assert setup["qr_svg"].startswith("<svg") or "<svg" in setup["qr_svg"]
    # a wrong first code: nothing turned on
    r = s.post(h.url + API + "/enable", json={"code": "000000" if totp(setup["secret"]) !=
                                              "000000" else "111111", "password": PW})
    assert r.status_code == 400 and r.json()["validation_errors"]["code"], r.text
    assert "recovery" not in r.text     # there are none yet
    assert s.get(h.url + API).json()["enabled"] is False
    away_from_step_edge()
    # the password too, not only the code
    r = s.post(h.url + API + "/enable", json={"code": totp(setup["secret"])})
    assert r.status_code == 400 and "password" in r.json()["validation_errors"], r.text
    r = s.post(h.url + API + "/enable", json={"code": totp(setup["secret"]),
                                              "password": "wrong-pass-1"})
    assert r.status_code == 400 and "password" in r.json()["validation_errors"], r.text
    # an API token may not change the second factor (it may use the API)
    token = s.get(h.url + API.replace("two-factor", "token")).json()["token"]
    for path, body in (("/setup", None), ("/enable", {"code": totp(setup["secret"]),
                                                      "password": PW}),
                       ("/disable", {"code": "x", "password": PW})):
        r = requests.post(h.url + API + path, json=body,
                          headers={"Authorization": "Token " + token})
        assert r.status_code == 403 and "browser session" in r.text, (path, r.text)
    assert requests.get(h.url + API, headers={"Authorization": "Token " + token}) \
        .status_code == 200
    r = s.post(h.url + API + "/enable", json={"code": totp(setup["secret"]), "password": PW})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", c) for c in codes)
    assert s.get(h.url + API).json() == {"enabled": True, "required": False,
                                         "recovery_codes_left": 10}
    # stored hashed: no code in the database
    rows = h.sql("SELECT code_hash FROM totp_recovery")
    assert len(rows) == 10 and not any(c.replace("-", "") in str(rows) for c in codes)
    # on already: no second setup
    assert s.post(h.url + API + "/setup").status_code == 409
    # login: the password gives a pending login, not a session
    b, r = first_step(h, "ann@example.com")
    assert r.status_code == 302 and r.headers["Location"].endswith(PAGE), r.headers
    assert "siali_session" not in b.cookies
    pending = b.cookies["siali_2fa"]
    cookie = [c for c in r.headers["Set-Cookie"].split(", ") if "siali_2fa" in c][0]
    assert "HttpOnly" in cookie and "Max-Age=300" in cookie and "Path=" + PAGE in cookie
    assert b.get(h.url + "/api/current-user/whoami").status_code == 401
    # the pending cookie is no session cookie either
    assert requests.get(h.url + "/api/current-user/whoami",
                        cookies={"siali_session": pending}).status_code == 401
    page = b.get(h.url + PAGE)
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    # a wrong code: the page again with the error, and an event
    r = second_step(h, b, "123456" if totp(setup["secret"]) != "123456" else "654321")
    assert r.status_code == 400 and "not right" in r.text
    forget_steps(h)
    away_from_step_edge()
    code = totp(setup["secret"])
    r = second_step(h, b, code)
    assert r.status_code == 302, r.text
    assert b.get(h.url + "/api/current-user/whoami").json()["email"] == "ann@example.com"
    assert "siali_2fa" not in b.cookies
    # the same code again, in a new login within its window: a replay
    c, _ = first_step(h, "ann@example.com")
    r = second_step(h, c, code)
    assert r.status_code == 400 and "used already" in r.text
    assert c.get(h.url + "/api/current-user/whoami").status_code == 401
    # API tokens are unaffected
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    assert requests.get(h.url + "/api/current-user/whoami", headers={
        "Authorization": "Token " + token}).status_code == 200
    ev = [e["event"] for e in s.get(h.url + "/api/current-user/activity").json()["data"]]
    assert "2fa_enabled" in ev and ev.count("2fa_failed") >= 2
    assert h.count_log("SL40008") == 4


def test_siali_930_02_one_step_of_drift_either_way(httpd_factory):
    h = httpd_factory().start()
    s, secret, _ = enrol(h, "drift@example.com")
    for shift, ok in ((-90, False), (90, False), (-30, True), (30, True)):
        forget_steps(h)
        away_from_step_edge()
        b, _ = first_step(h, "drift@example.com")
        r = second_step(h, b, totp(secret, time.time() + shift))
        assert (r.status_code == 302) == ok, (shift, r.status_code, r.text)


def test_siali_930_03_five_wrong_codes_then_429(httpd_factory):
    h = httpd_factory().start()
    s, secret, codes = enrol(h, "guess@example.com")
    b, _ = first_step(h, "guess@example.com")
    wrong = [c for c in ("111111", "222222", "333333", "444444", "555555", "666666", "777777")
             if c != totp(secret)]
    for c in wrong[:5]:
        assert second_step(h, b, c).status_code == 400
    r = second_step(h, b, wrong[5])
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # while throttled, even the right code (or a recovery code) waits
    away_from_step_edge()
    assert second_step(h, b, totp(secret)).status_code == 429
    assert second_step(h, b, codes[0]).status_code == 429
    # a new password step does not reset what the guessing cost
    b2, r = first_step(h, "guess@example.com")
    assert r.status_code == 302
    assert second_step(h, b2, totp(secret)).status_code == 429
    assert h.count_log("SL40009") == 4


def test_siali_930_04_recovery_codes_once_each(httpd_factory):
    h = httpd_factory().start()
    s, secret, codes = enrol(h, "lost@example.com")
    b, _ = first_step(h, "lost@example.com")
    r = second_step(h, b, codes[3].upper().replace("-", " "))
    assert r.status_code == 302, r.text
    c, _ = first_step(h, "lost@example.com")
    r = second_step(h, c, codes[3])
    assert r.status_code == 400
    assert s.get(h.url + API).json()["recovery_codes_left"] == 9
    assert h.sql("SELECT count(*) FROM totp_recovery WHERE used_at IS NOT NULL") == [(1,)]


def test_siali_930_05_pending_login_expires_and_follows_the_account(httpd_factory):
    h = httpd_factory().start()
    s, secret, codes = enrol(h, "pend@example.com")
    # expired
    b, _ = first_step(h, "pend@example.com")
    h.sql("UPDATE login_pending SET expires_at = 1")
    r = second_step(h, b, codes[0])
    assert r.status_code == 400 and "log in again" in r.text
    assert b.get(h.url + PAGE).status_code == 400
    # the password changed meanwhile
    b, _ = first_step(h, "pend@example.com")
    assert h.siali("reset_password", "--username", "pend@example.com", "--password",
                   "other-pass-9").returncode == 0
    assert second_step(h, b, codes[0]).status_code == 400
    # no cookie, a made-up cookie
    assert requests.get(h.url + PAGE).status_code == 400
    assert requests.post(h.url + PAGE, data={"code": codes[0]}, headers={"Origin": h.url},
                         cookies={"siali_2fa": "x" * 43}).status_code == 400
    # (the password reset ended every session: the database says it)
    assert h.sql("SELECT count(*) FROM totp_recovery WHERE used_at IS NULL") == [(10,)]
    # a form from another site is refused before anything is looked at
    b, _ = first_step(h, "pend@example.com", "other-pass-9")
    r = b.post(h.url + PAGE, data={"code": codes[0]}, headers={"Origin": "https://evil.example"},
               allow_redirects=False)
    assert r.status_code == 403


def test_siali_930_06_disable_needs_password_and_code(httpd_factory):
    h = httpd_factory().start()
    s, secret, codes = enrol(h, "off@example.com")
    r = s.post(h.url + API + "/disable", json={"password": "wrong-pass", "code": codes[0]})
    assert r.status_code == 400 and "password" in r.json()["validation_errors"], r.text
    r = s.post(h.url + API + "/disable", json={"password": PW, "code": "abcde-fghij"})
    assert r.status_code == 400 and "code" in r.json()["validation_errors"], r.text
    assert s.post(h.url + API + "/disable", json={"password": PW}).status_code == 400
    assert s.post(h.url + API + "/disable", json={"password": PW, "code": 5}).status_code == 400
    assert s.get(h.url + API).json()["enabled"] is True
    r = s.post(h.url + API + "/disable", json={"password": PW, "code": codes[1]})
    assert r.status_code == 204, r.text
    assert s.get(h.url + API).json() == {"enabled": False, "required": False,
                                         "recovery_codes_left": 0}
    assert s.post(h.url + API + "/disable", json={"password": PW, "code": codes[2]}) \
        .status_code == 409
    b, r = first_step(h, "off@example.com")
    assert r.status_code == 302 and not r.headers["Location"].endswith(PAGE)
    ev = [e["event"] for e in s.get(h.url + "/api/current-user/activity").json()["data"]]
    assert "2fa_disabled" in ev


def test_siali_930_07_required_enrols_at_login(httpd_factory):
    h = httpd_factory(directives="SialiRequireTwoFactor On").start()
    s, r = h.signup("req@example.com")
    b, r = first_step(h, "req@example.com")
    assert r.status_code == 302 and r.headers["Location"].endswith(PAGE)
    page = b.get(h.url + PAGE)
    assert page.status_code == 200 and "<svg" in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    # a reload shows the same secret: what the app scanned stays good
    assert secret in b.get(h.url + PAGE).text
    assert second_step(h, b, "12345").status_code == 400
    away_from_step_edge()
    r = second_step(h, b, totp(secret))
    assert r.status_code == 200, r.text
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", r.text)
    assert len(codes) == 10
    api(h, b)
    assert b.get(h.url + API).json() == {"enabled": True, "required": True,
                                         "recovery_codes_left": 10}
    r = b.post(h.url + API + "/disable", json={"password": PW, "code": codes[0]})
    assert r.status_code == 403
    # the next login asks for a code, not a new setup
    c, r = first_step(h, "req@example.com")
    assert "<svg" not in c.get(h.url + PAGE).text
    assert second_step(h, c, codes[0]).status_code == 302


def test_siali_930_08_cli_disable_is_the_way_back(httpd_factory):
    h = httpd_factory().start()
    s, secret, codes = enrol(h, "phone@example.com")
    b, _ = first_step(h, "phone@example.com")
    r = h.siali("twofactor", "disable", "--username", "phone@example.com")
    assert r.returncode == 0 and "disabled for phone@example.com" in r.stdout, r.stderr
    # the login that waited for a code is gone with it
    assert second_step(h, b, codes[0]).status_code == 400
    r = h.siali("twofactor", "disable", "--username", "phone@example.com")
    assert r.returncode == 1 and "not on" in r.stderr
    assert h.siali("twofactor", "--username", "x").returncode == 2
    b, r = first_step(h, "phone@example.com")
    assert r.status_code == 302 and not r.headers["Location"].endswith(PAGE)


def test_siali_930_09_one_code_many_clients_at_once(httpd_factory):
    h = httpd_factory(directives="SialiLoginThrottle 1000 60").start()
    s, secret, codes = enrol(h, "race@example.com")
    others = [enrol(h, "race%d@example.com" % i)[1] for i in range(4)]
    # eight pending logins of one member, one code sent by all at once
    browsers = [first_step(h, "race@example.com")[0] for _ in range(8)]
    forget_steps(h)
    away_from_step_edge()
    code = totp(secret)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda b: second_step(h, b, code).status_code, browsers))
    # the others are replays, refused (and counted as wrong codes: the
    # sixth of them on, 429)
    assert results.count(302) == 1 and set(results) <= {302, 400, 429}, results
    h.sql("DELETE FROM login_failures")
    # one pending login, sent eight times with a recovery code: one session
    b, _ = first_step(h, "race@example.com")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: second_step(h, b, codes[0]).status_code, range(8)))
    assert results.count(302) == 1 and set(results) <= {302, 400, 429}, results
    # distinct members at once: every one gets in
    pend = [(first_step(h, "race%d@example.com" % i)[0], sec) for i, sec in enumerate(others)]
    forget_steps(h)
    away_from_step_edge()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda a: second_step(h, a[0], totp(a[1])).status_code, pend))
    assert results == [302] * 4, results
    uid = h.sql("SELECT id FROM users WHERE email = ?", "race@example.com")[0][0]
    assert h.sql("SELECT count(*) FROM sessions WHERE user_id = ?", uid) == [(3,)]


def test_siali_930_10_counters_kept_apart_and_cleared(httpd_factory):
    h = httpd_factory().start()
    s, secret, codes = enrol(h, "keep@example.com")
    # a stolen session guessing the password at /disable: its own budget
    # (the password change's), never the member's codes
    for i in range(10):
        assert s.post(h.url + API + "/disable", json={"password": "guess-%d" % i,
                                                      "code": "000000"}).status_code == 400
    r = s.post(h.url + API + "/disable", json={"password": "guess-x", "code": "000000"})
    assert r.status_code == 429, r.text
    assert h.sql("SELECT count(*) FROM login_failures WHERE subject LIKE 'totp:%' "
                 "AND failures > 0") == [(0,)]
    # the member, from another address (here: the address's counter forgotten)
    h.sql("DELETE FROM login_failures WHERE kind = 'address'")
    b, _ = first_step(h, "keep@example.com")
    r = second_step(h, b, codes[0])
    assert r.status_code == 302, r.text
    # failed passwords before a login that completes its second step are
    # cleared with it, as after a login without one
    for _ in range(3):
        assert first_step(h, "keep@example.com", "wrong-pass-1")[1].status_code == 400
    b, _ = first_step(h, "keep@example.com")
    assert h.sql("SELECT count(*) FROM login_failures WHERE subject LIKE 'login:%' "
                 "AND failures > 0") == [(1,)]
    assert second_step(h, b, codes[1]).status_code == 302
    assert h.sql("SELECT count(*) FROM login_failures WHERE subject LIKE 'login:%' "
                 "AND failures > 0") == [(0,)]
    # a form too large or of the wrong type: the statuses of the login page
    b, _ = first_step(h, "keep@example.com")
    r = b.post(h.url + PAGE, data={"code": "x" * 200000}, headers={"Origin": h.url})
    assert r.status_code == 413
    r = b.post(h.url + PAGE, json={"code": "1"}, headers={"Origin": h.url})
    assert r.status_code == 415


def test_siali_930_11_enable_from_many_clients_at_once(httpd_factory):
    """One member's enable sent eight times at once (one session, one code):
    one turns it on with one set of codes; distinct members at once all do."""
    h = httpd_factory(directives="SialiLoginThrottle 1000 60").start()
    s, _ = h.signup("twice@example.com")
    api(h, s)
    secret = s.post(h.url + API + "/setup").json()["secret"]
    away_from_step_edge()
    code = totp(secret)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        rs = list(pool.map(lambda _: s.post(h.url + API + "/enable",
                                            json={"code": code, "password": PW}), range(8)))
    codes = [r.status_code for r in rs]
    assert codes.count(200) == 1 and set(codes) <= {200, 400, 409}, codes
    assert h.sql("SELECT count(*) FROM totp_recovery") == [(10,)]
    given = [c for r in rs if r.status_code == 200 for c in r.json()["recovery_codes"]]
    b, _ = first_step(h, "twice@example.com")
    assert second_step(h, b, given[0]).status_code == 302
    members = []
    for i in range(6):
        m, _ = h.signup("many%d@example.com" % i)
        api(h, m)
        members.append((m, m.post(h.url + API + "/setup").json()["secret"]))
    away_from_step_edge()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda ms: ms[0].post(h.url + API + "/enable", json={
            "code": totp(ms[1]), "password": PW}).status_code, members))
    assert codes == [200] * 6, codes
    assert h.sql("SELECT count(*) FROM user_totp WHERE confirmed = 1") == [(7,)]
    assert h.sql("SELECT count(*) FROM totp_recovery") == [(70,)]
