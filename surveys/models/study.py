"""A study and its waves: the schedule a researcher sets."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Follow-ups falling after this date are not issued (the study window).
    end_date: Mapped[date | None]
    # Counts from 1 up to this number are suppressed in publication exports.
    disclosure_threshold: Mapped[int] = mapped_column(default=7)
    # Reliable-change thresholds per measure, in points; e.g. {"workability": 2}.
    reliable_change: Mapped[dict] = mapped_column(JSON, default=dict)

    waves: Mapped[list[Wave]] = relationship(
        back_populates="study", order_by="Wave.offset_days", cascade="all, delete-orphan"
    )


class Wave(Base):
    __tablename__ = "waves"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    code: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(64))
    # Due on the completion date plus this many days.
    offset_days: Mapped[int] = mapped_column(default=0)
    reminder_days: Mapped[int] = mapped_column(default=7)
    close_days: Mapped[int] = mapped_column(default=28)

    study: Mapped[Study] = relationship(back_populates="waves")
