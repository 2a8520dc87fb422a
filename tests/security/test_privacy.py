"""Privacy by design: contact details erased once no invitation can be sent (a dispatcher
step, on a frozen clock), one participant erased on request, and no identifiers in
anything an evaluator reads."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, text

from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.models import (
    AuditEvent,
    DeliveryStatus,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
)
from surveys.privacy import erase_spent_contact_details
from surveys.studies import create_study
from tests.helpers import participants_csv
from tests.security.conftest import WAVE1_ANSWERS, answer_on_the_web


def contacts(session_factory) -> dict[str, tuple]:
    with session_factory() as s:
        return {p.ref: (p.email, p.phone, p.contact_erased_at is not None)
                for p in s.scalars(select(Participant))}


def load(session_factory, slug: str, today: date, refs: list[str], **study) -> None:
    with session_factory() as s:
        created = create_study(s, slug, slug, **study)
        rows = [(ref, "Hull", today.isoformat(), "en", f"{ref.lower()}@example.org",
                 "01632 960000", 5, 5, 5) for ref in refs]
        import_cohort(s, created, participants_csv(*rows))
        s.commit()


def submit_wave(app, session_factory, settings, ref: str, wave: str, answers: dict) -> None:
    from surveys import tokens

    with session_factory() as s:
        inv = s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == ref, Invitation.status == InvitationStatus.ISSUED,
            Invitation.wave.has(code=wave)))
        token = tokens.derive_token(settings.secret_key, inv.nonce)
    client = app.test_client()
    client.get(f"/r/{token}")
    answer_on_the_web(client, answers, wave)


WAVE2_ANSWERS = {"workability": "7", "confidence": "6", "importance": "8",
                 "steps_taken": "all", "steps_helped": "yes", "seen_work_coach": "no"}


def test_contact_details_go_once_the_last_wave_has_closed(
    app, session_factory, settings, mailer, smtp, clock
):
    today = clock().date()
    load(session_factory, "main", today, ["P-ANSWERS", "P-SILENT"])
    # A short study: its wave two falls after the end date (out of the window).
    load(session_factory, "short", today, ["P-SHORT"], end_date=today + timedelta(days=30))

    def run(days: int = 0, hours: int = 0):
        clock.advance(days=days, hours=hours)
        return dispatch(session_factory, clock(), settings, mailer)

    assert run().contacts_erased == 0  # wave one issued, wave two still to come
    submit_wave(app, session_factory, settings, "P-ANSWERS", "wave1", WAVE1_ANSWERS)
    assert run(29).contacts_erased == 0  # wave one closed, wave two still to come
    # Wave two of the short study will never be issued, unless the end date moves:
    # kept until that date has passed.
    assert contacts(session_factory)["P-SHORT"][0] is not None
    assert run(2).contacts_erased == 1  # day 31: the short study has ended
    assert contacts(session_factory)["P-SHORT"] == (None, None, True)
    assert run(11).issued == 2 and contacts(session_factory)["P-ANSWERS"][0]  # day 42
    submit_wave(app, session_factory, settings, "P-ANSWERS", "wave2", WAVE2_ANSWERS)
    # Both waves answered: nothing more can be sent. The clean-up runs at most hourly
    # (it reads every contactable participant), so a pass in the same hour leaves them
    # and the next clean-up erases.
    assert run().contacts_erased == 0
    assert run(hours=1).contacts_erased == 1
    left = contacts(session_factory)
    assert left["P-ANSWERS"] == (None, None, True) and left["P-SILENT"][0] is not None
    # P-SILENT still has an open wave-two link (and a reminder to come) until day 70.
    assert run(28).contacts_erased == 0
    assert run(1).contacts_erased == 1  # day 71: closed unanswered
    assert set(contacts(session_factory).values()) == {(None, None, True)}
    with session_factory() as s:
        recorded = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "contact_details_erased")).all()
        kept = s.scalar(select(Participant).where(Participant.ref == "P-ANSWERS"))
    assert [e.detail["participants"] for e in recorded] == [1, 1, 1]
    assert {e.actor for e in recorded} == {"scheduler"}
    # Only the contact details went: the scores the report pairs with stay.
    assert (kept.baseline_1, kept.site) == (5, "Hull")  # workability_end
    assert run(hours=1).contacts_erased == 0  # nothing left to erase, nothing done twice


def test_an_email_still_waiting_to_go_keeps_the_address(session_factory, clock):
    today = clock().date()
    load(session_factory, "main", today, ["P-PENDING"])
    with session_factory() as s:
        for inv in s.scalars(select(Invitation)):
            inv.status = InvitationStatus.COMPLETED
            inv.delivery_status = DeliveryStatus.PENDING
        s.commit()
        assert erase_spent_contact_details(s, clock()) == 0
        for inv in s.scalars(select(Invitation)):
            inv.delivery_status = DeliveryStatus.SENT
        s.commit()
        assert erase_spent_contact_details(s, clock()) == 1
        s.commit()


def everything_stored(engine) -> str:
    """Every value in every table, as one string to search."""
    from surveys.models import Base

    with engine.connect() as conn:
        return "\n".join(
            " ".join(map(str, row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(text(f"SELECT * FROM {table.name}"))
        )


def test_erase_participant_removes_them_and_says_what_went(
    app, world, runner, session_factory, engine, clock, tmp_path
):
    # Alpha: appointments, a web response with free text, an imported wave-two response.
    appointments = tmp_path / "a.csv"
    appointments.write_text(
        "participant_ref,appointment_on,channel,attendance,workability\n"
        "ZQREF-ALPHA1,2026-01-05,telephone,attended,4\n"
        "ZQREF-ALPHA1,2026-01-19,video,failed_to_attend,\n")
    cohort = tmp_path / "p.csv"
    cohort.write_text(participants_csv(
        ("ZQREF-ALPHA1", "Hull", clock().date().isoformat(), "en", "zq.alpha@example.org",
         "07700 900101", 4, 5, 9)))
    assert runner.invoke(args=["import-cohort", "--participants", str(cohort),
                               "--appointments", str(appointments)]).exit_code == 0
    client = app.test_client()
    client.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
    answer_on_the_web(client, WAVE1_ANSWERS)
    before = runner.invoke(args=["report", "paired", "--follow-up", "wave2"])
    assert '"linked": 2' in before.output

    result = runner.invoke(args=["erase-participant", "--ref", "ZQREF-ALPHA1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Erased participant 'ZQREF-ALPHA1' from study 'default':",
        "  participant record removed (reference, site, completion date, language)",
        "  contact details removed: email, phone",
        "  stored scores removed: workability_end, confidence_end, importance_end",
        "  appointments removed: 2",
        "  invitations removed: 2 (their personal links no longer open)",
        "  responses kept without any link to the participant: 2 (free-text answers removed: 1)",
        "  responses deleted: 0",
    ]
    stored = everything_stored(engine)
    for value in ("ZQREF-ALPHA1", "zq.alpha@example.org", "07700 900101", "Zara Quill"):
        assert value not in stored, value
    # The answers stay as anonymous, unlinked responses; the link no longer opens.
    with session_factory() as s:
        unlinked = s.scalars(select(Response).where(Response.participant_id.is_(None),
                                                    Response.participant_ref.is_(None))).all()
        assert len(unlinked) == 2
        assert any(r.answers.get("satisfaction") == "satisfied" for r in unlinked)
        [erasure] = s.scalars(select(AuditEvent).where(AuditEvent.action == "participant_erased"))
        assert erasure.actor == "cli" and len(erasure.detail["ref_digest"]) == 32
        assert erasure.detail["appointments"] == 2
    gone = app.test_client().get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
    assert gone.status_code == 404
    after = runner.invoke(args=["report", "paired", "--follow-up", "wave2"])
    assert '"responses": 3' in after.output and '"linked": 1' in after.output

    # Asking again, or for someone unknown: a one-line reason and nothing changed.
    again = runner.invoke(args=["erase-participant", "--ref", "ZQREF-ALPHA1"])
    assert again.exit_code == 1
    assert "No participant 'ZQREF-ALPHA1' in study 'default'" in again.output
    assert "Traceback" not in again.output
    assert everything_stored(engine).count("ZQREF-BRAVO2") >= 1


def test_erase_participant_can_delete_their_responses_too(runner, world, engine):
    result = runner.invoke(args=["erase-participant", "--ref", "ZQREF-BRAVO2", "--study",
                                 "default", "--delete-responses"])
    assert result.exit_code == 0, result.output
    assert "  responses deleted: 1" in result.output.splitlines()
    assert "ZQREF-BRAVO2" not in everything_stored(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM responses")).scalar() == 2


def test_reports_from_the_command_line_carry_no_identifiers(runner, world):
    for fmt in ("json", "csv", "html"):
        for wave in ("wave1", "wave2"):
            out = runner.invoke(args=["report", "paired", "--follow-up", wave, "--format", fmt])
            assert out.exit_code == 0, out.output
            assert [v for v in world.identifiers if v in out.output] == [], (fmt, wave)


def test_the_clean_up_runs_once_per_interval_whichever_process_asks(session_factory, clock):
    from surveys import chores

    hour = timedelta(hours=1)
    with session_factory() as first, session_factory() as second:
        assert chores.claim(first, "contact_cleanup", clock(), hour)
        first.commit()
        assert not chores.claim(second, "contact_cleanup", clock() + hour / 2, hour)
        second.rollback()
        assert chores.claim(second, "contact_cleanup", clock() + hour, hour)
        second.commit()
        # A clock set back (a restored server, a test) does not stop the chore for good.
        assert chores.claim(first, "contact_cleanup", clock() - 2 * hour, hour)
        first.commit()
