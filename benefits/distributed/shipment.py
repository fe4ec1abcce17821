"""The rulebook as it goes to the workers (规则包): its files and the version
they must hash to, and for a reform the picklable step that makes the
reformed rulebook from the baseline. A worker plugin (plugin.py) carries it
to every worker. Plain data: importing it does not load Dask."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from ..engine.rulebook import Rulebook

PREFIX = "benefits-rulebook-"


def plugin_name(version: str) -> str:
    return PREFIX + version


@dataclass(frozen=True)
class Shipment:
    """``version``: the version the tasks ask for; ``files``: the rule files
    (rulebook.read_rule_files); ``derive``: for a reform, a picklable
    ``derive(baseline) -> Rulebook`` (a module-level function or a partial of one)."""
    version: str
    files: Mapping[str, bytes]
    derive: Optional[Callable[[Rulebook], Rulebook]] = field(default=None, compare=False)

    @classmethod
    def of(cls, rulebook: Rulebook, derive: Optional[Callable] = None, version: Optional[str] = None):
        """The shipment of a rulebook read from files (``rulebook.files``)."""
        return cls(version or rulebook.version, dict(rulebook.files), derive)
