"""The evaluation report's counts, kept at write time by PostgreSQL's triggers (migration
0018, decision 0013). Rows are signed changes: a figure's count is the sum of its rows.
SQLite counts from the rows themselves and leaves this table empty."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)

from surveys.db import Base
from surveys.models.types import JSON_DOCUMENT

report_counts = Table(
    "report_counts",
    Base.metadata,
    Column("study_id", Integer, ForeignKey("studies.id", ondelete="CASCADE"), nullable=False),
    Column("dim", String(16), nullable=False),  # the breakdown ('': none)
    Column("grp", Text),  # the breakdown's group (None: no breakdown, or no value)
    Column("figure", String(16), nullable=False),
    Column("k1", Text),
    Column("k2", Text),
    Column("k3", Text),
    Column("k4", Text),
    Column("n", BigInteger, nullable=False),
    # Appended rows are fresh; folding (scheduler.jobs.tidy) sums them into one folded row
    # per key, the only rows ever updated.
    Column("folded", Boolean, nullable=False, server_default=false()),
    Index("ix_report_counts", "study_id", "dim"),
    Index("ix_report_counts_folded", "study_id", "dim", "grp", "figure", "k1", "k2", "k3", "k4",
          unique=True, postgresql_where=text("folded"), sqlite_where=text("folded"),
          postgresql_nulls_not_distinct=True),
    Index("ix_report_counts_fresh", "study_id", postgresql_where=text("NOT folded"),
          sqlite_where=text("NOT folded")),
)


# The sets of questions whose answers a wave's report counts together (a routed question
# with those that route to it), as the report worked them out from the wave's questionnaire:
# the kept "joint" counts are of these sets (reports.kept.store_answer_sets).
report_answer_sets = Table(
    "report_answer_sets",
    Base.metadata,
    Column("wave_id", Integer, ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("keys", JSON_DOCUMENT, nullable=False),
)
