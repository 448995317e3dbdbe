"""last_activity and the session's last_seen are written at most once a
minute per user, however many requests come (counted in the debug log)."""
import concurrent.futures

import requests


def test_siali_530_01_a_handful_of_writes_for_many_requests(httpd_factory):
    h = httpd_factory(loglevel="siali:debug", start_servers=2).start()
    s, r = h.signup("busy@example.org")
    token = s.get(h.url + "/api/current-user/token").json()["token"]
    cookie = s.cookies["siali_session"]
    before = h.count_log("SL00401") + h.count_log("SL00402")

    def burst(i):
        with requests.Session() as c:
            for _ in range(100):
                if i % 2:
                    c.get(h.url + "/api/current-user/whoami", cookies={"siali_session": cookie})
                else:
                    c.get(h.url + "/api/current-user/whoami",
                          headers={"Authorization": "Token " + token})
        return True

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(burst, range(20)))     # 2,000 authenticated requests
    writes = h.count_log("SL00401") + h.count_log("SL00402")
    # the signup wrote last_activity just now: within the minute nothing more is
    # due; a minute boundary in the run allows one write of each kind per child
    assert writes - before <= 4, writes - before
