"""A small world for the security tests: one study, a cohort with contact details that
must never leak to evaluators, issued links, stored responses, and one account per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys import tokens
from surveys.accounts import create_user, invite_user
from surveys.cohort.importer import import_cohort
from surveys.models import Invitation, Participant, Study, User
from surveys.responses.importer import import_responses
from surveys.studies import create_study, wave_by_code
from tests.helpers import WAVE1_ANSWERS as CLIENT_WAVE1_ANSWERS
from tests.helpers import participants_csv

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "researcher", "evaluator", "interviewer")

# Distinctive values, so a leak cannot hide behind a coincidence.
PEOPLE = (
    ("ZQREF-ALPHA1", "zq.alpha@example.org", "07700 900101", (4, 5, 9)),
    ("ZQREF-BRAVO2", "zq.bravo@example.org", "07700 900202", (6, 6, 6)),
    ("ZQREF-CHARL3", "", "07700 900303", (3, 2, 8)),
)
UNLINKED_REF = "ZQREF-NOBODY9"
ANSWERED = ("ZQREF-ALPHA1", "ZQREF-BRAVO2")  # their wave-two answers are stored


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # ref -> wave-one token
    invitation_ids: dict[str, int] = field(default_factory=dict)
    invite_token: str = ""  # a staff invitation's set-password token, not yet used

    @property
    def identifiers(self) -> list[str]:
        found = [UNLINKED_REF]
        for ref, email, phone, _ in PEOPLE:
            found += [ref, phone, *([email] if email else [])]
        return found


def cohort_rows(completed: dict[str, date]) -> str:
    return participants_csv(*(
        (ref, "Hull", completed[ref].isoformat(), "en", email, phone, *scores)
        for ref, email, phone, scores in PEOPLE
    ))


def build_world(session_factory, settings, mailer, clock) -> World:
    """Everyone completes today and gets a live wave-one link. Alpha's and Bravo's
    completion dates are then corrected to six weeks ago: their issued wave-one links stay
    as they are, their wave-two questionnaires fall due today, and they answer them by
    telephone today (an import refuses answers dated before the questionnaire was due)."""
    world = World()
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Security test study")
        import_cohort(s, study, cohort_rows({ref: today for ref, *_ in PEOPLE}), today=today)
        for role in ROLES:
            create_user(s, f"{role}@example.org", PASSWORD, role)
        s.commit()
        # Made after the others, so each role's first account is still the one above.
        _, world.invite_token = invite_user(s, "invited@example.org", "evaluator", clock())
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "default"))
        earlier = today - timedelta(days=wave_by_code(study, "wave2").offset_days)
        import_cohort(s, study, cohort_rows({ref: earlier if ref in ANSWERED else today
                                             for ref, *_ in PEOPLE}), today=today)
        answers = "participant_ref,submitted_on,mode,workability,confidence,importance\n"
        answers += f"ZQREF-ALPHA1,{today},telephone,7,6,8\n"
        answers += f"ZQREF-BRAVO2,{today},telephone,5,6,7\n"
        answers += f"{UNLINKED_REF},{today},telephone,3,3,3\n"
        import_responses(s, study, wave_by_code(study, "wave2"), answers, today=today)
        s.commit()
    with session_factory() as s:
        for role in ROLES:
            user = s.scalar(select(User).where(User.role == role).order_by(User.id))
            world.users[role] = user
        for inv, ref in s.execute(
            select(Invitation, Participant.ref)
            .join(Participant, Participant.id == Invitation.participant_id)
            .where(Invitation.status == "issued")
        ):
            world.tokens[ref] = tokens.derive_token(settings.secret_key, inv.nonce)
            world.invitation_ids[ref] = inv.id
    return world


@pytest.fixture
def world(app, session_factory, settings, mailer, smtp, clock) -> World:
    return build_world(session_factory, settings, mailer, clock)


def act_as(client, session_factory, role: str | None) -> None:
    """Put a signed-in staff session in the client's cookie (or none for 'anonymous')."""
    if role in (None, "anonymous"):
        return
    with session_factory() as s:
        user = s.scalar(select(User).where(User.role == role).order_by(User.id))
        user_id, epoch = user.id, user.session_epoch
    with client.session_transaction() as session:
        session["user_id"] = user_id
        session["epoch"] = epoch


# The core loop's answers, plus free text that names someone (erasure must remove it).
WAVE1_ANSWERS = {
    **CLIENT_WAVE1_ANSWERS,
    "comments": "My name is Zara Quill and I live at 1 Test Street",
}


def answer_every_page(session_factory, invitation_id: int, answers: dict, now) -> int:
    """Save every page the way the web form does, up to (not including) submitting.

    Returns the response id."""
    from instruments import visible_pages
    from surveys.responses import questionnaire

    with session_factory() as s:
        invitation = s.get(Invitation, invitation_id)
        response = questionnaire.start(s, invitation, now)
        instrument = questionnaire.instrument_for(invitation, response)
        for page in visible_pages(instrument, answers):
            values = {q.id: answers.get(q.id) for q in page.questions}
            questionnaire.save_page(response, instrument, page, values)
        s.commit()
        return response.id


def answer_on_the_web(client, answers: dict, instrument: str = "wave1") -> None:
    """Post every page the routing shows, then submit (the session must hold the link)."""
    from instruments import load_instrument, visible_pages
    from tests.helpers import post_form

    for page in visible_pages(load_instrument(instrument), answers):
        data = {q.id: answers[q.id] for q in page.questions if q.id in answers}
        result = post_form(client, f"/q/{page.id}", {**data, "continue": "1"})
        assert result.status_code == 302, (page.id, result.get_data(as_text=True)[:2000])
    done = post_form(client, "/q/check", {})
    assert done.headers["Location"].endswith("/q/done")


# Routes that answer only for a study with arms (404 elsewhere): tests that walk every route
# show them on a study made for them.
ARMED = "armed"
ARMED_ENDPOINTS = frozenset({"reports.comparison_csv"})


def armed_study(session_factory) -> str:
    """A study with two arms (and nobody in them yet): its slug."""
    with session_factory() as s:
        if s.scalar(select(Study).where(Study.slug == ARMED)) is None:
            create_study(s, ARMED, "Two arms", arms=["integrated", "comparison"])
            s.commit()
    return ARMED


# Call lists answer only for a study with a telephone wave (404 elsewhere): tests that walk
# every route show them on a study made for them (issue 14).
PHONED = "phoned"
PHONED_ENDPOINTS = frozenset({"calls.call_list", "calls.call", "calls.call_list_csv"})


def phoned_study(session_factory, settings, now) -> tuple[str, dict[str, int]]:
    """A study whose first wave is by telephone, issued today: its slug and the wave-one
    invitation id of each reference."""
    from surveys.invitations import issue_due

    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == PHONED))
        if study is None:
            study = create_study(s, PHONED, "Telephone study")
            wave_by_code(study, "wave1").mode = "telephone"
            s.flush()
            import_cohort(s, study, cohort_rows({ref: now.date() for ref, *_ in PEOPLE}),
                          today=now.date())
            issue_due(s, now, settings.secret_key)
            s.commit()
        ids = dict(s.execute(
            select(Participant.ref, Invitation.id)
            .join(Invitation, Invitation.participant_id == Participant.id)
            .where(Invitation.wave_id == wave_by_code(study, "wave1").id)).all())
    return PHONED, ids
