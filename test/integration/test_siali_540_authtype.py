"""AuthType Siali protects other Locations: a static file and a proxied
backend that receives who the caller is."""
import http.server
import json
import os
import threading

import pytest
import requests

from conftest import eventually, free_port


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Echo)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield port
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def protected(httpd_factory, backend):
    h = httpd_factory(modules=("authn_core", "authz_user", "proxy", "proxy_http", "headers"),
                      directives=f"""
Alias /private/ "{{root}}/private/"
<Directory "{{root}}/private">
    Require all granted
</Directory>
<Location /private/>
    SetHandler none
    AuthType Siali
    Require valid-user
</Location>
<Location /backend/>
    SetHandler none
    AuthType Siali
    Require valid-user
    SialiForwardIdentity On
    RequestHeader set X-Remote-User "expr=%{{REMOTE_USER}}"
    ProxyPass http://127.0.0.1:{backend}/
</Location>
<Location /backend-with-credentials/>
    SetHandler none
    AuthType Siali
    Require valid-user
    SialiForwardCredentials On
    ProxyPass http://127.0.0.1:{backend}/
</Location>
""")
    with open(h.conf) as f:
        conf = f.read().replace("{root}", h.root)
    with open(h.conf, "w") as f:
        f.write(conf)
    os.makedirs(os.path.join(h.root, "private"))
    with open(os.path.join(h.root, "private", "secret.txt"), "w") as f:
        f.write("only for members\n")
    return h.start()


def test_siali_540_01_static_file(protected):
    h = protected
    url = h.url + "/private/secret.txt"
    r = requests.get(url, allow_redirects=False)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Token"
    r = requests.get(url, headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == "/user/login/?next=%2fprivate%2fsecret.txt"
    s, _ = h.signup("member@example.org")
    r = s.get(url)
    assert r.status_code == 200 and r.text == "only for members\n"
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    assert requests.get(url, headers={"Authorization": "Token " + token}).status_code == 200
    assert requests.get(url, headers={"Authorization": "Token nope-nope"}).status_code == 401
    uid = s.get(h.url + "/api/current-user/whoami").json()["id"]
    h.sql("UPDATE users SET is_active = 0 WHERE id = ?", uid)
    assert eventually(lambda: s.get(url, allow_redirects=False).status_code,
                      lambda c: c in (302, 401)) in (302, 401)
    h.sql("UPDATE users SET is_active = 1 WHERE id = ?", uid)


def test_siali_540_02_proxied_backend_gets_identity(protected):
    h = protected
    s, _ = h.signup("proxied@example.org")
    me = s.get(h.url + "/api/current-user/whoami").json()
    forged = {"X-Siali-User-Id": "1", "X-Siali-User-Email": "boss@example.org"}
    seen = s.get(h.url + "/backend/anything", headers=forged).json()
    assert seen["x-siali-user-id"] == str(me["id"])
    assert seen["x-siali-user-email"] == "proxied@example.org"
    assert seen["x-remote-user"] == "proxied@example.org"
    # unauthenticated forgers never reach the backend
    r = requests.get(h.url + "/backend/anything", headers=forged, allow_redirects=False)
    assert r.status_code == 401


def test_siali_540_03_cross_site_and_underscore_spoofs(protected):
    h = protected
    s, _ = h.signup("guarded@example.org")
    r = s.post(h.url + "/backend/write", headers={"Sec-Fetch-Site": "cross-site"},
               allow_redirects=False)
    assert r.status_code == 403
    r = s.post(h.url + "/backend/write", headers={"Origin": "https://evil.example"},
               allow_redirects=False)
    assert r.status_code == 403
    seen = s.get(h.url + "/backend/x", headers={"X_Siali_User_Id": "999",
                                                "X-Siali_User_Email": "boss@example.org"}).json()
    assert "x_siali_user_id" not in seen and "x-siali_user_email" not in seen
    assert seen["x-siali-user-email"] == "guarded@example.org"


def test_siali_540_04_backend_never_gets_the_credentials(protected):
    """The backend learns who the caller is, not how to act as them: the
    session cookie, "Authorization: Token" / "Bearer" and X-Api-Key are removed after
    authenticating; other cookies stay. SialiForwardCredentials On keeps them."""
    h = protected
    s, _ = h.signup("keeps-secrets@example.org")
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    session = s.cookies["siali_session"]
    s.cookies.set("theme", "dark")
    seen = s.get(h.url + "/backend/anything").json()
    assert session not in seen.get("cookie", "") and "theme=dark" in seen["cookie"]
    assert seen["x-siali-user-email"] == "keeps-secrets@example.org"
    for header in ({"Authorization": "Token " + token}, {"X-Api-Key": token},
                   {"Authorization": "Bearer " + token}):
        seen = requests.get(h.url + "/backend/anything", headers=header).json()
        assert token not in str(seen), seen
        assert seen["x-remote-user"] == "keeps-secrets@example.org"
    # a personal access token's access token admits too, and is removed
    pat = s.post(h.url + "/api/token/").json()["token"]
    access = requests.post(h.url + "/api/token/refresh/", json={"refresh": pat}).json()["access"]
    for header in ({"Authorization": "Bearer " + access}, {"X-Api-Key": access}):
        seen = requests.get(h.url + "/backend/anything", headers=header).json()
        assert access not in str(seen), seen
        assert seen["x-remote-user"] == "keeps-secrets@example.org"
    # the PAT itself is no access token
    r = requests.get(h.url + "/backend/anything", headers={"Authorization": "Bearer " + pat},
                     allow_redirects=False)
    assert r.status_code == 401
    # another scheme is the backend's own business
    seen = requests.get(h.url + "/backend/anything", cookies={"siali_session": session},
                        headers={"Authorization": "Basic Zm9vOmJhcg=="}).json()
    assert seen["authorization"] == "Basic Zm9vOmJhcg==" and "siali_session" not in str(seen)
    seen = s.get(h.url + "/backend-with-credentials/x").json()
    assert session in seen["cookie"]
    seen = requests.get(h.url + "/backend-with-credentials/x",
                        headers={"Authorization": "Token " + token}).json()
    assert seen["authorization"] == "Token " + token
