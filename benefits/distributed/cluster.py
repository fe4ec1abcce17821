"""Connecting to a Dask scheduler (or starting a LocalCluster) and running
one task per partition, results taken once each and in partition order.

A worker that dies mid-task is replaced and its task run again by the
scheduler (up to ``distributed.scheduler.allowed-failures`` times); the
client takes each partition's result from its one future, once, so a task
run twice is never counted twice. A scheduler that cannot be reached or is
lost mid-run is a ``ClusterError`` with one Chinese line: the command then
writes nothing.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import sys
import uuid
import warnings
from contextlib import contextmanager, suppress
from typing import Callable, Iterator, Optional, Sequence

import click
from tqdm import tqdm

from ..engine.rulebook import Rulebook, RulebookError
from .shipment import Shipment, plugin_name

LOCAL = re.compile(r"^local:(\d{1,3})$")
REMOTE = re.compile(r"^(tcp|tls)://[^\s/]+:\d{1,5}$")
# what the client raises when the scheduler, a worker or the network goes away
_LOST = (OSError, EOFError, asyncio.TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError,
         concurrent.futures.TimeoutError)


class ClusterError(Exception):
    """The scheduler or the workers cannot be used (unreachable, lost,
    a task whose workers kept dying); one Chinese line."""


class VersionRefused(RulebookError):
    """A worker that holds another rulebook version than the one asked for (拒绝计算)."""


def scheduler_option(ctx, param, value):
    """Option callback: ``tcp://HOST:PORT`` or ``local:N`` (N workers on this machine)."""
    if value is None:
        return None
    match = LOCAL.match(value)
    if match and 1 <= int(match.group(1)) <= 256:
        return value
    if REMOTE.match(value):
        return value
    raise click.BadParameter(f"应为 tcp://主机:端口（如 tcp://10.0.0.5:8786）或 local:N（本机 N 个工作进程），实际为 {value!r}")


def _quiet_logs() -> None:
    # the library's own log lines (connection retries, restarts) would bury the one Chinese line
    # (Dask's own logging config gives some child loggers a level of their own: each is set)
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in ("distributed", "tornado")]
    for name in ["distributed", "tornado", *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0].rstrip('.。')}" if text else type(exc).__name__


@contextmanager
def connect(scheduler: str, quiet_logs: bool = True):
    """A Client of the scheduler ``tcp://HOST:PORT``, or of a LocalCluster
    of N worker processes (one thread each) for ``local:N``; closed after
    the block. The time allowed to connect is Dask's
    ``distributed.comm.timeouts.connect`` (env DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)."""
    from distributed import Client, LocalCluster
    if quiet_logs:
        _quiet_logs()
    cluster = None
    match = LOCAL.match(scheduler)
    try:
        if match:
            cluster = LocalCluster(n_workers=int(match.group(1)), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.CRITICAL)
            client = Client(cluster)
        else:
            client = Client(scheduler)
    except _LOST + (RuntimeError, ValueError) as exc:
        if cluster is not None:
            with suppress(Exception):
                cluster.close()
        where = f"本机集群 {scheduler}" if match else f"调度器 {scheduler}"
        raise ClusterError(f"无法连接{where}：{_reason(exc)}") from None
    try:
        yield client
    finally:
        with suppress(Exception):
            client.close(timeout=5)
        if cluster is not None:
            with suppress(Exception):
                cluster.close(timeout=5)


def ship(client, shipments: Sequence[Shipment]) -> None:
    """Every shipment to every worker (a worker that has the version keeps it)."""
    from .plugin import RulebookPlugin
    for shipment in shipments:
        plugin = RulebookPlugin(shipment)
        client.register_plugin(plugin, name=plugin.name)


def _plugin(version: str):
    from distributed import get_worker

    from .plugin import RulebookPlugin
    worker = get_worker()
    plugin = worker.plugins.get(plugin_name(version))
    if not isinstance(plugin, RulebookPlugin):
        raise VersionRefused(f"工作节点 {worker.address} 没有收到规则版本 {version}，拒绝计算")
    return plugin


def worker_rulebook(version: str) -> Rulebook:
    """On a worker: the rulebook of ``version`` (built once); refused when the
    one this worker holds under that version is another (VersionRefused)."""
    book = _plugin(version).rulebook()
    if book.version != version:
        from distributed import get_worker
        raise VersionRefused(f"工作节点 {get_worker().address} 载入的规则版本为 {book.version}，"
                             f"与所要求的 {version} 不同，拒绝计算")
    return book


def worker_remember(version: str, key, make: Callable):
    """On a worker: ``make()`` once per (version, key), kept with the rulebook."""
    return _plugin(version).remember(key, make)


def run_partitions(client, task: Callable, arguments: Sequence[tuple], shipments: Sequence[Shipment],
                   progress: bool = False, desc: str = "分区",
                   on_progress: Optional[Callable[[int, int], None]] = None) -> Iterator:
    """``task(*args)`` for each partition's arguments on the cluster; yields
    the results in partition order as soon as each is next in line.
    ``on_progress(done, total)`` after each partition finishes (any order)."""
    from distributed import as_completed
    total = len(arguments)
    run = uuid.uuid4().hex[:8]
    futures = []
    try:
        ship(client, shipments)
        with warnings.catch_warnings():
            # a partition's frames go in the task itself (kept by the scheduler, so a task run
            # again after its worker died still has them): Dask's warning about large tasks is expected
            warnings.simplefilter("ignore", UserWarning)
            futures = [client.submit(task, *args, key=f"benefits-{run}-{i:06d}", pure=False)
                       for i, args in enumerate(arguments)]
        index = {f.key: i for i, f in enumerate(futures)}
        ready: dict[int, object] = {}
        following = 0
        with tqdm(total=total, unit="区", desc=desc, file=sys.stderr, disable=not progress,
                  dynamic_ncols=True) as bar:
            # on this client's loop: another Client in the process (the default one) has its own
            for future in as_completed(futures, loop=client.loop):
                i = index[future.key]
                ready[i] = _result(future)
                future.release()
                bar.update(1)
                if on_progress:
                    on_progress(len(ready) + following, total)
                while following in ready:
                    yield ready.pop(following)
                    following += 1
        if following != total:
            raise ClusterError(f"分布式计算只完成了 {following}/{total} 个分区")
    except ClusterError:
        raise
    except _LOST as exc:
        raise ClusterError(f"与调度器的连接中断，计算未完成：{_reason(exc)}") from None
    finally:
        for future in futures:
            with suppress(Exception):
                future.cancel()


def _result(future):
    """The task's result; the task's own errors (a refused version, an
    unreadable partition) pass through, the cluster's become ClusterError."""
    from distributed import KilledWorker
    try:
        return future.result()
    except KilledWorker as exc:
        raise ClusterError(f"分区任务所在的工作节点多次退出，已放弃：{_reason(exc)}") from None
