"""The import structure of ``benefits``, read from the source with ``ast``
(nothing is imported): which package may use which, no hidden loops dodged
by importing inside a function, no private names taken across packages.

    caseload ← engine.columnar ← costing ← finance, policy, web      (A ← B: B imports A)
    cliutil, tables, workbooks: small modules below every command and workbook
    cli: the ``benefits`` command, imported by nobody
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "benefits"

# Imports of the project's own modules inside a function, each with why it
# cannot be at the top of the module. Key: (importing module, imported module).
FUNCTION_IMPORTS_ALLOWED = {
    ("benefits.cli", "benefits.finance.evaluate_file"):
        "`evaluate --batch` only: polars and the columnar engine, kept out of the command's start-up "
        "and out of every spawn worker (which re-imports benefits.cli)",
    ("benefits.finance.cli", "benefits.finance.chart"):
        "matplotlib, only when `estimate` draws its chart: `benefits --help` imports finance.cli for its help line",
    ("benefits.audit.cli", "benefits.audit.chart"):
        "matplotlib, only when `audit` draws its chart: `benefits --help` imports audit.cli for its help line",
    ("benefits.web.jobs", "benefits.finance.chart"):
        "matplotlib, only when an estimate job runs, not when the web app starts",
    ("benefits.web.auditruns", "benefits.audit.chart"):
        "matplotlib, only when a roll audit job draws its chart, not when the web app starts",
    ("benefits.distributed.cluster", "benefits.distributed.plugin"):
        "Dask (distributed) only when a run uses a cluster: estimate, compare, audit and the web app import "
        "benefits.distributed, and a local run should not load Dask",
    ("benefits.scenarios.runner", "benefits.policy"):
        "the reform machinery (benefits.policy loads polars) only when a scenario run is given a reform",
    ("benefits.costing", "benefits.costing.columnar"):
        "the columnar plan (polars) on first use of its names (PEP 562): a worker of `estimate --engine durable` "
        "imports costing for Planner and Tally only",
    ("benefits.costing", "benefits.costing.frames"):
        "applicant frames (polars, pyarrow) on first use of their names (PEP 562), for the same durable workers",
}


@dataclass(frozen=True)
class Import:
    module: str          # the module that imports
    target: str          # the module imported (for ``from m import n``: m, and m.n if that is a module)
    names: tuple         # names taken by ``from m import …`` (empty for ``import m``)
    line: int
    in_function: bool

    def where(self) -> str:
        return f"{self.module}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(name: str) -> bool:
    return (ROOT.parent / name.replace(".", "/") / "__init__.py").is_file()


def _is_module(name: str) -> bool:
    return _is_package(name) or (ROOT.parent / (name.replace(".", "/") + ".py")).is_file()


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, (), child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                names = tuple(a.name for a in child.names)
                found.append(Import(module, target, names, child.lineno, in_function))
                for name in names:                     # ``from .. import finance``: the module itself
                    if _is_module(f"{target}.{name}"):
                        found.append(Import(module, f"{target}.{name}", (), child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]
OWN = [imp for imp in IMPORTS if imp.target == "benefits" or imp.target.startswith("benefits.")]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _offenders(importers: tuple, imported: tuple) -> list[str]:
    return sorted({f"{imp.where()} imports {imp.target}" for imp in OWN
                   if any(_within(imp.module, p) for p in importers)
                   and any(_within(imp.target, p) for p in imported)})


def test_the_modules_are_found():
    assert "benefits.cli" in MODULES and "benefits.engine.columnar.readers" in MODULES
    assert len(OWN) > 100


def test_nothing_below_finance_imports_finance():
    """finance is a consumer (the finance office's estimate, its workbook and
    chart), not a drawer of helpers: what others need lives below it."""
    below = ("benefits.engine", "benefits.policy", "benefits.scorecard", "benefits.caseload",
             "benefits.costing", "benefits.cliutil", "benefits.tables", "benefits.workbooks")
    offenders = _offenders(below, ("benefits.finance",))
    assert not offenders, "\n".join(offenders)


def test_caseload_is_below_the_engines_and_the_offices():
    """Reading and writing caseload files needs the applicant record, nothing above it."""
    above = ("benefits.engine.columnar", "benefits.engine.evaluate", "benefits.costing", "benefits.finance",
             "benefits.policy", "benefits.scorecard", "benefits.scenarios", "benefits.web", "benefits.cli")
    offenders = _offenders(("benefits.caseload",), above)
    assert not offenders, "\n".join(offenders)


def test_the_leaves_import_no_command_or_office():
    above = ("benefits.cli", "benefits.engine", "benefits.costing", "benefits.finance", "benefits.policy",
             "benefits.scorecard", "benefits.scenarios", "benefits.web")
    offenders = _offenders(("benefits.cliutil", "benefits.tables", "benefits.workbooks"), above)
    assert not offenders, "\n".join(offenders)


def test_nothing_imports_the_command():
    """benefits/cli.py imports the sub-commands; a sub-command importing it
    back is a loop (and, under ``python -m benefits.cli``, a second copy of
    ``Stop`` that the command's own handler does not catch)."""
    offenders = [f"{imp.where()} imports {imp.target}" for imp in OWN
                 if _within(imp.target, "benefits.cli") and imp.module != "benefits.__main__"]
    assert not offenders, "\n".join(offenders)


def test_no_import_of_the_project_inside_a_function_unless_allowed():
    offenders = sorted(f"{imp.where()} imports {imp.target} inside a function" for imp in OWN
                       if imp.in_function and (imp.module, imp.target) not in FUNCTION_IMPORTS_ALLOWED)
    assert not offenders, "\n".join(offenders)


def test_every_allowed_function_import_still_exists():
    used = {(imp.module, imp.target) for imp in OWN if imp.in_function}
    stale = sorted(set(FUNCTION_IMPORTS_ALLOWED) - used)
    assert not stale, stale


def test_no_private_name_is_taken_from_another_package():
    """``from ..finance.x import _y``: a private name is the module's own business."""
    def package_of(module: str) -> str:
        return module if _is_package(module) else module.rpartition(".")[0]

    offenders = sorted(f"{imp.where()} takes {name} from {imp.target}" for imp in OWN for name in imp.names
                       if name.startswith("_") and not name.startswith("__")
                       and package_of(imp.target) != package_of(imp.module))
    assert not offenders, "\n".join(offenders)


def test_the_audit_is_columnar_only():
    """benefits.audit (名册核对) runs the columnar plan, never durable_rules:
    it imports neither durable_rules nor the durable engine's modules (the
    engine package itself still loads them on import)."""
    durable = ("durable_rules", "durable", "benefits.engine.evaluate", "benefits.engine.runtime",
               "benefits.engine.compiler", "benefits.engine.versions")
    offenders = sorted(f"{imp.where()} imports {imp.target}" for imp in IMPORTS
                       if _within(imp.module, "benefits.audit") and any(_within(imp.target, d) for d in durable)
                       or _within(imp.module, "benefits.audit") and imp.target == "benefits.engine"
                       and {"Engine", "default_engine"} & set(imp.names))
    assert not offenders, "\n".join(offenders)
