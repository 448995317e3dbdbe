"""Races between the units of one account: a login that hashes while the
password changes, two password changes at once, a deletion during a login,
parallel avatar uploads. Whatever the interleaving, what was acknowledged
holds and nothing that should have ended survives. Both drivers."""

# PostgreSQL is what these tests are about: they start it themselves
DRIVERS = ("sqlite",)
import concurrent.futures as cf
import os
import threading
import time

import pytest
import requests

from conftest import on_pg, pg_fresh, pg_sql

SLOW = "argon2id m=65536 t=4 p=1"     # a hash long enough for the other side to act


@pytest.fixture(params=["sqlite", "pg"])
def node(request, httpd_factory):
    made = []

    def make(**kw):
        if request.param == "pg":
            params = pg_fresh(request.getfixturevalue("pg"))
            h = on_pg(httpd_factory, params, **kw)
            h.query = lambda q: pg_sql(params, q)
        else:
            h = httpd_factory(**kw).start()
            h.query = lambda q: [list(map(str, row)) for row in h.sql(q)]
        h.driver = request.param
        made.append(h)
        return h
    yield make
    # stopped here, before the module's PostgreSQL goes (the log is checked
    # with the module)
    for h in made:
        h.stop()


def login(h, who, password, session=None):
    s = session or requests.Session()
    r = s.post(h.url + "/user/login/", data={"email": who, "password": password},
               allow_redirects=False, timeout=60)
    return s, r


def test_siali_855_01_login_racing_a_password_change_keeps_no_session(node):
    h = node(hash_cost=SLOW)
    owner, r = h.signup("victim@example.org", "old-password-1")
    assert r.status_code == 302
    t0 = time.monotonic()
    login(h, "victim@example.org", "old-password-1")
    one = time.monotonic() - t0          # about one hash and the units around it
    for i, offset in enumerate((0.0, 0.3, 0.6, 0.9, 1.2, 1.5)):
        old, new = ("old-password-1", "new-password-1") if i % 2 == 0 \
            else ("new-password-1", "old-password-1")
        result = {}

        def change():
            result["change"] = owner.post(h.url + "/api/current-user/password", timeout=60,
                                          json={"current_password": old,
                                                "new_password": new}).status_code

        t = threading.Thread(target=change)
        t.start()
        time.sleep(offset * one)
        s, r = login(h, "victim@example.org", old)
        t.join()
        assert result["change"] == 204
        # the change ended every other session: one made with the old
        # password, before or after it, must not work now
        if r.status_code == 302:
            assert s.get(h.url + "/api/current-user/whoami").status_code == 401, offset
        else:
            assert r.status_code == 400, r.status_code
        assert login(h, "victim@example.org", new)[1].status_code == 302
        assert owner.get(h.url + "/api/current-user/whoami").status_code == 200


def test_siali_855_02_two_password_changes_one_wins(node):
    h = node(hash_cost=SLOW)
    a, r = h.signup("twice@example.org", "secret-pass-1")
    b, _ = login(h, "twice@example.org", "secret-pass-1")
    codes = {}

    def change(name, s, new):
        codes[name] = s.post(h.url + "/api/current-user/password", timeout=60,
                             json={"current_password": "secret-pass-1",
                                   "new_password": new}).status_code

    ts = [threading.Thread(target=change, args=("a", a, "password-of-a")),
          threading.Thread(target=change, args=("b", b, "password-of-b"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    winners = [n for n, c in codes.items() if c == 204]
    assert len(winners) >= 1 and all(c in (204, 400) for c in codes.values()), codes
    # what was acknowledged last is the password; an acknowledged change is
    # never silently replaced by one that checked the same current password
    assert len(winners) == 1, codes
    assert login(h, "twice@example.org", "password-of-" + winners[0])[1].status_code == 302
    loser = "b" if winners[0] == "a" else "a"
    assert login(h, "twice@example.org", "password-of-" + loser)[1].status_code == 400


def test_siali_855_03_deletion_during_a_login(node):
    h = node(hash_cost=SLOW, directives="SialiLoginThrottle 1000 60")
    admin, _ = h.signup("admin@example.org", "secret-pass-1")
    for i in range(4):
        _, r = h.signup("gone%d@example.org" % i, "secret-pass-1")
        uid = h.query("SELECT id FROM users WHERE email = 'gone%d@example.org'" % i)[0][0]
        out = {}

        def try_login():
            out["s"], out["r"] = login(h, "gone%d@example.org" % i, "secret-pass-1")

        t = threading.Thread(target=try_login)
        t.start()
        time.sleep(0.05 * i)
        assert admin.delete(h.url + "/api/users/%s" % uid).status_code == 204
        t.join()
        r = out["r"]
        assert r.status_code in (302, 400), r.status_code
        if r.status_code == 302:
            assert out["s"].get(h.url + "/api/current-user/whoami").status_code == 401
    # no session of a deleted account is left behind
    assert h.query("SELECT count(*) FROM sessions s LEFT JOIN users u ON u.id = s.user_id "
                   "WHERE u.id IS NULL") == [["0"]]


def test_siali_855_04_parallel_avatar_uploads_leave_one_picture(node):
    from test_siali_700_account import img
    h = node()
    s, _ = h.signup("pictures@example.org")
    uid = s.get(h.url + "/api/current-user/whoami").json()["id"]
    pictures = [img("PNG", color=(i * 10, 0, 0)) for i in range(16)]

    def upload(data):
        return s.post(h.url + "/api/users/%d/avatar" % uid,
                      files={"avatar": ("a.png", data, "image/png")}).status_code

    for _ in range(3):
        with cf.ThreadPoolExecutor(16) as ex:
            assert set(ex.map(upload, pictures)) == {200}
        named = h.query("SELECT avatar FROM users WHERE id = %d" % uid)[0][0]
        assert h.query("SELECT name FROM avatars WHERE user_id = %d" % uid) == [[named]]
