"""Polars on first use (按需导入 Polars): the one place a module of the
engine gets Polars without importing it.

The durable_rules path (one applicant, and every worker of ``estimate
--engine durable``) imports money.py and outcome.py for their ``_py``
lowerings; their ``_pl`` lowerings stand beside them (one definition, two
back ends) but are called only by the columnar engine. ``pl`` here is a
stand-in for the ``polars`` module that imports it at the first attribute
read (``pl.col``…), so a durable worker never loads Polars or PyArrow
(≈120 MB each). Annotations such as ``pl.Expr`` are not evaluated (``from
__future__ import annotations``). A module that always needs Polars
imports it plainly.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """A module imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _module(self) -> ModuleType:
        return importlib.import_module(self._name)

    def __getattr__(self, attr: str):
        """Called only for a name not read before: kept, so the next read is plain."""
        value = getattr(self._module(), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


pl = LazyModule("polars")
