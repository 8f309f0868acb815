"""The package's shape: short modules, short functions (or a reason), a docstring on top of each.

Each check is a function of a package folder, run on sentiment_rnn/ and, to show that it can
fail, on a small package written with one violation of each kind.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sentiment_rnn"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60  # from `def` to its last line; longer says "Long because" in its docstring


def _modules(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


def long_modules(package: Path) -> list[str]:
    """'path: N lines' for each module over MAX_MODULE_LINES."""
    out = []
    for path in _modules(package):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            out.append(f"{path.relative_to(package.parent)}: {n} lines")
    return out


def unexplained_long_functions(package: Path) -> list[str]:
    """'path:line name (N lines)' for each function, nested ones too, over MAX_FUNCTION_LINES
    whose docstring does not say "Long because"."""
    out = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES and "Long because" not in (ast.get_docstring(node) or ""):
                out.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name} "
                           f"({n} lines)")
    return out


def undocumented_modules(package: Path) -> list[str]:
    """Each module (subpackages' __init__.py included) without a module docstring, and each
    folder of modules that is not a package (no __init__.py)."""
    out = [str(path.relative_to(package.parent)) for path in _modules(package)
           if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()]
    out += [f"{folder.relative_to(package.parent)}/ has no __init__.py"
            for folder in sorted({path.parent for path in _modules(package)})
            if not (folder / "__init__.py").is_file()]
    return out


def test_the_checks_read_the_whole_package():
    """The three checks below pass on an empty folder: they must be reading the package."""
    modules = _modules(PACKAGE)
    assert len(modules) >= 50, PACKAGE  # 67 when this was written
    folders = {path.parent.name for path in modules}
    assert {"text", "files", "data", "nn", "training", "evaluation", "inspection", "serve",
            "cli"} <= folders


def test_no_module_is_over_300_lines():
    assert long_modules(PACKAGE) == []


def test_every_function_over_60_lines_says_why():
    assert unexplained_long_functions(PACKAGE) == []


def test_every_module_and_subpackage_has_a_docstring():
    assert undocumented_modules(PACKAGE) == []


def _body(lines: int) -> str:
    return "".join(f"    x{i} = {i}\n" for i in range(lines))


def test_each_check_finds_its_violation(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "loose").mkdir()
    (pkg / "__init__.py").write_text('"""The package."""\n')
    (pkg / "sub" / "__init__.py").write_text("x = 1\n")  # no docstring
    (pkg / "loose" / "mod.py").write_text('"""A module in a folder that is not a package."""\n')
    (pkg / "big.py").write_text('"""Too long."""\n' + "x = 1\n" * 300)  # 301 lines
    (pkg / "fine.py").write_text('"""Exactly at the limits: 300 lines."""\n' + "x = 1\n" * 177
                                 + "def f():\n" + _body(59)  # 60 lines
                                 + "def g():\n" + '    """Long because it must be."""\n'
                                 + _body(60))
    (pkg / "funcs.py").write_text('"""A long function, nested in a class."""\n\n'
                                  "class C:\n    def long(self):\n"
                                  '        """Short docstring."""\n'
                                  + _body(59).replace("    ", "        "))
    assert long_modules(pkg) == ["pkg/big.py: 301 lines"]
    assert unexplained_long_functions(pkg) == ["pkg/funcs.py:4 long (61 lines)"]
    assert undocumented_modules(pkg) == ["pkg/sub/__init__.py", "pkg/loose/ has no __init__.py"]
