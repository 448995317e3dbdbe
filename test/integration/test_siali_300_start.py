"""Start-up: the account from directives and environment, misconfiguration,
migration of empty and old databases, session limits."""
import os
import time

import requests

from conftest import SCHEMA_VERSION


def can_login(h, who, password):
    r = requests.post(h.url + "/user/login/", data={"email": who, "password": password},
                      allow_redirects=False)
    return r.status_code == 302


def test_siali_300_01_account_from_directives(httpd_factory):
    h = httpd_factory(directives="SialiUsername admin\nSialiPassword admin-pass-1\n"
                                 "SialiUserToken my-token-123").start()
    assert can_login(h, "admin", "admin-pass-1")
    assert can_login(h, "admin@localhost", "admin-pass-1")
    r = requests.get(h.url + "/api/current-user/whoami",
                     headers={"Authorization": "Token my-token-123"})
    assert r.status_code == 200 and r.json()["username"] == "admin"
    # the first account owns the organization
    assert h.sql("SELECT owner_id FROM organization")[0][0] == r.json()["id"]


def test_siali_300_02_account_from_environment_never_changed(httpd_factory):
    env = {"LABEL_STUDIO_USERNAME": "ops@example.org", "LABEL_STUDIO_PASSWORD": "first-pass-1"}
    h = httpd_factory(env=env).start()
    assert can_login(h, "ops@example.org", "first-pass-1")
    token = h.sql("SELECT token FROM api_tokens")[0][0]
    assert len(token) == 40
    h.stop()
    h.env["LABEL_STUDIO_PASSWORD"] = "second-pass-2"
    h.start()
    assert can_login(h, "ops@example.org", "first-pass-1")
    assert not can_login(h, "ops@example.org", "second-pass-2")


def test_siali_300_03_short_token_stops_httpd(httpd_factory):
    h = httpd_factory(directives="SialiUsername a@example.org\nSialiPassword pass-pass-1\n"
                                 "SialiUserToken abcd")
    out = h.start(expect_fail=True)
    assert "SialiUserToken" in out and "at least 5" in out
    h2 = httpd_factory(env={"LABEL_STUDIO_USERNAME": "b@example.org",
                            "LABEL_STUDIO_PASSWORD": "pass-pass-1",
                            "LABEL_STUDIO_USER_TOKEN": "abc"})
    out = h2.start(expect_fail=True)
    assert "LABEL_STUDIO_USER_TOKEN" in out
    h2.waive.append("LABEL_STUDIO_USER_TOKEN")


def test_siali_300_04_bad_values_stop_httpd(httpd_factory):
    for bad, name in (("SialiSessionMaxAge 5x", "SialiSessionMaxAge"),
                      ("SialiPasswordHash bcrypt", "SialiPasswordHash"),
                      ("SialiPasswordMinLength 0", "SialiPasswordMinLength")):
        h = httpd_factory(directives=bad)
        out = h.start(expect_fail=True)
        assert name in out, out


def test_siali_300_05_empty_and_old_databases_migrate(httpd_factory, driver):
    h = httpd_factory(start_servers=3)
    if driver == "sqlite":
        os.makedirs(os.path.dirname(h.db), exist_ok=True)
    r = h.siali("migrate", "--target", "1")
    assert r.returncode == 0, r.stderr
    assert h.sql("SELECT version FROM schema_version")[0][0] == 1
    h.start()
    assert h.sql("SELECT version FROM schema_version")[0][0] == SCHEMA_VERSION
    assert h.sql("SELECT count(*) FROM login_failures")[0][0] == 0
    # every child serves with the migrated schema
    for i in range(12):
        _, r = h.signup("child%d@example.org" % i)
        assert r.status_code == 302
    assert "migrated %s database" % ("sqlite3" if driver == "sqlite" else "pgsql") in h.log()
    if driver == "sqlite":
        assert h.sql("PRAGMA journal_mode")[0][0] == "wal"


def test_siali_300_06_session_idle_and_max_age(httpd_factory):
    h = httpd_factory(directives="SialiSessionIdleTimeout 2s\nSialiSessionMaxAge 4s").start()
    s, r = h.signup("short@example.org")
    assert s.get(h.url + "/api/current-user/whoami").status_code == 200
    time.sleep(3)
    assert s.get(h.url + "/api/current-user/whoami").status_code == 401
    s = requests.Session()
    s.post(h.url + "/user/login/", data={"email": "short", "password": "secret-pass-1"})
    for _ in range(3):
        time.sleep(1.5)
        code = s.get(h.url + "/api/current-user/whoami").status_code
    assert code == 401   # 4.5 s after login: past the absolute limit


def test_siali_300_07_hash_upgraded_on_login(httpd_factory):
    h = httpd_factory().start()
    h.signup("upgrade@example.org")
    old = h.sql("SELECT password FROM users")[0][0]
    assert "m=64,t=1" in old
    h.stop()
    h2 = httpd_factory(db=h.db, hash_cost="argon2id m=128 t=2 p=1").start()
    assert can_login(h2, "upgrade@example.org", "secret-pass-1")
    new = h2.sql("SELECT password FROM users")[0][0]
    assert new.startswith("$argon2id$") and "m=128,t=2" in new
