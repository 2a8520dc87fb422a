"""Personal links: long random tokens, kept only as hashes, compared in constant time,
guessing slowed per client address (counts shared through the database), each link
opening only its own questionnaire, and closed or used links saying so."""

from __future__ import annotations

import base64
import hashlib

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from surveys import create_app, tokens
from surveys.models import Invitation, Response, ThrottleEvent
from tests.helpers import post_form
from tests.security.conftest import WAVE1_ANSWERS, answer_every_page


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_tokens_carry_256_bits_and_only_their_hash_is_stored(world, session_factory, engine):
    token = world.tokens["ZQREF-ALPHA1"]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 == 256
    with session_factory() as s:
        inv = s.get(Invitation, world.invitation_ids["ZQREF-ALPHA1"])
        assert inv.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # No column of any table holds a working token.
    with engine.connect() as conn:
        for table in ("invitations", "responses", "audit_events", "participants"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for value in world.tokens.values():
                    assert value not in " ".join(map(str, row)), table


def test_tokens_are_compared_in_constant_time(world, session_factory, monkeypatch):
    import hmac

    from surveys.invitations import find_by_token

    calls = []
    original = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    with session_factory() as s:
        assert find_by_token(s, world.tokens["ZQREF-ALPHA1"]) is not None
    assert len(calls) == 1


def test_guessing_links_is_stopped_after_twenty_unknown_ones(app, world, clock, session_factory):
    guesser = client_at(app, "203.0.113.9")
    for n in range(20):
        assert guesser.get(f"/r/guess{n:04d}").status_code == 404
    # The twenty-first try is refused, even with a real link, so guessing gains nothing.
    blocked = guesser.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) == 600
    # Other clients are not affected.
    assert client_at(app, "203.0.113.10").get(
        f"/r/{world.tokens['ZQREF-ALPHA1']}").status_code == 302
    # The addresses themselves are not stored, only keyed hashes.
    with session_factory() as s:
        clients = set(s.scalars(select(ThrottleEvent.client)))
    assert len(clients) == 1 and "203.0.113.9" not in next(iter(clients))
    clock.advance(minutes=10, seconds=1)
    assert guesser.get(f"/r/{world.tokens['ZQREF-ALPHA1']}").status_code == 302


def test_guess_counts_are_shared_by_every_process(app, world, settings, engine, clock, mailer):
    """Two app instances (as two web processes) share one allowance through the database."""
    other_process = create_app({"SETTINGS": settings, "ENGINE": engine, "CLOCK": clock,
                                "MAILER": mailer, "TESTING": True})
    first, second = client_at(app, "203.0.113.20"), client_at(other_process, "203.0.113.20")
    for n in range(10):
        assert first.get(f"/r/first{n}").status_code == 404
        assert second.get(f"/r/second{n}").status_code == 404
    assert first.get("/r/one-more").status_code == 429
    assert second.get("/r/one-more").status_code == 429


def test_a_link_opens_only_its_own_questionnaire(app, world, session_factory, settings):
    alpha, bravo = app.test_client(), app.test_client()
    alpha.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
    bravo.get(f"/r/{world.tokens['ZQREF-BRAVO2']}")
    saved = post_form(alpha, "/q/satisfaction", {"satisfaction": "extremely_dissatisfied"})
    assert saved.status_code == 302
    # Bravo's questionnaire knows nothing of Alpha's answer.
    page = bravo.get("/q/satisfaction").get_data(as_text=True)
    assert 'value="extremely_dissatisfied" checked' not in page
    with session_factory() as s:
        [response] = s.scalars(select(Response).where(Response.source == "form"))
        assert response.invitation_id == world.invitation_ids["ZQREF-ALPHA1"]
    # A session cookie naming another invitation, signed with any other key, is ignored.
    forged = URLSafeTimedSerializer("not-the-secret", salt="cookie-session",
                                    signer_kwargs={"key_derivation": "hmac",
                                                   "digest_method": hashlib.sha1})
    intruder = app.test_client()
    intruder.set_cookie("session", forged.dumps(
        {"invitation_id": world.invitation_ids["ZQREF-BRAVO2"], "mode": "web"}))
    assert intruder.get("/q/satisfaction").status_code == 404
    # Opening a second link in the same browser switches to that one entirely.
    alpha.get(f"/r/{world.tokens['ZQREF-BRAVO2']}")
    assert 'value="extremely_dissatisfied" checked' not in alpha.get("/q/satisfaction").get_data(
        as_text=True)


def test_closed_and_used_links_say_so(app, world, session_factory, settings, mailer, clock):
    from scheduler.jobs import dispatch

    # Used: submitted once, the link now says so (and offers nothing to change).
    answer_every_page(session_factory, world.invitation_ids["ZQREF-ALPHA1"], WAVE1_ANSWERS,
                      clock())
    client = app.test_client()
    client.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
    assert post_form(client, "/q/check", {}).headers["Location"].endswith("/q/done")
    again = app.test_client().get(f"/r/{world.tokens['ZQREF-ALPHA1']}", follow_redirects=True)
    assert "You have already answered this questionnaire" in again.get_data(as_text=True)
    for path in ("/q/satisfaction", "/q/check"):
        page = client.get(path)
        assert "You have already answered this questionnaire" in page.get_data(as_text=True)
    # Expired: after its closing date the link says the questionnaire has closed.
    clock.advance(days=29)
    dispatch(session_factory, clock(), settings, mailer)
    closed = app.test_client().get(f"/r/{world.tokens['ZQREF-BRAVO2']}", follow_redirects=True)
    assert closed.status_code == 200
    assert "This questionnaire has closed" in closed.get_data(as_text=True)
    # Unknown: a clear page, not an error.
    unknown = app.test_client().get("/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.status_code == 404
    assert "This link does not work" in unknown.get_data(as_text=True)
