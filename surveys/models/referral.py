"""Management information per delivery site: referrals and what became of them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base


class SiteReferral(Base):
    """One site's referral counts for a study (the `surveys import-referrals` file).

    Outcome columns are None when the site did not report them. When all five are
    given they add up to `eligible_referrals` (the import checks this).
    """

    __tablename__ = "site_referrals"
    __table_args__ = (UniqueConstraint("study_id", "site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    site: Mapped[str] = mapped_column(String(200))
    # Full-time equivalent practitioners, as written (e.g. "0.7"); text keeps "0" and "1.60".
    fte: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(200))
    eligible_referrals: Mapped[int]
    successfully_closed: Mapped[int]
    in_progress: Mapped[int | None]
    not_completed_unsuitable: Mapped[int | None]
    not_completed_disengaged: Mapped[int | None]
    not_completed_claim_closed: Mapped[int | None]
