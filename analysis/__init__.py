"""Pure statistics for the survey reports: plain data in, frozen dataclasses out.

No web framework, database or I/O here, so every figure can be checked on its own.

Importing the package loads none of its modules: each public name is imported from its
module on first use (PEP 562). So `analysis.rounding` or `analysis.caveats` come without
NumPy and SciPy, which only the statistics need: a command that renders a report kept in
the cache starts without them (issue 16, start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

# The public names, by the module that defines them.
_MODULES: dict[str, tuple[str, ...]] = {
    "analysis.attrition": ("AttritionCheck", "attrition_check", "attrition_check_counts"),
    "analysis.binary": (
        "OutcomeBinary", "OutcomeScale", "PairedBinary", "newcombe_paired_difference",
        "outcome_binary_from_counts", "outcome_scale_from_counts", "paired_binary_from_counts",
    ),
    "analysis.caveats": (
        "CAVEAT_TEMPLATES", "Caveat", "binary_caveats", "english", "outcome_caveats",
        "paired_caveats",
    ),
    "analysis.disclosure": (
        "SUPPRESSED", "SuppressedFrequencies", "SuppressedTable", "suppress",
        "suppress_frequencies",
    ),
    "analysis.intervals": (
        "HodgesLehmann", "Interval", "hodges_lehmann", "mean_t_interval", "proportion_ci",
    ),
    "analysis.paired": ("PairedChange", "paired_change"),
    "analysis.signed_rank": ("WilcoxonTest", "rank_biserial", "signed_ranks", "wilcoxon_test"),
    "analysis.tables": (
        "FirstToLastChange", "FrequencyTable", "change_first_to_last", "frequency_table",
    ),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found at once from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
