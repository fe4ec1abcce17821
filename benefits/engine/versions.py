"""Engines for earlier rulebook versions (历史规则版本), rebuilt from their
stored files.

A version is the hash of its files (rulebook.rulebook_version), so files that
do not hash to the version they are stored under are refused: replaying a
determination under other rules than the ones that made it would be a lie.
Each Engine compiles its own durable_rules ruleset; a process keeps a few,
least recently used first out, and closes the ruleset of each one dropped.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Mapping

from .evaluate import Engine
from .rulebook import RulebookError, rulebook_from_files, rulebook_version


class VersionMismatch(RulebookError):
    """Stored files that do not hash to their version (篡改或损坏)."""


def _check(version: str, files: Mapping[str, bytes]) -> None:
    actual = rulebook_version(files)
    if actual != version:
        raise VersionMismatch(f"规则版本 {version} 的已存文件校验不符（重算得 {actual}），"
                              f"文件可能被改动或损坏，拒绝按此版本重放")


def rulebook_of_version(version: str, files: Mapping[str, bytes]):
    """The Rulebook of ``version`` from its files; refused unless they hash to it."""
    _check(version, files)
    return rulebook_from_files(files, Path(f"规则版本{version}"))


class EngineCache:
    """At most ``size`` engines of stored versions, least recently used out.

    An engine dropped from the cache is closed when no caller is using
    it any more, so its ruleset does not linger in the C engine."""

    def __init__(self, size: int = 4):
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._users: dict[int, int] = {}         # id(engine) → callers inside ``using``
        self._retired: dict[int, Engine] = {}    # dropped while in use: closed by the last user
        self._lock = threading.Lock()

    def using(self, version: str, load: Callable[[str], Mapping[str, bytes]], current: Engine | None = None):
        """A context manager giving the engine of ``version``: ``current`` if it
        is that version (today's engine is never rebuilt), else one built from
        ``load(version)``, the version's files (which raises if they are not
        kept). The files are checked against the version first, every time."""
        return _Use(self, version, load, current)

    def _acquire(self, version: str, load, current: Engine | None) -> Engine:
        # The kept files are read and checked on every use, even when the
        # engine is at hand: damage to them is reported, not hidden by a cache.
        files = load(version)
        _check(version, files)
        if current is not None and current.version == version:
            return current
        with self._lock:
            engine = self._engines.get(version)
            if engine is not None:
                self._engines.move_to_end(version)
                self._users[id(engine)] = self._users.get(id(engine), 0) + 1
                return engine
        # build outside the lock (compiling takes a while); a racing builder's copy is closed
        built = Engine(rulebook=rulebook_from_files(files, Path(f"规则版本{version}")))
        with self._lock:
            engine = self._engines.setdefault(version, built)
            self._engines.move_to_end(version)
            self._users[id(engine)] = self._users.get(id(engine), 0) + 1
            dropped = []
            while len(self._engines) > self.size:
                _, old = self._engines.popitem(last=False)
                if self._users.get(id(old)):
                    self._retired[id(old)] = old
                else:
                    dropped.append(old)
        if engine is not built:
            dropped.append(built)
        for old in dropped:
            old.close()
        return engine

    def _release(self, engine: Engine, current: Engine | None) -> None:
        if engine is current:
            return
        with self._lock:
            left = self._users[id(engine)] - 1
            if left:
                self._users[id(engine)] = left
                return
            del self._users[id(engine)]
            retired = self._retired.pop(id(engine), None)
        if retired is not None:
            retired.close()

    def versions(self) -> list[str]:
        with self._lock:
            return list(self._engines)

    def close(self) -> None:
        """Close every engine now unused; one in use closes when its caller is done."""
        with self._lock:
            engines = []
            for engine in self._engines.values():
                if self._users.get(id(engine)):
                    self._retired[id(engine)] = engine
                else:
                    engines.append(engine)
            self._engines.clear()
        for engine in engines:
            engine.close()


class _Use:
    def __init__(self, cache: EngineCache, version: str, load, current: Engine | None):
        self.cache, self.version, self.load, self.current = cache, version, load, current

    def __enter__(self) -> Engine:
        self.engine = self.cache._acquire(self.version, self.load, self.current)
        return self.engine

    def __exit__(self, *exc) -> None:
        self.cache._release(self.engine, self.current)
