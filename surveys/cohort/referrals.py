"""Referral management information per site (`surveys import-referrals`).

`referrals.csv` (UTF-8, header row), one row per delivery site:

| column | required | meaning |
| --- | --- | --- |
| site | yes | delivery site, spelt as in participants.csv |
| eligible_referrals | yes | whole number of eligible referrals received |
| successfully_closed | yes | referrals that completed the intervention |
| fte | no | practitioner full-time equivalent, a decimal such as 0.7 |
| note | no | free text shown beside the site (e.g. "virtual cover") |
| in_progress | no | referrals still in progress when the figures were taken |
| not_completed_unsuitable | no | closed without completing: not suitable |
| not_completed_disengaged | no | closed without completing: never or stopped engaging |
| not_completed_claim_closed | no | closed without completing: benefit claim closed |

All-or-nothing like the other imports; re-importing a site replaces its row. When
every outcome column is given, the outcomes must add up to eligible_referrals.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.cohort.importer import ImportRejected
from surveys.csv_rows import RowErrors, open_rows, single_line_problem
from surveys.models import SiteReferral, Study

REQUIRED = ("site", "eligible_referrals", "successfully_closed")
OUTCOMES = (
    "in_progress",
    "not_completed_unsuitable",
    "not_completed_disengaged",
    "not_completed_claim_closed",
)
OPTIONAL = ("fte", "note", *OUTCOMES)
COLUMNS = (*REQUIRED, *OPTIONAL)
COUNT_COLUMNS = ("eligible_referrals", "successfully_closed", *OUTCOMES)
FTE_PATTERN = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
MAX_COUNT = 10_000_000


@dataclass(frozen=True)
class ReferralImportResult:
    created: int
    updated: int


def _count(line: int, column: str, value: str, errors: RowErrors, required: bool) -> int | None:
    if value == "":
        if required:
            errors.add(line, column, "is required")
        return None
    if not re.fullmatch(r"[0-9]{1,8}", value) or int(value) > MAX_COUNT:
        errors.add(line, column, f"'{value[:20]}' is not a whole number of 0 or more")
        return None
    return int(value)


def _check(line: int, row: dict[str, str], errors: RowErrors) -> dict | None:
    before = len(errors.problems)
    site = row["site"]
    if not site:
        errors.add(line, "site", "is required")
    elif len(site) > 200:
        errors.add(line, "site", "must be 200 characters or fewer")
    elif problem := single_line_problem(site):
        errors.add(line, "site", problem)
    fte = row.get("fte", "")
    if fte and not FTE_PATTERN.match(fte):
        errors.add(line, "fte", f"'{fte[:20]}' is not a number such as 1 or 0.7")
    note = row.get("note", "")
    if len(note) > 200:
        errors.add(line, "note", "must be 200 characters or fewer")
    elif problem := single_line_problem(note):
        errors.add(line, "note", problem)
    counts = {
        column: _count(line, column, row.get(column, ""), errors, column in REQUIRED)
        for column in COUNT_COLUMNS
    }
    eligible, closed = counts["eligible_referrals"], counts["successfully_closed"]
    if eligible is not None and closed is not None:
        outcomes = [counts[c] for c in OUTCOMES]
        given = closed + sum(v for v in outcomes if v is not None)
        if closed > eligible:
            errors.add(line, "successfully_closed", f"{closed} is more than the {eligible} "
                       "eligible referrals")
        elif None not in outcomes and given != eligible:
            errors.add(line, "eligible_referrals", f"{eligible} is not the sum of the outcome "
                       f"columns (successfully_closed + {' + '.join(OUTCOMES)} = {given})")
        elif given > eligible:
            errors.add(line, "eligible_referrals", f"the outcomes given add up to {given}, more "
                       f"than the {eligible} eligible referrals")
    if len(errors.problems) > before:
        return None
    return {"site": site, "fte": fte or None, "note": note or None, **counts}


def import_referrals(
    session: Session,
    study: Study,
    data: bytes | str | os.PathLike | BinaryIO,
    *,
    filename: str = "referrals.csv",
) -> ReferralImportResult:
    """Validate the whole file (read as a stream), then store every row or none. The
    caller commits."""
    _, rows = open_rows(data, filename, REQUIRED, COLUMNS)
    errors = RowErrors(filename)
    checked: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    count = 0
    for line, row in rows:
        count += 1
        fields = _check(line, row, errors)
        site = row["site"]
        if site in first_line:
            errors.add(line, "site", f"'{site[:60]}' appears twice in the file "
                       f"(first on line {first_line[site]})")
            continue
        first_line[site] = line
        if fields:
            checked[site] = fields
    if not count:
        errors.add(1, "", "the file has a header but no sites")
    if errors:
        raise ImportRejected([errors])
    existing = {
        r.site: r
        for r in session.scalars(select(SiteReferral).where(SiteReferral.study_id == study.id))
    }
    created = updated = 0
    for site, fields in checked.items():
        record = existing.get(site)
        if record is None:
            session.add(SiteReferral(study_id=study.id, **fields))
            created += 1
        else:
            for name, value in fields.items():
                setattr(record, name, value)
            updated += 1
    session.flush()
    return ReferralImportResult(created, updated)
