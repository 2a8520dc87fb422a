"""Facts about the 0-10 scales that more than one analysis module needs.

Kept apart so that paired.py (the statistics) and caveats.py (the sentences about them) both
import it and neither has to import the other.
"""

# Baselines this close to either end of a 0-10 scale can only move one way on re-measurement.
EXTREME_LOW = 1
EXTREME_HIGH = 9
