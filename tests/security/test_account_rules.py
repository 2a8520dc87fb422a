"""Staff accounts fit for people who see health data, and small leaks closed: a real
email address and a password policy at create-user; no redirect to another site's
Referer; nothing from the JSON API kept in a cache."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.demo.load import DEMO_ACCOUNTS, DEMO_PASSWORD
from surveys.models import Invitation, User
from surveys.studies import create_study
from tests.helpers import csrf_token, participants_csv, person
from tests.security.conftest import act_as

PASSWORD = "correct horse battery staple"


def users(session_factory) -> list[str]:
    with session_factory() as s:
        return list(s.scalars(select(User.email).order_by(User.email)))


def create(runner, email: str, password: str, role: str = "admin"):
    return runner.invoke(args=["create-user", "--email", email, "--role", role,
                               "--password", password])


@pytest.mark.parametrize(("email", "password", "rule"), [
    ("@", "a perfectly fine passphrase", "Enter a valid email address"),
    ("admin@", "a perfectly fine passphrase", "Enter a valid email address"),
    ("admin example.org", "a perfectly fine passphrase", "Enter a valid email address"),
    ("ad min@example.org", "a perfectly fine passphrase", "Enter a valid email address"),
    ("lead@example.org", "aaaaaaaaaaaa", "repeated or sequential pattern"),
    ("lead@example.org", "abcabcabcabcabc", "repeated or sequential pattern"),
    ("lead@example.org", "123456789012", "repeated or sequential pattern"),
    ("lead@example.org", "Password1234!", "one of the most common passwords"),
    ("lead@example.org", "qwertyuiop123", "one of the most common passwords"),
    ("lead@example.org", "Summer 2024!!", "one of the most common passwords"),
    ("lead@example.org", "short pass", "at least 12 characters"),
    ("lead@example.org", "x" * 150 + " and then some " * 5, "at most 200 characters"),
    ("jane.smith@example.org", "JaneSmith rules the roost", "must not contain the name"),
])
def test_create_user_refuses_weak_input_in_one_line_and_creates_nothing(
    runner, session_factory, email, password, rule
):
    done = create(runner, email, password)
    assert done.exit_code == 1
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and rule in lines[0], done.output
    assert "Traceback" not in done.output
    assert users(session_factory) == []


def test_create_user_accepts_a_good_password_and_a_real_address(runner, session_factory):
    done = create(runner, "  Lead.Researcher@Example.ORG ", "three random words 2026", "researcher")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "Created researcher account for lead.researcher@example.org."
    assert users(session_factory) == ["lead.researcher@example.org"]


def test_the_demo_accounts_password_meets_the_policy(runner, session_factory):
    for email, role in DEMO_ACCOUNTS:
        done = create(runner, email, DEMO_PASSWORD, role)
        assert done.exit_code == 0, done.output


@pytest.fixture
def pending_invitation(app, session_factory, clock) -> int:
    """A researcher account and an invitation not yet issued (nothing dispatched)."""
    with session_factory() as s:
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        create_user(s, "evaluator@example.org", PASSWORD, "evaluator")
        study = create_study(s, "default", "Account rules study")
        import_cohort(s, study, participants_csv(person("REF-1", clock().date())))
        s.commit()
        return s.scalar(select(func.min(Invitation.id)))


def _telephone(app, session_factory, invitation: int, referrer: str | None):
    client = app.test_client()
    act_as(client, session_factory, "researcher")
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    headers = {"Referer": referrer} if referrer else {}
    return client.post(f"/staff/invitations/{invitation}/telephone",
                       data={"csrf_token": token}, headers=headers)


@pytest.mark.parametrize(("referrer", "location"), [
    ("https://evil.example/phish", "/staff/"),
    ("http://evil.example/staff/studies/default/invitations", "/staff/"),
    ("https://localhost/staff/", "/staff/"),  # another scheme is another site
    ("http://localhost//evil.example/", "/staff/"),
    ("http://localhost/\\evil.example", "/staff/"),
    ("javascript:alert(1)", "/staff/"),
    (None, "/staff/"),
    ("http://localhost/staff/studies/default/invitations?wave=wave2",
     "/staff/studies/default/invitations?wave=wave2"),
])
def test_telephone_entry_goes_back_only_to_a_page_of_this_site(
    app, session_factory, pending_invitation, referrer, location
):
    response = _telephone(app, session_factory, pending_invitation, referrer)
    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_nothing_from_the_json_api_or_report_downloads_is_cached(
    app, session_factory, pending_invitation
):
    client = app.test_client()
    act_as(client, session_factory, "evaluator")
    api = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert len(api) >= 2
    for rule in api:
        response = client.get(rule.replace("<slug>", "default"))
        assert response.headers.get("Cache-Control") == "no-store", (rule, response.status_code)
    for download in ("/reports/default/evaluation.csv", "/reports/default/paired.csv"):
        response = client.get(download)
        assert response.headers.get("Cache-Control") == "no-store", download
