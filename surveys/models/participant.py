"""Clients who completed the intervention, with their stored end-of-intervention scores."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.study import MAX_MEASURES
from surveys.models.types import UTCDateTime

BASELINE_COLUMNS = tuple(f"baseline_{slot}" for slot in range(1, MAX_MEASURES + 1))


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("study_id", "ref"),
        # References differing only in case are one person: imports look them up here (0008).
        Index("ix_participants_ref_lower", "study_id", text("lower(ref)")),
        # Covering index: reports that join participants (breakdowns by site, channel...)
        # read baselines in id order without the table.
        Index("ix_participants_scores", "study_id", "id", *BASELINE_COLUMNS, "status"),
        # The participants list sorted or filtered by site, or by completion date (0012).
        Index("ix_participants_site", "study_id", "site", "ref"),
        Index("ix_participants_completed", "study_id", "completed_on", "ref"),
        # Those who still have contact details: all the contact clean-up reads (0006).
        Index("ix_participants_contactable", "id",
              postgresql_where=text("email IS NOT NULL OR phone IS NOT NULL"),
              sqlite_where=text("email IS NOT NULL OR phone IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    ref: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[date | None]
    language: Mapped[str] = mapped_column(String(2), default="en")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    # completed | dropped_out | in_progress: only completers are surveyed (contracts s. 5).
    status: Mapped[str] = mapped_column(String(16), default="completed")
    arm: Mapped[str | None] = mapped_column(String(64))
    # Baselines of the study's measures, one numbered slot each (Measure.slot): a 0-10
    # score, or 1 = yes / 0 = no. `baseline(slot)` reads one; columns are baseline_1..8.
    baseline_1: Mapped[int | None]
    baseline_2: Mapped[int | None]
    baseline_3: Mapped[int | None]
    baseline_4: Mapped[int | None]
    baseline_5: Mapped[int | None]
    baseline_6: Mapped[int | None]
    baseline_7: Mapped[int | None]
    baseline_8: Mapped[int | None]
    # Set when email and phone were erased because no invitation can be sent any more.
    contact_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The client asked the study to stop contacting them: no message of the study goes
    # to them after this (their answers stay).
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Researchers withdrew the participant: no contact, not on call lists.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept by the appointments triggers of migration 0017, never written here: the channel
    # of most of their appointments (a tie: the latest used, then by name), how many they
    # attended (the report's channel and appointments breakdowns), and the change in work
    # ability from their first to their last score: improved, same, deteriorated, single
    # (one score) or none (reports.queries.workability_changes defines it).
    main_channel: Mapped[str | None] = mapped_column(String(32))
    appointments_attended: Mapped[int] = mapped_column(server_default=text("0"))
    workability_change: Mapped[str] = mapped_column(String(16), server_default=text("'none'"))

    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="participant",
        order_by="Appointment.appointment_on",
        cascade="all, delete-orphan",
    )


class Appointment(Base):
    __tablename__ = "appointments"
    # Wide, so the report's appointment figures read the index alone, in date order.
    __table_args__ = (Index("ix_appointments_participant", "participant_id", "appointment_on",
                            "id", "workability", "attendance", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    appointment_on: Mapped[date]
    channel: Mapped[str] = mapped_column(String(32))
    attendance: Mapped[str] = mapped_column(String(32))
    workability: Mapped[int | None]

    participant: Mapped[Participant] = relationship(back_populates="appointments")
