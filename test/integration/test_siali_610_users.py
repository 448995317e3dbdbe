"""User management: list, read, PATCH rules, deactivate, delete."""
import requests


def member(h, email):
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    return s, s.get(h.url + "/api/current-user/whoami").json()


def test_siali_610_01_list_and_get(httpd):
    owner, o = member(httpd, "first.owner@example.org")
    s, me = member(httpd, "second@example.org")
    users = s.get(httpd.url + "/api/users").json()
    assert [u["id"] for u in users] == sorted(u["id"] for u in users)
    assert s.get(httpd.url + "/api/users/%d" % o["id"]).json()["email"] == o["email"]
    assert s.get(httpd.url + "/api/users/999999").status_code == 404
    assert s.get(httpd.url + "/api/users/abc").status_code == 404
    assert requests.get(httpd.url + "/api/users").status_code == 401


def test_siali_610_02_patch_rules(httpd):
    s, me = member(httpd, "patcher@example.org")
    url = httpd.url + "/api/users/%d" % me["id"]
    r = s.patch(url, json={"first_name": "Pat", "last_name": "Cher", "phone": "+1 555"})
    assert r.status_code == 200
    j = r.json()
    assert (j["first_name"], j["last_name"], j["phone"], j["initials"]) == \
        ("Pat", "Cher", "+1 555", "PC")
    for field in ("email", "id", "date_joined", "last_activity"):
        r = s.patch(url, json={field: "x", "first_name": "Changed"})
        assert r.status_code == 400 and field in r.json()["validation_errors"], field
    r = s.patch(url, json={"favourite": "blue"})
    assert r.status_code == 400 and "favourite" in r.json()["validation_errors"]
    r = s.patch(url, json={"first_name": "x" * 257})
    assert r.status_code == 400
    r = s.patch(url, json={"phone": "1\n2"})
    assert r.status_code == 400
    r = s.patch(url, json={"first_name": 5})
    assert r.status_code == 400
    assert s.get(url).json()["first_name"] == "Pat"     # nothing saved by the refusals
    r = s.patch(url, data="first_name=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = s.patch(url, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    # usernames stay unique, case-insensitively
    member(httpd, "taken@example.org")
    r = s.patch(url, json={"username": "TAKEN"})
    assert r.status_code == 400 and "username" in r.json()["validation_errors"]
    assert s.patch(url, json={"username": "pat.cher"}).json()["username"] == "pat.cher"


def test_siali_610_03_owner_and_self_rules(httpd):
    owner_id = httpd.sql("SELECT owner_id FROM organization")[0][0]
    s, me = member(httpd, "rules@example.org")
    for method in ("PATCH", "DELETE"):
        kw = {"json": {"is_active": False}} if method == "PATCH" else {}
        r = s.request(method, httpd.url + "/api/users/%d" % owner_id, **kw)
        assert r.status_code == 403, method
        r = s.request(method, httpd.url + "/api/users/%d" % me["id"], **kw)
        assert r.status_code == 403, method
    assert httpd.sql("SELECT is_active FROM users WHERE id = ?", owner_id)[0][0] == 1


def test_siali_610_04_deactivate_and_reactivate(httpd):
    admin, _ = member(httpd, "admin2@example.org")
    victim, v = member(httpd, "deactivated@example.org")
    token = victim.get(httpd.url + "/api/current-user/token").json()["token"]
    url = httpd.url + "/api/users/%d" % v["id"]
    assert admin.patch(url, json={"is_active": False}).status_code == 200
    assert victim.get(httpd.url + "/api/current-user/whoami").status_code == 401
    assert requests.get(httpd.url + "/api/current-user/whoami",
                        headers={"Authorization": "Token " + token}).status_code == 401
    assert httpd.sql("SELECT count(*) FROM sessions WHERE user_id = ?", v["id"])[0][0] == 0
    assert admin.patch(url, json={"is_active": True}).status_code == 200
    # the old session stays ended; the token works again; a login works
    assert victim.get(httpd.url + "/api/current-user/whoami").status_code == 401
    assert requests.get(httpd.url + "/api/current-user/whoami",
                        headers={"Authorization": "Token " + token}).status_code == 200


def test_siali_610_05_delete_keeps_their_work(httpd):
    admin, _ = member(httpd, "admin3@example.org")
    leaver, l = member(httpd, "leaver2@example.org")
    p = leaver.post(httpd.url + "/api/projects", json={"title": "Leaver's"}).json()
    leaver.post(httpd.url + "/api/projects/%d/import" % p["id"],
                json=[{"data": {"t": 1}, "annotations": [{"result": []}]}])
    r = admin.delete(httpd.url + "/api/users/%d" % l["id"])
    assert r.status_code == 204 and r.content == b""
    assert admin.get(httpd.url + "/api/users/%d" % l["id"]).status_code == 404
    assert leaver.get(httpd.url + "/api/current-user/whoami").status_code == 401
    for table in ("sessions", "api_tokens", "memberships"):
        assert httpd.sql("SELECT count(*) FROM %s WHERE user_id = ?" % table, l["id"])[0][0] == 0
    proj = admin.get(httpd.url + "/api/projects/%d" % p["id"]).json()
    assert proj["created_by"]["deleted"] is True and proj["created_by"]["id"] == l["id"]
    assert httpd.sql("SELECT count(*) FROM annotations WHERE completed_by = ?", l["id"])[0][0] == 1
    assert admin.delete(httpd.url + "/api/users/%d" % l["id"]).status_code == 404


def test_siali_610_06_projects_validation(httpd):
    s, _ = member(httpd, "projects@example.org")
    for body in ({}, {"title": ""}, {"title": "x" * 51}, {"title": 5},
                 {"title": "ok", "owner": 1}):
        r = s.post(httpd.url + "/api/projects", json=body)
        assert r.status_code == 400, body
    r = s.post(httpd.url + "/api/projects", json={"title": "é" * 50})
    assert r.status_code == 201
    pid = r.json()["id"]
    for body in ([], {}, [{"data": 1}], [{"data": {}, "annotations": {}}],
                 [{"data": {}, "annotations": [{"result": {}}]}], [{"data": {}, "x": 1}]):
        r = s.post(httpd.url + "/api/projects/%d/import" % pid, json=body)
        assert r.status_code == 400, body
    assert httpd.sql("SELECT count(*) FROM tasks WHERE project_id = ?", pid)[0][0] == 0
    assert s.post(httpd.url + "/api/projects/999999/import",
                  json=[{"data": {}}]).status_code == 404
    assert s.post(httpd.url + "/api/tasks/999999/annotations",
                  json={"result": []}).status_code == 404
    page = s.get(httpd.url + "/api/projects", params={"page_size": 1}).json()
    assert page["count"] >= 1 and len(page["results"]) == 1
