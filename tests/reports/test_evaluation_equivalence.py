"""The evaluation report of the demo, exactly as before the speed work (issue 16, item 5).

The snapshots in tests/reports/snapshots/ were written by the report's code before its
queries were rewritten for speed; every variant (no breakdown and each breakdown, English
and Welsh, publication on and off, evaluator's view) must still come out identical, every
number compared exactly, on SQLite and on PostgreSQL. Regenerate (only when a change to the
report's output is intended) with SURVEYS_UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from surveys.reports.evaluation import evaluation_report
from tests.reports.conftest import demo_study

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SURVEYS_UPDATE_SNAPSHOTS") == "1"
BREAKDOWNS = (None, "site", "channel", "language", "appointments")
VARIANTS = [
    (breakdown, language, publication, False)
    for breakdown in BREAKDOWNS for language in ("en", "cy") for publication in (False, True)
] + [(None, "en", False, True), ("site", "en", True, True), ("channel", "cy", False, True)]


def _name(breakdown, language, publication, evaluator) -> str:
    parts = ["evaluation", breakdown or "none", language, "pub" if publication else "internal"]
    if evaluator:
        parts.append("evaluator")
    return "-".join(parts) + ".json"


@pytest.mark.parametrize(("breakdown", "language", "publication", "evaluator"), VARIANTS,
                         ids=[_name(*v)[11:-5] for v in VARIANTS])
def test_evaluation_report_is_unchanged(demo_session, breakdown, language, publication,
                                        evaluator):
    report = evaluation_report(demo_session, demo_study(demo_session), language=language,
                               publication=publication, breakdown=breakdown,
                               evaluator=evaluator)
    # Through JSON, as the API and the cache hand it out: tuples become lists, and any value
    # JSON cannot hold fails here rather than passing unnoticed.
    got = json.loads(json.dumps(report, ensure_ascii=False, sort_keys=True))
    path = SNAPSHOTS / _name(breakdown, language, publication, evaluator)
    if UPDATE:
        path.write_text(json.dumps(got, ensure_ascii=False, sort_keys=True) + "\n",
                        encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert got == expected, _first_difference(got, expected)


def _first_difference(got, expected, path: str = "report") -> str:
    """Where the report first differs from its snapshot, to read in a failure."""
    if isinstance(got, dict) and isinstance(expected, dict):
        for key in sorted(set(got) | set(expected)):
            if got.get(key, "<missing>") != expected.get(key, "<missing>"):
                return _first_difference(got.get(key, "<missing>"),
                                         expected.get(key, "<missing>"), f"{path}.{key}")
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{i}]")
    return f"{path}: got {str(got)[:300]} expected {str(expected)[:300]}"


def test_a_database_error_in_one_section_leaves_the_breakdown_to_the_others(
    demo_session, monkeypatch
):
    """The breakdown's groups live in a temporary table: the rollback after a failed
    statement must not take them from the sections that follow (they are made again)."""
    from sqlalchemy import text

    import surveys.reports.evaluation as evaluation

    def broken(session, *args, **kwargs):
        session.execute(text("SELECT no_such_column FROM participants"))

    monkeypatch.setattr(evaluation, "intervention_section", broken)
    report = evaluation_report(demo_session, demo_study(demo_session), breakdown="channel")
    expected = json.loads((SNAPSHOTS / _name("channel", "en", False, False)).read_text("utf-8"))
    got = json.loads(json.dumps(report, ensure_ascii=False, sort_keys=True))
    failed = [s for s in got["sections"] if s["id"] == "intervention"]
    assert "could not be worked out" in failed[0]["caveats"][0]
    # Every other section is exactly as it is without the failure.
    assert ([s for s in got["sections"] if s["id"] != "intervention"]
            == [s for s in expected["sections"] if s["id"] != "intervention"])
