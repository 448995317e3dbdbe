"""Every unsafe route of the module's route table passes the cross-site
check: the test reads the table from the source, so a new route that is
not covered fails here."""
import os
import re

import requests

from conftest import SRC

ROUTE = re.compile(r'\{\s*"(/[^"]*|)",\s*([^,]+),\s*(siali_\w+),\s*([^,]+),', re.S)


def unsafe_routes():
    with open(os.path.join(SRC, "mod_siali", "mod_siali.c")) as f:
        text = f.read()
    table = text[text.index("routes[] = {"):]
    table = table[:table.index("{ NULL")]
    found = []
    for path, methods, fn, flags in ROUTE.findall(table):
        for m in ("POST", "PUT", "PATCH", "DELETE"):
            if "M(%s)" % m in methods:
                found.append((m, path.replace("*", "1") + "/"))
    return found


def test_siali_510_01_route_table_is_read():
    routes = unsafe_routes()
    assert ("POST", "/api/invite/reset-token/") in routes
    assert ("POST", "/logout/") in routes
    assert len(routes) >= 5


def test_siali_510_02_every_unsafe_route_refuses_cross_site(httpd):
    s, r = httpd.signup("walker@example.org")
    assert r.status_code == 302
    for method, path in unsafe_routes():
        for hdr in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}):
            r = s.request(method, httpd.url + path, headers=hdr, allow_redirects=False,
                          data={"email": "x@example.org", "password": "secret-pass-1"})
            assert r.status_code == 403, (method, path, hdr, r.status_code)
    # still logged in: the refused logout did nothing
    assert s.get(httpd.url + "/api/current-user/whoami").status_code == 200


def test_siali_510_03_trusted_origin(httpd_factory):
    h = httpd_factory(directives="SialiTrustedOrigin https://labels.example.org").start()
    s, r = h.signup("proxy@example.org")
    r = s.post(h.url + "/api/invite/reset-token", headers={"Origin": "https://labels.example.org"})
    assert r.status_code == 201
    r = s.post(h.url + "/api/invite/reset-token", headers={"Origin": "https://other.example.org"})
    assert r.status_code == 403
