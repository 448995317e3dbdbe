"""last_activity and the session's last_seen are written at most once a
minute per user, however many requests come (counted in the debug log)."""
import concurrent.futures

import requests


def test_siali_530_01_a_handful_of_writes_for_many_requests(httpd_factory):
    h = httpd_factory(loglevel="siali:debug", start_servers=2).start()
    s, r = h.signup("busy@example.org")
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    cookie = s.cookies["siali_session"]
    # both were written at signup: make them two minutes old, so the burst
    # below is due exactly one write of each
    h.sql("UPDATE users SET last_activity = last_activity - 120")
    h.sql("UPDATE sessions SET last_seen = last_seen - 120, created_at = created_at - 120")
    before = h.count_log("SL00401") + h.count_log("SL00402")

    def burst(i):
        with requests.Session() as c:
            for _ in range(500):
                if i % 2:
                    c.get(h.url + "/api/current-user/whoami", cookies={"siali_session": cookie})
                else:
                    c.get(h.url + "/api/current-user/whoami",
                          headers={"Authorization": "Token " + token})
        return True

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(burst, range(20)))     # 10,000 authenticated requests
    writes = h.count_log("SL00401") + h.count_log("SL00402")
    print("activity writes for 10,000 requests:", writes - before)
    # one each; a minute boundary inside the run may add one more of each
    assert 2 <= writes - before <= 4, writes - before
