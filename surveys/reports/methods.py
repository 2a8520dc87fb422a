"""Method texts in the reader's language.

`analysis` names every method in English (the JSON and CSV keep those texts: they are what
machines and methodologists compare); each text is marked there with N_, some with {fields}
filled in. A page or spreadsheet shows a method through `method_text`, which finds the
template a text was made from, translates it and fills the same fields, translating any
field that is itself a method text (the Wilcoxon test's null distribution). A text made
from no known template (SciPy calls, method codes) is shown as it is.
"""

from __future__ import annotations

import re
from functools import cache

from surveys.i18n import N_, translate


@cache
def method_texts() -> tuple[str, ...]:
    """Every method text analysis marks (imported on first use: analysis brings SciPy)."""
    from analysis import arms, attrition, binary, intervals, paired, signed_rank

    return (
        paired.SIGN_TEST_METHOD, paired.RANK_BISERIAL_METHOD, paired.WILCOXON_TEXT,
        paired.WILCOXON_NOT_CALCULATED, paired.STUDENT_T_TEXT,
        signed_rank.EXACT_NULL, signed_rank.ASYMPTOTIC_NULL,
        intervals.HODGES_LEHMANN_METHOD, intervals.HODGES_LEHMANN_NORMAL_METHOD,
        intervals.T_INTERVAL_METHOD,
        binary.MCNEMAR_TEXT, binary.NEWCOMBE_TEXT,
        arms.HL_EXACT_TEXT, arms.HL_NORMAL_TEXT, arms.RISK_DIFFERENCE_TEXT,
        arms.RISK_RATIO_TEXT, arms.WELCH_TEXT,
        attrition.EXACT_METHOD, attrition.MONTE_CARLO_METHOD, attrition.P_DEFINITION,
    )


# The names of the statistics whose methods the paired page lists (keys of `methods`).
METHOD_NAMES = {
    "sign_test": N_("Sign test"), "wilcoxon": N_("Wilcoxon signed-rank test"),
    "share_ci": N_("Intervals for the shares"),
    "mean_change_ci": N_("Interval for the mean change"),
    "hodges_lehmann": N_("Hodges-Lehmann estimate"), "rank_biserial": N_("Effect size"),
    "mcnemar": N_("McNemar test"), "difference": N_("Interval for the difference"),
    "mean_ci": N_("Interval for the mean"),
}
_FIELD = re.compile(r"\\\{(\w+)\\\}")


@cache
def _patterns() -> tuple[tuple[str, re.Pattern], ...]:
    """Each template with fields, as a pattern that reads the fields back."""
    out = []
    for template in method_texts():
        if "{" in template:
            out.append((template, re.compile(_FIELD.sub(r"(?P<\1>.+?)", re.escape(template))
                                              + r"\Z", re.DOTALL)))
    return tuple(out)


def method_text(text: str | None, language: str) -> str:
    """The method `text` (English, from analysis) in `language`; unknown texts unchanged."""
    if not text or language == "en":
        return text or ""
    if text in method_texts():
        return translate(text, language)
    for template, pattern in _patterns():
        found = pattern.match(text)
        if found:
            fields = {k: method_text(v, language) for k, v in found.groupdict().items()}
            return translate(template, language).format(**fields)
    return text


def method_name(key: str, language: str) -> str:
    """The name of the statistic `key` of a measure's `methods`, in `language`."""
    name = METHOD_NAMES.get(key)
    return translate(name, language) if name else key
