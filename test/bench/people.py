#!/usr/bin/python3
"""People benchmark: a page of 30 members with and without search, with
and without project lists, at 1,000, 10,000 and 100,000 accounts seeded
straight through the core (test/bench/seed). Sequential requests on one
keep-alive connection against a real httpd; prints the median and the
ratio to the 1,000-account figure, on SQLite and on PostgreSQL (a private
cluster, as the integration suite starts it). Not a test: it asserts nothing.

    /usr/bin/python3 test/bench/people.py [--sizes 1000,10000,100000] [--repeat 50]
                                          [--driver sqlite|pgsql|both] [--roles]
    /usr/bin/python3 test/bench/people.py --compare-roles [--sizes 100000] [--rounds 10]

--compare-roles: one database of the largest size, served by two httpds at
once, one with SialiRoles Off and one with On; each round measures every
case on both, in alternating order, so that drift and background load fall
on both alike. Prints the medians over all rounds and the ratio on/off.
"""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import conftest  # noqa: E402

CASES = [
    ("page 30", {}),
    ("page 30, -last_activity", {"ordering": "-last_activity"}),
    ("page 30 + projects", {"contributed_to_projects": 1}),
    ("page 500 of 30", {"page": 500}),
    ("search 'Hopper12' (rare)", {"search": "Hopper12"}),
    ("search 'user0001' (100)", {"search": "user0001"}),
    ("search 'grace' (1 in 12)", {"search": "grace"}),
]


def seed(n, spec):
    seed_bin = os.path.join(conftest.BUILD, "test", "bench", "seed")
    subprocess.run([seed_bin, spec, str(n)], check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--driver", choices=("sqlite", "pgsql", "both"), default="both")
    ap.add_argument("--roles", action="store_true", help="with SialiRoles On")
    ap.add_argument("--compare-roles", action="store_true",
                    help="roles off against on, interleaved, at the largest size")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    for driver in (("sqlite", "pgsql") if args.driver == "both" else (args.driver,)):
        (compare_roles if args.compare_roles else run)(driver, args)
    if conftest._cluster:
        conftest._cluster[0].cleanup()


def seeded_server(driver, n, directives=""):
    """An httpd over a freshly seeded database, and the first account's token."""
    h = conftest.Httpd(loglevel="siali:warn", driver=driver, directives=directives)
    if driver == "sqlite":
        os.makedirs(os.path.dirname(h.db))
    t0 = time.time()
    seed(n, h.db_spec)
    seeded = time.time() - t0
    if driver == "sqlite":
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "www-data:www-data", os.path.dirname(h.db)])
        con = sqlite3.connect(h.db)
        token = con.execute("SELECT token FROM api_tokens ORDER BY user_id LIMIT 1") \
            .fetchone()[0]
        con.close()
    else:
        token = conftest.pg_sql(h.db, "SELECT token FROM api_tokens ORDER BY user_id "
                                      "LIMIT 1")[0][0]
        # statistics and the visibility map, as autovacuum keeps them
        conftest.pg_sql(h.db, "VACUUM ANALYZE")
    return h, token, seeded


def query(params, n):
    q = dict(params, page_size=30)
    if q.get("page", 1) * 30 > n:
        q["page"] = n // 30
    return q


def measure(s, url, q, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = s.get(url, params=q)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
    return times


def compare_roles(driver, args):
    n = max(int(x) for x in args.sizes.split(","))
    off, token, seeded = seeded_server(driver, n)
    on = conftest.Httpd(loglevel="siali:warn", driver=driver, db=off.db,
                        directives="SialiRoles On")
    off.start()
    on.start()
    print("%s: seeded %d accounts in %.1f s; %d rounds of %d requests per case and arm"
          % (driver, n, seeded, args.rounds, args.repeat))
    sessions = {}
    for name, h in (("off", off), ("on", on)):
        s = requests.Session()
        s.headers["Authorization"] = "Token " + token
        sessions[name] = (s, h.url + "/api/organizations/1/memberships")
    times = {}
    for rnd in range(args.rounds):
        for name, params in CASES:
            q = query(params, n)
            for arm in (("off", "on") if rnd % 2 == 0 else ("on", "off")):
                s, url = sessions[arm]
                s.get(url, params=q)      # the child's statements prepared, caches warm
                times.setdefault((name, arm), []).extend(measure(s, url, q, args.repeat))
    bad = []
    for h in (on, off):
        h.stop()
        bad += h.bad_log_lines()
    for h in (on, off):
        h.cleanup()
    print("%-28s%14s%14s%10s" % (driver, "roles off", "roles on", "on/off"))
    for name, _ in CASES:
        a = statistics.median(times[(name, "off")])
        b = statistics.median(times[(name, "on")])
        print("%-28s%11.2f ms%11.2f ms%9.2fx" % (name, a, b, b / a))
    if bad:
        print("LOG:", bad[:3])


def run(driver, args):
    sizes = [int(x) for x in args.sizes.split(",")]
    results = {}
    for n in sizes:
        h, token, seeded = seeded_server(driver, n, "SialiRoles On" if args.roles else "")
        h.start()
        s = requests.Session()
        s.headers["Authorization"] = "Token " + token
        url = h.url + "/api/organizations/1/memberships"
        for name, params in CASES:
            q = query(params, n)
            r = s.get(url, params=q)
            assert r.status_code == 200, (name, r.status_code, r.text[:200])
            results[(name, n)] = (statistics.median(measure(s, url, q, args.repeat)),
                                  r.json()["count"])
        h.stop()
        bad = h.bad_log_lines()
        h.cleanup()
        print("%s: seeded %d accounts in %.1f s%s" % (driver, n, seeded,
                                                     "; LOG: %s" % bad[:3] if bad else ""))
    print("%-28s" % driver + "".join("%16s" % ("%d accts" % n) for n in sizes)
          + "%10s" % ("ratio"))
    for name, _ in CASES:
        row = "%-28s" % name
        for n in sizes:
            ms, count = results[(name, n)]
            row += "%10.2f ms %4s" % (ms, "" if count > 999 else count)
        row += "%9.1fx" % (results[(name, sizes[-1])][0] / results[(name, sizes[0])][0])
        print(row)


if __name__ == "__main__":
    main()
