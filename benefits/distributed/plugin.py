"""The worker plugin that carries a ``Shipment`` to every worker, those that
join or are restarted later included: the worker builds the rulebook once,
on its first task, and keeps it with whatever the tasks derive from it (a
compiled plan per budget year). Imported only where Dask runs (cluster.py
imports it inside the functions that use a cluster)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional

from distributed.diagnostics.plugin import WorkerPlugin

from ..engine.rulebook import Rulebook, rulebook_from_files
from .shipment import Shipment, plugin_name


class RulebookPlugin(WorkerPlugin):
    """On each worker: one shipment, its rulebook built once, and a small
    cache of what tasks derive from it (``remember``)."""
    idempotent = True        # a worker that has the version already keeps it (loaded once per version)

    def __init__(self, shipment: Shipment):
        self.shipment = shipment
        self.name = plugin_name(shipment.version)
        self._rulebook: Optional[Rulebook] = None
        self._kept: dict = {}
        self._lock = threading.RLock()

    def __getstate__(self):
        return {"shipment": self.shipment, "name": self.name}

    def __setstate__(self, state):
        self.__init__(state["shipment"])

    def rulebook(self) -> Rulebook:
        with self._lock:
            if self._rulebook is None:
                book = rulebook_from_files(self.shipment.files, Path(f"规则版本{self.shipment.version}"))
                if self.shipment.derive is not None:
                    book = self.shipment.derive(book)
                self._rulebook = book
            return self._rulebook

    def remember(self, key, make: Callable):
        """``make()`` once per key on this worker (e.g. the plan of a budget year)."""
        with self._lock:
            if key not in self._kept:
                self._kept[key] = make()
            return self._kept[key]
