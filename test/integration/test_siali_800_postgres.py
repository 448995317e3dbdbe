"""The same module on PostgreSQL: a throw-away cluster on 127.0.0.1, the
schema migrated by httpd, the main flows through the API. Several nodes
share one database in production; here two httpd share it."""

# PostgreSQL is what these tests are about: they start it themselves
DRIVERS = ("sqlite",)
import subprocess

import requests

from conftest import on_pg


def test_siali_800_01_flows_on_postgres(pg, httpd_factory):
    a = on_pg(httpd_factory, pg)
    b = on_pg(httpd_factory, pg)          # a second node on the same database
    s, r = a.signup("pg.owner@example.org")
    assert r.status_code == 302
    t, r = b.signup("pg.two@example.org")
    assert r.status_code == 302
    # a session made on one node works on the other
    cookie = s.cookies["siali_session"]
    me = requests.get(b.url + "/api/current-user/whoami", cookies={"siali_session": cookie}).json()
    assert me["email"] == "pg.owner@example.org"
    two = t.get(b.url + "/api/current-user/whoami").json()
    r = s.patch(a.url + "/api/users/%d" % two["id"], json={"first_name": "Zed", "username": "zed.two"})
    assert r.status_code == 200 and r.json()["initials"] == "Z"
    url = a.url + "/api/organizations/%d/memberships" % me["active_organization"]
    assert s.get(url).json()["count"] == 2
    assert [m["user"]["username"] for m in s.get(url, params={"search": "zed"}).json()["results"]] \
        == ["zed.two"]
    assert s.get(url, params={"search": "100%"}).json()["count"] == 0
    p = s.post(a.url + "/api/projects", json={"title": "On PG"}).json()
    r = t.post(b.url + "/api/projects/%d/import" % p["id"],
               json=[{"data": {"x": 1}, "annotations": [{"result": []}]}])
    assert r.status_code == 201
    page = s.get(url, params={"contributed_to_projects": 1, "ordering": "-last_activity"}).json()
    by = {m["user"]["email"]: m for m in page["results"]}
    assert by["pg.two@example.org"]["contributed_to_projects"] == [{"id": p["id"], "title": "On PG"}]
    # a reset invite link stops working on every node at once
    old = s.get(a.url + "/api/invite").json()["token"]
    assert s.post(a.url + "/api/invite/reset-token").status_code == 201
    _, r = b.signup("late@example.org", token=old)
    assert r.status_code == 403
    # deactivation is seen by the other node at once
    assert s.patch(a.url + "/api/users/%d" % two["id"], json={"is_active": False}).status_code == 200
    assert t.get(b.url + "/api/current-user/whoami").status_code == 401
    # throttling counters are shared
    for node in (a, b, a):
        requests.post(node.url + "/user/login/", data={"email": "nobody@example.org",
                      "password": "wrong-pass-1"})
    n = subprocess.run(["psql", pg, "-tAc", "SELECT failures FROM login_failures "
                        "WHERE kind = 'account'"], capture_output=True, text=True).stdout.strip()
    assert n == "3"
    # a login that a byte cut would break in half is still just a wrong login
    r = requests.post(a.url + "/user/login/", data={"email": "a" * 253 + "é",
                      "password": "wrong-pass-1"})
    assert r.status_code == 400
    assert s.delete(a.url + "/api/users/%d" % two["id"]).status_code == 204
    assert len(s.get(b.url + "/api/users").json()) == 1
