"""The same module on PostgreSQL: a throw-away cluster on 127.0.0.1, the
schema migrated by httpd, the main flows through the API. Several nodes
share one database in production; here two httpd share it."""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import Httpd, free_port


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    assert found, "PostgreSQL is not installed (build.sh installs it)"
    return found[-1]


@pytest.fixture(scope="module")
def pg():
    root = tempfile.mkdtemp(prefix="siali-pg-")
    os.chmod(root, 0o755)
    port = free_port()
    run_as = []
    if os.geteuid() == 0:       # initdb refuses root: the cluster runs as postgres
        shutil.chown(root, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    subprocess.run(run_as + [pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run(run_as + [pg_bin("pg_ctl"), "-D", data, "-l", os.path.join(root, "log"), "-w",
                             "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qc",
                        "CREATE DATABASE siali"], check=True, capture_output=True)
        yield f"host=127.0.0.1 port={port} dbname=siali user=postgres"
    finally:
        subprocess.run(run_as + [pg_bin("pg_ctl"), "-D", data, "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def on_pg(factory, params):
    h = factory()
    with open(h.conf) as f:
        conf = f.read()
    conf = conf.replace("DBDriver sqlite3", "DBDriver pgsql")
    conf = conf.replace(f'DBDParams "{h.db}"', f'DBDParams "{params}"')
    with open(h.conf, "w") as f:
        f.write(conf)
    return h.start()


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
