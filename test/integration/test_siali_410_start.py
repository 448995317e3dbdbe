"""`siali start`: the account, then httpd in the foreground; -c/-C pass through."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import requests

from conftest import SIALI, CHEAP_HASH, child_env, free_port


def test_siali_410_01_start_creates_account_and_serves():
    state = tempfile.mkdtemp(prefix="siali-start-")
    os.chmod(state, 0o755)
    port = free_port()
    proc = subprocess.Popen(
        [SIALI, "--state-dir", state, "--password-hash", CHEAP_HASH, "start",
         "--username", "boss", "--password", "boss-pass-1", "--user-token", "boss-token",
         "--port", str(port), "-C", "SialiPasswordHash " + CHEAP_HASH,
         "-c", "SialiDisableSignupWithoutLink On"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env())
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        r = requests.get(url + "/api/current-user/whoami",
                         headers={"Authorization": "Token boss-token"})
        assert r.status_code == 200 and r.json()["email"] == "boss@localhost"
        # -c reached httpd: signup is restricted
        r = requests.post(url + "/user/signup/",
                          data={"email": "x@example.org", "password": "secret-pass-1"},
                          allow_redirects=False)
        assert r.status_code == 403
        assert requests.get(url + "/static/siali.css").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0].decode(errors="replace")
        shutil.rmtree(state, ignore_errors=True)
    assert "[siali:error]" not in out and "crit]" not in out, out
