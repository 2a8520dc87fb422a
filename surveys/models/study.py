"""A study: its waves, the measures it pairs, and the instruments it keeps."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.types import UTCDateTime

# A study pairs at most this many measures: each has a numbered slot of integer columns on
# participants (baseline_<slot>) and responses (baseline_<slot>, score_<slot>), which the
# paired report counts from one covering index (decision 0009).
MAX_MEASURES = 8


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # How clients know the service, per language: {"en": "...", "cy": "..."}.
    programme: Mapped[dict] = mapped_column(JSON, default=dict)
    # Client languages; every client-facing text needs each of them.
    languages: Mapped[list] = mapped_column(JSON, default=lambda: ["en", "cy"])
    # Comparison arms (first against second); empty when the study has none.
    arms: Mapped[list] = mapped_column(JSON, default=list)
    # Whether participants were allocated to the arms at random (only with arms): a
    # comparison group chosen otherwise cannot rule out selection.
    randomised: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Free text for researchers and evaluators (never clients): set-up, assumptions.
    notes: Mapped[str | None] = mapped_column(Text)
    # Follow-ups falling after this date are not issued (the study window).
    end_date: Mapped[date | None]
    # Counts from 1 up to this number are suppressed in publication exports.
    disclosure_threshold: Mapped[int] = mapped_column(default=7)
    # The study's clock: due dates are local dates here, and nothing is sent outside its
    # sending window ({"from": "09:00", "to": "19:00", "days": ["mon", ..]}; None: that
    # default, Monday to Saturday). See surveys.invitations.windows.
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/London",
                                           server_default="Europe/London")
    send_window: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # The study's own words in messages (who runs it, who to contact), per language;
    # None: the service's words.
    messages: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    waves: Mapped[list[Wave]] = relationship(
        back_populates="study", order_by="Wave.offset_days", cascade="all, delete-orphan"
    )
    measures: Mapped[list[Measure]] = relationship(
        back_populates="study", order_by="Measure.position", cascade="all, delete-orphan"
    )


class Wave(Base):
    __tablename__ = "waves"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    code: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(64))
    # The stored version this wave issues (instrument_sources); None: the shipped
    # instrument's current version.
    instrument_version: Mapped[str | None] = mapped_column(String(32))
    # Due on the completion date plus this many days.
    offset_days: Mapped[int] = mapped_column(default=0)
    # Days after issue of each reminder (zero to three), ascending.
    reminder_days: Mapped[list] = mapped_column(JSON, default=lambda: [7])
    close_days: Mapped[int] = mapped_column(default=28)
    # The wave's name in reports, per language ({"en": ..., "cy": ...}); None: a name made
    # from the code (surveys.studies.waves.wave_name).
    label: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # How clients are reached when the wave issues: "email", "sms", or both.
    channels: Mapped[list] = mapped_column(JSON, default=lambda: ["email"],
                                           server_default='["email"]')
    # The wave's own message texts, per language; None: the study's.
    messages: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # "web": messages with a personal link; "telephone": no message, the wave's
    # questionnaires go on interviewers' call lists when due (issue 14).
    mode: Mapped[str] = mapped_column(String(16), default="web", server_default="web")
    # Call attempts before a telephone questionnaire is given up.
    max_calls: Mapped[int] = mapped_column(default=5, server_default="5")
    # Issuing paused: the wave's questionnaires wait, then issue or lapse on resume.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    study: Mapped[Study] = relationship(back_populates="waves")

    @property
    def first_reminder_days(self) -> int | None:
        return min(self.reminder_days) if self.reminder_days else None


class Measure(Base):
    """A question paired with a value stored for each client, or an outcome asked at follow-up."""

    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("study_id", "key"), UniqueConstraint("study_id", "slot"))

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    # The follow-up question id; the cohort column is `<key>_end`.
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    # 1..MAX_MEASURES: which baseline_<slot> / score_<slot> columns hold its values.
    slot: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # scale | binary
    # scale: "higher" | "lower"; binary: "yes" | "no".
    better: Mapped[str] = mapped_column(String(8))
    min_value: Mapped[int | None]
    max_value: Mapped[int | None]
    reliable_change: Mapped[float | None]
    # False: an outcome asked at follow-up only (no `<key>_end` column).
    baseline: Mapped[bool] = mapped_column(default=True)
    label: Mapped[dict] = mapped_column(JSON, default=dict)

    study: Mapped[Study] = relationship(back_populates="measures")

    @property
    def better_value(self) -> int:
        """The better value in the stored encoding (binary: yes = 1, no = 0; scale: unused)."""
        return 0 if self.better == "no" else 1


class InstrumentSource(Base):
    """An instrument file given with a study, kept so the study never needs the file again.

    One row per (name, version), never changed: responses record the version they answered.
    """

    __tablename__ = "instrument_sources"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
