"""Personal access tokens (PATs) the way Label Studio has them: JWT refresh
tokens made and listed under /api/token/, exchanged for five-minute access
tokens at /api/token/refresh/, sent as `Authorization: Bearer` (or
X-API-Key) wherever a legacy `Token` works; blacklisted and rotated; at most
20 live ones a user; the organization's switches and TTL (/api/jwt/settings);
the session policy (/api/session-policy/), which applies at once to sessions
that exist already, on every node; the CLI (token create / revoke-all, jwt
rotate-secret); a deactivated user; many clients at once; expiry; changes
seen at once by every child of a node and by the other node on one
PostgreSQL; the cross-site check on the new cookie writes; and the exact
sequence the label-studio-sdk goes through."""
import base64
import concurrent.futures as cf
import datetime
import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter

import pytest
import requests

from conftest import eventually

WHOAMI = "/api/current-user/whoami"
TOKENS = "/api/token/"
REFRESH = "/api/token/refresh/"
BLACKLIST = "/api/token/blacklist/"
ROTATE = "/api/token/rotate/"
SETTINGS = "/api/jwt/settings"
POLICY = "/api/session-policy/"
DEFAULT_SETTINGS = {"api_tokens_enabled": True, "legacy_api_tokens_enabled": True,
                    "api_token_ttl_days": 73000}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX40 = re.compile(r"^[0-9a-f]{40}$")
SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


# ---- helpers ----

def account(h, email):
    """A signed-up user: (session, legacy key, id)."""
    s, r = h.signup(email)
    assert r.status_code == 302, r.text
    key = s.get(h.url + "/api/current-user/token").json()["token"]
    assert HEX40.match(key), key
    uid = s.get(h.url + WHOAMI).json()["id"]
    return s, key, uid


def b64d(seg):
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(jwt):
    """The payload of a compact JWT, decoded locally (no verification)."""
    parts = jwt.split(".")
    assert len(parts) == 3, jwt
    return json.loads(b64d(parts[1]))


def header_of(jwt):
    return json.loads(b64d(jwt.split(".")[0]))


def resign(header_payload, key=b"not-the-server-secret"):
    """header.payload signed HS256 with a key that is not the server's."""
    sig = hmac.new(key, header_payload.encode(), hashlib.sha256).digest()
    return header_payload + "." + b64e(sig)


def forge(payload, key=b"not-the-server-secret", header=None):
    hdr = b64e(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    return resign(hdr + "." + b64e(json.dumps(payload).encode()), key)


def flip_signature_char(jwt):
    """The JWT with one character in the middle of its signature changed (the
    middle, not the end: the last character of a base64url segment carries
    padding bits a decoder may ignore)."""
    head, payload, sig = jwt.split(".")
    i = len(sig) // 2
    c = "A" if sig[i] != "A" else "B"
    return "%s.%s.%s%s%s" % (head, payload, sig[:i], c, sig[i + 1:])


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def legacy(key):
    return {"Authorization": "Token " + key}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def iso(s):
    assert isinstance(s, str), s
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def new_pat(h, session=None, headers=None, **kw):
    """POST /api/token/ as the session or with the headers: the response."""
    if session is not None:
        return session.post(h.url + TOKENS, headers=headers, timeout=30, **kw)
    return requests.post(h.url + TOKENS, headers=headers, timeout=30, **kw)


def make_pat(h, session):
    r = new_pat(h, session)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def refresh(h, pat, **kw):
    kw.setdefault("timeout", 30)
    return requests.post(h.url + REFRESH, json={"refresh": pat}, **kw)


def access_for(h, pat):
    r = refresh(h, pat)
    assert r.status_code == 200, r.text
    return r.json()["access"]


def whoami(h, headers):
    return requests.get(h.url + WHOAMI, headers=headers, timeout=30)


def assert_not_valid(r, what=""):
    """A refusal of a token at /api/token/refresh/: 401 token_not_valid."""
    assert r.status_code == 401, (what, r.status_code, r.text)
    body = r.json()
    assert body.get("code") == "token_not_valid", (what, body)
    assert isinstance(body.get("detail"), str) and body["detail"], (what, body)


def listed(h, session):
    r = session.get(h.url + TOKENS)
    assert r.status_code == 200, r.text
    return r.json()


def unsigned(pat):
    """The form /api/token/ lists: header.payload, no signature."""
    return pat.rsplit(".", 1)[0]


# ---- creating and listing ----

def test_siali_910_01_create_a_pat_and_its_claims(httpd):
    """POST /api/token/ (empty body or {}) gives 201 with a full three-segment
    HS256 JWT whose payload is a refresh token of the caller (token_type,
    integer user_id, iat, exp, a 32-hex jti), with ISO 8601 created_at and
    expires_at; jtis are unique; without authentication it is 401."""
    s, key, uid = account(httpd, "pat.create@example.org")
    jtis = set()
    for kw in ({}, {"json": {}}):
        r = new_pat(httpd, s, **kw)
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) >= {"token", "created_at", "expires_at"}, body
        pat = body["token"]
        parts = pat.split(".")
        assert len(parts) == 3 and all(SEGMENT.match(p) for p in parts), pat
        assert header_of(pat).get("alg") == "HS256"
        c = claims(pat)
        assert c["token_type"] == "refresh"
        assert is_int(c["user_id"]) and c["user_id"] == uid
        assert is_int(c["iat"]) and is_int(c["exp"]) and c["exp"] > c["iat"]
        assert c["exp"] > time.time()
        assert isinstance(c["jti"], str) and HEX32.match(c["jti"]), c
        jtis.add(c["jti"])
        assert iso(body["expires_at"]) > iso(body["created_at"])
    assert len(jtis) == 2
    for auth in ({}, legacy("0" * 40), bearer("garbage")):
        r = requests.post(httpd.url + TOKENS, headers=auth)
        assert r.status_code == 401, (auth, r.text)
        r = requests.get(httpd.url + TOKENS, headers=auth)
        assert r.status_code == 401, (auth, r.text)
    assert not httpd.bad_log_lines()


def test_siali_910_02_list_is_the_callers_newest_first_without_signatures(httpd):
    """GET /api/token/ lists only the caller's live PATs, newest first, each
    as header.payload (no signature) with created_at and expires_at; it
    answers the same to a session, a legacy Token and a Bearer access token;
    PATs made with Token or Bearer authentication belong to the same user."""
    s, key, uid = account(httpd, "pat.list@example.org")
    other, _, _ = account(httpd, "pat.list.other@example.org")
    theirs = make_pat(httpd, other)
    mine = [make_pat(httpd, s) for _ in range(3)]
    r = new_pat(httpd, headers=legacy(key))
    assert r.status_code == 201, r.text
    mine.append(r.json()["token"])
    access = access_for(httpd, mine[0])
    r = new_pat(httpd, headers=bearer(access))
    assert r.status_code == 201, r.text
    mine.append(r.json()["token"])
    for pat in mine:
        assert claims(pat)["user_id"] == uid

    got = listed(httpd, s)
    assert isinstance(got, list)
    for e in got:
        assert set(e) >= {"token", "created_at", "expires_at"}, e
        assert e["token"].count(".") == 1, e           # no signature
        iso(e["created_at"]), iso(e["expires_at"])
    assert [e["token"] for e in got] == [unsigned(p) for p in reversed(mine)]
    created = [iso(e["created_at"]) for e in got]
    assert created == sorted(created, reverse=True)
    assert unsigned(theirs) not in [e["token"] for e in got]
    for auth in (legacy(key), bearer(access)):
        r = requests.get(httpd.url + TOKENS, headers=auth)
        assert r.status_code == 200, (auth, r.text)
        assert r.json() == got
    assert [e["token"] for e in listed(httpd, other)] == [unsigned(theirs)]
    assert not httpd.bad_log_lines()


# ---- refresh and Bearer ----

def test_siali_910_03_refresh_gives_an_access_token_that_works_like_token(httpd):
    """POST /api/token/refresh/ with a PAT (no authentication) gives 200
    {"access"}: an access JWT of the same user that expires about 300 s
    after it was issued. Bearer <access> and X-API-Key <access> identify the
    user on whoami, as do X-API-Key <legacy> and Bearer <legacy>; every
    refresh gives a working access token."""
    s, key, uid = account(httpd, "pat.refresh@example.org")
    me = s.get(httpd.url + WHOAMI).json()
    pat = make_pat(httpd, s)
    r = refresh(httpd, pat)
    assert r.status_code == 200, r.text
    access = r.json()["access"]
    assert access.count(".") == 2
    c = claims(access)
    assert c["token_type"] == "access"
    assert is_int(c["user_id"]) and c["user_id"] == uid
    assert is_int(c["iat"]) and is_int(c["exp"])
    assert abs((c["exp"] - c["iat"]) - 300) <= 5, c
    for hdr in (bearer(access), {"X-API-Key": access}, {"X-API-Key": key},
                {"Authorization": "Bearer " + key}, legacy(key)):
        r = whoami(httpd, hdr)
        assert r.status_code == 200, (hdr, r.text)
        assert (r.json()["id"], r.json()["email"]) == (me["id"], me["email"]), hdr
    # the same PAT keeps refreshing; each access token works
    for _ in range(3):
        a = access_for(httpd, pat)
        assert whoami(httpd, bearer(a)).json()["id"] == uid
    # other endpoints take Bearer too
    r = requests.get(httpd.url + "/api/current-user/token", headers=bearer(access))
    assert r.status_code == 200 and r.json()["token"] == key
    assert not httpd.bad_log_lines()


def test_siali_910_04_refresh_refuses_every_bad_token(httpd):
    """Refresh answers 401 {"detail", "code": "token_not_valid"} to a
    malformed token, the listed header.payload form, a token re-signed with
    another key, the PAT with one signature character changed, the PAT's
    payload changed under its own signature, an alg=none token, a forged
    token for another user and an access token given as refresh; a missing or
    empty "refresh" or a non-JSON body is 400 with a JSON detail. None of these
    spoils the real PAT."""
    s, _, uid = account(httpd, "pat.refuse@example.org")
    _, _, other_uid = account(httpd, "pat.refuse.other@example.org")
    pat = make_pat(httpd, s)
    head, payload, sig = pat.split(".")
    c = claims(pat)
    tampered = dict(c, user_id=other_uid)
    access = access_for(httpd, pat)
    bad = {
        "garbage": "not-a-jwt",
        "three dots": "a.b.c",
        "listed form": unsigned(pat),
        "trailing dot": unsigned(pat) + ".",
        "re-signed": resign(unsigned(pat)),
        "signature char": flip_signature_char(pat),
        "payload tampered": head + "." + b64e(json.dumps(tampered).encode()) + "." + sig,
        "alg none": b64e(b'{"alg":"none","typ":"JWT"}') + "." + payload + ".",
        "forged other user": forge(dict(c, user_id=other_uid, jti="f" * 32)),
        "access as refresh": access,
        "long": "eyJ" + "a" * 5000 + ".eyJ" + "b" * 10 + "." + "c" * 43,
    }
    for what, tok in bad.items():
        assert_not_valid(refresh(httpd, tok), what)
    # (an empty string is a missing field, as in DRF: "may not be blank")
    for what, kw in {"no refresh": {"json": {}},
                     "empty": {"json": {"refresh": ""}},
                     "other field": {"json": {"access": pat}},
                     "not json": {"data": "refresh=" + pat,
                                  "headers": {"Content-Type": "application/json"}},
                     "broken json": {"data": '{"refresh": ',
                                     "headers": {"Content-Type": "application/json"}}}.items():
        r = requests.post(httpd.url + REFRESH, **kw)
        assert r.status_code == 400, (what, r.status_code, r.text)
        assert isinstance(r.json().get("detail"), str), (what, r.text)
    # the real one still works
    assert whoami(httpd, bearer(access_for(httpd, pat))).json()["id"] == uid
    assert not httpd.bad_log_lines()


def test_siali_910_05_bad_bearer_tokens_are_401(httpd):
    """The PAT itself as Bearer is refused (it is a refresh token), as are a
    made-up string, a garbled access token, an access token signed with
    another key and one for another user forged with another key: 401 with a
    JSON detail. A good cookie does not rescue a bad Bearer header."""
    s, _, uid = account(httpd, "pat.bearer@example.org")
    pat = make_pat(httpd, s)
    access = access_for(httpd, pat)
    now = int(time.time())
    bad = {
        "pat as bearer": pat,
        "made up": "made-up-token",
        "jwt shaped": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln",
        "garbled": flip_signature_char(access),
        "re-signed": resign(unsigned(access)),
        "forged": forge({"token_type": "access", "user_id": uid, "iat": now,
                         "exp": now + 300, "jti": "e" * 32}),
        "truncated": unsigned(access),
    }
    for what, tok in bad.items():
        r = whoami(httpd, bearer(tok))
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert isinstance(r.json().get("detail"), str), (what, r.text)
        r = s.get(httpd.url + WHOAMI, headers=bearer(tok))
        assert r.status_code == 401, (what, "with cookie", r.status_code)
    r = whoami(httpd, {"X-API-Key": pat})
    assert r.status_code == 401, r.text
    assert whoami(httpd, bearer(access)).status_code == 200
    assert not httpd.bad_log_lines()


# ---- blacklist and rotate ----

def test_siali_910_06_blacklist(httpd):
    """POST /api/token/blacklist/ (no authentication) with the full PAT is
    204; the listed header.payload form is not accepted (404, and the PAT is
    unharmed); afterwards refresh with it is 401, access tokens minted from
    it before are refused at once, it is gone from the list, and
    blacklisting it again is 404 "Token is invalid or already blacklisted."
    Other PATs of the user keep working."""
    s, _, uid = account(httpd, "pat.blacklist@example.org")
    keep = make_pat(httpd, s)
    pat = make_pat(httpd, s)
    access = access_for(httpd, pat)
    assert whoami(httpd, bearer(access)).status_code == 200

    r = requests.post(httpd.url + BLACKLIST, json={"refresh": unsigned(pat)})
    assert r.status_code == 404, r.text
    assert refresh(httpd, pat).status_code == 200
    assert whoami(httpd, bearer(access)).status_code == 200

    r = requests.post(httpd.url + BLACKLIST, json={"refresh": pat})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_not_valid(refresh(httpd, pat), "blacklisted")
    r = whoami(httpd, bearer(access))
    assert r.status_code == 401, r.text
    assert r.json().get("detail")
    assert [e["token"] for e in listed(httpd, s)] == [unsigned(keep)]

    r = requests.post(httpd.url + BLACKLIST, json={"refresh": pat})
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == "Token is invalid or already blacklisted."
    for junk in ("junk", resign(unsigned(keep)), flip_signature_char(keep)):
        r = requests.post(httpd.url + BLACKLIST, json={"refresh": junk})
        assert r.status_code == 404, (junk, r.text)
    assert whoami(httpd, bearer(access_for(httpd, keep))).json()["id"] == uid
    assert not httpd.bad_log_lines()


def test_siali_910_06b_the_listed_form_revokes_only_for_its_owner(httpd):
    """The listed header.payload form revokes a PAT only when its owner,
    signed in (session or Bearer), sends it: anyone else, or nobody, gets
    404 and the PAT still refreshes (Label Studio takes that form from
    anyone who saw the list). The full signed token revokes for anyone."""
    s, _, uid = account(httpd, "pat.blacklist.owner@example.org")
    other, _, _ = account(httpd, "pat.blacklist.other@example.org")
    pat = make_pat(httpd, s)
    access = access_for(httpd, pat)
    r = requests.post(httpd.url + BLACKLIST, json={"refresh": unsigned(pat)})
    assert r.status_code == 404, r.text
    r = other.post(httpd.url + BLACKLIST, json={"refresh": unsigned(pat)})
    assert r.status_code == 404, r.text
    assert refresh(httpd, pat).status_code == 200
    assert whoami(httpd, bearer(access)).json()["id"] == uid
    r = requests.post(httpd.url + BLACKLIST, json={"refresh": unsigned(pat)},
                      headers=bearer(access))
    assert r.status_code == 204, r.text
    assert refresh(httpd, pat).status_code == 401
    assert whoami(httpd, bearer(access)).status_code == 401
    # by session, and the full token from anyone
    pat = make_pat(httpd, s)
    r = s.post(httpd.url + BLACKLIST, json={"refresh": unsigned(pat)})
    assert r.status_code == 204, r.text
    pat = make_pat(httpd, s)
    r = requests.post(httpd.url + BLACKLIST, json={"refresh": pat})
    assert r.status_code == 204, r.text
    assert refresh(httpd, pat).status_code == 401
    assert not httpd.bad_log_lines()


def test_siali_910_07_rotate(httpd):
    """POST /api/token/rotate/ as the PAT's owner (by session, then by
    Bearer) gives 200 {"refresh": a new PAT of the same user}; the old one is
    blacklisted (refresh 401), the new one refreshes and is listed instead of
    the old one. Rotating another user's PAT is 400 {"detail": "Invalid
    refresh token"} and that PAT still works."""
    s, _, uid = account(httpd, "pat.rotate@example.org")
    o, _, other_uid = account(httpd, "pat.rotate.other@example.org")
    old = make_pat(httpd, s)
    r = s.post(httpd.url + ROTATE, json={"refresh": old})
    assert r.status_code == 200, r.text
    new = r.json()["refresh"]
    assert new != old and new.count(".") == 2
    c = claims(new)
    assert c["token_type"] == "refresh" and c["user_id"] == uid
    assert c["jti"] != claims(old)["jti"]
    assert_not_valid(refresh(httpd, old), "rotated away")
    access = access_for(httpd, new)
    assert whoami(httpd, bearer(access)).json()["id"] == uid
    assert [e["token"] for e in listed(httpd, s)] == [unsigned(new)]

    # by Bearer
    r = requests.post(httpd.url + ROTATE, json={"refresh": new}, headers=bearer(access))
    assert r.status_code == 200, r.text
    newer = r.json()["refresh"]
    assert_not_valid(refresh(httpd, new), "rotated away by bearer")
    assert whoami(httpd, bearer(access_for(httpd, newer))).json()["id"] == uid

    # someone else's
    theirs = make_pat(httpd, o)
    r = s.post(httpd.url + ROTATE, json={"refresh": theirs})
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == "Invalid refresh token"
    assert whoami(httpd, bearer(access_for(httpd, theirs))).json()["id"] == other_uid
    # without authentication
    r = requests.post(httpd.url + ROTATE, json={"refresh": theirs})
    assert r.status_code == 401, r.text
    assert refresh(httpd, theirs).status_code == 200
    assert not httpd.bad_log_lines()


def test_siali_910_08_at_most_20_live_pats(httpd):
    """A user has at most 20 live PATs: the 21st is 409 with a detail and is
    not listed; once one is blacklisted, a new one can be made again. The
    limit is per user: another user is not affected."""
    s, _, _ = account(httpd, "pat.limit@example.org")
    o, _, _ = account(httpd, "pat.limit.other@example.org")
    pats = [make_pat(httpd, s) for _ in range(20)]
    r = new_pat(httpd, s)
    assert r.status_code == 409, r.text
    assert isinstance(r.json().get("detail"), str)
    assert len(listed(httpd, s)) == 20
    assert new_pat(httpd, o).status_code == 201
    assert requests.post(httpd.url + BLACKLIST, json={"refresh": pats[0]}).status_code == 204
    r = new_pat(httpd, s)
    assert r.status_code == 201, r.text
    assert len(listed(httpd, s)) == 20
    assert new_pat(httpd, s).status_code == 409
    assert not httpd.bad_log_lines()


# ---- the organization's settings ----

def test_siali_910_09_jwt_settings_defaults_and_validation(httpd_factory):
    """GET /api/jwt/settings gives the defaults; POST with any subset saves
    it and answers all three; wrong types or out-of-range TTLs are 400 with
    a JSON detail and change nothing; it needs authentication."""
    h = httpd_factory().start()
    s, key, _ = account(h, "settings.owner@example.org")
    r = s.get(h.url + SETTINGS)
    assert r.status_code == 200, r.text
    assert r.json() == DEFAULT_SETTINGS
    assert requests.get(h.url + SETTINGS).status_code == 401
    assert requests.post(h.url + SETTINGS, json={"api_token_ttl_days": 5}).status_code == 401

    r = s.post(h.url + SETTINGS, json={"api_token_ttl_days": 30})
    assert r.status_code == 200, r.text
    assert r.json() == dict(DEFAULT_SETTINGS, api_token_ttl_days=30)
    for body in ({"api_tokens_enabled": "yes"}, {"legacy_api_tokens_enabled": 1},
                 {"api_tokens_enabled": None}, {"api_token_ttl_days": 0},
                 {"api_token_ttl_days": 73001}, {"api_token_ttl_days": "5"},
                 {"api_token_ttl_days": 1.5}, {"api_token_ttl_days": -3},
                 {"api_token_ttl_days": True}):
        r = s.post(h.url + SETTINGS, json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert isinstance(r.json().get("detail"), str), (body, r.text)
    r = s.post(h.url + SETTINGS, data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert s.get(h.url + SETTINGS).json() == dict(DEFAULT_SETTINGS, api_token_ttl_days=30)
    r = requests.post(h.url + SETTINGS, headers=legacy(key),
                      json={"api_token_ttl_days": 73000, "api_tokens_enabled": True,
                            "legacy_api_tokens_enabled": True})
    assert r.status_code == 200, r.text
    assert r.json() == DEFAULT_SETTINGS
    assert s.get(h.url + SETTINGS).json() == DEFAULT_SETTINGS
    assert not h.bad_log_lines()


def test_siali_910_10_legacy_tokens_switched_off_and_on(httpd_factory):
    """legacy_api_tokens_enabled false: `Token <legacy>` is 401 saying legacy
    token authentication has been disabled (and the legacy key is refused as
    X-API-Key and as Bearer too), while Bearer access tokens and sessions
    keep working; set back to true, the legacy key works again."""
    h = httpd_factory().start()
    s, key, uid = account(h, "legacy.owner@example.org")
    _, key2, uid2 = account(h, "legacy.member@example.org")
    pat = make_pat(h, s)
    access = access_for(h, pat)
    r = s.post(h.url + SETTINGS, json={"legacy_api_tokens_enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["legacy_api_tokens_enabled"] is False
    for k in (key, key2):
        r = whoami(h, legacy(k))
        assert r.status_code == 401, r.text
        detail = r.json()["detail"].lower()
        assert "legacy" in detail and "disabled" in detail, detail
        # nor in the other headers that carry a legacy key
        for hdr in ({"X-API-Key": k}, {"Authorization": "Bearer " + k}):
            r = whoami(h, hdr)
            assert r.status_code == 401, (hdr, r.text)
    assert whoami(h, bearer(access)).json()["id"] == uid
    assert whoami(h, bearer(access_for(h, pat))).json()["id"] == uid
    assert s.get(h.url + WHOAMI).status_code == 200
    r = s.post(h.url + SETTINGS, json={"legacy_api_tokens_enabled": True})
    assert r.status_code == 200 and r.json() == DEFAULT_SETTINGS
    assert whoami(h, legacy(key)).json()["id"] == uid
    assert whoami(h, legacy(key2)).json()["id"] == uid2
    assert not h.bad_log_lines()


def test_siali_910_11_pats_switched_off_and_on(httpd_factory):
    """api_tokens_enabled false: POST /api/token/ is 403 with a detail,
    refresh of an existing PAT is 401, Bearer access tokens minted before
    are 401; the legacy Token still works. Switched back on, the untouched
    PAT refreshes again and new PATs can be made."""
    h = httpd_factory().start()
    s, key, uid = account(h, "pats.off@example.org")
    pat = make_pat(h, s)
    access = access_for(h, pat)
    r = s.post(h.url + SETTINGS, json={"api_tokens_enabled": False})
    assert r.status_code == 200, r.text
    assert r.json() == dict(DEFAULT_SETTINGS, api_tokens_enabled=False)
    r = new_pat(h, s)
    assert r.status_code == 403, r.text
    assert isinstance(r.json().get("detail"), str)
    r = refresh(h, pat)
    assert r.status_code == 401, r.text
    assert whoami(h, bearer(access)).status_code == 401
    assert whoami(h, {"X-API-Key": access}).status_code == 401
    assert whoami(h, legacy(key)).json()["id"] == uid
    assert whoami(h, {"X-API-Key": key}).json()["id"] == uid
    assert s.get(h.url + WHOAMI).status_code == 200
    assert len(listed(h, s)) == 1          # nothing was deleted

    r = s.post(h.url + SETTINGS, json={"api_tokens_enabled": True})
    assert r.status_code == 200 and r.json() == DEFAULT_SETTINGS
    assert whoami(h, bearer(access_for(h, pat))).json()["id"] == uid
    assert new_pat(h, s).status_code == 201
    assert not h.bad_log_lines()


def test_siali_910_12_ttl_days(httpd_factory):
    """api_token_ttl_days N: a PAT made afterwards expires N days after it
    was made, in the response, in the list and in the JWT (exp - iat ==
    N*86400); PATs made before keep their expiry; the default is 73000."""
    h = httpd_factory().start()
    s, _, _ = account(h, "ttl.owner@example.org")
    r = new_pat(h, s)
    assert r.status_code == 201
    before = r.json()
    assert iso(before["expires_at"]) - iso(before["created_at"]) == datetime.timedelta(days=73000)
    c = claims(before["token"])
    assert c["exp"] - c["iat"] == 73000 * 86400

    assert s.post(h.url + SETTINGS, json={"api_token_ttl_days": 3}).status_code == 200
    r = new_pat(h, s)
    assert r.status_code == 201, r.text
    body = r.json()
    assert iso(body["expires_at"]) - iso(body["created_at"]) == datetime.timedelta(days=3)
    c = claims(body["token"])
    assert c["exp"] - c["iat"] == 3 * 86400
    assert abs(c["exp"] - (time.time() + 3 * 86400)) < 120
    got = {e["token"]: e for e in listed(h, s)}
    e = got[unsigned(body["token"])]
    assert iso(e["expires_at"]) - iso(e["created_at"]) == datetime.timedelta(days=3)
    e = got[unsigned(before["token"])]
    assert iso(e["expires_at"]) - iso(e["created_at"]) == datetime.timedelta(days=73000)
    assert refresh(h, body["token"]).status_code == 200
    assert not h.bad_log_lines()


# ---- session policy ----

def test_siali_910_13_session_policy_read_and_write(httpd_factory):
    """GET /api/session-policy/ gives the directives' values in minutes
    (defaults 14d and 5d: 20160 and 7200; a configured 1h idle timeout gives
    60); PATCH with a subset saves it and answers both; values < 1,
    non-integers and strings are 400 and change nothing; POST and PUT are
    405; it needs authentication."""
    h = httpd_factory().start()
    s, _, _ = account(h, "policy.owner@example.org")
    r = s.get(h.url + POLICY)
    assert r.status_code == 200, r.text
    assert r.json() == {"max_session_age": 20160, "max_time_between_activity": 7200}
    assert requests.get(h.url + POLICY).status_code == 401

    r = s.patch(h.url + POLICY, json={"max_time_between_activity": 90})
    assert r.status_code == 200, r.text
    assert r.json() == {"max_session_age": 20160, "max_time_between_activity": 90}
    r = s.patch(h.url + POLICY, json={"max_session_age": 600})
    assert r.status_code == 200, r.text
    assert r.json() == {"max_session_age": 600, "max_time_between_activity": 90}
    for body in ({"max_session_age": 0}, {"max_session_age": -5},
                 {"max_time_between_activity": 1.5}, {"max_time_between_activity": "10"},
                 {"max_session_age": "abc"}, {"max_session_age": None},
                 {"max_session_age": True}):
        r = s.patch(h.url + POLICY, json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
    for method in ("POST", "PUT"):
        r = s.request(method, h.url + POLICY, json={"max_session_age": 60})
        assert r.status_code == 405, (method, r.status_code, r.text)
    assert s.get(h.url + POLICY).json() == {"max_session_age": 600,
                                            "max_time_between_activity": 90}

    h2 = httpd_factory(directives="SialiSessionIdleTimeout 1h").start()
    s2, _, _ = account(h2, "policy.idle@example.org")
    assert s2.get(h2.url + POLICY).json() == {"max_session_age": 20160,
                                              "max_time_between_activity": 60}
    assert not h.bad_log_lines() and not h2.bad_log_lines()


def backdate_sessions(h, seconds=120):
    h.sql("UPDATE sessions SET created_at = created_at - %d, last_seen = last_seen" % seconds)


def login(h, email, password="secret-pass-1"):
    s = requests.Session()
    r = s.post(h.url + "/user/login/", data={"email": email, "password": password},
               allow_redirects=False)
    assert r.status_code == 302, r.text
    return s


def test_siali_910_14_session_policy_applies_to_existing_sessions(httpd_factory):
    """A shorter max_session_age applies at once to sessions made before it:
    a session older than one minute (its created_at moved back in the
    database) is refused, a fresh login still works; the legacy key is not a
    session and is not affected."""
    h = httpd_factory(directives="SialiSessionIdleTimeout 1h").start()
    s, key, uid = account(h, "policy.age@example.org")
    r = s.patch(h.url + POLICY, json={"max_session_age": 1})
    assert r.status_code == 200, r.text
    assert r.json()["max_session_age"] == 1
    assert s.get(h.url + WHOAMI).status_code == 200        # one minute not over yet
    backdate_sessions(h)
    assert eventually(lambda: s.get(h.url + WHOAMI).status_code, lambda c: c == 401) == 401
    fresh = login(h, "policy.age@example.org")
    assert fresh.get(h.url + WHOAMI).json()["id"] == uid
    assert whoami(h, legacy(key)).json()["id"] == uid
    assert not h.bad_log_lines()


def test_siali_910_14b_idle_policy_applies_to_existing_sessions(httpd_factory):
    """A shorter max_time_between_activity applies at once to sessions made
    before it: a session idle for two minutes (its last_seen moved back in
    the database) is refused under a one-minute policy, a fresh login works."""
    h = httpd_factory(directives="SialiSessionIdleTimeout 1h").start()
    s, _, uid = account(h, "policy.idle2@example.org")
    r = s.patch(h.url + POLICY, json={"max_time_between_activity": 1})
    assert r.status_code == 200, r.text
    assert r.json()["max_time_between_activity"] == 1
    assert s.get(h.url + WHOAMI).status_code == 200
    # (created_at named too: on PostgreSQL an update of last_seen alone is
    # not announced to the caller caches, the server writes it all the time)
    h.sql("UPDATE sessions SET last_seen = last_seen - 120, created_at = created_at")
    assert eventually(lambda: s.get(h.url + WHOAMI).status_code, lambda c: c == 401) == 401
    fresh = login(h, "policy.idle2@example.org")
    assert fresh.get(h.url + WHOAMI).json()["id"] == uid
    assert not h.bad_log_lines()


def test_siali_910_15_session_policy_on_two_nodes(httpd_factory, driver):
    """Two nodes on one PostgreSQL: a policy saved through one node is what
    the other answers, and a session too old for it is refused on both."""
    if driver != "pgsql":
        pytest.skip("two nodes share a database on PostgreSQL only")
    a = httpd_factory().start()
    b = httpd_factory(db=a.db).start()
    s, _, uid = account(a, "policy.nodes@example.org")
    sb = requests.Session()
    sb.cookies.set("siali_session", s.cookies["siali_session"])
    assert sb.get(b.url + WHOAMI).json()["id"] == uid
    r = s.patch(a.url + POLICY, json={"max_session_age": 1, "max_time_between_activity": 45})
    assert r.status_code == 200, r.text
    want = {"max_session_age": 1, "max_time_between_activity": 45}
    assert eventually(lambda: sb.get(b.url + POLICY).json(), lambda j: j == want) == want
    backdate_sessions(a)
    for node, sess in ((a, s), (b, sb)):
        assert eventually(lambda: sess.get(node.url + WHOAMI).status_code,
                          lambda c: c == 401) == 401, node.url
    fresh = login(b, "policy.nodes@example.org")
    assert fresh.get(b.url + WHOAMI).json()["id"] == uid
    assert not a.bad_log_lines() and not b.bad_log_lines()


# ---- CLI ----

def test_siali_910_16_cli_token_create_and_revoke_all(httpd):
    """`siali token create --username EMAIL` prints a PAT (its last line)
    that refreshes; --ttl-days 2 gives exp - iat == 2 days; `siali token
    revoke-all --username EMAIL` makes every PAT of that user fail refresh
    (401) and leaves other users' PATs alone; an unknown user is an error."""
    email = "cli.pat@example.org"
    s, _, uid = account(httpd, email)
    o, _, other_uid = account(httpd, "cli.pat.other@example.org")
    theirs = make_pat(httpd, o)
    r = httpd.siali("token", "create", "--username", email)
    assert r.returncode == 0, r.stderr
    pat = r.stdout.strip().splitlines()[-1].strip()
    assert pat.count(".") == 2, r.stdout
    c = claims(pat)
    assert c["token_type"] == "refresh" and c["user_id"] == uid
    assert whoami(httpd, bearer(access_for(httpd, pat))).json()["id"] == uid

    r = httpd.siali("token", "create", "--username", email, "--ttl-days", "2")
    assert r.returncode == 0, r.stderr
    short = r.stdout.strip().splitlines()[-1].strip()
    c = claims(short)
    assert c["exp"] - c["iat"] == 2 * 86400
    assert refresh(httpd, short).status_code == 200
    web = make_pat(httpd, s)
    listed_now = {e["token"] for e in listed(httpd, s)}
    assert {unsigned(pat), unsigned(short), unsigned(web)} <= listed_now

    r = httpd.siali("token", "revoke-all", "--username", email)
    assert r.returncode == 0, r.stderr
    for tok in (pat, short, web):
        assert_not_valid(eventually(lambda: refresh(httpd, tok),
                                    lambda r: r.status_code == 401), "revoked")
    assert listed(httpd, s) == []
    assert whoami(httpd, bearer(access_for(httpd, theirs))).json()["id"] == other_uid

    r = httpd.siali("token", "create", "--username", "ghost@example.org")
    assert r.returncode != 0
    assert not httpd.bad_log_lines()


def test_siali_910_17_cli_rotate_secret(httpd_factory):
    """`siali jwt rotate-secret` makes every PAT made before it fail refresh
    (401), for every user, and access tokens signed with the old key fail
    too, even in children that had accepted them; PATs made afterwards work."""
    h = httpd_factory().start()
    s, _, uid = account(h, "rotate.secret@example.org")
    o, _, _ = account(h, "rotate.secret.other@example.org")
    before = [make_pat(h, s), make_pat(h, o)]
    for pat in before:
        assert refresh(h, pat).status_code == 200
    old_access = access_for(h, before[0])
    assert spread_whoami(h, bearer(old_access), n=32) == {(200, uid): 32}
    r = h.siali("jwt", "rotate-secret")
    assert r.returncode == 0, r.stderr
    for pat in before:
        assert_not_valid(eventually(lambda: refresh(h, pat), lambda r: r.status_code == 401),
                         "old secret")
    # access tokens signed with the old key go with it
    assert eventually(lambda: whoami(h, bearer(old_access)).status_code,
                      lambda c: c == 401) == 401
    after = make_pat(h, s)
    assert whoami(h, bearer(access_for(h, after))).json()["id"] == uid
    r = h.siali("token", "create", "--username", "rotate.secret@example.org")
    assert r.returncode == 0, r.stderr
    assert refresh(h, r.stdout.strip().splitlines()[-1].strip()).status_code == 200
    assert not h.bad_log_lines()


# ---- a deactivated user ----

def test_siali_910_18_deactivated_users_access_tokens_are_refused_at_once(httpd):
    """Deactivating a user through the API refuses their Bearer access
    tokens (and X-API-Key access tokens) on the very next request, and
    their PAT no longer refreshes."""
    admin, _, _ = account(httpd, "pat.admin@example.org")
    victim, _, vid = account(httpd, "pat.deactivated@example.org")
    pat = make_pat(httpd, victim)
    access = access_for(httpd, pat)
    assert whoami(httpd, bearer(access)).json()["id"] == vid
    r = admin.patch(httpd.url + "/api/users/%d" % vid, json={"is_active": False})
    assert r.status_code == 200, r.text
    assert whoami(httpd, bearer(access)).status_code == 401
    assert whoami(httpd, {"X-API-Key": access}).status_code == 401
    # nor does the PAT give them a new access token
    assert_not_valid(refresh(httpd, pat), "deactivated user")
    assert not httpd.bad_log_lines()


# ---- overlap ----

def test_siali_910_19_parallel_pat_creation(httpd):
    """16 threads create PATs at once, for 16 distinct users and, afterwards,
    40 for one user: no 5xx; every 201 is in its owner's list; the one user
    gets exactly 20 (never more) and every refusal is 409."""
    users = [account(httpd, "par.pat%02d@example.org" % i) for i in range(16)]

    def distinct(i):
        s, key, uid = users[i % 16]
        r = requests.post(httpd.url + TOKENS, headers=legacy(key), timeout=60)
        return i % 16, r.status_code, r.json().get("token") if r.status_code == 201 else r.text

    with cf.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(distinct, range(48)))
    assert Counter(code for _, code, _ in results) == {201: 48}, \
        [r for r in results if r[1] != 201][:5]
    for n, (s, _, uid) in enumerate(users):
        mine = [tok for i, _, tok in results if i == n]
        assert all(claims(t)["user_id"] == uid for t in mine)
        got = [e["token"] for e in listed(httpd, s)]
        assert sorted(got) == sorted(unsigned(t) for t in mine)

    s, key, uid = account(httpd, "par.pat.same@example.org")

    def same(_):
        r = requests.post(httpd.url + TOKENS, headers=legacy(key), timeout=60)
        return r.status_code, r.json().get("token") if r.status_code == 201 else r.text

    with cf.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(same, range(40)))
    codes = Counter(code for code, _ in results)
    assert codes == {201: 20, 409: 20}, codes
    made = [t for code, t in results if code == 201]
    assert sorted(e["token"] for e in listed(httpd, s)) == sorted(unsigned(t) for t in made)
    assert not httpd.bad_log_lines()


def test_siali_910_20_parallel_refresh_of_one_pat(httpd):
    """16 threads refresh the same PAT at once, 64 times in all: every one
    is 200 and every access token identifies the user."""
    s, _, uid = account(httpd, "par.refresh@example.org")
    pat = make_pat(httpd, s)

    def one(_):
        r = refresh(httpd, pat, timeout=60)
        if r.status_code != 200:
            return r.status_code, r.text
        w = whoami(httpd, bearer(r.json()["access"]))
        return w.status_code, w.json().get("id")

    with cf.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(one, range(64)))
    assert Counter(results) == {(200, uid): 64}, Counter(results)
    assert not httpd.bad_log_lines()


def test_siali_910_21_parallel_blacklist_of_one_pat(httpd):
    """8 threads blacklist the same PAT at the same instant: exactly one
    204, the other seven 404; afterwards it does not refresh."""
    s, _, _ = account(httpd, "par.blacklist@example.org")
    for round_ in range(3):
        pat = make_pat(httpd, s)
        start = threading.Barrier(8)

        def one(_):
            start.wait(timeout=60)
            return requests.post(httpd.url + BLACKLIST, json={"refresh": pat},
                                 timeout=60).status_code

        with cf.ThreadPoolExecutor(8) as ex:
            codes = Counter(ex.map(one, range(8)))
        assert codes == {204: 1, 404: 7}, (round_, codes)
        assert_not_valid(refresh(httpd, pat), "blacklisted in parallel")
    assert listed(httpd, s) == []
    assert not httpd.bad_log_lines()


# ---- the SDK ----

def test_siali_910_22_the_sdks_sequence(httpd):
    """What label-studio-sdk does with a PAT as api_key: decode the payload
    locally and check "exp" is in the future, POST /api/token/refresh/
    {"refresh": PAT}, keep the access token, then GET whoami and GET
    /api/organizations/1/memberships with `Authorization: Bearer <access>`."""
    s, _, uid = account(httpd, "sdk.user@example.org")
    api_key = make_pat(httpd, s)

    payload = json.loads(b64d(api_key.split(".")[1]))
    assert payload["exp"] > time.time()
    assert payload.get("token_type") == "refresh"
    sdk = requests.Session()          # no cookie: only the header authenticates
    r = sdk.post(httpd.url + REFRESH, json={"refresh": api_key})
    assert r.status_code == 200, r.text
    access = r.json()["access"]
    auth = {"Authorization": "Bearer " + access}
    r = sdk.get(httpd.url + WHOAMI, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == uid
    r = sdk.get(httpd.url + "/api/organizations/1/memberships", headers=auth)
    assert r.status_code == 200, r.text
    assert "results" in r.json()
    assert not httpd.bad_log_lines()


# ---- expiry (needs the server's signing key, read from its database) ----

def server_key(h, pat):
    """The key that signed pat, from the database (siali_keys 'jwt'), as the
    HMAC key it is used as: whichever spelling re-signs pat exactly."""
    rows = h.sql("SELECT value FROM siali_keys WHERE name = 'jwt'")
    assert rows, "no jwt key in siali_keys"
    value = rows[0][0]
    candidates = [value.encode()]
    try:
        candidates.append(bytes.fromhex(value))
    except ValueError:
        pass
    for k in candidates:
        if resign(unsigned(pat), k) == pat:
            return k
    pytest.fail("no spelling of siali_keys 'jwt' re-signs the PAT")


def test_siali_910_23_expired_tokens_are_refused(httpd):
    """A PAT whose exp has passed (otherwise the PAT itself, signed with the
    server's own key) is 401 token_not_valid at refresh, and an expired
    access token is 401 as Bearer; the same claims with exp in the future
    (the check that the key was found) are accepted."""
    s, _, uid = account(httpd, "pat.expired@example.org")
    pat = make_pat(httpd, s)
    key = server_key(httpd, pat)
    head = pat.split(".")[0]
    c = claims(pat)
    now = int(time.time())

    def signed(payload):
        return resign(head + "." + b64e(json.dumps(payload, separators=(",", ":")).encode()),
                      key)

    # the same claims re-encoded and signed by us: accepted, so the key is right
    assert refresh(httpd, signed(c)).status_code == 200
    expired = signed(dict(c, iat=now - 7200, exp=now - 3600))
    assert_not_valid(refresh(httpd, expired), "expired refresh")
    access = access_for(httpd, pat)
    a = claims(access)
    ahead = access.split(".")[0]
    old_access = resign(ahead + "." + b64e(json.dumps(dict(a, iat=now - 900, exp=now - 600))
                                           .encode()), key)
    r = whoami(httpd, bearer(old_access))
    assert r.status_code == 401, r.text
    assert whoami(httpd, bearer(access)).json()["id"] == uid
    assert not httpd.bad_log_lines()


# ---- changes seen by every child and every node ----

# several children, so that a change made through one must reach the others
SPREAD = ("ServerLimit 4\nThreadsPerChild 8\nMaxRequestWorkers 32\nMinSpareThreads 8\n"
          "MaxSpareThreads 32")


def spread_whoami(h, headers, n=96):
    """n requests at once, each on a fresh connection (the event MPM hands
    it to any child): Counter of (status, id)."""
    def one(_):
        r = requests.get(h.url + WHOAMI, headers=dict(headers, Connection="close"),
                         timeout=30)
        return r.status_code, r.json().get("id") if r.status_code == 200 else None

    with cf.ThreadPoolExecutor(16) as ex:
        return Counter(ex.map(one, range(n)))


def test_siali_910_24_changes_reach_every_child_at_once(httpd_factory):
    """With every child of a node having served (and, on PostgreSQL, cached)
    an access token and a legacy key, changes made through the API are seen
    by all of them on the very next request: a blacklisted PAT's access
    token, legacy keys switched off, PATs switched off, a deactivated user."""
    h = httpd_factory(directives=SPREAD, start_servers=4).start()
    owner, key, uid = account(h, "spread.owner@example.org")
    victim, vkey, vid = account(h, "spread.victim@example.org")
    gone = make_pat(h, owner)
    gone_access = access_for(h, gone)
    kept_access = access_for(h, make_pat(h, owner))
    vaccess = access_for(h, make_pat(h, victim))
    for hdr, who in ((bearer(gone_access), uid), (bearer(kept_access), uid),
                     (legacy(key), uid), (bearer(vaccess), vid)):
        assert spread_whoami(h, hdr) == {(200, who): 96}

    assert requests.post(h.url + BLACKLIST, json={"refresh": gone}).status_code == 204
    assert spread_whoami(h, bearer(gone_access)) == {(401, None): 96}
    assert spread_whoami(h, bearer(kept_access)) == {(200, uid): 96}

    assert owner.post(h.url + SETTINGS,
                      json={"legacy_api_tokens_enabled": False}).status_code == 200
    assert spread_whoami(h, legacy(key)) == {(401, None): 96}
    assert spread_whoami(h, bearer(kept_access)) == {(200, uid): 96}
    assert owner.post(h.url + SETTINGS,
                      json={"legacy_api_tokens_enabled": True}).status_code == 200
    assert spread_whoami(h, legacy(key)) == {(200, uid): 96}

    assert owner.post(h.url + SETTINGS, json={"api_tokens_enabled": False}).status_code == 200
    assert spread_whoami(h, bearer(kept_access)) == {(401, None): 96}
    assert owner.post(h.url + SETTINGS, json={"api_tokens_enabled": True}).status_code == 200
    assert spread_whoami(h, bearer(kept_access)) == {(200, uid): 96}

    r = owner.patch(h.url + "/api/users/%d" % vid, json={"is_active": False})
    assert r.status_code == 200, r.text
    assert spread_whoami(h, bearer(vaccess)) == {(401, None): 96}
    assert spread_whoami(h, legacy(vkey)) == {(401, None): 96}
    assert not h.bad_log_lines()


def test_siali_910_25_two_nodes_share_pats_and_settings(httpd_factory, driver):
    """Two nodes on one PostgreSQL: a PAT made on one refreshes on the
    other and its access token works on both; blacklisted on one, it no
    longer refreshes on the other and its access token is refused there
    (once the notification arrives); settings changed on one apply on the
    other; the CLI's revoke-all and rotate-secret apply on both."""
    if driver != "pgsql":
        pytest.skip("two nodes share a database on PostgreSQL only")
    a = httpd_factory().start()
    b = httpd_factory(db=a.db).start()
    s, key, uid = account(a, "nodes.pat@example.org")
    pat = make_pat(a, s)
    access = access_for(b, pat)
    for node in (a, b):
        assert whoami(node, bearer(access)).json()["id"] == uid
    assert requests.post(a.url + BLACKLIST, json={"refresh": pat}).status_code == 204
    assert_not_valid(refresh(b, pat), "blacklisted on the other node")
    assert eventually(lambda: whoami(b, bearer(access)).status_code,
                      lambda c: c == 401) == 401

    pat2 = make_pat(a, s)
    access2 = access_for(a, pat2)
    assert whoami(b, bearer(access2)).status_code == 200
    assert whoami(b, legacy(key)).status_code == 200
    assert s.post(a.url + SETTINGS, json={"legacy_api_tokens_enabled": False,
                                          "api_tokens_enabled": False}).status_code == 200
    sb = requests.Session()
    sb.cookies.set("siali_session", s.cookies["siali_session"])
    want = dict(DEFAULT_SETTINGS, legacy_api_tokens_enabled=False, api_tokens_enabled=False)
    assert eventually(lambda: sb.get(b.url + SETTINGS).json(), lambda j: j == want) == want
    assert eventually(lambda: whoami(b, legacy(key)).status_code, lambda c: c == 401) == 401
    assert eventually(lambda: whoami(b, bearer(access2)).status_code,
                      lambda c: c == 401) == 401
    assert new_pat(b, sb).status_code == 403
    assert sb.post(b.url + SETTINGS, json=DEFAULT_SETTINGS).json() == DEFAULT_SETTINGS
    assert eventually(lambda: whoami(a, bearer(access2)).status_code,
                      lambda c: c == 200) == 200
    assert whoami(a, legacy(key)).status_code == 200

    pat3 = make_pat(b, sb)
    r = a.siali("token", "revoke-all", "--username", "nodes.pat@example.org")
    assert r.returncode == 0, r.stderr
    for node in (a, b):
        assert_not_valid(refresh(node, pat2), "revoke-all")
        assert_not_valid(refresh(node, pat3), "revoke-all")
    pat4 = make_pat(a, s)
    assert refresh(b, pat4).status_code == 200
    r = b.siali("jwt", "rotate-secret")
    assert r.returncode == 0, r.stderr
    for node in (a, b):
        assert_not_valid(eventually(lambda: refresh(node, pat4),
                                    lambda r: r.status_code == 401), "rotated key")
    assert refresh(a, make_pat(b, sb)).status_code == 200
    assert not a.bad_log_lines() and not b.bad_log_lines()


def test_siali_910_26_cookie_writes_refuse_cross_site(httpd_factory):
    """The new writes a session cookie can make (POST /api/token/, POST
    /api/token/rotate/, POST /api/jwt/settings, PATCH /api/session-policy/)
    are refused (403) when the browser says the request is cross-site, and
    change nothing; the same writes without those headers work."""
    h = httpd_factory().start()
    s, _, _ = account(h, "cross.site@example.org")
    pat = make_pat(h, s)
    before = listed(h, s)
    for hdr in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        writes = (("POST", TOKENS, None), ("POST", ROTATE, {"refresh": pat}),
                  ("POST", SETTINGS, {"api_tokens_enabled": False}),
                  ("PATCH", POLICY, {"max_session_age": 1}))
        for method, path, body in writes:
            r = s.request(method, h.url + path, json=body, headers=hdr)
            assert r.status_code == 403, (method, path, hdr, r.status_code, r.text)
    assert listed(h, s) == before
    assert refresh(h, pat).status_code == 200
    assert s.get(h.url + SETTINGS).json() == DEFAULT_SETTINGS
    assert s.get(h.url + POLICY).json() == {"max_session_age": 20160,
                                            "max_time_between_activity": 7200}
    assert new_pat(h, s).status_code == 201
    assert not h.bad_log_lines()


def test_siali_910_27_an_accepted_access_token_is_refused_once_expired(httpd):
    """An access token that every child has accepted (and may remember as
    verified) is refused as soon as its exp has passed: the expiry is
    checked on every request, not only the first time a token is seen.
    (The token is the server's own access token with exp three seconds
    ahead, signed with the server's key from its database.)"""
    s, _, uid = account(httpd, "pat.memo@example.org")
    pat = make_pat(httpd, s)
    key = server_key(httpd, pat)
    access = access_for(httpd, pat)
    now = int(time.time())
    short = resign(access.split(".")[0] + "." +
                   b64e(json.dumps(dict(claims(access), iat=now, exp=now + 3)).encode()), key)
    assert spread_whoami(httpd, bearer(short), n=48) == {(200, uid): 48}
    while time.time() < now + 4.5:
        time.sleep(0.2)
    assert spread_whoami(httpd, bearer(short), n=48) == {(401, None): 48}
    assert whoami(httpd, bearer(access)).json()["id"] == uid
    assert not httpd.bad_log_lines()


def test_siali_910_28_parallel_settings_and_policy_writes(httpd):
    """12 clients at once set the token lifetime and 12 the session policy,
    each a value of its own, while 8 read them: every write is answered 200
    with its own value, every read is one of the acknowledged states, and
    what stays is one of the acknowledged values, in force for the next
    PAT (nothing lost half-way, no 5xx)."""
    s, _, _ = account(httpd, "pat.parallel.settings@example.org")
    cookies = s.cookies

    def set_ttl(n):
        r = requests.post(httpd.url + SETTINGS, json={"api_token_ttl_days": 100 + n},
                          cookies=cookies, timeout=30)
        return "ttl", n, r.status_code, r.json()

    def set_policy(n):
        r = requests.patch(httpd.url + POLICY, json={"max_session_age": 1000 + n},
                           cookies=cookies, timeout=30)
        return "policy", n, r.status_code, r.json()

    def read(n):
        r = requests.get(httpd.url + (SETTINGS if n % 2 else POLICY), cookies=cookies,
                         timeout=30)
        return "read", n, r.status_code, r.json()

    jobs = ([(set_ttl, n) for n in range(12)] + [(set_policy, n) for n in range(12)]
            + [(read, n) for n in range(8)])
    with cf.ThreadPoolExecutor(32) as ex:
        got = list(ex.map(lambda j: j[0](j[1]), jobs))
    for kind, n, code, body in got:
        assert code == 200, (kind, n, code, body)
        if kind == "ttl":
            assert body["api_token_ttl_days"] == 100 + n, body
        elif kind == "policy":
            assert body["max_session_age"] == 1000 + n, body
        elif "api_token_ttl_days" in body:
            assert body["api_token_ttl_days"] == 73000 or 100 <= body["api_token_ttl_days"] < 112
        else:
            assert body["max_session_age"] == 20160 or 1000 <= body["max_session_age"] < 1012
    ttl = s.get(httpd.url + SETTINGS).json()["api_token_ttl_days"]
    age = s.get(httpd.url + POLICY).json()["max_session_age"]
    assert 100 <= ttl < 112 and 1000 <= age < 1012, (ttl, age)
    made = s.post(httpd.url + "/api/token/").json()["token"]
    c = claims(made)
    assert c["exp"] - c["iat"] == ttl * 86400
    assert not httpd.bad_log_lines()
