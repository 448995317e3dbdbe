"""Configuration errors stop httpd at start; cookies are Secure over TLS."""
import os
import subprocess

import requests

from conftest import MODULES


def test_siali_310_01_unwritable_database_stops_httpd(httpd_factory):
    h = httpd_factory(db="/proc/siali-nowhere/siali.db")
    out = h.start(expect_fail=True)
    assert "DBDParams" in out and "/proc/siali-nowhere/siali.db" in out


def test_siali_310_02_no_database_configured_stops_httpd(httpd_factory):
    h = httpd_factory()
    with open(h.conf) as f:
        conf = f.read()
    conf = "\n".join(l for l in conf.splitlines() if not l.startswith("DBD"))
    with open(h.conf, "w") as f:
        f.write(conf)
    out = h.start(expect_fail=True)
    assert "DBDriver" in out and "DBDParams" in out


def test_siali_310_03_secure_cookie_over_tls(httpd_factory):
    h = httpd_factory()
    key, crt = os.path.join(h.root, "key.pem"), os.path.join(h.root, "crt.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    with open(h.conf, "a") as f:
        f.write(f"""
LoadModule socache_shmcb_module {MODULES}/mod_socache_shmcb.so
LoadModule ssl_module {MODULES}/mod_ssl.so
SSLEngine on
SSLCertificateFile "{crt}"
SSLCertificateKeyFile "{key}"
""")
    h.url = h.url.replace("http://", "https://")
    h.start()
    r = requests.post(h.url + "/user/signup/", verify=crt, allow_redirects=False,
                      data={"email": "tls@example.org", "password": "secret-pass-1"})
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_siali_310_04_virtual_host_inherits_what_it_does_not_say(httpd_factory):
    """The core's settings table merges per setting: a virtual host keeps
    the main server's values except those it gives itself."""
    from conftest import free_port
    port2 = free_port()
    h = httpd_factory(directives=f"""
SialiPasswordMinLength 12
SialiSessionMaxAge 2h
Listen 127.0.0.1:{port2}
<VirtualHost 127.0.0.1:{port2}>
  SialiPasswordMinLength 20
  SialiAvatarMaxPixels 256
</VirtualHost>
""", waive=("AH02653",)).start()
    other = "http://127.0.0.1:%d" % port2
    pw15, pw21 = "fifteen-chars-1", "twenty-one-characters"
    # main server: 12 is enough
    s, r = h.signup("main@example.org", pw15)
    assert r.status_code == 302, r.text[:300]
    # the virtual host's own minimum
    r = requests.post(other + "/user/signup/", data={"email": "v@example.org",
                                                     "password": pw15},
                      allow_redirects=False)
    assert r.status_code == 400 and "20" in r.text, r.text[:300]
    vs = requests.Session()
    r = vs.post(other + "/user/signup/", data={"email": "v@example.org", "password": pw21},
                allow_redirects=False)
    assert r.status_code == 302, r.text[:300]
    # what it did not say is the main server's: a kept session lasts 2h
    r = requests.post(other + "/user/login/", data={"email": "v@example.org",
                                                    "password": pw21,
                                                    "persist_session": "1"},
                      allow_redirects=False)
    assert r.status_code == 302, r.text[:300]
    assert "Max-Age=7200" in r.headers["Set-Cookie"], r.headers["Set-Cookie"]
    # and what it said stays its own
    assert 'data-avatar-max-px="256"' in vs.get(other + "/user/account/").text
    assert 'data-avatar-max-px="512"' in s.get(h.url + "/user/account/").text
    h.stop()
    assert not h.bad_log_lines()
