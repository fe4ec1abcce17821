"""A bounded worker pool with a bounded queue (有界任务池): the long jobs of
the web (policy compares, finance estimates) run here, never in a request
thread. At most ``workers`` jobs run at once and at most ``queued`` wait;
one more is refused at once with ``Full`` (a Chinese message the page or
the API shows as 503), so a burst of requests cannot pile up work and
memory without end. Each waiting job knows its place in the queue.

No HTTP here; the app makes one pool per kind of job (app.extensions).
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Optional

log = logging.getLogger(__name__)


def queued_zh(place: int) -> str:
    """A waiting job's place in Chinese (1 = next to start)."""
    return "排队中：下一个开始" if place == 1 else f"排队中：前面还有 {place - 1} 项"


@dataclass(kw_only=True)
class RunState:
    """What every background run of the web shows while it goes (a policy
    compare, a roll audit): its stage and progress, then its result or
    error; ``finished`` is set at the end, ``pool`` is where it waits."""
    created: float = field(default_factory=time.time)
    status: str = "queued"
    stage_zh: str = "排队中"
    processed: int = 0
    total: Optional[int] = None
    result: Optional[dict] = None
    error: Optional[str] = None
    seconds: Optional[float] = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    pool: Optional["BoundedPool"] = field(default=None, repr=False)


class Full(Exception):
    """The queue is full: try again later (Chinese message)."""


class BoundedPool:
    """``workers`` daemon threads (started on first use) taking jobs in order
    from a queue of at most ``queued``."""

    def __init__(self, name_zh: str, workers: int, queued: int):
        if workers < 1 or queued < 0:
            raise ValueError("workers ≥ 1, queued ≥ 0")
        self.name_zh, self.workers, self.queued = name_zh, workers, queued
        self._waiting: "collections.deque[tuple[Hashable, Callable[[], None]]]" = collections.deque()
        self._running: set = set()
        self._threads: list[threading.Thread] = []
        self._cv = threading.Condition()

    def submit(self, key: Hashable, job: Callable[[], None]) -> None:
        """Queue ``job`` (it must catch its own errors; one that escapes is
        logged). Raises Full when ``workers`` jobs run and ``queued`` wait."""
        with self._cv:
            if len(self._running) + len(self._waiting) >= self.workers + self.queued:
                raise Full(f"{self.name_zh}已满：正在进行 {len(self._running)} 项、排队 {len(self._waiting)} 项"
                           f"（最多同时 {self.workers} 项、排队 {self.queued} 项），请稍后再试")
            self._waiting.append((key, job))
            self._threads = [t for t in self._threads if t.is_alive()]
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"pool-{self.name_zh}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cv.notify()

    def position(self, key: Hashable) -> int:
        """``key``'s place in the queue: n ≥ 1 while it waits (1 = next to
        start), 0 once a worker has taken it (running or done)."""
        with self._cv:
            for place, (waiting, _) in enumerate(self._waiting, start=1):
                if waiting == key:
                    return place
        return 0

    def load(self) -> tuple[int, int]:
        """(running, waiting)."""
        with self._cv:
            return len(self._running), len(self._waiting)

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._waiting:
                    self._cv.wait()
                key, job = self._waiting.popleft()
                self._running.add(key)
            try:
                job()
            except Exception:        # the worker must outlive any one job
                log.exception("%s: job %s failed", self.name_zh, key)
            finally:
                with self._cv:
                    self._running.discard(key)
