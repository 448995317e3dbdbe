"""Account & Settings: avatars that are only ever pixels, and the password
change. Every image is made here, with Pillow from Debian."""
import io
import os
import struct

import pytest
import requests
from PIL import Image


def img(fmt, size=(16, 16), mode="RGB", **kw):
    buf = io.BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else None).save(buf, fmt, **kw)
    return buf.getvalue()


def animated_gif():
    frames = [Image.new("P", (20, 20), c) for c in (1, 2, 3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buf.getvalue()


def transparent_png():
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def png_claiming(w, h):
    data = bytearray(img("PNG", (4, 4)))
    data[16:24] = struct.pack(">II", w, h)     # IHDR width/height (CRC now wrong)
    return bytes(data)


@pytest.fixture(scope="module")
def me(httpd):
    s, r = httpd.signup("avatar.owner@example.org")
    assert r.status_code == 302
    return s, s.get(httpd.url + "/api/current-user/whoami").json()


def upload(h, s, uid, data, filename="a.png", ctype="image/png"):
    return s.post(h.url + "/api/users/%d/avatar" % uid,
                  files={"avatar": (filename, data, ctype)})


GOOD = [
    ("1x1 png", lambda: img("PNG", (1, 1)), "image/png"),
    ("512x512 png", lambda: img("PNG", (512, 512)), "image/png"),
    ("jpeg", lambda: img("JPEG", (64, 48)), "image/jpeg"),
    ("cmyk jpeg", lambda: img("JPEG", (32, 32), mode="CMYK"), "image/jpeg"),
    ("gif", lambda: img("GIF", (30, 10)), "image/png"),
    ("animated gif", animated_gif, "image/png"),
    ("transparent png", transparent_png, "image/png"),
    ("webp lossy", lambda: img("WEBP", (40, 40)), "image/png"),
    ("webp lossless", lambda: img("WEBP", (40, 40), lossless=True), "image/png"),
]


@pytest.mark.parametrize("name,make,mime", GOOD, ids=[g[0] for g in GOOD])
def test_siali_700_01_images_accepted_and_reencoded(httpd, me, name, make, mime):
    s, user = me
    data = make()
    r = upload(httpd, s, user["id"], data, filename="x.txt", ctype="text/plain")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["detail"] == "avatar saved"
    url = body["avatar"]
    assert url.startswith("/data/avatars/%d-" % user["id"])
    assert s.get(httpd.url + "/api/current-user/whoami").json()["avatar"] == url
    got = s.get(httpd.url + url)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == mime
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"] == "sandbox"
    assert got.content != data          # re-encoded, never the uploaded bytes
    Image.open(io.BytesIO(got.content)).verify()       # real pixels
    if name == "transparent png":
        assert Image.open(io.BytesIO(got.content)).mode in ("RGBA", "LA", "P")


BAD = [
    ("513x512", lambda: img("PNG", (513, 512)), "512 x 512"),
    ("512x513", lambda: img("PNG", (512, 513)), "512 x 512"),
    ("header claims 100000x100000", lambda: png_claiming(100000, 100000), "512 x 512"),
    ("svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "PNG, JPEG, GIF or WebP"),
    ("html named png", lambda: b"<html><script>alert(1)</script></html>", "PNG, JPEG, GIF or WebP"),
    ("zero bytes", lambda: b"", "empty"),
    ("truncated png", lambda: img("PNG", (64, 64))[:60], "damaged"),
    ("truncated jpeg", lambda: img("JPEG", (64, 64))[:200], "damaged"),
    ("truncated gif", lambda: img("GIF", (64, 64))[:-10], "damaged"),
    ("truncated webp", lambda: img("WEBP", (64, 64))[:40], "damaged"),
]


@pytest.mark.parametrize("name,make,why", BAD, ids=[b[0] for b in BAD])
def test_siali_700_02_refused_with_a_reason(httpd, me, name, make, why):
    s, user = me
    before = stored(httpd)
    r = upload(httpd, s, user["id"], make())
    assert r.status_code == 400, (name, r.status_code, r.text)
    assert why in r.json()["detail"], r.json()
    assert "avatar" in r.json()["validation_errors"]
    assert stored(httpd) == before


def stored(h):
    """The pictures in the database: name -> (user, sha256)."""
    return {n: (u, sha) for n, u, sha in h.sql("SELECT name, user_id, sha256 FROM avatars")}


def test_siali_700_03_polyglot_only_pixels_stored(httpd, me):
    s, user = me
    payload = b"<html><script>alert(document.cookie)</script></html>"
    # GIF/HTML polyglot: HTML after the GIF's trailer, ending like a GIF again
    gif = img("GIF", (8, 8)) + payload + b";"
    r = upload(httpd, s, user["id"], gif)
    assert r.status_code == 200, r.text
    got = s.get(httpd.url + r.json()["avatar"]).content
    assert b"<script" not in got and b"<html" not in got
    comment = img("GIF", (8, 8), comment=payload)
    r = upload(httpd, s, user["id"], comment)
    assert r.status_code == 200
    got = s.get(httpd.url + r.json()["avatar"]).content
    assert b"<script" not in got


def test_siali_700_04_too_large_refused_while_reading(httpd, me):
    s, user = me
    noise = os.urandom(2 * 1024 * 1024)
    r = upload(httpd, s, user["id"], noise)
    assert r.status_code == 413
    assert "KiB" in r.json()["detail"]


def test_siali_700_05_ownership_serving_and_cleanup(httpd, me):
    s, user = me
    other, r = httpd.signup("avatar.other@example.org")
    assert upload(httpd, other, user["id"], img("PNG")).status_code == 403
    assert other.delete(httpd.url + "/api/users/%d/avatar" % user["id"]).status_code == 403
    r1 = upload(httpd, s, user["id"], img("PNG", (10, 10)))
    first = r1.json()["avatar"].rsplit("/", 1)[1]
    assert first in stored(httpd)
    r2 = upload(httpd, s, user["id"], img("JPEG", (10, 10)))
    second = r2.json()["avatar"].rsplit("/", 1)[1]
    pics = stored(httpd)
    assert second in pics and first not in pics            # the old one is gone
    assert s.get(httpd.url + r1.json()["avatar"]).status_code == 404
    assert second.endswith(".jpg") and "x.txt" not in second
    # a name is one picture for good: cached long, revalidated by its hash
    got = other.get(httpd.url + r2.json()["avatar"])
    assert got.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    import hashlib
    assert got.headers["ETag"] == '"%s"' % hashlib.sha256(got.content).hexdigest()
    again = other.get(httpd.url + r2.json()["avatar"], headers={"If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    # logged-in callers only; other members see it
    assert requests.get(httpd.url + r2.json()["avatar"]).status_code == 401
    assert other.get(httpd.url + r2.json()["avatar"]).status_code == 200
    for bad in ("../siali.db", "..%2fsiali.db", "1-zz.png", "x.html", ".hidden"):
        assert s.get(httpd.url + "/data/avatars/" + bad).status_code in (400, 404), bad
    r = s.delete(httpd.url + "/api/users/%d/avatar" % user["id"])
    assert r.status_code == 204
    assert second not in stored(httpd)
    assert other.get(httpd.url + r2.json()["avatar"], headers={
        "If-None-Match": got.headers["ETag"]}).status_code == 404   # gone, cached or not
    assert s.get(httpd.url + "/api/current-user/whoami").json()["avatar"] is None


def test_siali_700_06_multipart_edges(httpd, me):
    s, user = me
    url = httpd.url + "/api/users/%d/avatar" % user["id"]
    r = s.post(url, files={"other": ("a.png", img("PNG"), "image/png")})
    assert r.status_code == 400 and "avatar" in r.json()["detail"]
    r = s.post(url, data=b"--x\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\nabc",
               headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and "closing boundary" in r.json()["detail"]
    r = s.post(url, data=img("PNG"), headers={"Content-Type": "image/png"})
    assert r.status_code == 415
    many = b"".join(b"--x\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n" % i
                    for i in range(50)) + b"--x--\r\n"
    r = s.post(url, data=many, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and "Too many parts" in r.json()["detail"]
    huge = b"--x\r\nContent-Disposition: form-data; name=\"avatar\"\r\nX: " + b"h" * 20000 + \
        b"\r\n\r\nv\r\n--x--\r\n"
    r = s.post(url, data=huge, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and "headers are too large" in r.json()["detail"]


def test_siali_700_07_password_change(httpd_factory):
    h = httpd_factory(directives="SialiLoginThrottle 3 60").start()
    a, _ = h.signup("changer@example.org", "old-password-1")
    b = requests.Session()
    b.post(h.url + "/user/login/", data={"email": "changer", "password": "old-password-1"})
    token = a.get(h.url + "/api/current-user/token").json()["token"]
    url = h.url + "/api/current-user/password"
    r = a.post(url, json={"current_password": "wrong-one-1", "new_password": "new-password-1"})
    assert r.status_code == 400 and "current_password" in r.json()["validation_errors"]
    r = a.post(url, json={"current_password": "old-password-1", "new_password": "short"})
    assert r.status_code == 400 and "new_password" in r.json()["validation_errors"]
    r = a.post(url, json={"current_password": "old-password-1", "new_password": "x", "y": 1})
    assert r.status_code == 400
    assert b.get(h.url + "/api/current-user/whoami").status_code == 200
    r = a.post(url, json={"current_password": "old-password-1", "new_password": "new-password-1"})
    assert r.status_code == 204
    assert a.get(h.url + "/api/current-user/whoami").status_code == 200     # this one stays
    assert b.get(h.url + "/api/current-user/whoami").status_code == 401     # the other ends
    assert requests.get(h.url + "/api/current-user/whoami",
                        headers={"Authorization": "Token " + token}).status_code == 200
    ok = requests.post(h.url + "/user/login/", data={"email": "changer",
                       "password": "new-password-1"}, allow_redirects=False)
    assert ok.status_code == 302
    # wrong current passwords are counted by the login throttle
    for _ in range(3):
        a.post(url, json={"current_password": "wrong-one-1", "new_password": "new-password-2"})
    r = a.post(url, json={"current_password": "new-password-1", "new_password": "new-password-2"})
    assert r.status_code == 429 and "Retry-After" in r.headers
