"""People: organizations, memberships (Label Studio's shapes and cases),
member detail, pagination edges, search taken literally."""
import requests


def member(h, email, first="", last=""):
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    me = s.get(h.url + "/api/current-user/whoami").json()
    if first or last:
        r = s.patch(h.url + "/api/users/%d" % me["id"],
                    json={"first_name": first, "last_name": last})
        assert r.status_code == 200, r.text
    return s, me


def test_siali_600_01_organizations(httpd):
    s, me = member(httpd, "owner@example.org", "Olga", "Owner")
    r = s.get(httpd.url + "/api/organizations")
    assert r.status_code == 200
    orgs = r.json()
    assert len(orgs) == 1 and orgs[0]["id"] == me["active_organization"]
    assert set(orgs[0]) == {"id", "title", "created_at"}
    assert requests.get(httpd.url + "/api/organizations").status_code == 401


def test_siali_600_02_memberships_ordered_by_username(httpd):
    s, me = member(httpd, "zed@example.org")
    member(httpd, "amy@example.org")
    member(httpd, "Bob@example.org")
    r = s.get(httpd.url + "/api/organizations/1/memberships")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    names = [m["user"]["username"] for m in body["results"]]
    assert names == sorted(names, key=str.lower)
    m = body["results"][0]
    assert set(m) >= {"id", "organization", "user", "created_projects",
                      "contributed_to_projects"}
    # project lists are null without the flag
    assert m["created_projects"] is None and m["contributed_to_projects"] is None
    assert m["user"]["created_projects"] is None
    for order, key, rev in (("email", "email", False), ("-date_joined", "date_joined", True),
                            ("date_joined", "date_joined", False)):
        res = s.get(httpd.url + "/api/organizations/1/memberships",
                    params={"ordering": order, "page_size": 100}).json()["results"]
        vals = [x["user"][key] for x in res]
        assert vals == sorted(vals, reverse=rev), order


def test_siali_600_03_projects_created_and_contributed(httpd):
    s, me = member(httpd, "creator@example.org")
    t, other = member(httpd, "annotator@example.org")
    p1 = s.post(httpd.url + "/api/projects", json={"title": "Cats"}).json()
    p2 = s.post(httpd.url + "/api/projects", json={"title": "Dogs", "description": "d"}).json()
    assert p1["created_by"]["id"] == me["id"]
    r = t.post(httpd.url + "/api/projects/%d/import" % p1["id"],
               json=[{"data": {"image": "a.png"}, "annotations": [{"result": [{"x": 1}]}]},
                     {"data": {"image": "b.png"}}])
    assert r.status_code == 201 and r.json() == {"task_count": 2, "annotation_count": 1}
    # an import without annotations is no contribution
    r = t.post(httpd.url + "/api/projects/%d/import" % p2["id"], json=[{"data": {"i": 1}}])
    assert r.status_code == 201
    res = s.get(httpd.url + "/api/organizations/1/memberships",
                params={"contributed_to_projects": 1, "page_size": 100}).json()["results"]
    by_email = {m["user"]["email"]: m for m in res}
    c = by_email["creator@example.org"]
    assert c["created_projects"] == [{"id": p1["id"], "title": "Cats"},
                                     {"id": p2["id"], "title": "Dogs"}]
    assert c["contributed_to_projects"] == []
    a = by_email["annotator@example.org"]
    assert a["created_projects"] == []
    assert a["contributed_to_projects"] == [{"id": p1["id"], "title": "Cats"}]
    assert a["user"]["contributed_to_projects"] == a["contributed_to_projects"]
    # detail panel
    d = s.get(httpd.url + "/api/organizations/1/memberships/%d" % other["id"]).json()
    assert d["user"]["email"] == "annotator@example.org"
    assert d["contributed_to_projects"] == [{"id": p1["id"], "title": "Cats"}]
    assert d["created_projects"] == [] and d["annotations_count"] == 1
    # an annotation through the API makes a contribution to Dogs
    task = httpd.sql("SELECT id FROM tasks WHERE project_id = ?", p2["id"])[0][0]
    r = t.post(httpd.url + "/api/tasks/%d/annotations" % task, json={"result": []})
    assert r.status_code == 201 and r.json()["project"] == p2["id"]
    d = s.get(httpd.url + "/api/organizations/1/memberships/%d" % other["id"]).json()
    assert [p["title"] for p in d["contributed_to_projects"]] == ["Cats", "Dogs"]
    assert d["annotations_count"] == 2


def test_siali_600_04_pagination_edges(httpd):
    s, _ = member(httpd, "pager@example.org")
    url = httpd.url + "/api/organizations/1/memberships"
    total = s.get(url).json()["count"]
    assert total >= 3
    r = s.get(url, params={"page_size": 2})
    body = r.json()
    assert len(body["results"]) == 2 and body["previous"] is None
    assert body["next"].startswith("/api/organizations/1/memberships?page=2")
    r2 = s.get(httpd.url + body["next"]).json()
    assert r2["previous"] is not None
    assert {m["id"] for m in r2["results"]}.isdisjoint({m["id"] for m in body["results"]})
    for bad in ({"page": 0}, {"page": -1}, {"page": "x"}, {"page_size": 0},
                {"page_size": "ten"}, {"page_size": 100000}, {"ordering": "password"}):
        r = s.get(url, params=bad)
        assert r.status_code == 400, bad
        assert r.json()["detail"]
    r = s.get(url, params={"page": 9999})
    assert r.status_code == 404 and "page" in r.json()["detail"].lower()
    assert s.get(httpd.url + "/api/organizations/2/memberships").status_code == 404
    assert s.get(httpd.url + "/api/organizations/1/memberships/99999").status_code == 404


def test_siali_600_05_search_is_literal(httpd):
    s, _ = member(httpd, "percent@example.org", "100%", "Sure")
    member(httpd, "under_score@example.org")
    member(httpd, "underXscore@example.org")
    url = httpd.url + "/api/organizations/1/memberships"
    emails = lambda q: sorted(m["user"]["email"] for m in
                              s.get(url, params={"search": q, "page_size": 100}).json()["results"])
    assert emails("under_") == ["under_score@example.org"]
    assert emails("%") == ["percent@example.org"]
    assert emails("100%") == ["percent@example.org"]
    assert emails("SURE") == ["percent@example.org"]
    assert emails("' OR 1=1 --") == []
    assert emails("!") == []
    r = s.get(url, params={"search": "x" * 300})
    assert r.status_code == 400


def test_siali_600_06_active_filter(httpd):
    s, _ = member(httpd, "filter.boss@example.org")
    _, gone = member(httpd, "filter.gone@example.org")
    r = s.patch(httpd.url + "/api/users/%d" % gone["id"], json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    url = httpd.url + "/api/organizations/1/memberships"
    every = [m["user"]["email"] for m in s.get(url, params={"page_size": 1000}).json()["results"]]
    active = [m["user"]["email"] for m in
              s.get(url, params={"page_size": 1000, "active": "true"}).json()["results"]]
    assert "filter.gone@example.org" in every and "filter.gone@example.org" not in active


def test_siali_600_07_search_and_counts_follow_changes(httpd):
    s, me = member(httpd, "follow.admin@example.org")
    _, x = member(httpd, "follow.x@example.org")
    url = httpd.url + "/api/organizations/1/memberships"

    def found(q, **kw):
        return [m["user"]["id"] for m in
                s.get(url, params=dict(kw, search=q, page_size=1000)).json()["results"]]

    def count(**kw):
        return s.get(url, params=kw).json()["count"]

    total, active = count(), count(active="true")
    assert total == httpd.sql("SELECT count(*) FROM users")[0][0]
    r = s.patch(httpd.url + "/api/users/%d" % x["id"],
                json={"username": "renamed.person", "first_name": "Zoltan", "last_name": "Kodaly"})
    assert r.status_code == 200
    assert found("renamed.per") == [x["id"]]
    assert found("zoltan kod") == [x["id"]]          # across first and last name
    assert found("follow.x") == [x["id"]]            # the email still counts
    assert s.patch(httpd.url + "/api/users/%d" % x["id"],
                   json={"is_active": False}).status_code == 200
    assert count() == total and count(active="true") == active - 1
    assert found("zoltan", active="true") == []
    assert s.delete(httpd.url + "/api/users/%d" % x["id"]).status_code == 204
    assert count() == total - 1 and count(active="true") == active - 1
    assert found("zoltan") == []


def test_siali_600_08_old_database_gets_search_and_counts(httpd_factory):
    import sqlite3
    import time
    h = httpd_factory()
    import os
    os.makedirs(os.path.dirname(h.db), exist_ok=True)
    assert h.siali("migrate", "--target", "2").returncode == 0
    con = sqlite3.connect(h.db)
    now = int(time.time())
    for i, (email, first) in enumerate([("old.one@example.org", "Hedy"),
                                        ("old.two@example.org", "Ada")]):
        cur = con.execute("INSERT INTO users (email, username, password, first_name, "
                          "date_joined) VALUES (?, ?, 'x', ?, ?)",
                          (email, email.split("@")[0], first, now))
        con.execute("INSERT INTO memberships (user_id, organization_id, created_at) "
                    "VALUES (?, 1, ?)", (cur.lastrowid, now))
    con.commit()
    con.close()
    h.start()
    s, _ = h.signup("new.one@example.org")
    url = h.url + "/api/organizations/1/memberships"
    body = s.get(url).json()
    assert body["count"] == 3
    r = s.get(url, params={"search": "hedy"}).json()
    assert [m["user"]["email"] for m in r["results"]] == ["old.one@example.org"]
