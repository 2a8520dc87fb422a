"""A database made by the previous release upgrades with nothing lost (issue 12).

The fixture was built by that release (tests/fixtures/release-0008/README.md). After
`alembic upgrade head` the service's reports must hold every key and number the release
printed for the same data: keys may be added, none renamed or changed.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, select, text

from surveys.migrate import alembic_config

FIXTURE = Path(__file__).parent / "fixtures" / "release-0008"
SURVEYS = str(Path(sys.executable).with_name("surveys"))
PG_URL = os.environ.get("SURVEYS_TEST_DATABASE_URL")


def _release_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "release.sqlite3"
    path.write_bytes(gzip.decompress((FIXTURE / "demo.sqlite3.gz").read_bytes()))
    return path


def _expected(name: str) -> dict:
    expected = json.loads(gzip.decompress((FIXTURE / f"{name}.json.gz").read_bytes()))
    return _wave_names(_fte_as_number(expected)) if name == "evaluation" else expected


def _wave_names(value: object, key: str | None = None) -> object:
    """Since issue 16 the evaluation's words name a wave ("Wave 2"), not its code ("wave2"):
    titles, labels and notes; ids and keys keep the code."""
    if isinstance(value, dict):
        return {k: _wave_names(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_wave_names(v, key) for v in value]
    if isinstance(value, str) and key in WORDS:
        return re.sub(r"\bwave([12])\b", r"Wave \1", value)
    return value


WORDS = {"title", "label", "base_text", "notes", "caveats", "text", "description"}


def _fte_as_number(report: dict) -> dict:
    """Since issue 16 a site's FTE is a number ("1.6" then, 1.6 now): the same figure."""
    for table in (t for s in report["sections"] for t in s["tables"]):
        for column in table["columns"]:
            if table["id"] == "referrals-by-site" and column["key"] == "fte":
                column["kind"] = "number"
                for row in table["rows"]:
                    value = row["cells"].get("fte")
                    row["cells"]["fte"] = None if value is None else float(value)
    return report


def _without_opt_out(report: dict) -> dict:
    """Since issue 15 the response table has a row for clients who asked not to be contacted
    (none in a release database: every count 0), and the issued total's label names them."""
    for table in (t for s in report.get("sections", []) for t in s["tables"]):
        rows = table["rows"]
        opted = [r for r in rows if r["key"] == "opted_out"]
        assert all(not any(v for k, v in r["cells"].items() if k.endswith("count"))
                   for r in opted)
        table["rows"] = [r for r in rows if r["key"] != "opted_out"]
        for row in table["rows"]:
            if row["key"] == "issued_total" and opted:
                row["label"] = "Issued (answered, closed or open)"
    return report


def _contains(expected: object, actual: object, where: str = "") -> list[str]:
    """Where `actual` differs from `expected`, ignoring keys only `actual` has."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: not an object"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems.extend(_contains(value, actual[key], f"{where}.{key}"))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: {actual!r} != {expected!r}"]
        return [p for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for p in _contains(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: {actual!r} != {expected!r}"]


def _reports(url: str, tmp_path: Path) -> dict[str, dict]:
    # The key that release's demo derived its (synthetic) personal links from: the service
    # refuses to start with a key that does not rebuild the links a database has issued.
    key = (FIXTURE / "demo-secret-key").read_text().strip()
    env = {**os.environ, "SURVEYS_DATABASE_URL": url, "SURVEYS_SECRET_KEY": key,
           "SURVEYS_INSTANCE_DIR": str(tmp_path / "instance")}
    runs = {
        "paired-wave1": ["report", "paired", "--study", "ehd-2024", "--follow-up", "wave1"],
        "paired-wave2": ["report", "paired", "--study", "ehd-2024", "--follow-up", "wave2"],
        "evaluation": ["report", "evaluation", "--study", "ehd-2024"],
    }
    out = {}
    for name, args in runs.items():
        done = subprocess.run([SURVEYS, *args, "--format", "json"], env=env, text=True,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
        out[name] = json.loads(done.stdout)
    return out


def _check(url: str, tmp_path: Path) -> None:
    command.upgrade(alembic_config(url), "head")
    for name, actual in _reports(url, tmp_path).items():
        problems = _contains(_expected(name), _without_opt_out(actual), name)
        assert not problems, "\n".join(problems[:20])


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite upgrade runs in the SQLite pass")
def test_a_release_database_upgrades_with_every_report_number_unchanged(tmp_path):
    path = _release_sqlite(tmp_path)
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.connect() as conn:
        before = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in
                  ("participants", "responses", "invitations", "appointments", "audit_events")}
    engine.dispose()
    _check(url, tmp_path)
    engine = create_engine(url)
    with engine.connect() as conn:
        for table, count in before.items():
            after = conn.scalar(text(f"SELECT count(*) FROM {table}"))
            # The upgrade itself is not audited; every other table keeps every row.
            assert after >= count if table == "audit_events" else after == count, table
        measures = conn.execute(text(
            "SELECT s.slug, m.key, m.slot, m.kind FROM measures m JOIN studies s "
            "ON s.id = m.study_id ORDER BY s.slug, m.slot")).all()
    engine.dispose()
    assert [(k, slot) for slug, k, slot, _ in measures if slug == "ehd-2024"] == [
        ("workability", 1), ("confidence", 2), ("importance", 3)]


@pytest.mark.skipif(not PG_URL, reason="needs SURVEYS_TEST_DATABASE_URL (PostgreSQL)")
def test_a_release_database_upgrades_on_postgresql(tmp_path):
    """The release's rows copied into a 0008 schema on PostgreSQL, then upgraded."""
    name = f"upgrade_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    base, _, _ = PG_URL.rpartition("/")
    url = f"{base}/{name}"
    try:
        command.upgrade(alembic_config(url), "0008")
        source = create_engine(f"sqlite:///{_release_sqlite(tmp_path)}")
        target = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        meta = MetaData()
        meta.reflect(target)
        with source.connect() as src, target.begin() as dst:
            for table in meta.sorted_tables:
                if table.name == "alembic_version":
                    continue
                # Generated columns (the 0004 scores) are the database's to fill.
                columns = [c for c in table.columns if c.computed is None]
                # Read through the target's column types: SQLite's text dates and JSON come
                # back as Python values that PostgreSQL takes.
                rows = [dict(r._mapping) for r in src.execute(select(*columns))]
                if rows:
                    dst.execute(insert(table), rows)
                if "id" in table.columns:
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), (SELECT coalesce(max(id), 1) FROM {table.name}))"))
        source.dispose()
        target.dispose()
        _check(url, tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
