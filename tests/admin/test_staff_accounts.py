"""Staff accounts in the web app: inviting (a real email, a single-use 72-hour link),
setting a password, changing role and studies, deactivating, unlocking, and the rule that
the service always keeps one active admin. Every change is audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from surveys.accounts import create_user
from surveys.models import AuditEvent, Study, User
from surveys.models.user import user_studies
from tests.helpers import csrf_token, make_study, post_form, sign_in

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "plum kettle orbit sandstone"
SET_LINK = re.compile(r"(http://surveys\.test/staff/set-password/[A-Za-z0-9_-]+)")


@pytest.fixture
def admin(app, session_factory, client):
    with session_factory() as s:
        create_user(s, "boss@example.org", PASSWORD, "admin")
        make_study(s, "alpha", name="Alpha study")
        make_study(s, "bravo", name="Bravo study")
        s.commit()
    assert sign_in(client, "boss@example.org", PASSWORD).status_code == 302
    return client


def study_id(session_factory, slug: str) -> int:
    with session_factory() as s:
        return s.scalar(select(Study.id).where(Study.slug == slug))


def user(session_factory, email: str) -> User:
    with session_factory() as s:
        return s.scalar(select(User).where(User.email == email))


def actions(session_factory) -> list[tuple[str, dict]]:
    with session_factory() as s:
        return [(e.action, e.detail) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def invite(client, email: str, role: str, studies=()):
    return post_form(client, "/staff/accounts/invite",
                     {"email": email, "role": role, "studies": [str(i) for i in studies]})


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    match = SET_LINK.search(body)
    assert match, body
    return match.group(1).removeprefix("http://surveys.test")


def test_an_admin_invites_a_colleague_who_sets_a_password_once_and_signs_in(
        admin, app, session_factory, smtp):
    alpha = study_id(session_factory, "alpha")
    sent = invite(admin, "New.Person@Example.org", "researcher", [alpha])
    assert sent.status_code == 302 and sent.headers["Location"] == "/staff/accounts"
    listed = admin.get("/staff/accounts").get_data(as_text=True)
    assert "new.person@example.org" in listed and "Invitation sent to new.person@example.org" \
        in listed and "Alpha study" in listed and "Invited: no password set yet" in listed
    [message] = smtp.to("new.person@example.org")
    assert message["Subject"] == "Set a password for your Health and work surveys account"
    link = link_in(message)
    token = link.rsplit("/", 1)[1]
    # Only a hash of the token is stored.
    stored = user(session_factory, "new.person@example.org")
    assert stored.invite_hash and token not in stored.invite_hash
    # The invited person cannot sign in before setting a password.
    fresh = app.test_client()
    assert sign_in(fresh, "new.person@example.org", NEW_PASSWORD).status_code == 200
    # The project's password rules apply, with a one-line reason; nothing is set.
    page = post_form(fresh, link, {"password": "Password1234", "confirm": "Password1234"})
    assert page.status_code == 400
    assert "one of the most common passwords" in page.get_data(as_text=True)
    page = post_form(fresh, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert page.status_code == 400 and "Enter the same password twice" in page.get_data(
        as_text=True)
    done = post_form(fresh, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/staff/sign-in"
    # The link works once: used, it gets a clear page.
    used = fresh.get(link)
    assert used.status_code == 404
    assert "This link to set a password does not work" in used.get_data(as_text=True)
    assert sign_in(fresh, "new.person@example.org", NEW_PASSWORD).status_code == 302
    assert [a for a, _ in actions(session_factory) if a.startswith("staff_")] == [
        "staff_invited", "staff_password_set"]
    assert dict(actions(session_factory))["staff_invited"] == {"email": "new.person@example.org",
                                                        "role": "researcher",
                                                        "studies": ["alpha"]}


def test_an_invitation_link_expires_after_72_hours(admin, app, clock, smtp):
    invite(admin, "late@example.org", "evaluator")
    link = link_in(smtp.to("late@example.org")[0])
    clock.advance(hours=72, seconds=1)
    page = app.test_client().get(link)
    assert page.status_code == 404
    assert "more than 72 hours old" in page.get_data(as_text=True)
    assert app.test_client().get("/staff/set-password/not-a-real-token").status_code == 404


def test_inviting_an_existing_email_is_refused_with_one_line(admin, session_factory, smtp):
    page = invite(admin, "BOSS@example.org", "researcher")
    assert page.status_code == 200
    assert "An account for boss@example.org already exists." in page.get_data(as_text=True)
    assert smtp.messages == []
    assert [a for a, _ in actions(session_factory) if a == "staff_invited"] == []


def test_an_invitation_that_cannot_be_emailed_makes_no_account(admin, session_factory, smtp):
    smtp.refuse = True
    page = invite(admin, "nobody@example.org", "researcher")
    assert "could not be sent, so no account was made" in page.get_data(as_text=True)
    assert user(session_factory, "nobody@example.org") is None


def test_change_role_and_studies_is_audited_and_ends_old_sessions(admin, app, session_factory):
    with session_factory() as s:
        create_user(s, "res@example.org", PASSWORD, "researcher")
        s.commit()
    theirs = app.test_client()
    sign_in(theirs, "res@example.org", PASSWORD)
    assert theirs.get("/staff/studies/alpha/cohort").status_code == 200
    target = user(session_factory, "res@example.org")
    bravo = study_id(session_factory, "bravo")
    saved = post_form(admin, f"/staff/accounts/{target.id}",
                      {"role": "evaluator", "studies": [str(bravo)]})
    assert saved.status_code == 302
    with session_factory() as s:
        changed = s.get(User, target.id)
        assert changed.role == "evaluator"
        assert list(s.scalars(select(user_studies.c.study_id)
                              .where(user_studies.c.user_id == target.id))) == [bravo]
    # Their open session (with the researcher's rights) stops working.
    assert theirs.get("/staff/").status_code == 302
    assert [(a, d) for a, d in actions(session_factory) if a.startswith("staff_")] == [
        ("staff_role_changed", {"email": "res@example.org", "previous": "researcher",
                                "role": "evaluator"}),
        ("staff_studies_changed", {"email": "res@example.org", "studies": ["bravo"]})]


def test_a_deactivated_account_cannot_sign_in_and_its_session_stops(admin, app, session_factory):
    with session_factory() as s:
        create_user(s, "gone@example.org", PASSWORD, "researcher")
        s.commit()
    theirs = app.test_client()
    sign_in(theirs, "gone@example.org", PASSWORD)
    assert theirs.get("/staff/").status_code == 200
    target = user(session_factory, "gone@example.org")
    done = post_form(admin, f"/staff/accounts/{target.id}", {})  # page for the CSRF token
    token = csrf_token(admin.get(f"/staff/accounts/{target.id}").get_data(as_text=True))
    done = admin.post(f"/staff/accounts/{target.id}/deactivate", data={"csrf_token": token})
    assert done.status_code == 302
    assert theirs.get("/staff/").status_code == 302, "the open session must end"
    refused = sign_in(app.test_client(), "gone@example.org", PASSWORD)
    assert refused.status_code == 200
    assert "Enter a correct email address and password" in refused.get_data(as_text=True)
    listed = admin.get("/staff/accounts").get_data(as_text=True)
    assert "Deactivated" in listed
    admin.post(f"/staff/accounts/{target.id}/reactivate", data={"csrf_token": token})
    assert sign_in(app.test_client(), "gone@example.org", PASSWORD).status_code == 302
    assert [d["reason"] for a, d in actions(session_factory) if a == "sign_in_failed"] == [
        "inactive"]
    assert [a for a, _ in actions(session_factory) if a.startswith("staff_")] == [
        "staff_deactivated", "staff_reactivated"]


def test_the_last_active_admin_cannot_deactivate_or_demote_themselves(admin, session_factory):
    me = user(session_factory, "boss@example.org")
    token = csrf_token(admin.get(f"/staff/accounts/{me.id}").get_data(as_text=True))
    page = admin.post(f"/staff/accounts/{me.id}/deactivate", data={"csrf_token": token})
    assert page.status_code == 400
    assert "boss@example.org is the last active admin: make another admin first." in \
        page.get_data(as_text=True)
    page = post_form(admin, f"/staff/accounts/{me.id}", {"role": "researcher"})
    assert page.status_code == 400 and "is the last active admin" in page.get_data(as_text=True)
    again = user(session_factory, "boss@example.org")
    assert (again.role, again.active) == ("admin", True)
    # With a second admin, the first may step down.
    with session_factory() as s:
        create_user(s, "deputy@example.org", PASSWORD, "admin")
        s.commit()
    assert post_form(admin, f"/staff/accounts/{me.id}", {"role": "researcher"}).status_code \
        == 302
    assert user(session_factory, "boss@example.org").role == "researcher"


def test_unlock_lets_a_paused_account_sign_in_again_from_the_same_address(
        admin, app, session_factory, clock):
    with session_factory() as s:
        create_user(s, "typo@example.org", PASSWORD, "researcher")
        s.commit()
    theirs = app.test_client()
    for _ in range(5):
        sign_in(theirs, "typo@example.org", "wrong password!!")
    assert sign_in(theirs, "typo@example.org", PASSWORD).status_code == 429
    clock.advance(minutes=1)
    target = user(session_factory, "typo@example.org")
    token = csrf_token(admin.get(f"/staff/accounts/{target.id}").get_data(as_text=True))
    assert admin.post(f"/staff/accounts/{target.id}/unlock",
                      data={"csrf_token": token}).status_code == 302
    clock.advance(seconds=1)
    assert sign_in(theirs, "typo@example.org", PASSWORD).status_code == 302
    # The counting starts afresh: five more wrong ones pause it again.
    theirs = app.test_client()
    for _ in range(5):
        sign_in(theirs, "typo@example.org", "wrong password!!")
    assert sign_in(theirs, "typo@example.org", PASSWORD).status_code == 429
    assert ("staff_unlocked", {"email": "typo@example.org"}) in actions(session_factory)


def test_staff_pages_are_for_admins_only(app, session_factory):
    with session_factory() as s:
        create_user(s, "res@example.org", PASSWORD, "researcher")
        s.commit()
    client = app.test_client()
    sign_in(client, "res@example.org", PASSWORD)
    assert client.get("/staff/accounts").status_code == 403
    assert client.get("/staff/accounts/invite").status_code == 403


def test_the_staff_list_paginates_with_a_total(admin, session_factory):
    with session_factory() as s:
        for n in range(60):
            s.add(User(email=f"person{n:02d}@example.org", password_hash="x", role="evaluator"))
        s.commit()
    first = admin.get("/staff/accounts").get_data(as_text=True)
    assert "61 accounts in all." in first and "Page 1 of 2." in first
    second = admin.get("/staff/accounts?page=2").get_data(as_text=True)
    assert "person59@example.org" in second and "person00@example.org" not in second
