"""Make `import analysis` find the real package, not this test directory.

pytest (prepend import mode) puts tests/ on sys.path, where tests/analysis/ has no __init__.py
and would be picked up as a namespace package called `analysis`. A regular package anywhere on
sys.path wins over a namespace one, so putting the project root on the path is enough.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
