"""CSV injection: values people typed that start like a formula (= + - @, tab, carriage
return) come out of every CSV export as text a spreadsheet will not run.

The exports are found from the app's URL map (every route ending in .csv), so a
new export is checked without anyone listing it here.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from surveys.cohort.importer import import_cohort
from surveys.csv_safety import safe_cell
from surveys.responses.importer import import_responses
from surveys.studies import resolve_study, wave_by_code
from tests.helpers import PARTICIPANTS_HEADER
from tests.security.conftest import (
    ARMED_ENDPOINTS,
    WAVE1_ANSWERS,
    act_as,
    answer_on_the_web,
    armed_study,
)

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A2)",
            "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]
# Both waves, and a breakdown by site (sites are typed by people too).
QUERIES = [("wave1", {"wave": "wave1", "follow_up": "wave1"}),
           ("wave2", {"wave": "wave2", "follow_up": "wave2"}),
           ("wave2 by site", {"wave": "wave2", "follow_up": "wave2", "breakdown": "site"})]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def unsafe_cells(body: str) -> list[str]:
    """Cells a spreadsheet could run: formula-leading text that is not simply a number."""
    rows = csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline=""))
    return [cell for row in rows for cell in row
            if cell.startswith(DANGEROUS) and not is_number(cell)]


def xlsx_formulas(data: bytes) -> list[str]:
    """Formula cells in a workbook (text cells are never run, whatever they start with)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")]
    return [m for sheet in sheets for m in re.findall(r"<f[ >][^<]*", sheet)]


def test_safe_cell_neutralises_formula_starts():
    for value in FORMULAS:
        assert safe_cell(value) == "'" + value
    assert safe_cell("Hull") == "Hull" and safe_cell("") == ""


def load_formulas(app, world, session_factory, clock):
    today = clock().date().isoformat()
    with session_factory() as s:
        study = resolve_study(s, "default")
        cohort = io.StringIO()
        writer = csv.writer(cohort, lineterminator="\r\n")
        writer.writerow(PARTICIPANTS_HEADER.strip().split(","))
        for n, formula in enumerate(FORMULAS):
            writer.writerow([f"ZQF-{n}", formula, today, "en", "", "", 5, 5, 5])
        import_cohort(s, study, cohort.getvalue())
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["participant_ref", "submitted_on", "mode", "workability", "confidence",
                         "importance", "steps_reasons_other", "comments"])
        for formula in FORMULAS:
            writer.writerow([formula, today, "telephone", "5", "5", "5", formula, formula])
        import_responses(s, study, wave_by_code(study, "wave2"), out.getvalue())
        s.commit()
    client = app.test_client()
    client.get(f"/r/{world.tokens['ZQREF-BRAVO2']}")
    answer_on_the_web(client, {**WAVE1_ANSWERS, "comments": "=1+1 and more"})


def test_every_csv_export_neutralises_formula_leading_cells(
    app, world, session_factory, clock, runner
):
    load_formulas(app, world, session_factory, clock)
    admin = app.test_client()
    act_as(admin, session_factory, "admin")
    exports = sorted((rule for rule in app.url_map.iter_rules() if rule.rule.endswith(".csv")),
                     key=lambda rule: rule.rule)
    assert exports, "no CSV export found"
    armed = armed_study(session_factory)
    checked = []
    for rule in exports:
        served = 0
        for wave, query in QUERIES:
            url = rule.rule.replace(
                "<slug>", armed if rule.endpoint in ARMED_ENDPOINTS else "default"
            ).replace("<code>", query["wave"])
            response = admin.get(url, query_string=query)
            if response.status_code != 200:
                continue
            served += 1
            body = response.get_data(as_text=True)
            assert unsafe_cells(body) == [], (rule.rule, wave)
            checked.append((rule.rule, wave))
        assert served, f"{rule.rule} served no CSV"
    for rule in sorted((r for r in app.url_map.iter_rules() if r.rule.endswith(".xlsx")),
                       key=lambda r: r.rule):
        for wave, query in QUERIES:
            response = admin.get(rule.rule.replace("<slug>", "default"), query_string=query)
            assert response.status_code == 200, rule.rule
            assert xlsx_formulas(response.get_data()) == [], (rule.rule, wave)
            checked.append((rule.rule, wave))
    for wave in ("wave1", "wave2"):
        out = runner.invoke(args=["report", "paired", "--follow-up", wave, "--format", "csv"])
        assert out.exit_code == 0 and unsafe_cells(out.output) == [], wave
        checked.append(("surveys report paired --format csv", wave))
    print(f"\nCSV exports checked: {checked}")
    # The row-level export really carried the hostile values (made safe), not nothing.
    responses = admin.get("/staff/studies/default/responses.csv?wave=wave2").get_data(
        as_text=True)
    assert "'=cmd|' /C calc'!A0" in responses or "'=cmd|" in responses
