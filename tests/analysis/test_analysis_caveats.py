"""Caveats are worked out from the numbers and every code has a fillable English template."""

import string

import pytest

from analysis import CAVEAT_TEMPLATES, Caveat, english, paired_caveats, paired_change
from analysis.arms import COMPARISON_CAVEAT_CODES
from analysis.caveats import Plural

BASE_28 = [5] * 28
FOLLOW_28 = [6, 6, 7, 6, 8, 4, 4, 3, 4, 2, 3, 4, 1] + [5] * 15


def codes(caveats):
    return [c.code for c in caveats]


def test_published_shape():
    result = paired_change(BASE_28, FOLLOW_28)
    caveats = paired_caveats(result, linked=28, responses=34)
    assert codes(caveats) == [
        "indicative_only",
        "unlinked_responses",
        "no_comparison_group",
        "no_reminder",
        "zero_changes_excluded",
        "ties_in_changes",
    ]
    by_code = {c.code: c for c in caveats}
    assert by_code["indicative_only"].params == {"n": 28}
    assert by_code["unlinked_responses"].params == {"unlinked": 6, "responses": 34}
    assert by_code["ties_in_changes"].params == {}
    assert "exact all the same" in english(by_code["ties_in_changes"])
    assert english(caveats[0]) == "Based on 28 matched pairs: indicative only; treat with caution."
    assert english(caveats[1]) == (
        "6 of the 34 responses could not be matched to an earlier score and are not included."
    )


def test_reminder_and_large_sample():
    result = paired_change([5] * 40, [6] * 20 + [4] * 20)
    caveats = codes(paired_caveats(result, linked=40, responses=40, reminder_given=True))
    assert "indicative_only" not in caveats
    assert "no_reminder" not in caveats
    assert "unlinked_responses" not in caveats
    assert "no_comparison_group" in caveats  # always


def test_no_pairs():
    result = paired_change([None], [4])
    caveats = paired_caveats(result, linked=1, responses=1)
    assert codes(caveats) == ["no_pairs", "missing_scores", "no_comparison_group", "no_reminder"]
    assert caveats[1].params == {"dropped": 1}


def test_no_nonzero_changes():
    result = paired_change([3, 4], [3, 4])
    caveats = codes(paired_caveats(result, linked=2, responses=2))
    assert "no_nonzero_changes" in caveats
    assert "zero_changes_excluded" not in caveats
    assert "ties_in_changes" not in caveats


def test_regression_to_mean_threshold():
    # 2 of 10 baselines at 0-1 or 9-10 = 20%: warned; 1 of 10 is not.
    two = paired_change([0, 10] + [5] * 8, [1, 9] + [5] * 8)
    one = paired_change([0] + [5] * 9, [1] + [5] * 9)
    rtm = [
        c for c in paired_caveats(two, linked=10, responses=10) if c.code == "regression_to_mean"
    ]
    assert rtm and rtm[0].params["percent"] == 20 and rtm[0].params["share"] == pytest.approx(0.2)
    assert "regression_to_mean" not in codes(paired_caveats(one, linked=10, responses=10))


def test_reliable_change_caveat():
    result = paired_change([2, 2, 6, 6], [5, 2, 3, 7], reliable_change=3.0)
    caveat = next(
        c for c in paired_caveats(result, linked=4, responses=4) if c.code == "reliable_change"
    )
    assert caveat.params == {"threshold": 3, "n": 4, "improved": 1, "deteriorated": 1}
    assert english(caveat).startswith("Taking a change of at least 3 on the scale as reliable")


def test_linked_cannot_exceed_responses():
    with pytest.raises(ValueError):
        paired_caveats(paired_change([1], [2]), linked=3, responses=2)


def test_unknown_code_rejected():
    with pytest.raises(ValueError):
        Caveat("made_up")


def forms(template):
    return [template.singular, template.plural] if isinstance(template, Plural) else [template]


def test_templates_use_plain_named_placeholders_only():
    # The web layer passes these through gettext (ngettext) and str.format(**params).
    for code, template in CAVEAT_TEMPLATES.items():
        names = []
        for form in forms(template):
            names.append({n for _, n, _, _ in string.Formatter().parse(form)} - {None})
            for _, name, spec, conversion in string.Formatter().parse(form):
                if name is not None:
                    assert name.isidentifier(), code
                    assert not spec and conversion is None, code
        assert all(n == names[0] for n in names), code  # every form fills the same params
        if isinstance(template, Plural):
            assert template.count in names[0], code


def test_every_emitted_caveat_fills_its_template():
    scenarios = [
        (paired_change(BASE_28, FOLLOW_28, reliable_change=2), 28, 34),
        (paired_change([0, 10, None, 5], [1, 9, 4, 5]), 3, 5),
        (paired_change([3, 3], [3, 3]), 2, 2),
        (paired_change([], []), 0, 0),
        (paired_change([4], [6]), 1, 1),
        (paired_change([5] * 420, [6] * 300 + [3] * 120), 420, 420),
    ]
    seen = set()
    for result, linked, responses in scenarios:
        for caveat in paired_caveats(result, linked=linked, responses=responses):
            names = {n for form in forms(CAVEAT_TEMPLATES[caveat.code])
                     for _, n, _, _ in string.Formatter().parse(form)}
            assert names - {None} <= set(caveat.params), caveat.code
            assert "{" not in english(caveat)
            seen.add(caveat.code)
    # Every paired code is reachable; attrition codes are tested with the attrition check,
    # yes/no and follow-up-only codes in test_binary.py, comparison codes in test_arms.py.
    others = ("attrition_", "binary_", "outcome_")
    assert seen == {code for code in CAVEAT_TEMPLATES
                    if not code.startswith(others) and code not in COMPARISON_CAVEAT_CODES}
