"""The app mounted below a prefix: links, redirects, cookies and the invite
URL carry the prefix exactly once."""
import os

import requests


def test_siali_620_01_prefix_once(httpd_factory):
    h = httpd_factory(mount="/label").start()
    s, r = h.signup("mounted@example.org")
    assert r.status_code == 302 and r.headers["Location"] == "/label/"
    assert "Path=/label;" in r.headers["Set-Cookie"]
    inv = s.get(h.url + "/api/invite").json()
    assert inv["invite_url"] == "/label/user/signup/?token=" + inv["token"]
    r = s.get(h.url + "/", allow_redirects=False)
    assert r.headers["Location"] == "/label/people/"
    page = requests.get(h.url + "/user/login/").text
    assert 'action="/label/user/login/"' in page and 'href="/label/static/siali.css"' in page
    assert requests.get(h.url + "/static/siali.css").status_code == 200
    # the invite link works as given, relative to the server
    base = h.url[:-len("/label")]
    _, r = h.signup("invited@example.org", token=inv["token"])
    assert r.status_code == 302
    r = requests.get(base + inv["invite_url"])
    assert r.status_code == 200 and inv["token"] in r.text
    nxt = s.get(h.url + "/api/organizations/1/memberships", params={"page_size": 1}).json()
    assert nxt["next"].startswith("/label/api/organizations/1/memberships?page=2")


def test_siali_620_02_directory_index_does_not_take_the_mount(httpd_factory):
    """mod_dir's DirectoryIndex does not turn the mount's "/" into a file of
    the DocumentRoot (as with Debian's default site), nor DirectorySlash
    "/people" into "/people/" where a folder of that name exists; <Location>
    and <Directory> rules still govern access to the module's URLs (they did
    before: an upgrade opens nothing); static files still come from the
    disk."""
    h = httpd_factory(modules=("dir",), waive=("AH01630",), directives="""
DirectoryIndex index.html
<Location /api/health>
  Require all denied
</Location>
""")
    with open(h.root + "/htdocs/index.html", "w") as f:
        f.write("the default site's page\n")
    os.mkdir(h.root + "/htdocs/people")
    h.start()
    r = requests.get(h.url + "/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/login/"
    s, r = h.signup("first@example.org")
    assert r.status_code == 302
    r = s.get(h.url + "/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/people/"
    r = s.get(h.url + "/people", allow_redirects=False)
    assert r.status_code == 200 and "<html" in r.text.lower()
    assert requests.get(h.url + "/api/health").status_code == 403
    assert s.get(h.url + "/api/current-user/whoami").json()["email"] == "first@example.org"
    assert requests.get(h.url + "/static/siali.css").status_code == 200

    # a <Directory> rule on the DocumentRoot covers the module's URLs too
    closed = httpd_factory(modules=("authz_host",), waive=("AH01630",), directives="""
<Directory "@ROOT@/htdocs">
  Require ip 192.0.2.0/24
</Directory>
""")
    with open(closed.conf) as f:
        conf = f.read()
    with open(closed.conf, "w") as f:
        f.write(conf.replace("@ROOT@", closed.root))
    closed.start()
    for path in ("/api/health", "/user/login/", "/api/current-user/whoami", "/"):
        assert requests.get(closed.url + path, allow_redirects=False).status_code == 403, path
