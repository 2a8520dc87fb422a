"""The statistics package must stay pure: no web framework or database layer."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_analysis_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, analysis\n"
        "for name in analysis.__all__: getattr(analysis, name)\n"  # every module, loaded
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'flask_babel', 'sqlalchemy', 'surveys'})\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_package_and_its_light_modules_load_neither_numpy_nor_scipy():
    """A cached report is rendered with these alone: the command line must not pay for
    NumPy and SciPy to print it (issue 16, start-up)."""
    code = (
        "import sys, analysis, analysis.caveats, analysis.disclosure, analysis.rounding, "
        "analysis.tables\n"
        "from analysis import SUPPRESSED, Caveat, english\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'numpy', 'scipy'})\n"
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


def runtime_imports(path: Path) -> set[str]:
    """analysis.* modules a file imports when it runs, at the top or inside functions; imports
    under `if TYPE_CHECKING:` are for type checkers only and never run."""
    import ast

    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("analysis."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_analysis_modules_import_each_other_without_a_circle():
    # caveats.py used to import paired.py inside a function while paired.py imported caveats.
    graph = {
        f"analysis.{p.stem}": runtime_imports(p)
        for p in (ROOT / "analysis").glob("*.py")
        if p.stem != "__init__"
    }
    done: set[str] = set()

    def walk(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in graph.get(module, ()):
            walk(imported, (*path, module))
        done.add(module)

    for module in graph:
        walk(module, ())


def test_extreme_baseline_limits_are_still_importable_where_they_were():
    from analysis import paired, scales

    assert (paired.EXTREME_LOW, paired.EXTREME_HIGH) == (scales.EXTREME_LOW, scales.EXTREME_HIGH)
