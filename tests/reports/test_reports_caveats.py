"""Caveats written from the numbers, in English and through the Welsh catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

import surveys.i18n
from surveys.reports.evaluation import evaluation_report
from tests.reports.conftest import demo_study, find_table, section

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(demo_sessions):
    with demo_sessions() as session:
        return evaluation_report(session, demo_study(session))


def test_caveats_follow_the_numbers(report):
    paired = " ".join(section(report, "paired")["caveats"])
    assert "Based on 28 matched pairs: indicative only" in paired
    assert "no comparison group" in paired
    assert "not reminded of their earlier score" in paired
    assert "Importance of getting into work (0 to 10): 39% of earlier scores" in paired
    assert "6 of the 34 responses could not be matched" in paired
    assert "Base of 20" in find_table(report, "wave2-discussed_plan")["caveats"][0]
    assert not find_table(report, "wave1-satisfaction")["caveats"]  # base 82: no warning
    attrition = find_table(report, "attrition-wave2")
    assert any(c.startswith("Work ability (0 to 10): Those who answered")
               for c in attrition["caveats"])
    assert "no comparison group" in " ".join(
        find_table(report, "workability-first-to-last")["caveats"])


def test_report_texts_are_marked_for_the_welsh_catalog():
    marked = set()
    for path in (ROOT / "surveys" / "reports").glob("*.py"):
        for _, message, _, _ in extract_from_file("python", path, keywords={"N_": None}):
            marked.add(message)
    from analysis.caveats import CAVEAT_TEMPLATES
    from surveys.reports.evaluation import INTERNAL, RULE, SYMBOLS

    for text in (RULE, INTERNAL, SYMBOLS):
        assert text in marked
    assert any(m.startswith("Base of {n}") for m in marked)
    from analysis.caveats import Plural

    analysis_marked = set()
    for _, message, _, _ in extract_from_file("python", ROOT / "analysis" / "caveats.py",
                                              keywords={"N_": None, "ngettext": (1, 2)}):
        analysis_marked.add(message)
    wanted = {(v.singular, v.plural) if isinstance(v, Plural) else v
              for v in CAVEAT_TEMPLATES.values()}
    assert wanted <= analysis_marked


def test_welsh_report_goes_through_the_catalog(demo_sessions, monkeypatch):
    class Marked:
        def gettext(self, message):
            return "CY " + message

        def ngettext(self, singular, plural, n):
            return "CY " + (singular if n == 1 else plural)

    real = surveys.i18n.catalog
    monkeypatch.setattr(surveys.i18n, "catalog",
                        lambda language: Marked() if language == "cy" else real(language))
    with demo_sessions() as session:
        welsh = evaluation_report(session, demo_study(session), language="cy")
    assert welsh["language"] == "cy"
    assert welsh["disclosure"]["statement"].startswith("CY Not for publication")
    paired = section(welsh, "paired")
    assert paired["title"].startswith("CY ")
    assert all(c.startswith("CY ") or ": CY " in c for c in paired["caveats"])
    table = find_table(welsh, "wave1-satisfaction")
    assert table["title"] == ("At ei gilydd, pa mor fodlon neu anfodlon ydych chi â'r "
                              "Drafodaeth Cyflogaeth ac Iechyd?")
    assert table["base_text"].startswith("CY Base")
