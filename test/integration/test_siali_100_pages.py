"""Sign up, log in, log out, redirects: the HTML pages of docs/api.md."""
import concurrent.futures
import re

import requests


def test_siali_100_01_signup_page_is_a_real_form(httpd):
    r = requests.get(httpd.url + "/user/signup/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in r.text
    assert re.search(r'<label for="email">', r.text)
    assert re.search(r'<input id="email" name="email"[^>]*autofocus', r.text)
    assert 'name="password" type="password"' in r.text
    # served without a trailing slash too, without a redirect
    assert requests.get(httpd.url + "/user/signup", allow_redirects=False).status_code == 200


def test_siali_100_02_signup_logs_in_with_a_safe_cookie(httpd):
    s, r = httpd.signup("First.Person@Example.ORG")
    assert r.status_code == 302
    assert r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("siali_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    me = s.get(httpd.url + "/api/current-user/whoami").json()
    assert me["email"] == "first.person@example.org"
    assert me["username"] == "First.Person".lower() or me["username"] == "first.person"
    assert me["active_organization"] == 1
    assert me["last_activity"] is not None
    # only a hash of the cookie value is stored
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) == 43
    rows = httpd.sql("SELECT id_hash FROM sessions")
    assert all(value not in row[0] for row in rows)
    # / now goes to People
    r = s.get(httpd.url + "/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/people/"


def test_siali_100_03_validation_errors_beside_the_field(httpd):
    _, r = httpd.signup("not-an-email", "short")
    assert r.status_code == 400
    assert 'id="email-error"' in r.text and 'id="password-error"' in r.text
    assert "at least 8 characters" in r.text
    assert 'value="not-an-email"' in r.text
    _, r = httpd.signup("x@example.org", "a" * 129)
    assert r.status_code == 400 and "at most 128" in r.text
    # 8 code points of Unicode are enough; bytes do not count
    _, r = httpd.signup("unicode@example.org", "ééééé密码é")
    assert r.status_code == 302
    assert httpd.sql("SELECT count(*) FROM users WHERE email='x@example.org'")[0][0] == 0


def test_siali_100_04_duplicate_email(httpd):
    _, r = httpd.signup("dup@example.org")
    assert r.status_code == 302
    _, r = httpd.signup("DUP@example.org")
    assert r.status_code == 400
    assert "already exists" in r.text


def test_siali_100_05_username_gets_a_suffix(httpd):
    httpd.signup("same@a.example")
    s, r = httpd.signup("same@b2.example")
    assert r.status_code == 302
    assert s.get(httpd.url + "/api/current-user/whoami").json()["username"] == "same2"


def test_siali_100_06_login_by_email_or_username(httpd):
    httpd.signup("login.me@example.org", "correct horse")
    for who in ("LOGIN.ME@example.org", "Login.Me"):
        s = requests.Session()
        r = s.post(httpd.url + "/user/login/", data={"email": who, "password": "correct horse"},
                   allow_redirects=False)
        assert r.status_code == 302, who
        assert s.get(httpd.url + "/api/current-user/whoami").status_code == 200


def test_siali_100_07_bad_credentials_same_message(httpd):
    msg = "The email and password you entered don&#39;t match."
    for who in ("login.me@example.org", "nobody@example.org"):
        r = requests.post(httpd.url + "/user/login/", data={"email": who, "password": "nope-nope"},
                          allow_redirects=False)
        assert r.status_code == 400
        assert msg in r.text or "don't match" in r.text
        assert "Set-Cookie" not in r.headers


def test_siali_100_08_login_rotates_the_session(httpd):
    s = requests.Session()
    s.post(httpd.url + "/user/login/", data={"email": "login.me", "password": "correct horse"})
    old = s.cookies["siali_session"]
    s.post(httpd.url + "/user/login/", data={"email": "login.me", "password": "correct horse"})
    new = s.cookies["siali_session"]
    assert old != new
    r = requests.get(httpd.url + "/api/current-user/whoami", cookies={"siali_session": old})
    assert r.status_code == 401


def test_siali_100_09_next_only_on_this_server(httpd):
    good = {"/people/": "/people/", "/user/account/?x=1": "/user/account/?x=1"}
    bad = ["//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fevil",
           "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1"]
    for nxt, want in list(good.items()) + [(b, "/") for b in bad]:
        r = requests.post(httpd.url + "/user/login/", params={"next": nxt},
                          data={"email": "login.me", "password": "correct horse"},
                          allow_redirects=False)
        assert r.status_code == 302, nxt
        assert r.headers["Location"] == want, nxt


def test_siali_100_10_logout(httpd):
    s = requests.Session()
    s.post(httpd.url + "/user/login/", data={"email": "login.me", "password": "correct horse"})
    cookie = s.cookies["siali_session"]
    # a GET from elsewhere only shows a button
    r = s.get(httpd.url + "/logout/", allow_redirects=False)
    assert r.status_code == 200 and "<form method=\"post\"" in r.text
    assert s.get(httpd.url + "/api/current-user/whoami").status_code == 200
    r = s.post(httpd.url + "/logout/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/login/"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    r = requests.get(httpd.url + "/api/current-user/whoami", cookies={"siali_session": cookie})
    assert r.status_code == 401
    # a same-origin GET logs out too
    s.post(httpd.url + "/user/login/", data={"email": "login.me", "password": "correct horse"})
    r = s.get(httpd.url + "/logout/", headers={"Sec-Fetch-Site": "same-origin"},
              allow_redirects=False)
    assert r.status_code == 302
    assert s.get(httpd.url + "/api/current-user/whoami").status_code == 401


def test_siali_100_11_anonymous_root_and_pages(httpd):
    r = requests.get(httpd.url + "/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/login/"
    r = requests.get(httpd.url + "/people/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/user/login/?next=")


def test_siali_100_12_bad_bodies(httpd):
    u = httpd.url + "/user/signup/"
    r = requests.post(u, data=b"email=a%40b.example&password=" + b"x" * 20000,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = requests.post(u, json={"email": "a@bad.example"})
    assert r.status_code == 415
    r = requests.post(u, data=b"email=nul%00@bad.example&password=secret-pass-1",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    r = requests.post(u, data=b"email=%ff%fe@bad.example&password=secret-pass-1",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert httpd.sql("SELECT email FROM users WHERE email LIKE '%bad.example'") == []


def test_siali_100_13_cross_site_form_posts_refused(httpd):
    data = {"email": "csrf@example.org", "password": "secret-pass-1"}
    r = requests.post(httpd.url + "/user/signup/", data=data,
                      headers={"Sec-Fetch-Site": "cross-site"}, allow_redirects=False)
    assert r.status_code == 403
    r = requests.post(httpd.url + "/user/signup/", data=data,
                      headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert r.status_code == 403
    r = requests.post(httpd.url + "/user/signup/", data=data,
                      headers={"Origin": httpd.url}, allow_redirects=False)
    assert r.status_code == 302


def test_siali_100_14_parallel_signups_one_email(httpd):
    def one(_):
        return requests.post(httpd.url + "/user/signup/",
                             data={"email": "race@example.org", "password": "secret-pass-1"},
                             allow_redirects=False).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(one, range(20)))
    assert codes.count(302) == 1, codes
    assert all(c in (302, 400) for c in codes), codes
    assert httpd.sql("SELECT count(*) FROM users WHERE email='race@example.org'")[0][0] == 1


def test_siali_100_30_escaped_nul_in_a_form_is_refused_not_cut(httpd):
    """"%00" in a form field is a 400 page, never a value cut at
    the NUL (which signed up "cut@example.org" for "cut@example.org%00x")."""
    for path in ("/user/signup/", "/user/login/"):
        r = requests.post(httpd.url + path, allow_redirects=False,
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          data="email=cut%40example.org%00x&password=secret-pass-1")
        assert r.status_code == 400, (path, r.status_code)
        assert "could not be read" in r.text
    assert httpd.sql("SELECT count(*) FROM users WHERE email = ?", "cut@example.org") == [(0,)]
