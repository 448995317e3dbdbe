"""JSON endpoints: health, whoami, token, invite link and restricted signup."""
import requests


def login(httpd, email):
    s, r = httpd.signup(email)
    assert r.status_code == 302, r.text
    return s


def test_siali_200_01_health(httpd):
    r = requests.get(httpd.url + "/api/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_siali_200_02_no_anonymous_api(httpd):
    for path in ("/api/current-user/whoami", "/api/invite", "/api/current-user/token"):
        r = requests.get(httpd.url + path)
        assert r.status_code == 401, path
        assert r.json()["status_code"] == 401 and r.json()["detail"]
    r = requests.post(httpd.url + "/api/invite/reset-token")
    assert r.status_code == 401


def test_siali_200_03_token_auth(httpd):
    s = login(httpd, "token.user@example.org")
    token = s.get(httpd.url + "/api/current-user/token").json()["token"]
    assert len(token) == 40 and all(c in "0123456789abcdef" for c in token)
    for hdr in ({"Authorization": "Token " + token}, {"Authorization": "token " + token},
                {"X-Api-Key": token}):
        r = requests.get(httpd.url + "/api/current-user/whoami", headers=hdr)
        assert r.status_code == 200 and r.json()["email"] == "token.user@example.org"
    r = requests.get(httpd.url + "/api/current-user/whoami",
                     headers={"Authorization": "Token nope" + token[4:]})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Token"
    # a bad token with a good cookie is still 401
    r = s.get(httpd.url + "/api/current-user/whoami", headers={"Authorization": "Token x" * 3})
    assert r.status_code == 401
    for bad in ("Token", "Token a b", "Token " + "a" * 300):
        r = requests.get(httpd.url + "/api/current-user/whoami", headers={"Authorization": bad})
        assert r.status_code == 401, bad
    r = s.post(httpd.url + "/api/current-user/reset-token")
    assert r.status_code == 201
    new = r.json()["token"]
    assert new != token
    assert requests.get(httpd.url + "/api/current-user/whoami",
                        headers={"Authorization": "Token " + token}).status_code == 401
    assert requests.get(httpd.url + "/api/current-user/whoami",
                        headers={"Authorization": "Token " + new}).status_code == 200


def test_siali_200_04_invite_reset(httpd):
    s = login(httpd, "inviter@example.org")
    inv = s.get(httpd.url + "/api/invite").json()
    assert inv["invite_url"] == "/user/signup/?token=" + inv["token"]
    r = s.post(httpd.url + "/api/invite/reset-token")
    assert r.status_code == 201
    new = r.json()
    assert new["token"] != inv["token"]
    # old link: refused even though signup is open here; new link works
    _, r = httpd.signup("old.link@example.org", token=inv["token"])
    assert r.status_code == 403
    assert "Signup is restricted" in r.text
    _, r = httpd.signup("new.link@example.org", token=new["token"])
    assert r.status_code == 302


def test_siali_200_05_cross_site_api_write_refused(httpd):
    s = login(httpd, "cross@example.org")
    r = s.post(httpd.url + "/api/invite/reset-token", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = s.post(httpd.url + "/api/invite/reset-token", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    token = s.get(httpd.url + "/api/current-user/token").json()["token"]
    r = requests.post(httpd.url + "/api/invite/reset-token",
                      headers={"Origin": "http://evil.example", "Authorization": "Token " + token})
    assert r.status_code == 201


def test_siali_200_06_not_found_and_method(httpd):
    r = requests.get(httpd.url + "/api/nothing")
    assert r.status_code == 404 and r.json()["status_code"] == 404
    r = requests.delete(httpd.url + "/api/health")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_siali_200_07_restricted_by_directive(httpd_factory):
    h = httpd_factory(directives="SialiDisableSignupWithoutLink On").start()
    # the first account comes from the link too: read it from the database
    token = h.sql("SELECT invite_token FROM organization")[0][0]
    r = requests.get(h.url + "/user/signup/")
    assert r.status_code == 200 and "invitation" in r.text
    _, r = h.signup("no.link@example.org")
    assert r.status_code == 403 and "ask for an invitation link" in r.text
    _, r = h.signup("with.link@example.org", token=token)
    assert r.status_code == 302
    r = requests.post(h.url + "/user/signup/?token=" + token,
                      data={"email": "query.link@example.org", "password": "secret-pass-1"},
                      allow_redirects=False)
    assert r.status_code == 302
    assert h.sql("SELECT count(*) FROM users")[0][0] == 2


def test_siali_200_08_restricted_by_environment(httpd_factory):
    h = httpd_factory(env={"LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}).start()
    _, r = h.signup("env.no.link@example.org")
    assert r.status_code == 403
    # the directive wins over the environment
    h2 = httpd_factory(directives="SialiDisableSignupWithoutLink Off",
                       env={"LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}).start()
    _, r = h2.signup("open@example.org")
    assert r.status_code == 302
