"""Caseloads on Dask distributed (分布式测算): a scheduler and its workers
run one task per partition of a partitioned caseload (caseload/partitions.py),
each the same columnar plan the local run uses, and the client folds the
partial results in partition order (``Tally.merge``), so the figures are
the local run's to the fen.

The rulebook goes to the workers as its files with its version hash
(``Shipment``, a worker plugin): each worker loads a version once and
refuses a task when the rulebook it holds under that name is another
version (``VersionRefused``). Nothing here knows an estimate or a
comparison: finance and policy give the per-partition function.

    with connect("local:2") as client:           # or "tcp://HOST:8786"
        for result in run_partitions(client, task, args, shipments): ...
"""
from .cluster import (ClusterError, VersionRefused, connect, run_partitions, scheduler_option, worker_remember,
                      worker_rulebook)
from .shipment import Shipment

__all__ = ["ClusterError", "VersionRefused", "Shipment", "connect", "run_partitions", "scheduler_option", "worker_remember",
           "worker_rulebook"]
