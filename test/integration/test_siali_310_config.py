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
