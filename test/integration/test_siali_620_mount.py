"""The app mounted below a prefix: links, redirects, cookies and the invite
URL carry the prefix exactly once."""
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
