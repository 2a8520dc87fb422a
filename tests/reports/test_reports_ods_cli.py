"""`surveys report evaluation --format ods`: the file and its one-line refusal.

Its own module: on PostgreSQL every test database is one server database, and the `app`
fixture of the other ODS tests empties it, so demo-data tests must not share a module
with them."""

from __future__ import annotations

from sqlalchemy import func, select

from surveys.models import AuditEvent
from tests.reports.test_reports_ods import read_ods


def test_the_cli_writes_an_ods_and_a_bad_output_is_one_line(demo_app, demo_sessions, demo_url,
                                                            tmp_path):
    runner = demo_app.test_cli_runner(env={"SURVEYS_DATABASE_URL": demo_url})
    out = tmp_path / "evaluation.ods"
    done = runner.invoke(args=["report", "evaluation", "--study", "ehd-2024", "--format", "ods",
                               "--output", str(out), "--publication"])
    assert done.exit_code == 0, done.output
    assert "Wrote the ods evaluation report" in done.output
    sheets = read_ods(out.read_bytes())
    assert list(sheets)[:3] == ["Cover", "Contents", "Notes"]
    assert "Disclosure control" in " ".join(str(v) for row in sheets["Cover"] for v in row)

    def audited() -> int:
        with demo_sessions() as s:
            return s.scalar(select(func.count()).select_from(AuditEvent))

    before = audited()
    bad = tmp_path / "no such folder" / "evaluation.ods"
    done = runner.invoke(args=["report", "evaluation", "--study", "ehd-2024", "--format", "ods",
                               "--output", str(bad)])
    assert done.exit_code == 1
    assert len(done.output.strip().splitlines()) == 1 and "Traceback" not in done.output
    assert str(bad) in done.output
    assert not bad.parent.exists() and audited() == before  # nothing written, nothing recorded
