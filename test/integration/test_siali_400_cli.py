"""The siali command: user, reset_password (prompts without echo), create_user."""
import json
import os
import pty
import select
import subprocess
import time

import pytest
import requests

from conftest import SIALI, CHEAP_HASH, SCHEMA_VERSION


def test_siali_400_01_user_info(httpd):
    httpd.signup("cli.user@example.org")
    r = httpd.siali("user", "--username", "CLI.User@example.org")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "=> User info:"
    info = json.loads(lines[1])
    assert info["email"] == "cli.user@example.org" and info["status"] == "ok"
    assert len(info["token"]) == 40
    for key in ("id", "first_name", "last_name", "username", "last_activity", "avatar",
                "initials", "phone", "active_organization"):
        assert key in info
    r = httpd.siali("user", "--username", "ghost")
    assert r.returncode == 1
    assert json.loads(r.stdout) == {"status": "error", "message": "user ghost doesn't exist"}


def test_siali_400_02_reset_password_with_flags_ends_sessions(httpd):
    s, _ = httpd.signup("reset.me@example.org")
    assert s.get(httpd.url + "/api/current-user/whoami").status_code == 200
    r = httpd.siali("reset_password", "--username", "reset.me", "--password", "brand-new-pass")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Password successfully changed"
    assert s.get(httpd.url + "/api/current-user/whoami").status_code == 401
    r = requests.post(httpd.url + "/user/login/",
                      data={"email": "reset.me", "password": "brand-new-pass"},
                      allow_redirects=False)
    assert r.status_code == 302
    r = httpd.siali("reset_password", "--username", "reset.me", "--password", "short")
    assert r.returncode == 1 and "at least 8" in r.stderr
    r = httpd.siali("reset_password", "--username", "ghost", "--password", "long-enough-1")
    assert r.returncode == 1 and "doesn't exist" in r.stderr


def test_siali_400_03_reset_password_prompts_without_echo(httpd):
    httpd.signup("prompt.me@example.org")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(SIALI, [SIALI, "--db", httpd.db_spec, "--password-hash", CHEAP_HASH,
                         "reset_password"])
    out = b""

    def read_until(marker, limit=10):
        nonlocal out
        end = time.time() + limit
        while marker not in out and time.time() < end:
            # never block past the limit: a missing prompt fails, it does not hang
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
            if not ready:
                break
            try:
                out += os.read(fd, 1024)
            except OSError:
                break
        return marker in out

    assert read_until(b"Username: ")
    os.write(fd, b"prompt.me\n")
    assert read_until(b"New password: ")
    os.write(fd, b"typed-secret-9\n")
    assert read_until(b"Password successfully changed"), out
    os.waitpid(pid, 0)
    assert b"typed-secret-9" not in out     # no echo
    r = requests.post(httpd.url + "/user/login/",
                      data={"email": "prompt.me", "password": "typed-secret-9"},
                      allow_redirects=False)
    assert r.status_code == 302


def test_siali_400_04_create_user(httpd):
    r = httpd.siali("create_user", "--username", "robot", "--password", "robot-pass-1",
                    "--user-token", "robot-token")
    assert r.returncode == 0, r.stderr
    r = requests.get(httpd.url + "/api/current-user/whoami",
                     headers={"Authorization": "Token robot-token"})
    assert r.status_code == 200 and r.json()["email"] == "robot@localhost"
    r = httpd.siali("create_user", "--username", "robot2", "--password", "robot-pass-1",
                    "--user-token", "abc")
    assert r.returncode == 1 and "at least 5" in r.stderr


@pytest.mark.sqlite_only("the lock file beside a SQLite database; PostgreSQL's advisory lock: 880_10")
def test_siali_400_05_no_migration_under_a_running_httpd(httpd):
    # make the schema look old: the CLI must refuse to migrate it in place
    httpd.sql("UPDATE schema_version SET version = 1")
    try:
        r = httpd.siali("user", "--username", "robot")
        assert r.returncode == 1
        assert "running httpd" in r.stderr
    finally:
        httpd.sql("UPDATE schema_version SET version = ?", SCHEMA_VERSION)
