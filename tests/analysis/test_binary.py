"""Yes/no measures (issue 12): the exact McNemar test and Newcombe's method 10 interval against
published examples, an independent base-R implementation (reference/binary_reference.R, its
output kept in binary_reference.out) and brute force; outcomes asked at follow-up only; and
the caveats written from their numbers."""

import json
import math
import shutil
import string
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from scipy import stats

from analysis import (
    CAVEAT_TEMPLATES,
    binary_caveats,
    english,
    newcombe_paired_difference,
    outcome_binary_from_counts,
    outcome_caveats,
    outcome_scale_from_counts,
    paired_binary_from_counts,
    proportion_ci,
)
from analysis.caveats import Plural, changes_needed_for_significance

REFERENCE = Path(__file__).parent / "reference"
R_SCRIPT = REFERENCE / "binary_reference.R"
R_OUTPUT = REFERENCE / "binary_reference.out"
# (both, before_only, after_only, neither), as in binary_reference.R.
TABLES = {
    "newcombe_example": (20, 12, 2, 16),
    "fagerland_bentur": (1, 1, 7, 12),
    "fagerland_cavo": (59, 6, 16, 80),
    "chang": (7, 25, 2, 68),
    "recalled": (12, 9, 2, 4),
    "negative_phi": (1, 8, 9, 2),
    "small_positive_cross": (10, 9, 2, 3),
    "large": (400, 150, 250, 200),
    "all_better_both_times": (5, 0, 0, 0),
    "none_better": (0, 0, 0, 7),
    "all_improved": (0, 0, 6, 0),
    "all_deteriorated": (0, 5, 0, 0),
    "one_pair": (0, 0, 1, 0),
    "column_zero": (3, 0, 4, 0),
}
# Published 95% intervals, first minus second there, so after minus before is the negative.
PUBLISHED = {
    "newcombe_example": ((0.0562, 0.3292), 4),  # Newcombe 1998 method 10 (ratesci test3.R)
    "fagerland_bentur": ((-0.507, -0.026), 3),  # Fagerland, Lydersen & Laake 2014
    "fagerland_cavo": ((-0.1186, -0.0046), 4),  # contingencytables, chapter 8 test
    "chang": ((0.133, 0.318), 3),  # Chang 2024 (ratesci test3.R)
}


def counts_for(both, before_only, after_only, neither, better=1):
    worse = 1 - better
    return {
        (better, better): both,
        (better, worse): before_only,
        (worse, better): after_only,
        (worse, worse): neither,
    }


def read_reference(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" = ")
        values[name] = float(value)
    return values


def test_newcombe_10_reproduces_published_intervals():
    for name, ((low, high), places) in PUBLISHED.items():
        result = newcombe_paired_difference(*TABLES[name])
        assert round(-result.interval.high, places) == low, name
        assert round(-result.interval.low, places) == high, name


def test_newcombe_10_uses_the_continuity_corrected_phi():
    # Newcombe's example: ad - bc = 296 > n/2 = 25, so phi = (296 - 25) / sqrt(margins);
    # the uncorrected 296 / sqrt(...) would give 0.0618 to 0.3242, not the published interval.
    result = newcombe_paired_difference(20, 12, 2, 16)
    assert result.phi == pytest.approx(271 / math.sqrt(32 * 18 * 22 * 28))
    # Bentur: 0 <= ad - bc = 5 <= n/2 = 10.5, so phi is 0 (ratesci prints phi_c = 0).
    assert newcombe_paired_difference(1, 1, 7, 12).phi == 0


@pytest.mark.parametrize("name", sorted(TABLES))
def test_matches_the_independent_r_implementation(name):
    r = read_reference(R_OUTPUT.read_text(encoding="utf-8"))
    both, before_only, after_only, neither = TABLES[name]
    result = paired_binary_from_counts(counts_for(*TABLES[name]), better=1)
    diff = result.to_contract_dict()["difference"]
    assert diff["estimate"] == pytest.approx(r[f"newcombe10({name}).estimate"], abs=1e-6)
    assert diff["ci_low"] == pytest.approx(r[f"newcombe10({name}).low"], abs=1e-6)
    assert diff["ci_high"] == pytest.approx(r[f"newcombe10({name}).high"], abs=1e-6)
    assert diff["phi"] == pytest.approx(r[f"newcombe10({name}).phi"], abs=1e-6)
    if before_only + after_only:
        assert result.mcnemar_p == pytest.approx(r[f"binom.test({name})"], rel=1e-6)
        assert result.mcnemar_p == pytest.approx(r[f"mcnemar_tail({name})"], rel=1e-6)
    else:
        assert f"binom.test({name})" not in r and result.mcnemar_p is None


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_captured_r_output_is_what_the_r_script_prints():
    fresh = subprocess.run(
        ["Rscript", str(R_SCRIPT)], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    fresh_values = read_reference(fresh)
    kept = read_reference(R_OUTPUT.read_text(encoding="utf-8"))
    assert fresh_values.keys() == kept.keys()
    for name, value in kept.items():
        assert fresh_values[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def brute_mcnemar(improved: int, deteriorated: int) -> Fraction:
    """Two-sided exact p: twice the smaller binomial(k, 1/2) tail, at most 1."""
    k = improved + deteriorated
    tail = sum(Fraction(math.comb(k, i), 2**k) for i in range(min(improved, deteriorated) + 1))
    return min(Fraction(1), 2 * tail)


def test_mcnemar_is_the_exact_binomial_tail():
    for improved in range(0, 26):
        for deteriorated in range(0, 26):
            if improved + deteriorated == 0:
                continue
            result = paired_binary_from_counts(
                counts_for(3, deteriorated, improved, 2), better=1
            )
            expected = float(brute_mcnemar(improved, deteriorated))
            assert result.mcnemar_p == pytest.approx(expected, rel=1e-9), (improved, deteriorated)


def test_counts_and_the_two_by_two_table():
    # better = "no" (0): a pair (1, 0) moved from yes to no, an improvement.
    counts = {(1, 1): 3, (1, 0): 9, (0, 1): 2, (0, 0): 10, (None, 0): 4, (1, None): 1,
              (None, None): 2}
    result = paired_binary_from_counts(counts, better=0)
    out = result.to_contract_dict()
    assert out["kind"] == "binary" and out["better"] == "no" and out["baseline"] is True
    assert (out["n"], out["improved"], out["same"], out["deteriorated"]) == (24, 9, 13, 2)
    assert (out["before_better"], out["after_better"]) == (12, 19)
    assert out["table"] == {
        "before_better_after_better": 10,
        "before_better_after_worse": 2,
        "before_worse_after_better": 9,
        "before_worse_after_worse": 3,
    }
    assert out["dropped_pairs"] == 7
    assert out["mcnemar"]["method"] == "exact" and out["mcnemar"]["n"] == 11
    assert out["mcnemar"]["p"] == pytest.approx(float(brute_mcnemar(9, 2)))
    assert out["difference"]["estimate"] == pytest.approx(7 / 24)
    assert out["difference"]["method"] == "newcombe-10"
    assert out["difference"]["confidence"] == 0.95
    assert out["before_share"]["share"] == pytest.approx(12 / 24)
    assert out["after_share"]["count"] == 19 and out["after_share"]["method"] == "wilson"
    wilson = proportion_ci(19, 24)
    assert (out["after_share"]["ci_low"], out["after_share"]["ci_high"]) == (wilson.low,
                                                                             wilson.high)
    # Everyone answered at each point, paired or not (None cells count on their other side).
    assert out["baseline_all"]["n"] == 25 and out["baseline_all"]["count"] == 12
    assert out["follow_up_all"]["n"] == 28 and out["follow_up_all"]["count"] == 23
    for key in ("mean_change", "median_change", "sign_test", "wilcoxon"):
        assert key in out and out[key] is None
    json.dumps(out, allow_nan=False)


def test_better_yes_and_better_no_mirror_each_other():
    yes = paired_binary_from_counts(counts_for(4, 3, 8, 5, better=1), better=1)
    no = paired_binary_from_counts(counts_for(4, 3, 8, 5, better=0), better=0)
    assert yes.to_contract_dict() | {"better": None} == no.to_contract_dict() | {"better": None}


def test_interval_turns_round_when_before_and_after_swap():
    for both, before_only, after_only, neither in TABLES.values():
        forward = newcombe_paired_difference(both, before_only, after_only, neither)
        back = newcombe_paired_difference(both, after_only, before_only, neither)
        assert back.estimate == pytest.approx(-forward.estimate)
        assert back.interval.low == pytest.approx(-forward.interval.high)
        assert back.interval.high == pytest.approx(-forward.interval.low)
        assert -1 <= forward.interval.low <= forward.estimate <= forward.interval.high <= 1


def test_no_pairs():
    result = paired_binary_from_counts({(None, 1): 3, (0, None): 1}, better=1)
    out = result.to_contract_dict()
    assert out["n"] == 0 and out["improved"] == out["same"] == out["deteriorated"] == 0
    assert out["mcnemar"] is None and out["difference"] is None
    assert out["before_share"]["share"] is None and out["before_share"]["ci_low"] is None
    assert out["dropped_pairs"] == 4
    assert paired_binary_from_counts({}, better=0).to_contract_dict()["n"] == 0
    codes = [c.code for c in binary_caveats(result, linked=4, responses=4)]
    assert codes == ["binary_no_pairs", "binary_missing_answers", "no_comparison_group"]


def test_every_answer_the_same_both_times():
    result = paired_binary_from_counts({(1, 1): 6, (0, 0): 4}, better=1)
    out = result.to_contract_dict()
    assert out["mcnemar"] is None and out["same"] == 10
    assert out["difference"]["estimate"] == 0
    assert out["difference"]["ci_low"] < 0 < out["difference"]["ci_high"]
    caveats = binary_caveats(result, linked=10, responses=10)
    (no_changes,) = [c for c in caveats if c.code == "binary_no_changes"]
    assert "cannot be calculated and is not shown" in english(no_changes)


def test_everyone_improved():
    result = paired_binary_from_counts({(0, 1): 7}, better=1)
    assert result.mcnemar_p == pytest.approx(2 / 2**7)
    assert result.difference.estimate == 1 and result.difference.interval.high == 1
    assert result.difference.phi == 0  # empty margins
    codes = [c.code for c in binary_caveats(result, linked=7, responses=7)]
    assert "binary_none_better_at_start" in codes and "binary_few_changes" in codes


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="binary answers"):
        paired_binary_from_counts({(2, 1): 1}, better=1)
    with pytest.raises(ValueError, match="better"):
        paired_binary_from_counts({(0, 1): 1}, better=2)
    with pytest.raises(ValueError, match="counts"):
        paired_binary_from_counts({(0, 1): -1}, better=1)
    with pytest.raises(ValueError, match="counts"):
        outcome_binary_from_counts({1: 1.5}, better=1)
    with pytest.raises(ValueError, match="scale answers"):
        outcome_scale_from_counts({2.5: 1})


def test_outcome_binary():
    r = read_reference(R_OUTPUT.read_text(encoding="utf-8"))
    result = outcome_binary_from_counts({1: 5, 0: 3, None: 2}, better=1)
    out = result.to_contract_dict()
    assert (out["n"], out["better_count"], out["unanswered"]) == (8, 5, 2)
    assert out["kind"] == "binary" and out["baseline"] is False
    assert out["share"]["share"] == 5 / 8
    assert out["share"]["ci_low"] == pytest.approx(r["wilson(5, 8).low"], abs=1e-9)
    assert out["share"]["ci_high"] == pytest.approx(r["wilson(5, 8).high"], abs=1e-9)
    for key in ("improved", "same", "deteriorated", "mcnemar", "difference", "before_better",
                "after_better", "mean_change", "sign_test", "wilcoxon"):
        assert key in out and out[key] is None, key
    none_better = outcome_binary_from_counts({1: 4}, better=0).to_contract_dict()
    assert none_better["better_count"] == 0
    assert none_better["share"]["ci_high"] == pytest.approx(r["wilson(0, 4).high"], abs=1e-9)
    empty = outcome_binary_from_counts({None: 3}, better=1).to_contract_dict()
    assert empty["n"] == 0 and empty["share"]["share"] is None
    json.dumps(out, allow_nan=False)


def test_outcome_scale():
    r = read_reference(R_OUTPUT.read_text(encoding="utf-8"))
    scores = [7, 7, 8, 3, 10, 0, 5]
    counts = {None: 1}
    for s in scores:
        counts[s] = counts.get(s, 0) + 1
    out = outcome_scale_from_counts(counts, better_high=False).to_contract_dict()
    assert out["kind"] == "scale" and out["better"] == "lower" and out["better_count"] is None
    assert (out["n"], out["unanswered"]) == (7, 1)
    assert out["mean"] == pytest.approx(r["scores.mean"]) and out["median"] == r["scores.median"]
    assert out["sd"] == pytest.approx(r["scores.sd"])
    assert out["mean_ci"]["low"] == pytest.approx(r["scores.t.low"], abs=1e-9)
    assert out["mean_ci"]["high"] == pytest.approx(r["scores.t.high"], abs=1e-9)
    for key in ("improved", "mean_change", "median_change", "sign_test", "wilcoxon", "mcnemar"):
        assert key in out and out[key] is None, key
    one = outcome_scale_from_counts({4: 1})
    assert (one.mean, one.median, one.sd, one.mean_ci) == (4, 4, None, None)
    none = outcome_scale_from_counts({}).to_contract_dict()
    assert none["n"] == 0 and none["mean"] is None and none["mean_ci"] is None


def test_changes_needed_for_significance_matches_the_binomial_test():
    for k in range(1, 41):
        needed = changes_needed_for_significance(k)
        significant = [m for m in range(k + 1) if m > k / 2
                       and stats.binomtest(m, k, 0.5).pvalue <= 0.05]
        assert needed == (min(significant) if significant else None), k
    assert changes_needed_for_significance(5) is None and changes_needed_for_significance(6) == 6
    assert changes_needed_for_significance(20) == 15  # binom.test(15, 20): p = 0.041


def test_binary_caveats_from_the_numbers():
    small = paired_binary_from_counts(counts_for(2, 1, 2, 3), better=1)
    caveats = binary_caveats(small, linked=8, responses=10, unpaired_shares_shown=True)
    assert [c.code for c in caveats] == [
        "indicative_only",
        "binary_unlinked_responses",
        "no_comparison_group",
        "binary_changes_too_few_to_test",
        "binary_different_groups",
    ]
    text = [english(c) for c in caveats]
    assert text[0] == "Based on 8 matched pairs: indicative only; treat with caution."
    assert text[1] == ("2 of the 10 responses could not be matched to a participant's earlier "
                       "answer and are not included.")
    assert text[3].startswith("Only 3 matched respondents changed their answer.")
    assert "only the 8 people who answered both times" in text[4]
    few = paired_binary_from_counts(counts_for(30, 3, 9, 40), better=1)
    (caveat,) = [c for c in binary_caveats(few, linked=82, responses=82)
                 if c.code == "binary_few_changes"]
    assert caveat.params == {"k": 12, "needed": 10}
    assert "at least 10 of the 12 would have to change in the same direction" in english(caveat)
    many = paired_binary_from_counts(counts_for(30, 10, 15, 40), better=1)
    codes = [c.code for c in binary_caveats(many, linked=95, responses=95, comparison_group=True)]
    assert codes == []
    one = paired_binary_from_counts({(1, 1): 1, (1, None): 1}, better=1)
    text = [english(c) for c in binary_caveats(one, linked=2, responses=2)]
    assert "1 matched response is left out because the question was not answered at one of " \
        "the two points." in text
    assert "The 1 matched respondent already gave the better answer at the start, so there " \
        "was no room to improve." in text
    with pytest.raises(ValueError):
        binary_caveats(one, linked=3, responses=2)


def test_outcome_caveats_from_the_numbers():
    result = outcome_binary_from_counts({1: 40, 0: 5, None: 1}, better=1)
    codes = [c.code for c in outcome_caveats(result, linked=46, responses=47)]
    assert codes == ["outcome_unlinked_responses", "outcome_unanswered", "outcome_no_baseline",
                     "outcome_no_comparison_group"]
    one = outcome_scale_from_counts({6: 1})
    text = [english(c) for c in outcome_caveats(one, linked=1, responses=1)]
    assert text[0] == "Based on 1 answer: indicative only; treat with caution."
    assert text[-1].startswith("With a single answer there is no interval for the mean")
    empty = outcome_binary_from_counts({}, better=1)
    assert outcome_caveats(empty, linked=0, responses=0)[0].code == "outcome_no_answers"
    assert "outcome_no_mean_interval" not in [
        c.code for c in outcome_caveats(outcome_binary_from_counts({1: 1}, 1), linked=1,
                                        responses=1)]


def forms(template):
    return [template.singular, template.plural] if isinstance(template, Plural) else [template]


def test_every_binary_and_outcome_caveat_is_reachable_and_fills_its_template():
    scenarios = [
        binary_caveats(paired_binary_from_counts(counts_for(*t), better=1), linked=100,
                       responses=120, unpaired_shares_shown=True)
        for t in TABLES.values()
    ]
    scenarios += [
        binary_caveats(paired_binary_from_counts({(None, 1): 1}, better=1), linked=1,
                       responses=1),
        binary_caveats(paired_binary_from_counts({(1, 1): 1, (0, None): 1}, better=1),
                       linked=2, responses=3),
    ]
    for result in (outcome_binary_from_counts({1: 1, None: 2}, 1), outcome_scale_from_counts({}),
                   outcome_scale_from_counts({3: 1, None: 1})):
        scenarios.append(outcome_caveats(result, linked=3, responses=4))
    seen = set()
    for caveats in scenarios:
        for caveat in caveats:
            names = {n for form in forms(CAVEAT_TEMPLATES[caveat.code])
                     for _, n, _, _ in string.Formatter().parse(form)} - {None}
            assert names <= set(caveat.params), caveat.code
            assert "{" not in english(caveat)
            seen.add(caveat.code)
    wanted = {c for c in CAVEAT_TEMPLATES if c.startswith(("binary_", "outcome_"))}
    assert wanted <= seen, wanted - seen
