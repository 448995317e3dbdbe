"""Roles (SialiRoles, docs/roles.md): off, every active member may do
everything; on, every cell of the permission table through the API, the
change rules, the reviewer's and annotator's view of People, switching them
on for an existing installation, and role changes from many clients at once."""
import concurrent.futures
import time

import requests

from conftest import CHEAP_HASH, SIALI, count_change

ROLES_ON = "SialiRoles On"
ORG = "/api/organizations/1"


def member(h, email):
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    me = s.get(h.url + "/api/current-user/whoami").json()
    t = requests.Session()
    t.headers["Authorization"] = "Token " + s.get(h.url + "/api/current-user/token").json()["token"]
    return t, me


def set_role(h, actor, uid, role):
    return actor.patch(h.url + ORG + "/memberships", json={"user_id": uid, "role": role})


def test_siali_610_01_off_everyone_is_an_administrator(httpd_factory):
    h = httpd_factory().start()
    owner, o = member(h, "owner@example.org")
    other, x = member(h, "other@example.org")
    assert o["role"] == "OW" and x["role"] == "AD" and x["roles_enabled"] is False
    roles = {m["user"]["email"]: m["role"] for m in
             other.get(h.url + ORG + "/memberships").json()["results"]}
    assert roles == {"owner@example.org": "OW", "other@example.org": "AD"}
    # what only some roles may do with roles on, anyone may with them off
    assert other.get(h.url + "/api/invite").status_code == 200
    assert other.post(h.url + "/api/projects", json={"title": "P"}).status_code == 201
    r = set_role(h, owner, x["id"], "AN")
    assert r.status_code == 400 and "SialiRoles Off" in r.json()["detail"], r.text
    # the default role is kept for later, new members are AD while off
    r = other.patch(h.url + ORG + "/set-default-role", json={"default_role": "RE"})
    assert r.status_code == 200 and r.json()["default_role"] == "RE"
    _, n = member(h, "newbie@example.org")
    assert n["role"] == "AD"


def check(h, who, victim):
    """what each permission's endpoint answers for the session who"""
    out = {}
    out["view_people"] = who.get(h.url + "/api/users").status_code
    out["manage_invite"] = who.get(h.url + "/api/invite").status_code
    out["change_roles"] = who.patch(h.url + ORG + "/set-default-role",
                                    json={"default_role": "AN"}).status_code
    r = who.patch(h.url + "/api/users/%d" % victim, json={"is_active": False})
    out["manage_members"] = r.status_code
    if r.status_code == 200:
        assert who.patch(h.url + "/api/users/%d" % victim,
                         json={"is_active": True}).status_code == 200
    out["create_projects"] = who.post(h.url + "/api/projects", json={"title": "T"}).status_code
    out["organization_settings"] = who.patch(h.url + "/api/session-policy/", json={
        "max_session_age": 20160, "max_time_between_activity": 7200}).status_code
    out["view_activity_logs"] = who.get(h.url + "/api/activity-logs/").status_code
    out["own_account"] = who.get(h.url + "/api/current-user/token").status_code
    return out


OK = {"view_people": 200, "manage_invite": 200, "change_roles": 200, "manage_members": 200,
      "create_projects": 201, "organization_settings": 200, "view_activity_logs": 200,
      "own_account": 200}
# docs/roles.md, cell by cell
TABLE = {
    "OW": set(OK),
    "AD": set(OK),
    "MA": {"view_people", "manage_invite", "create_projects", "own_account"},
    "RE": {"own_account"},
    "AN": {"own_account"},
}


def test_siali_610_02_every_cell_of_the_table(httpd_factory):
    h = httpd_factory(directives=ROLES_ON).start()
    owner, o = member(h, "owner@example.org")
    assert o["role"] == "OW" and o["roles_enabled"] is True
    # new members get the default role: AN unless changed
    victim, v = member(h, "victim@example.org")
    assert v["role"] == "AN"
    people = {}
    for role in ("AD", "MA", "RE", "AN"):
        s, m = member(h, "%s@example.org" % role.lower())
        if role != "AN":
            r = set_role(h, owner, m["id"], role)
            assert r.status_code == 200 and r.json()["role"] == role, r.text
        people[role] = s
        assert s.get(h.url + "/api/current-user/whoami").json()["role"] == role
    people["OW"] = owner
    for role, allowed in TABLE.items():
        got = check(h, people[role], v["id"])
        for perm, status in got.items():
            want = OK[perm] if perm in allowed else 403
            assert status == want, (role, perm, status)
    # the 403 names the permission
    r = people["AN"].get(h.url + "/api/invite")
    assert r.status_code == 403 and "manage_invite" in r.json()["detail"]
    # DI: deactivated, nothing at all, and back with a role
    r = set_role(h, people["AD"], v["id"], "DI")
    assert r.status_code == 200 and r.json()["role"] == "DI"
    assert victim.get(h.url + "/api/current-user/token").status_code == 401
    r = set_role(h, people["AD"], v["id"], "RE")
    assert r.status_code == 200 and r.json()["role"] == "RE"
    assert victim.get(h.url + "/api/current-user/whoami").json()["role"] == "RE"
    # ?role= lists the members shown with it
    r = owner.get(h.url + ORG + "/memberships", params={"role": "RE", "page_size": 100})
    assert sorted(m["user"]["email"] for m in r.json()["results"]) == \
        ["re@example.org", "victim@example.org"] and r.json()["count"] == 2
    assert owner.get(h.url + ORG + "/memberships", params={"role": "XX"}).status_code == 400
    # a member added straight in the database, never signed in: NO
    h.sql("INSERT INTO users (email, username, password, date_joined, org_member) "
          "VALUES ('never@example.org', 'never', 'x', 1, 1)")
    uid = h.sql("SELECT id FROM users WHERE email = 'never@example.org'")[0][0]
    h.sql("INSERT INTO memberships (user_id, organization_id, created_at) VALUES (?, 1, 1)",
          uid)
    h.sql("UPDATE organization SET members_count = members_count + 1, "
          "active_count = active_count + 1")
    count_change(h.db)
    r = owner.get(h.url + ORG + "/memberships", params={"role": "NO"}).json()
    assert [m["user"]["email"] for m in r["results"]] == ["never@example.org"]


def test_siali_610_03_change_rules_and_transfer(httpd_factory):
    h = httpd_factory(directives=ROLES_ON).start()
    owner, o = member(h, "owner@example.org")
    admin, a = member(h, "admin@example.org")
    ann, n = member(h, "ann@example.org")
    assert set_role(h, owner, a["id"], "AD").status_code == 200
    # nobody changes the owner's role; OW only by the owner
    r = set_role(h, admin, o["id"], "AN")
    assert r.status_code == 403 and "owner" in r.json()["detail"]
    assert set_role(h, admin, n["id"], "OW").status_code == 403
    assert set_role(h, admin, a["id"], "DI").status_code == 403    # not oneself
    assert set_role(h, owner, n["id"], "NO").status_code == 400
    assert set_role(h, ann, a["id"], "AN").status_code == 403
    r = admin.patch(h.url + ORG + "/memberships", json={"user_id": n["id"]})
    assert r.status_code == 400
    r = admin.patch(h.url + ORG + "/memberships", json={"user_id": "x", "role": "AN"})
    assert r.status_code == 400
    r = admin.patch(h.url + ORG + "/set-default-role", json={"default_role": "OW"})
    assert r.status_code == 400
    # the transfer: the owner gives OW, becomes AD, and the new owner is OW
    r = set_role(h, owner, a["id"], "OW")
    assert r.status_code == 200 and r.json()["role"] == "OW"
    assert owner.get(h.url + "/api/current-user/whoami").json()["role"] == "AD"
    assert admin.get(h.url + "/api/current-user/whoami").json()["role"] == "OW"
    assert h.sql("SELECT owner_id FROM organization")[0][0] == a["id"]
    # the former owner can now be changed, and cannot delete the new owner
    assert set_role(h, admin, o["id"], "MA").status_code == 200
    assert owner.delete(h.url + "/api/users/%d" % a["id"]).status_code == 403


def test_siali_610_04_annotators_see_their_projects_people(httpd_factory):
    h = httpd_factory(directives=ROLES_ON).start()
    owner, o = member(h, "owner@example.org")
    ann, n = member(h, "ann@example.org")
    alone, al = member(h, "alone@example.org")
    coll, c = member(h, "coll@example.org")
    p = owner.post(h.url + "/api/projects", json={"title": "Cats"}).json()
    r = owner.post(h.url + "/api/projects/%d/import" % p["id"], json=[{"data": {"i": 1}},
                                                                      {"data": {"i": 2}}])
    assert r.status_code == 201
    tasks = [t for t, in h.sql("SELECT id FROM tasks WHERE project_id = ? ORDER BY id",
                               p["id"])]
    assert ann.post(h.url + "/api/tasks/%d/annotations" % tasks[0],
                    json={"result": []}).status_code == 201
    assert coll.post(h.url + "/api/tasks/%d/annotations" % tasks[1],
                     json={"result": []}).status_code == 201

    def seen(s, **params):
        b = s.get(h.url + ORG + "/memberships", params=dict(page_size=100, **params)).json()
        return sorted(m["user"]["email"] for m in b["results"]), b["count"]

    assert seen(ann) == (["ann@example.org", "coll@example.org", "owner@example.org"], 3)
    assert seen(alone) == (["alone@example.org"], 1)
    assert seen(ann, search="coll") == (["coll@example.org"], 1)
    assert seen(ann, ordering="-date_joined")[1] == 3
    assert seen(owner)[1] == 4
    # the detail panel alike
    assert ann.get(h.url + ORG + "/memberships/%d" % c["id"]).status_code == 200
    r = ann.get(h.url + ORG + "/memberships/%d" % al["id"])
    assert r.status_code == 403 and "view_people" in r.json()["detail"]
    assert alone.get(h.url + ORG + "/memberships/%d" % al["id"]).status_code == 200
    # a manager sees everyone
    assert set_role(h, owner, al["id"], "MA").status_code == 200
    assert seen(alone)[1] == 4


def test_siali_610_05_switching_roles_on_takes_nothing(httpd_factory, driver):
    """An installation used without roles: the owner becomes OW, everyone
    else AD, the deactivated DI, once SialiRoles is switched on."""
    h = httpd_factory()
    h.start()
    owner, o = member(h, "owner@example.org")
    other, x = member(h, "other@example.org")
    gone, g = member(h, "gone@example.org")
    assert owner.patch(h.url + "/api/users/%d" % g["id"],
                       json={"is_active": False}).status_code == 200
    h.stop()
    on = httpd_factory(db=h.db, directives=ROLES_ON).start()
    roles = {m["user"]["email"]: m["role"] for m in
             owner.get(on.url + ORG + "/memberships").json()["results"]}
    assert roles == {"owner@example.org": "OW", "other@example.org": "AD",
                     "gone@example.org": "DI"}
    assert other.get(on.url + "/api/invite").status_code == 200


def test_siali_610_06_role_changes_from_many_clients(httpd_factory):
    """Twelve administrators change the roles of 24 members at once (each
    member by two of them, the same role): every acknowledged change is
    there, none refused; then two transfers of the ownership race: one
    owner at the end."""
    h = httpd_factory(directives=ROLES_ON, start_servers=3).start()
    owner, o = member(h, "owner@example.org")
    admins, targets = [], []
    for i in range(12):
        s, m = member(h, "admin%d@example.org" % i)
        assert set_role(h, owner, m["id"], "AD").status_code == 200
        admins.append(s)
    for i in range(24):
        targets.append(member(h, "t%d@example.org" % i)[1]["id"])
    want = {t: ("MA", "RE", "AN")[i % 3] for i, t in enumerate(targets)}
    jobs = [(admins[(i * 2 + k) % 12], t, want[t]) for i, t in enumerate(targets)
            for k in (0, 1)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda j: set_role(h, *j).status_code, jobs))
    assert got == [200] * len(jobs)
    roles = {m["user"]["id"]: m["role"] for m in
             owner.get(h.url + ORG + "/memberships", params={"page_size": 100}).json()["results"]}
    assert {t: roles[t] for t in targets} == want
    # two members made owner at once by the owner: exactly one wins
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        res = list(pool.map(lambda t: set_role(h, owner, t, "OW").status_code, targets[:2]))
    assert sorted(res) == [200, 403], res
    owners = h.sql("SELECT id FROM users WHERE org_role = 'OW'")
    assert len(owners) == 1 and owners[0][0] == h.sql("SELECT owner_id FROM organization")[0][0]


def test_siali_610_07_what_a_role_cannot_reach_otherwise(httpd_factory):
    """(review) Projects name their creators to everyone by id only; the
    owner's profile is the owner's; AD is never the default role."""
    h = httpd_factory(directives=ROLES_ON).start()
    owner, o = member(h, "owner@example.org")
    admin, a = member(h, "admin@example.org")
    mgr, m = member(h, "secret.manager@example.org")
    ann, n = member(h, "ann@example.org")
    assert set_role(h, owner, a["id"], "AD").status_code == 200
    assert set_role(h, owner, m["id"], "MA").status_code == 200
    p = mgr.post(h.url + "/api/projects", json={"title": "Hidden"}).json()
    listed = ann.get(h.url + "/api/projects").json()["results"]
    assert [x["created_by"] for x in listed] == [{"id": m["id"]}]
    assert ann.get(h.url + "/api/projects/%d" % p["id"]).json()["created_by"] == {"id": m["id"]}
    # those who see People see the creator
    by = admin.get(h.url + "/api/projects/%d" % p["id"]).json()["created_by"]
    assert by["email"] == "secret.manager@example.org"
    own = ann.post(h.url + "/api/projects", json={"title": "Mine"})
    assert own.status_code == 403
    # the owner's profile: not an administrator's to change
    r = admin.patch(h.url + "/api/users/%d" % o["id"], json={"first_name": "X"})
    assert r.status_code == 403 and "owner" in r.json()["detail"]
    assert owner.patch(h.url + "/api/users/%d" % o["id"],
                       json={"first_name": "Olga"}).status_code == 200
    assert admin.patch(h.url + "/api/users/%d" % n["id"],
                       json={"first_name": "Ann"}).status_code == 200
    # never AD by default
    r = admin.patch(h.url + ORG + "/set-default-role", json={"default_role": "AD"})
    assert r.status_code == 400
