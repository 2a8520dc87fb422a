"""Pure statistics for the survey reports: plain data in, frozen dataclasses out.

No web framework, database or I/O here, so every figure can be checked on its own.
"""

from analysis.attrition import AttritionCheck, attrition_check
from analysis.binary import (
    OutcomeBinary,
    OutcomeScale,
    PairedBinary,
    newcombe_paired_difference,
    outcome_binary_from_counts,
    outcome_scale_from_counts,
    paired_binary_from_counts,
)
from analysis.caveats import (
    CAVEAT_TEMPLATES,
    Caveat,
    binary_caveats,
    english,
    outcome_caveats,
    paired_caveats,
)
from analysis.disclosure import (
    SUPPRESSED,
    SuppressedFrequencies,
    SuppressedTable,
    suppress,
    suppress_frequencies,
)
from analysis.intervals import (
    HodgesLehmann,
    Interval,
    hodges_lehmann,
    mean_t_interval,
    proportion_ci,
)
from analysis.paired import PairedChange, paired_change
from analysis.signed_rank import WilcoxonTest, rank_biserial, signed_ranks, wilcoxon_test
from analysis.tables import FirstToLastChange, FrequencyTable, change_first_to_last, frequency_table

__all__ = [
    "CAVEAT_TEMPLATES",
    "SUPPRESSED",
    "AttritionCheck",
    "Caveat",
    "FirstToLastChange",
    "FrequencyTable",
    "HodgesLehmann",
    "Interval",
    "OutcomeBinary",
    "OutcomeScale",
    "PairedBinary",
    "PairedChange",
    "SuppressedFrequencies",
    "SuppressedTable",
    "WilcoxonTest",
    "attrition_check",
    "binary_caveats",
    "change_first_to_last",
    "english",
    "frequency_table",
    "hodges_lehmann",
    "mean_t_interval",
    "newcombe_paired_difference",
    "outcome_binary_from_counts",
    "outcome_caveats",
    "outcome_scale_from_counts",
    "paired_binary_from_counts",
    "paired_caveats",
    "paired_change",
    "proportion_ci",
    "rank_biserial",
    "signed_ranks",
    "suppress",
    "suppress_frequencies",
    "wilcoxon_test",
]
