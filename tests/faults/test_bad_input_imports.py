"""Hostile files given to the imports, directly and through the command line: every file
is either imported or refused with a message, and a refused one changes nothing."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from surveys.cohort.importer import ImportRejected, import_cohort
from surveys.csv_rows import CsvFileError
from surveys.responses.importer import import_responses
from surveys.studies import wave_by_code
from tests.faults.hostile import (
    APPOINTMENT_COLUMNS,
    HOSTILE,
    PARTICIPANT_COLUMNS,
    Tally,
    csv_file,
    examples,
    snapshot,
)
from tests.security.conftest import build_world

WAVE2_COLUMNS = ["participant_ref", "submitted_on", "mode", "workability", "confidence",
                 "importance", "steps_taken", "steps_helped", "steps_reasons", "comments"]
WAVE1_COLUMNS = ["participant_ref", "submitted_on", "mode", "satisfaction", "read_plan",
                 "plan_tailored", "comments"]

PARTICIPANTS = csv_file(PARTICIPANT_COLUMNS, PARTICIPANT_COLUMNS[:3])
APPOINTMENTS = st.one_of(st.none(), csv_file(APPOINTMENT_COLUMNS, APPOINTMENT_COLUMNS[:4]))
RESPONSES = st.sampled_from(["wave1", "wave2"]).flatmap(
    lambda wave: st.tuples(st.just(wave), csv_file(
        WAVE1_COLUMNS if wave == "wave1" else WAVE2_COLUMNS, ["participant_ref", "submitted_on",
                                                               "mode"], instrument=wave)))
TALLIES: dict[str, Tally] = {}


def _study(session):
    from sqlalchemy import select

    from surveys.models import Study

    return session.scalar(select(Study).where(Study.slug == "default"))


def test_cohort_import_takes_all_or_nothing(app, session_factory, settings, mailer, smtp, clock,
                                            engine):
    build_world(session_factory, settings, mailer, clock)
    outcomes = TALLIES.setdefault("import_cohort", Tally())

    @given(participants=PARTICIPANTS, appointments=APPOINTMENTS)
    @examples(150)
    def run(participants: bytes, appointments: bytes | None):
        before = snapshot(engine)
        with session_factory() as s:
            try:
                result = import_cohort(s, _study(s), participants, appointments)
            except (ImportRejected, CsvFileError) as exc:
                # Refused: a message naming what to fix, and nothing left to write.
                assert str(exc).strip()
                assert not (s.new or s.dirty or s.deleted), "a refused import left changes"
                s.commit()
                assert snapshot(engine) == before
                outcomes.add(400)
                return
            assert result.created + result.updated >= 1
            s.commit()
            outcomes.add(200)

    run()
    print(f"\nexamples and outcomes: {outcomes.statuses}")
    assert outcomes.examples >= 100


def test_response_import_takes_all_or_nothing(app, session_factory, settings, mailer, smtp,
                                              clock, engine):
    build_world(session_factory, settings, mailer, clock)
    outcomes = TALLIES.setdefault("import_responses", Tally())

    @given(wave_and_file=RESPONSES)
    @examples(150)
    def run(wave_and_file):
        wave, data = wave_and_file
        before = snapshot(engine)
        with session_factory() as s:
            study = _study(s)
            try:
                import_responses(s, study, wave_by_code(study, wave), data)
            except (ImportRejected, CsvFileError) as exc:
                assert str(exc).strip()
                assert not (s.new or s.dirty or s.deleted), "a refused import left changes"
                s.commit()
                assert snapshot(engine) == before
                outcomes.add(400)
                return
            s.commit()
            outcomes.add(200)

    run()
    print(f"\nexamples and outcomes: {outcomes.statuses}")
    assert outcomes.examples >= 100


def _cli_check(result, before, after) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        return
    assert result.exit_code in (1, 2)
    assert result.output.strip(), "a refusal without a message"
    assert "Error" in result.output
    assert after == before, "a refused command changed the database"


def test_command_line_imports_refuse_junk_files_with_a_message(
    app, runner, session_factory, settings, mailer, smtp, clock, engine, tmp_path
):
    build_world(session_factory, settings, mailer, clock)
    outcomes = TALLIES.setdefault("cli", Tally())
    names = itertools.count()

    def write(data: bytes) -> str:
        path = tmp_path / f"f{next(names)}.csv"
        path.write_bytes(data)
        return str(path)

    study = st.one_of(st.none(), st.just("default"), HOSTILE.filter(lambda s: "\x00" not in s))

    @given(participants=PARTICIPANTS, appointments=APPOINTMENTS, slug=study,
           responses=RESPONSES, junk_wave=st.one_of(st.none(), HOSTILE.filter(
               lambda s: "\x00" not in s)), missing=st.booleans())
    @examples(60)
    def run(participants, appointments, slug, responses, junk_wave, missing):
        extra = ["--study", slug] if slug is not None else []
        cohort = ["import-cohort", "--participants",
                  str(tmp_path / "no-such-file.csv") if missing else write(participants)]
        if appointments is not None:
            cohort += ["--appointments", write(appointments)]
        for args in (cohort + extra,
                     ["import-responses", "--wave", junk_wave or responses[0],
                      write(responses[1]), *extra]):
            before = snapshot(engine)
            result = runner.invoke(args=args)
            _cli_check(result, before, snapshot(engine))
            outcomes.add(200 if result.exit_code == 0 else 400)

    run()
    print(f"\nexamples and outcomes: {outcomes.statuses}")
    assert outcomes.examples >= 100
