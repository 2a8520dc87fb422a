"""Send windows in local time, and up to three reminders (issue 15, decision 0011).

Frozen clocks across midnight, a Sunday and both UK clock changes of 2026 (29 March,
GMT to BST; 25 October, BST to GMT), with the real dispatcher and the loopback SMTP server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys import invitations
from surveys.cohort.importer import import_cohort
from surveys.invitations import windows
from surveys.models import Invitation, Participant, Study
from surveys.studies import create_study, resolve_study, wave_by_code
from tests.helpers import participants_csv, person


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def load(session_factory, *people, slug: str | None = None, time_zone: str | None = None,
         window: dict | None = None, reminder_days: list[int] | None = None) -> None:
    with session_factory() as s:
        study = (resolve_study(s, None, create=True) if slug is None
                 else create_study(s, slug, slug))
        if time_zone:
            study.time_zone = time_zone
        study.send_window = window
        if reminder_days is not None:
            wave_by_code(study, "wave1").reminder_days = reminder_days
        import_cohort(s, study, participants_csv(*people))
        s.commit()


def wave1(session_factory, ref: str) -> Invitation:
    with session_factory() as s:
        return s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == ref, Invitation.wave_id == wave_by_code(
                s.get(Study, s.scalar(select(Participant.study_id).where(Participant.ref == ref))),
                "wave1").id))


def test_due_on_the_local_day_just_after_midnight_but_sent_at_nine_local(
    session_factory, settings, mailer, smtp, clock
):
    # Tuesday 16 June 23:30 UTC is Wednesday 17 June 00:30 in London (BST).
    load(session_factory, person("N-1", date(2026, 6, 17), email="n1@example.org"))
    clock.set(utc(2026, 6, 16, 23, 30))
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.issued, report.sent) == (1, 0)
    inv = wave1(session_factory, "N-1")
    assert inv.status == "issued" and inv.closes_on == date(2026, 7, 15)
    assert inv.next_attempt_at == utc(2026, 6, 17, 8, 0)  # 09:00 BST
    clock.set(utc(2026, 6, 17, 7, 59))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 0
    clock.set(utc(2026, 6, 17, 8, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    assert len(smtp.to("n1@example.org")) == 1


def test_a_sunday_holds_until_monday_nine(session_factory, settings, mailer, smtp, clock):
    load(session_factory, person("S-1", date(2026, 3, 8), email="s1@example.org"))
    clock.set(utc(2026, 3, 8, 12, 0))  # Sunday noon (GMT)
    assert dispatch(session_factory, clock(), settings, mailer).issued == 1
    assert wave1(session_factory, "S-1").next_attempt_at == utc(2026, 3, 9, 9, 0)
    clock.set(utc(2026, 3, 8, 18, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 0
    assert smtp.messages == []
    clock.set(utc(2026, 3, 9, 9, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1


def test_evening_and_a_chosen_window_are_respected(session_factory, settings, mailer, smtp,
                                                   clock):
    weekdays = {"from": "10:30", "to": "16:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    load(session_factory, person("W-1", date(2026, 3, 6), email="w1@example.org"),
         window=weekdays)
    clock.set(utc(2026, 3, 6, 16, 0))  # Friday 16:00: the window has just shut
    assert dispatch(session_factory, clock(), settings, mailer).sent == 0
    assert wave1(session_factory, "W-1").next_attempt_at == utc(2026, 3, 9, 10, 30)
    clock.set(utc(2026, 3, 9, 10, 30))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1


def test_the_march_clock_change_moves_nothing(session_factory, settings, mailer, smtp, clock):
    # Due on Sunday 29 March (clocks go forward at 01:00 UTC); the reminder 3 days later.
    load(session_factory, person("M-1", date(2026, 3, 29), email="m1@example.org"),
         reminder_days=[3])
    clock.set(utc(2026, 3, 29, 0, 30))  # 00:30 GMT, before the change
    assert dispatch(session_factory, clock(), settings, mailer).issued == 1
    inv = wave1(session_factory, "M-1")
    assert inv.next_attempt_at == utc(2026, 3, 30, 8, 0)  # Monday 09:00 BST, not 10:00
    assert inv.reminder_due_on == date(2026, 4, 1)
    clock.set(utc(2026, 3, 30, 8, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    # Wednesday 1 April 07:30 UTC is 08:30 BST: the reminder is due that day, held to 09:00.
    clock.set(utc(2026, 4, 1, 7, 30))
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.reminders, report.sent) == (1, 0)
    assert wave1(session_factory, "M-1").next_attempt_at == utc(2026, 4, 1, 8, 0)
    clock.set(utc(2026, 4, 1, 8, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    assert [m["Subject"].startswith("Reminder") for m in smtp.to("m1@example.org")] == [
        False, True]


def test_the_october_clock_change_moves_nothing_and_retries_wait_for_the_window(
    session_factory, settings, mailer, smtp, clock
):
    # Saturday 24 October 17:59 UTC is 18:59 BST: the window is open for one more minute.
    load(session_factory, person("O-1", date(2026, 10, 24), email="o1@example.org"))
    smtp.refuse = True
    clock.set(utc(2026, 10, 24, 17, 59))
    assert dispatch(session_factory, clock(), settings, mailer).failed_attempts == 1
    # The retry (60 s later) would be 19:00 BST; Sunday is shut; clocks go back overnight:
    # Monday 09:00 is GMT again, so 09:00 UTC.
    assert wave1(session_factory, "O-1").next_attempt_at == utc(2026, 10, 26, 9, 0)
    smtp.refuse = False
    clock.set(utc(2026, 10, 25, 12, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 0
    clock.set(utc(2026, 10, 26, 9, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    assert wave1(session_factory, "O-1").closes_on == date(2026, 11, 21)


def test_due_at_local_midnight_across_the_october_change(session_factory, settings, mailer,
                                                         clock):
    load(session_factory, person("O-2", date(2026, 10, 25), email="o2@example.org"))
    clock.set(utc(2026, 10, 24, 22, 59))  # 23:59 BST on Saturday: not due yet
    assert dispatch(session_factory, clock(), settings, mailer).issued == 0
    clock.set(utc(2026, 10, 24, 23, 0))  # 00:00 BST on Sunday 25th: due, held to Monday
    assert dispatch(session_factory, clock(), settings, mailer).issued == 1
    assert wave1(session_factory, "O-2").next_attempt_at == utc(2026, 10, 26, 9, 0)


def test_closing_follows_the_local_date(session_factory, settings, mailer, clock):
    load(session_factory, person("C-1", date(2026, 6, 1), email="c1@example.org"))
    clock.set(utc(2026, 6, 1, 9, 0))
    dispatch(session_factory, clock(), settings, mailer)
    assert wave1(session_factory, "C-1").closes_on == date(2026, 6, 29)
    clock.set(utc(2026, 6, 29, 22, 59))  # 23:59 BST on the closing date: still open
    assert dispatch(session_factory, clock(), settings, mailer).closed == 0
    clock.set(utc(2026, 6, 29, 23, 0))  # 00:00 BST the day after
    assert dispatch(session_factory, clock(), settings, mailer).closed == 1


def test_each_study_keeps_its_own_clock(session_factory, settings, mailer, smtp, clock):
    # 12:00 UTC on Monday 2 March is already 01:00 on Tuesday 3 March in Auckland (NZDT).
    load(session_factory, person("L-1", date(2026, 3, 3), email="l1@example.org"))
    load(session_factory, person("A-1", date(2026, 3, 3), email="a1@example.org"),
         slug="auckland", time_zone="Pacific/Auckland")
    clock.set(utc(2026, 3, 2, 12, 0))
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.issued, report.sent) == (1, 0)
    assert wave1(session_factory, "L-1").status == "scheduled"
    assert wave1(session_factory, "A-1").next_attempt_at == utc(2026, 3, 2, 20, 0)  # 09:00
    clock.set(utc(2026, 3, 2, 20, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    assert len(smtp.to("a1@example.org")) == 1 and smtp.to("l1@example.org") == []


def test_three_reminders_then_no_more(session_factory, settings, mailer, smtp, clock):
    load(session_factory, person("R-1", clock().date(), email="r1@example.org"),
         reminder_days=[3, 7, 14])
    dispatch(session_factory, clock(), settings, mailer)  # Monday 2 March, 09:00
    seen = []
    for day in range(2, 29):
        clock.set(utc(2026, 3, day, 9, 0))
        report = dispatch(session_factory, clock(), settings, mailer)
        inv = wave1(session_factory, "R-1")
        if report.reminders:
            seen.append((day, inv.reminders_sent, inv.reminder_due_on))
    assert seen == [(5, 1, date(2026, 3, 9)), (9, 2, date(2026, 3, 16)), (16, 3, None)]
    subjects = [m["Subject"] for m in smtp.to("r1@example.org")]
    assert len(subjects) == 4 and all(s.startswith("Reminder") for s in subjects[1:])
    # Each reminder is its own message: mail systems that drop repeated Message-IDs show all.
    assert len({m["Message-ID"] for m in smtp.to("r1@example.org")}) == 4


def test_a_reminder_due_on_a_sunday_goes_on_monday_and_the_next_keeps_its_date(
    session_factory, settings, mailer, smtp, clock
):
    load(session_factory, person("R-2", clock().date(), email="r2@example.org"),
         reminder_days=[6, 8])
    dispatch(session_factory, clock(), settings, mailer)  # Monday 2 March
    clock.set(utc(2026, 3, 8, 9, 0))  # Sunday: the first reminder is queued, not sent
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.reminders, report.sent) == (1, 0)
    clock.set(utc(2026, 3, 9, 9, 0))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    clock.set(utc(2026, 3, 10, 9, 0))  # issue date + 8 days
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.reminders, report.sent) == (1, 1)
    assert len(smtp.to("r2@example.org")) == 3


def test_no_reminder_for_a_wave_without_any_nor_after_an_answer(
    app, session_factory, settings, mailer, smtp, clock
):
    from tests.test_scheduler import _answer_by_web

    load(session_factory, person("Z-1", clock().date(), email="z1@example.org"),
         reminder_days=[])
    load(session_factory, person("Z-2", clock().date(), email="z2@example.org"),
         slug="two", reminder_days=[3, 7])
    dispatch(session_factory, clock(), settings, mailer)
    clock.set(utc(2026, 3, 5, 9, 0))
    assert dispatch(session_factory, clock(), settings, mailer).reminders == 1  # Z-2's first
    _answer_by_web(app, smtp, "z2@example.org")
    for day in range(6, 29):
        clock.set(utc(2026, 3, day, 9, 0))
        assert dispatch(session_factory, clock(), settings, mailer).reminders == 0
    assert len(smtp.to("z1@example.org")) == 1 and len(smtp.to("z2@example.org")) == 2


def test_a_reminder_queued_before_the_window_shut_waits_for_it(session_factory, clock):
    """hold_until, as the dispatcher asks it at sending time."""
    load(session_factory, person("H-1", clock().date()))
    with session_factory() as s:
        inv = s.scalar(select(Invitation))
        assert invitations.hold_until(s, inv, utc(2026, 3, 2, 18, 59)) is None
        assert invitations.hold_until(s, inv, utc(2026, 3, 2, 19, 0)) == utc(2026, 3, 3, 9, 0)
        assert invitations.hold_until(s, inv, utc(2026, 3, 7, 19, 0)) == utc(2026, 3, 9, 9, 0)


def test_window_functions():
    tz = "Europe/London"
    assert windows.local_today(tz, utc(2026, 6, 16, 23, 30)) == date(2026, 6, 17)
    assert windows.local_today(tz, utc(2026, 12, 16, 23, 30)) == date(2026, 12, 16)
    assert not windows.is_open(None, tz, utc(2026, 6, 17, 7, 59))
    assert windows.is_open(None, tz, utc(2026, 6, 17, 8, 0))
    assert windows.is_open(None, tz, utc(2026, 6, 17, 17, 59))
    assert not windows.is_open(None, tz, utc(2026, 6, 17, 18, 0))
    assert windows.next_open(None, tz, utc(2026, 6, 17, 12, 0)) == utc(2026, 6, 17, 12, 0)
    late = {"from": "20:00", "to": "24:00", "days": ["sun"]}
    assert windows.next_open(late, tz, utc(2026, 3, 29, 12, 0)) == utc(2026, 3, 29, 19, 0)
    assert windows.is_open(late, tz, utc(2026, 3, 29, 22, 59))
    assert not windows.is_open(late, tz, utc(2026, 3, 29, 23, 0))
    assert windows.window_problems({"from": "19:00", "to": "09:00", "days": []}) == [
        ("", "from (19:00) must be before to (09:00)"),
        ("days", "must list at least one day, e.g. [mon, tue, wed, thu, fri]")]
    assert windows.window_problems({"from": "9am", "days": ["mon", "sunday"]}) == [
        ("from", "must be a time like \"09:00\" (got '9am')"),
        ("days", "unknown day sunday (use mon, tue, wed, thu, fri, sat, sun)")]
    assert windows.zone_problem("Europe/Londres") == (
        "'Europe/Londres' is not a known time zone (e.g. Europe/London)")
    assert windows.zone_problem("../etc/passwd") is not None
    assert windows.zone_problem("Pacific/Auckland") is None


# Study definitions: `time_zone` and `send_window` (contracts section 5).
from tests.test_study_definitions import STUDY, cli, study_file  # noqa: E402, F401

WINDOW = STUDY.replace("disclosure_threshold: 5\n", """disclosure_threshold: 5
time_zone: Europe/Dublin
send_window: {from: "08:30", to: 18:00, days: [fri, mon, tue, wed, thu]}
""")


def test_a_study_sets_its_time_zone_and_window_shows_them_and_reads_them_back(
    cli, tmp_path, study_file, session_factory  # noqa: F811
):
    cli("db", "upgrade")
    cli("study", "apply", str(study_file))
    assert "time_zone" not in cli("study", "show", "better-work").stdout  # the defaults
    study_file.write_text(WINDOW)
    out = cli("study", "apply", str(study_file)).stdout
    assert "time_zone: Europe/London -> Europe/Dublin" in out
    assert ("send_window: 09:00-19:00 mon tue wed thu fri sat -> "
            "08:30-18:00 mon tue wed thu fri") in out
    shown = cli("study", "show", "better-work").stdout
    assert "time_zone: Europe/Dublin\nsend_window:\n  from: 08:30\n  to: '18:00'\n" \
           "  days: [mon, tue, wed, thu, fri]\n" in shown
    again = tmp_path / "again.yaml"
    again.write_text(shown)
    assert cli("study", "apply", str(again)).stdout.splitlines()[1:] == ["- no changes"]
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "better-work"))
        assert study.time_zone == "Europe/Dublin"
        assert study.send_window == {"from": "08:30", "to": "18:00",
                                     "days": ["mon", "tue", "wed", "thu", "fri"]}
        from surveys.models import AuditEvent

        changes = [e.detail["changes"] for e in s.scalars(select(AuditEvent)) if
                   e.action == "study_apply"]
        assert any("time_zone: Europe/London -> Europe/Dublin" in c for c in changes)
    study_file.write_text(STUDY)  # back to the defaults
    out = cli("study", "apply", str(study_file)).stdout
    assert "send_window: 08:30-18:00 mon tue wed thu fri -> 09:00-19:00 mon tue wed thu fri sat" \
        in out
    assert "time_zone" not in cli("study", "show", "better-work").stdout


@pytest.mark.parametrize("setting, message", [
    ("time_zone: Europe/Londres", "time_zone: 'Europe/Londres' is not a known time zone"),
    ("send_window: {from: 9am}", "send_window.from: must be a time like \"09:00\" (got '9am')"),
    ("send_window: {from: \"19:00\", to: \"09:00\"}",
     "send_window: from (19:00) must be before to (09:00)"),
    ("send_window: {days: [mon, funday]}", "send_window.days: unknown day funday"),
    ("send_window: {days: []}", "send_window.days: must list at least one day"),
])
def test_a_bad_time_zone_or_window_gets_one_line_and_creates_nothing(
    cli, tmp_path, study_file, setting, message  # noqa: F811
):
    cli("db", "upgrade")
    bad = tmp_path / "bad.yaml"
    bad.write_text(STUDY.replace("disclosure_threshold: 5\n",
                                 f"disclosure_threshold: 5\n{setting}\n"))
    done = cli("study", "apply", str(bad), check=False)
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert cli("study", "show", "better-work", check=False).returncode == 1
