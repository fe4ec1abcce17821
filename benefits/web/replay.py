"""Replaying a saved determination under the rulebook version that made it
(按原规则版本重放): the saved facts, the saved evaluation day, the version's
kept rule files; the answer must be the saved JSON, byte for byte.

No HTTP here: the CLI (``benefits replay``), the case page and the changed
cases page use it alike.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import click

from ..cliutil import Stop
from ..engine import EngineCache, InvalidApplicant, RulebookError, parse_applicant
from . import store


class ReplayError(Exception):
    """The determination cannot be replayed (Chinese message)."""


@dataclasses.dataclass
class Replay:
    determination_id: int
    case_id: int
    county: str
    version: str
    evaluation_date: str
    saved_json: str
    replayed_json: str

    @property
    def same(self) -> bool:
        """Byte for byte the saved determination (一致)."""
        return self.saved_json == self.replayed_json

    @property
    def result(self) -> dict:
        return json.loads(self.replayed_json)

    def first_difference(self) -> int | None:
        """The character offset where the two JSON texts part, or None."""
        if self.same:
            return None
        for i, (a, b) in enumerate(zip(self.saved_json, self.replayed_json)):
            if a != b:
                return i
        return min(len(self.saved_json), len(self.replayed_json))


# One cache per process (engines of old versions are few and costly to build).
ENGINE_CACHE = EngineCache(size=4)


def replay(db, determination_id: int, current=None, engines: EngineCache = ENGINE_CACHE,
           saved: dict | None = None) -> Replay:
    """Evaluate determination ``determination_id``'s saved record on its saved
    evaluation day under its saved version (``current``: today's engine, used
    if it is that version). Raises ReplayError (Chinese)."""
    det = saved or store.determination(db, determination_id)
    if det is None:
        raise ReplayError(f"没有编号为 {determination_id} 的评估记录")
    version = det["rulebook_version"]
    try:
        with engines.using(version, lambda v: store.version_files(db, v), current) as engine:
            result = engine.determine(parse_applicant(det["record_json"]),
                                      dt.date.fromisoformat(det["evaluation_date"]))
    except (store.StoreError, RulebookError) as exc:
        raise ReplayError(f"评估 #{det['id']} 无法重放：{exc}") from None
    except InvalidApplicant as exc:
        fields = "；".join(f"{e.field}：{e.message}" for e in exc.errors)
        raise ReplayError(f"评估 #{det['id']} 的已存记录不能通过现行校验，无法重放：{fields}") from None
    return Replay(det["id"], det["case_id"], det["county"], version, det["evaluation_date"],
                  det["result_json"], store.result_json(result))


@click.command("replay")
@click.argument("determination_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--db", "database", default="instance/benefits.sqlite", show_default=True,
              type=click.Path(dir_okay=False, exists=True), help="受理网页的 SQLite 数据库文件")
def replay_command(determination_id, database):
    """按原规则版本重放一次已保存的评估，并与保存的结果逐字节比较。

    退出码：0 一致 · 1 不一致或无法重放。"""
    db = store.connect(database)
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] < store.SCHEMA_VERSION:
            raise Stop(f"数据库 {database} 尚未升级（请先启动一次 benefits serve），无法重放", 1)
        try:
            done = replay(db, determination_id)
        except ReplayError as exc:
            raise Stop(str(exc), 1) from None
    finally:
        db.close()
    click.echo(f"评估 #{done.determination_id}（案件 #{done.case_id}，规则版本 {done.version}，"
               f"评估日期 {done.evaluation_date}）按原规则版本重放：")
    if done.same:
        click.echo(f"一致：与保存的结果逐字节相同（{len(done.saved_json.encode())} 字节）")
        return 0
    at = done.first_difference()
    click.echo(f"不一致：自第 {at + 1} 个字符起不同")
    click.echo(f"  保存：…{done.saved_json[max(at - 40, 0):at + 60]}…")
    click.echo(f"  重放：…{done.replayed_json[max(at - 40, 0):at + 60]}…")
    return 1
