"""Policy what-if (政策测算): reforms applied to the rulebook, the law's
floors checked, and a baseline compared with a reform over a caseload.

Public API::

    load_reform(path_or_text) -> Reform          # reform.py
    apply_reform(rulebook, reform) -> Rulebook   # a new Rulebook; baseline untouched
    load_floors(path=None) -> list[Floor]        # floors.py (rules/floors/*.yaml)
    check_floors(rulebook, floors=None) -> list[FloorCheck]
    compare(caseload, baseline, reform, year, progress=None) -> Comparison   # compare.py
"""
from .compare import Comparison, compare
from .floors import Floor, FloorCheck, check_floors, load_floors
from .reform import Reform, ReformError, apply_reform, load_reform

__all__ = ["Comparison", "compare", "Floor", "FloorCheck", "Reform", "ReformError", "apply_reform", "check_floors", "load_floors",
           "load_reform"]
