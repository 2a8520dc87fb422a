"""The statistics package must stay pure: no web framework or database layer."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_analysis_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, analysis\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'flask_babel', 'sqlalchemy', 'surveys'})\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_public_api_is_exported():
    import analysis

    for name in analysis.__all__:
        assert hasattr(analysis, name), name
