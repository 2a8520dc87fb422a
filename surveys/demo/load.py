"""Load the synthetic demo through the service's own importers and dispatcher.

History is replayed day by day with the real dispatcher, so the 2024 study's
invitations were issued, answered and closed on the dates they would have been,
and a live study beside it has questionnaires open today.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.jobs import dispatch
from surveys.accounts import create_user, set_studies
from surveys.cohort.importer import import_cohort
from surveys.cohort.referrals import import_referrals
from surveys.demo import calling, ffws, figures, generator, hws, working_links
from surveys.invitations import calls, windows
from surveys.invitations.mailer import Mailer
from surveys.models import Invitation, Study, User, Wave
from surveys.responses.importer import import_responses
from surveys.settings import Settings
from surveys.studies import create_study, wave_by_code
from surveys.studies.apply import apply_definition
from surveys.studies.definition import read_definition

HISTORIC_SLUG = "ehd-2024"
LIVE_SLUG = "ehd-live"
HISTORIC_START = date(2024, 7, 8)
# Follow-ups due after this date were not issued (the evaluation's fieldwork ended).
HISTORIC_END = date(2024, 12, 3)
DEMO_PASSWORD = "demo-password-2024"
DEMO_ACCOUNTS = (
    ("researcher@example.org", "researcher"),
    ("evaluator@example.org", "evaluator"),
    ("admin@example.org", "admin"),
    ("interviewer@example.org", "interviewer"),  # sees only ffws-pilots' call lists
)
INTERVIEWER = "interviewer@example.org"


class DemoNotEmpty(RuntimeError):
    pass


def _csv(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def _replay(
    session: Session,
    study: Study,
    responses: dict[str, list[dict[str, str]]],
    until: datetime,
    settings: Settings,
    mailer: Mailer,
) -> None:
    """Run the dispatcher on every day something happens, importing answers as they came."""
    by_day: dict[date, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for wave_code, rows in responses.items():
        for row in rows:
            by_day[date.fromisoformat(row["submitted_on"])][wave_code].append(row)
    due_days = set(
        session.scalars(
            select(Invitation.due_on)
            .join(Wave, Wave.id == Invitation.wave_id)
            .where(Wave.study_id == study.id)
            .distinct()
        )
    )
    factory = _session_factory(session)
    for day in sorted(due_days | set(by_day)):
        if _at(day) > until:
            continue
        session.commit()  # the dispatcher works in its own transactions
        dispatch(factory, _at(day), settings, mailer)
        for wave_code, rows in by_day.get(day, {}).items():
            import_responses(session, study, wave_by_code(study, wave_code), _csv(rows),
                             filename=f"demo {wave_code} {day}")
    session.commit()
    dispatch(factory, until, settings, mailer)


def _session_factory(session: Session):
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


def load_demo(session: Session, now: datetime, settings: Settings, mailer: Mailer) -> str:
    if session.scalar(select(func.count()).select_from(Study)):
        raise DemoNotEmpty("The database already has studies; the demo loads only into an "
                           "empty database (use a new SURVEYS_DATABASE_URL).")
    historic = create_study(session, HISTORIC_SLUG, generator.DEMO_STUDY_NAME,
                            end_date=HISTORIC_END)
    import_cohort(session, historic, _csv(generator.participants_rows()),
                  _csv(generator.appointments_rows()))
    import_referrals(session, historic, _csv(generator.referral_rows()),
                     filename="demo referrals.csv")
    _replay(session, historic,
            {"wave1": generator.wave1_rows(), "wave2": generator.wave2_rows()},
            _at(HISTORIC_END + timedelta(days=60)), settings, mailer)

    today = now.date()
    live = create_study(session, LIVE_SLUG, generator.LIVE_STUDY_NAME)
    rows = generator.current_rows(today)
    import_cohort(session, live, _csv(rows.participants), _csv(rows.appointments))
    _replay(session, live, {"wave1": rows.wave1}, now, settings, mailer)

    _load_hws(session, now, settings, mailer)
    _load_working_links(session, now, settings, mailer)

    users = {email: create_user(session, email, DEMO_PASSWORD, role)
             for email, role in DEMO_ACCOUNTS}
    session.flush()
    telephone = _load_ffws(session, now, settings, mailer, users[INTERVIEWER])
    accounts = ", ".join(email for email, _ in DEMO_ACCOUNTS)
    return (
        f"Demo loaded: study '{HISTORIC_SLUG}' (333 completers, 2024, closed) and study "
        f"'{LIVE_SLUG}' (6 current clients with questionnaires open today).\n"
        f"Also study '{hws.SLUG}' ({figures.HWS_ENROLLED} enrolled in the Health and Work "
        "Support pilot, 2018 to 2020, closed).\n"
        f"Also study '{working_links.SLUG}' (Working Links pilot, Devon and Cornwall, 2016 to "
        f"2017, closed: arms {' and '.join(working_links.ARMS)}, {working_links.ARM_SIZE} "
        "clients each, an assumed size).\n"
        f"Also study '{ffws.SLUG}' (Fit for Work Service pilots, {ffws.PUBLISHED_AREAS} pilot "
        f"areas, a telephone survey: first wave finished with {telephone['completed']} "
        f"interviews of {ffws.COHORT} clients; second wave live, {telephone['due']} clients "
        f"to call now; {INTERVIEWER} sees its call lists).\n"
        f"Demo staff accounts ({accounts}) use the password '{DEMO_PASSWORD}'."
    )


def _load_hws(session: Session, now: datetime, settings: Settings, mailer: Mailer) -> None:
    """The HWS pilot as a researcher loads a finished evaluation, through the public paths:
    its study file (instrument file beside it), everyone enrolled (cohort import with
    `status`), then the survey's answers collected by the evaluators (response import).

    Its survey ran outside the service, so nothing is replayed: one dispatcher pass marks
    the questionnaires nobody answered as lapsed (or out of window, after the pilot
    closed), as it does for any cohort loaded late. Quick: one import of each file.
    """
    path = hws.DEFINITION
    apply_definition(session, read_definition(path.read_text(encoding="utf-8")), now=now,
                     actor="demo", base_dir=path.parent)
    study = session.scalar(select(Study).where(Study.slug == hws.SLUG))
    import_cohort(session, study, _csv(hws.participants_rows()),
                  participants_name="demo hws participants.csv")
    import_responses(session, study, wave_by_code(study, hws.WAVE), _csv(hws.responses_rows()),
                     filename="demo hws responses.csv")
    session.commit()  # the dispatcher works in its own transactions
    dispatch(_session_factory(session), now, settings, mailer)


def _load_working_links(session: Session, now: datetime, settings: Settings,
                        mailer: Mailer) -> None:
    """The Working Links pilot, loaded as the HWS pilot is (study file, cohort with `arm`,
    the follow-up answers, one dispatcher pass): its survey also ran outside the service."""
    path = working_links.DEFINITION
    apply_definition(session, read_definition(path.read_text(encoding="utf-8")), now=now,
                     actor="demo", base_dir=path.parent)
    study = session.scalar(select(Study).where(Study.slug == working_links.SLUG))
    import_cohort(session, study, _csv(working_links.participants_rows()),
                  participants_name="demo working-links participants.csv")
    import_responses(session, study, wave_by_code(study, working_links.WAVE),
                     _csv(working_links.responses_rows()),
                     filename="demo working-links responses.csv")
    session.commit()  # the dispatcher works in its own transactions
    dispatch(_session_factory(session), now, settings, mailer)


def _load_ffws(session: Session, now: datetime, settings: Settings, mailer: Mailer,
               interviewer: User) -> dict[str, int]:
    """The Fit for Work Service pilots: a telephone survey run in the service. Its study
    file, the cohort (with phone numbers), then both telephone waves replayed: the
    dispatcher puts each questionnaire on the call list when due and every call goes
    through the interviewer's own path (surveys/demo/calling.py). Wave 2 is live, with
    call backs booked for later today and tomorrow. The demo interviewer sees this study
    only. Returns the first wave's interviews and the clients to call now."""
    path = ffws.DEFINITION
    apply_definition(session, read_definition(path.read_text(encoding="utf-8")), now=now,
                     actor="demo", base_dir=path.parent)
    study = session.scalar(select(Study).where(Study.slug == ffws.SLUG))
    today = windows.local_today(study.time_zone, now)
    import_cohort(session, study, _csv(ffws.participants_rows(today)),
                  participants_name="demo ffws participants.csv")
    calling.replay(session, study, {wave: ffws.scripts(wave) for wave in ffws.WAVES}, now,
                   settings, mailer, interviewer, _at)
    live = wave_by_code(study, "wave2")
    calling.book_call_backs(session, live, now, interviewer, **ffws.LIVE_CALL_BACKS)
    set_studies(session, interviewer, [study.id])
    session.commit()
    completed = session.scalar(
        select(func.count()).select_from(Invitation)
        .where(Invitation.wave_id == wave_by_code(study, "wave1").id,
               Invitation.status == "completed")) or 0
    return {"completed": completed, "due": calls.due_now(session, live, now, size=1).total}
