"""Accounts, sessions, CSRF and headers: argon2, per-address and per-account limits, cookies,
sign-out that really ends the session, a token on every POST, and a CSP the pages pass."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from surveys import create_app
from surveys.models import AuditEvent, User
from tests.helpers import csrf_token, sign_in
from tests.security.conftest import PASSWORD, act_as
from tests.security.test_route_roles import RULES, app_routes, route_url, url_values


def events(session_factory, action: str) -> list[AuditEvent]:
    with session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)))


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_passwords_are_stored_as_argon2id_hashes(world, session_factory):
    with session_factory() as s:
        for user in s.scalars(select(User)):
            assert user.password_hash.startswith("$argon2id$")
            assert PASSWORD not in user.password_hash


def test_five_wrong_passwords_pause_that_address_for_that_account_for_fifteen_minutes(
    client, world, session_factory, clock
):
    for _ in range(5):
        page = sign_in(client, "researcher@example.org", "wrong password!!")
        assert page.status_code == 200
        assert "Enter a correct email address" in page.get_data(as_text=True)
    paused = sign_in(client, "researcher@example.org", PASSWORD)
    assert paused.status_code == 429, "the right password must wait once the address is paused"
    reasons = [e.detail["reason"] for e in events(session_factory, "sign_in_failed")]
    assert reasons == ["wrong_password"] * 5 + ["throttled"]
    assert events(session_factory, "sign_in") == []
    # The pause is for this address only: the same account opens from another one.
    elsewhere = client_at(client.application, "192.0.2.77")
    assert sign_in(elsewhere, "researcher@example.org", PASSWORD).status_code == 302
    clock.advance(minutes=15, seconds=1)
    opened = sign_in(client, "researcher@example.org", PASSWORD)
    assert opened.status_code == 302 and opened.headers["Location"] == "/staff/"
    signed_in = events(session_factory, "sign_in")[-1]
    assert signed_in.actor == "researcher@example.org" and signed_in.at == clock()


def test_one_address_guessing_many_accounts_is_stopped(app, world, session_factory, clock):
    guesser = client_at(app, "198.51.100.7")
    for n in range(20):
        page = sign_in(guesser, f"nobody{n}@example.org", "some guess 123")
        assert page.status_code == 200
    blocked = sign_in(guesser, "admin@example.org", PASSWORD)
    assert blocked.status_code == 429 and "Too many attempts" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= 600
    # Another address is not affected, and the first one may try again after ten minutes.
    other = client_at(app, "198.51.100.8")
    assert sign_in(other, "admin@example.org", PASSWORD).status_code == 302
    clock.advance(minutes=10, seconds=1)
    assert sign_in(guesser, "admin@example.org", PASSWORD).status_code == 302
    assert events(session_factory, "sign_in_failed")[-1].detail["reason"] == "throttled"


def _https_app(settings, engine, clock, mailer, base_url: str):
    return create_app({"SETTINGS": dataclasses.replace(settings, base_url=base_url),
                       "ENGINE": engine, "CLOCK": clock, "MAILER": mailer, "TESTING": True})


def _session_cookie_header(response) -> str:
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return cookie


def test_session_cookies_are_secure_httponly_samesite_and_short_lived(
    world, settings, engine, clock, mailer
):
    app = _https_app(settings, engine, clock, mailer, "https://surveys.example.org")
    client = app.test_client()
    response = sign_in(client, "admin@example.org", PASSWORD)
    cookie = _session_cookie_header(response)
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime <= timedelta(hours=8)
    # Served over plain HTTP (the embedded mode), the cookie cannot be Secure, but stays
    # HttpOnly and SameSite.
    plain = _https_app(settings, engine, clock, mailer, "http://127.0.0.1:5000").test_client()
    cookie = _session_cookie_header(plain.get("/staff/sign-in"))
    assert "; HttpOnly" in cookie and "SameSite=Lax" in cookie and "; Secure" not in cookie


def test_sign_out_is_a_post_and_ends_the_session_for_good(app, world, session_factory):
    client = app.test_client()
    assert sign_in(client, "researcher@example.org", PASSWORD).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/sign-out").status_code == 405
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    out = client.post("/staff/sign-out", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"] == "/staff/sign-in"
    assert client.get("/staff/").status_code == 302
    # Replaying the cookie from before signing out opens nothing.
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/staff/")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]
    assert [e.actor for e in events(session_factory, "sign_out")] == ["researcher@example.org"]


def test_sign_in_never_redirects_off_the_site(app, world):
    for target in ("//evil.example", "/\\evil.example", "https://evil.example/",
                   "/%5Cevil.example", "/\tevil", "javascript:alert(1)", "/staff/audit"):
        client = app.test_client()
        page = client.get("/staff/sign-in", query_string={"next": target})
        response = client.post(
            "/staff/sign-in", query_string={"next": target},
            data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                  "email": "admin@example.org", "password": PASSWORD})
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), target
        assert "evil" not in location.replace("%5Cevil", "") or location == "/staff/", target


def _post_routes(app):
    """Every state-changing route of the app (read from the URL map, not from RULES)."""
    return sorted(key for key in app_routes(app) if key[1] != "GET")


def test_every_post_route_refuses_a_request_without_a_csrf_token(app, world, session_factory):
    values = url_values(world)
    checked = 0
    for endpoint, _ in _post_routes(app):
        url = route_url(app, endpoint, values)
        for role in ("anonymous", "admin"):
            client = app.test_client()
            client.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
            act_as(client, session_factory, role)
            bare = client.post(url, data={})
            assert bare.status_code == 400, (endpoint, role, bare.status_code)
            assert "your page had expired" in bare.get_data(as_text=True)
            # A token from someone else's session is no better than none.
            other = app.test_client()
            foreign = csrf_token(other.get("/staff/sign-in").get_data(as_text=True))
            crossed = client.post(url, data={"csrf_token": foreign})
            assert crossed.status_code == 400, (endpoint, role, "foreign token")
            checked += 1
    assert checked == 2 * len(_post_routes(app)) and checked >= 16


class _InlineFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")


def inline_problems(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.problems


def _pages_to_check(app, world, session_factory):
    """(label, response) for every GET page of every role, and every questionnaire page."""
    from instruments import load_instrument

    values = url_values(world)
    for (endpoint, method), allowed in sorted(RULES.items()):
        if method != "GET":
            continue
        for role, verdict in allowed.items():
            if verdict != "allowed":
                continue
            client = app.test_client()
            client.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
            act_as(client, session_factory, role)
            yield f"{endpoint} as {role}", client.get(route_url(app, endpoint, values),
                                                      follow_redirects=True)
    client = app.test_client()
    client.get(f"/r/{world.tokens['ZQREF-BRAVO2']}")
    for page in load_instrument("wave1").pages:
        yield f"wave1 {page.id}", client.get(f"/q/{page.id}", follow_redirects=True)
    # Error pages and pages showing form errors.
    yield "not found", client.get("/no-such-page")
    yield "unknown link", client.get("/r/not-a-real-link")
    yield "bad sign-in", sign_in(app.test_client(), "admin@example.org", "wrong wrong wrong")
    yield "CSRF refusal", app.test_client().post("/staff/sign-in", data={})
    researcher = app.test_client()
    act_as(researcher, session_factory, "researcher")
    yield "forbidden", app.test_client().get("/staff/audit")
    evaluator = app.test_client()
    act_as(evaluator, session_factory, "evaluator")
    yield "403 page", evaluator.get("/staff/audit")


def test_pages_pass_the_content_security_policy_and_deny_framing(app, world, session_factory):
    checked = 0
    for label, response in _pages_to_check(app, world, session_factory):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, label
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, label
        assert response.headers["X-Frame-Options"] == "DENY", label
        assert response.headers["X-Content-Type-Options"] == "nosniff", label
        assert "Strict-Transport-Security" not in response.headers, label  # plain http here
        if response.mimetype == "text/html":
            assert inline_problems(response.get_data(as_text=True)) == [], label
            checked += 1
    assert checked >= 30


def test_hsts_when_served_over_https(world, settings, engine, clock, mailer, app):
    direct = app.test_client().get("/", base_url="https://surveys.test")
    assert direct.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    behind_proxy = _https_app(settings, engine, clock, mailer, "https://surveys.example.org")
    response = behind_proxy.test_client().get("/staff/sign-in")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
