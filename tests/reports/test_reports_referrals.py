"""`surveys import-referrals`: the referral management information, all-or-nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveys.cohort.importer import ImportRejected
from surveys.cohort.referrals import import_referrals
from surveys.models import SiteReferral
from surveys.studies import create_study

HEADER = ("site,fte,note,eligible_referrals,successfully_closed,in_progress,"
          "not_completed_unsuitable,not_completed_disengaged,not_completed_claim_closed\n")


def test_good_file_is_stored_and_reimport_updates(session_factory):
    with session_factory() as s:
        study = create_study(s, "s", "Study")
        result = import_referrals(s, study, HEADER + "Hull,2.2,,182,51,67,26,37,1\n"
                                  "Leeds HMO,0,virtual cover,73,18,,,,\n")
        assert (result.created, result.updated) == (2, 0)
        again = import_referrals(s, study, "site,eligible_referrals,successfully_closed\n"
                                 "Hull,183,52\n")
        assert (again.created, again.updated) == (0, 1)
        hull = s.scalar(select(SiteReferral).where(SiteReferral.site == "Hull"))
        assert (hull.eligible_referrals, hull.successfully_closed, hull.fte) == (183, 52, None)
        leeds = s.scalar(select(SiteReferral).where(SiteReferral.site == "Leeds HMO"))
        assert leeds.note == "virtual cover" and leeds.in_progress is None


def test_bad_rows_are_all_named_and_nothing_is_stored(session_factory):
    with session_factory() as s:
        study = create_study(s, "s", "Study")
        bad = HEADER + ("Hull,2.2,,182,51,67,26,37,2\n"       # outcomes add up to 183
                        ",x,,-1,5,,,,\n"                      # no site, bad fte, bad count
                        "York,0.6,,10,11,,,,\n"               # more closed than eligible
                        "Hull,1,,5,5,,,,\n")                  # site twice
        with pytest.raises(ImportRejected) as error:
            import_referrals(s, study, bad, filename="mi.csv")
        text = str(error.value)
        for expected in ("mi.csv line 2, column 'eligible_referrals'",
                         "mi.csv line 3, column 'site'", "mi.csv line 3, column 'fte'",
                         "mi.csv line 3, column 'eligible_referrals'",
                         "mi.csv line 4, column 'successfully_closed'",
                         "mi.csv line 5, column 'site'"):
            assert expected in text
        assert s.scalars(select(SiteReferral)).all() == []


def test_cli_imports_referrals(runner, tmp_path, session_factory):
    with session_factory() as s:
        create_study(s, "s", "Study")
        s.commit()
    path = tmp_path / "referrals.csv"
    path.write_text(HEADER + "Hull,2.2,,182,51,67,26,37,1\n")
    done = runner.invoke(args=["import-referrals", str(path), "--study", "s"])
    assert done.exit_code == 0, done.output
    assert "1 new and 0 updated sites" in done.output
    path.write_text("site,eligible_referrals\nHull,5\n")
    failed = runner.invoke(args=["import-referrals", str(path)])
    assert failed.exit_code != 0 and "successfully_closed" in failed.output
