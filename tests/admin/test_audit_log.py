"""The audit log as a person reads it: events in words, who, which study and participant,
filters by person, study, kind and date, pages with totals, newest first, and a CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from surveys import audit
from surveys.accounts import create_user
from surveys.models import Participant, Study
from surveys.web.audit_words import ACTIONS
from tests.helpers import make_study, sign_in

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(app, session_factory, client, clock):
    with session_factory() as s:
        create_user(s, "boss@example.org", PASSWORD, "admin")
        make_study(s, "alpha")
        make_study(s, "bravo")
        s.commit()
    assert sign_in(client, "boss@example.org", PASSWORD).status_code == 302
    return client


def add(session_factory, at, action, actor="res@example.org", **detail):
    with session_factory() as s:
        audit.record(s, at, None, action, actor=actor, **detail)
        s.commit()


def rows_of(page: str) -> list[list[str]]:
    """The table's cells as text, row by row."""
    body = page.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_events_read_as_sentences_with_study_and_participant(admin, session_factory, clock):
    add(session_factory, clock() + timedelta(minutes=1), "cohort_import", study="alpha",
        created=3, updated=0)
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "alpha"))
        person = Participant(study_id=study.id, ref="REF-042", site="Hull")
        s.add(person)
        s.commit()
        person_id = person.id
    # Events name a participant by id (the log keeps no reference): the page looks it up.
    add(session_factory, clock() + timedelta(minutes=2), "contact_details_changed",
        study="alpha", participant_id=person_id, reason="typo")
    add(session_factory, clock() + timedelta(minutes=3), "brand_new_code", study="alpha",
        participant="REF-007")
    page = admin.get("/staff/audit").get_data(as_text=True)
    rows = rows_of(page)
    # Newest first; a code without a sentence is shown as the code.
    assert rows[0][1:5] == ["res@example.org", "brand_new_code", "alpha", "REF-007"]
    assert rows[1][1:5] == ["res@example.org", "Changed a participant's contact details",
                            "alpha", "REF-042"]
    assert "reason typo" in rows[1][5] and "participant_id" not in rows[1][5]
    assert rows[2][1:4] == ["res@example.org", "Imported a cohort", "alpha"]
    assert rows[3][2] == "Signed in" and rows[3][1] == "boss@example.org"


def test_every_recorded_action_code_has_words():
    """Every action passed to audit.record in surveys/ and scheduler/ has a sentence (a
    new code fails here until it is named in surveys/web/audit_words.py)."""
    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    call = re.compile(r"audit\.record\(\s*[^,]+,\s*[^,]+,\s*[^,]+,\s*(.+?)(?:,\s*\w+=|\)\s*$)",
                      re.S | re.M)
    for path in [*root.glob("surveys/**/*.py"), *root.glob("scheduler/**/*.py")]:
        for match in call.finditer(path.read_text()):
            argument = match.group(1)
            if argument.startswith("f\""):  # f"staff_{change}d": both outcomes are named
                continue
            argument = re.sub(r'==\s*"[^"]*"', "", argument)  # "a" if fmt == "html" else "b"
            found.update(re.findall(r'"([a-z_]+)"', argument))
    assert {"sign_in", "cohort_import", "export", "report_view", "participant_erased",
            "staff_invited"} <= found
    assert found - set(ACTIONS) == set()
    assert {"staff_deactivated", "staff_reactivated"} <= set(ACTIONS)


def test_filters_by_person_study_kind_and_date_with_totals(admin, session_factory, clock):
    start = clock()
    for day in range(5):
        add(session_factory, start + timedelta(days=day), "export", study="alpha",
            actor="res@example.org")
        add(session_factory, start + timedelta(days=day, hours=1), "report_view",
            study="bravo", actor="eval@example.org")
    page = admin.get("/staff/audit?who=RES@example.org").get_data(as_text=True)
    assert "5 events match." in page
    assert {r[1] for r in rows_of(page)} == {"res@example.org"}
    page = admin.get("/staff/audit?study=bravo&kind=report_view").get_data(as_text=True)
    assert "5 events match." in page and {r[3] for r in rows_of(page)} == {"bravo"}
    second, fourth = (start + timedelta(days=1)).date(), (start + timedelta(days=3)).date()
    page = admin.get(f"/staff/audit?from={second}&to={fourth}").get_data(as_text=True)
    assert "6 events match." in page
    assert {r[0][:10] for r in rows_of(page)} == {
        str(second), str(second + timedelta(days=1)), str(fourth)}
    # Filters stay on the next page and the CSV link.
    assert "/staff/audit.csv?who=" not in page and f"from={second}" in page
    empty = admin.get("/staff/audit?who=nobody@example.org").get_data(as_text=True)
    assert "0 events match." in empty and "No events match these filters." in empty
    assert "Download these events" not in empty
    bad = admin.get("/staff/audit?from=2026-13-45&who=res@example.org")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Enter the ‘from’ date like 2026-03-02" in text and "5 events match." in text


def test_pages_carry_the_filters_and_stop_at_fifty(admin, session_factory, clock):
    for n in range(60):
        add(session_factory, clock() + timedelta(seconds=n), "export", study="alpha")
    first = admin.get("/staff/audit?study=alpha").get_data(as_text=True)
    assert "60 events match." in first and "Page 1 of 2." in first
    assert len(rows_of(first)) == 50
    assert 'href="/staff/audit?page=2&amp;study=alpha"' in first
    second = admin.get("/staff/audit?page=2&study=alpha").get_data(as_text=True)
    assert len(rows_of(second)) == 10


def test_the_csv_has_the_filtered_events_in_words_and_is_safe(admin, session_factory, clock):
    add(session_factory, clock() + timedelta(minutes=1), "participant_erased", study="alpha",
        participant="=HYPERLINK(1)")
    add(session_factory, clock() + timedelta(minutes=2), "export", study="bravo")
    response = admin.get("/staff/audit.csv?study=alpha")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["when_utc", "who", "event", "code", "study", "participant_ref",
                       "details"]
    assert rows[1:] == [[(clock() + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
                         "res@example.org", "Erased a participant", "participant_erased",
                         "alpha", "'=HYPERLINK(1)", "{}"]]
    # The download itself is recorded, with its filters.
    log = admin.get("/staff/audit?kind=export").get_data(as_text=True)
    assert "boss@example.org" in log and "report audit" in " ".join(
        " ".join(r) for r in rows_of(log))
    assert admin.get("/staff/audit.csv?to=yesterday").status_code == 400
