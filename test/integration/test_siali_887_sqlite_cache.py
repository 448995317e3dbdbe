"""The caller cache on SQLite (SialiAuthCache): every process that writes
the database is on this machine and moves its change counter (<db>.lock,
mapped by every child): a change made through httpd is seen by every child
on its next request, a change made by the siali command as soon as the
command is done; a write by anything else (the sqlite3 shell) is seen when
the entries' life ends; Off asks the database every time."""
import sqlite3

import requests

import conftest
from conftest import eventually
from test_siali_886_caller_cache import SPREAD, account, race_resets, warm

DRIVERS = ("sqlite",)


def access_of(h, s):
    """A personal access token of the session's user and an access token
    traded for it, as the SDK does."""
    pat = s.post(h.url + "/api/token/").json()["token"]
    r = requests.post(h.url + "/api/token/refresh/", json={"refresh": pat})
    assert r.status_code == 200, r.text
    return pat, r.json()["access"]


def bearer(h, access, n=120):
    import concurrent.futures as cf
    from collections import Counter

    def one(_):
        return requests.get(h.url + "/api/current-user/whoami", timeout=20,
                            headers={"Authorization": "Bearer " + access,
                                     "Connection": "close"}).status_code
    with cf.ThreadPoolExecutor(16) as ex:
        return Counter(ex.map(one, range(n)))


def raw_sql(h, query):
    """A write the siali command did not make: the counter stays."""
    con = sqlite3.connect(h.db, timeout=10)
    try:
        con.execute(query)
        con.commit()
    finally:
        con.close()


def test_siali_887_01_changes_through_httpd_are_seen_by_every_child(httpd_factory):
    h = httpd_factory(directives=SPREAD, start_servers=4).start()
    admin, _ = account(h, "admin@example.org")
    s, token = account(h, "cached@example.org")
    cookie = s.cookies["siali_session"]
    uid = s.get(h.url + "/api/current-user/whoami").json()["id"]
    pat, access = access_of(h, s)
    assert warm(h, token=token) == {200: 120}
    assert warm(h, cookie=cookie) == {200: 120}
    assert bearer(h, access) == {200: 120}
    # proof that the children answer from their caches: a write the
    # counter does not hear of is not seen (within the entries' life)
    raw_sql(h, "UPDATE users SET first_name = 'Unheard' WHERE id = %d" % uid)
    seen = {requests.get(h.url + "/api/current-user/whoami",
                         headers={"Authorization": "Token " + token}).json()["first_name"]
            for _ in range(20)}
    assert "" in seen

    new = s.post(h.url + "/api/current-user/reset-token").json()["token"]
    assert warm(h, token=token) == {401: 120}
    assert warm(h, token=new) == {200: 120}
    # revoked on one child: its access tokens refused by every child at once
    assert s.post(h.url + "/api/token/blacklist/", json={"refresh": pat}).status_code < 300
    assert bearer(h, access) == {401: 120}
    pat, access = access_of(h, s)
    assert bearer(h, access) == {200: 120}
    assert admin.patch(h.url + "/api/users/%d" % uid, json={"is_active": False}) \
        .status_code == 200
    assert warm(h, token=new) == {401: 120}
    assert warm(h, cookie=cookie) == {401: 120}
    assert bearer(h, access) == {401: 120}


def test_siali_887_02_changes_by_the_siali_command_are_seen_when_it_is_done(httpd_factory):
    h = httpd_factory(directives=SPREAD, start_servers=4).start()
    s, token = account(h, "cli.cached@example.org")
    _, access = access_of(h, s)
    assert bearer(h, access) == {200: 120}
    r = h.siali("token", "revoke-all", "--username", "cli.cached@example.org")
    assert r.returncode == 0, r.stderr
    assert bearer(h, access) == {401: 120}

    _, access = access_of(h, s)
    assert bearer(h, access) == {200: 120}
    r = h.siali("jwt", "rotate-secret")
    assert r.returncode == 0, r.stderr
    assert bearer(h, access) == {401: 120}
    # a legacy token and a session are unaffected by either
    assert warm(h, token=token) == {200: 120}
    assert warm(h, cookie=s.cookies["siali_session"]) == {200: 120}


def test_siali_887_03_other_writers_are_seen_when_the_entries_expire(httpd_factory):
    h = httpd_factory(directives=SPREAD + "\nSialiAuthCache 2s", start_servers=4).start()
    _, token = account(h, "shell@example.org")
    assert warm(h, token=token) == {200: 120}
    raw_sql(h, "UPDATE users SET is_active = 0 WHERE email = 'shell@example.org'")

    def refused():
        return warm(h, n=40, token=token)
    assert eventually(refused, lambda c: c == {401: 40}) == {401: 40}


def test_siali_887_04_off_asks_the_database_every_time(httpd_factory):
    h = httpd_factory(directives=SPREAD + "\nSialiAuthCache Off", start_servers=4).start()
    _, token = account(h, "uncached@example.org")
    assert warm(h, token=token) == {200: 120}
    raw_sql(h, "UPDATE users SET is_active = 0 WHERE email = 'uncached@example.org'")
    assert warm(h, token=token) == {401: 120}


def test_siali_887_05_a_lookup_racing_a_reset_never_revives_the_old_token(httpd_factory):
    race_resets(httpd_factory(directives=SPREAD, start_servers=4).start())


def test_siali_887_06_a_server_without_the_cache_still_announces_its_writes(httpd_factory):
    """A virtual host with SialiAuthCache Off on the same file: its writes
    reach the caches of the server that keeps one."""
    port = conftest.free_port()
    h = httpd_factory(directives=SPREAD + """
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
  SialiAuthCache Off
</VirtualHost>
""" % (port, port), start_servers=4).start()
    other = "http://127.0.0.1:%d" % port
    s, token = account(h, "vhost@example.org")
    assert warm(h, token=token) == {200: 120}
    r = requests.post(other + "/api/current-user/reset-token",
                      headers={"Authorization": "Token " + token})
    assert r.status_code == 201, r.text
    assert warm(h, token=token) == {401: 120}
    assert warm(h, token=r.json()["token"]) == {200: 120}


def test_siali_887_07_wrong_guesses_do_not_empty_the_caches(httpd_factory):
    """A failed authentication writes its throttle count, a write no caller's
    identity rests on: the cached callers stay (else anyone could keep every
    child's cache empty with wrong tokens)."""
    h = httpd_factory(directives=SPREAD, start_servers=4).start()
    _, token = account(h, "kept@example.org")
    uid = requests.get(h.url + "/api/current-user/whoami",
                       headers={"Authorization": "Token " + token}).json()["id"]
    assert warm(h, token=token) == {200: 120}
    raw_sql(h, "UPDATE users SET first_name = 'Unheard' WHERE id = %d" % uid)
    assert warm(h, token="0" * 40) == {401: 120}

    def name(_):
        return requests.get(h.url + "/api/current-user/whoami", timeout=20,
                            headers={"Authorization": "Token " + token,
                                     "Connection": "close"}).json()["first_name"]
    import concurrent.futures as cf
    with cf.ThreadPoolExecutor(16) as ex:
        names = set(ex.map(name, range(60)))
    assert "" in names


def test_siali_887_08_a_command_run_as_root_leaves_the_lock_to_the_owner(httpd_factory):
    """The lock file made by a siali command run as root, even one that
    fails, belongs to the database's owner (the children's user), or an
    httpd running as that user could not open it."""
    import os
    import pytest
    if os.geteuid() != 0:
        pytest.skip("needs root: the case is a command run as root")
    h = httpd_factory().start()
    account(h, "owner@example.org")
    h.stop()
    os.unlink(h.db + ".lock")
    r = h.siali("token", "create", "--username", "typo@example.org")
    assert r.returncode != 0
    db, lock = os.stat(h.db), os.stat(h.db + ".lock")
    assert (lock.st_uid, lock.st_gid) == (db.st_uid, db.st_gid) and db.st_uid != 0
    assert lock.st_mode & 0o777 == 0o600
