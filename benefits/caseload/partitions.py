"""A partitioned caseload (分区台账): a folder of Parquet files, one per
partition (consecutive ranges of records), and ``manifest.json`` naming
them in order with their record counts and how the caseload was made.

Each partition holds text columns in the flat layout of columns.py (as
``read_parquet_frame`` reads them). A record's row number is its position
in the whole caseload (1 = the first record of the first partition), so a
rejected row is named as in a single file of the same records.

The folder is written atomically: it is built under a temporary name beside
the final one and renamed into place only when every partition and the
manifest are written; nothing partial ever stands under the final name.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .columns import COLUMNS, flatten
from .readers import CaseloadError
from .writers import _umask, cell_text

MANIFEST = "manifest.json"
KIND = "benefits-partitioned-caseload"


@dataclass(frozen=True)
class Partition:
    """One partition file: its path, its records and the caseload row of its first."""
    path: Path
    rows: int
    first_row: int


def _records_in(path: Path) -> int:
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:       # pyarrow raises its own error kinds for a damaged file
        raise CaseloadError(f"无法读取分区文件 {path.name}：{exc}") from None


def is_partitioned(path) -> bool:
    return Path(path).is_dir()


def cluster_partitions(source) -> list[Partition]:
    """The partitions a cluster run (``--scheduler``) sends out: only a
    partitioned caseload folder can be split into tasks."""
    if not (isinstance(source, (str, Path)) and is_partitioned(source)):
        raise CaseloadError(f"--scheduler 需要分区台账文件夹（benefits generate --partitions 写出），"
                            f"{source} 不是文件夹")
    return read_partitions(source)


def read_partitions(folder) -> list[Partition]:
    """The partitions of a caseload folder, in order: as its manifest lists
    them (each must exist and hold the records the manifest says), or
    without a manifest every ``*.parquet`` by name. CaseloadError (Chinese)
    for a folder that is not a usable partitioned caseload."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CaseloadError(f"找不到分区台账文件夹：{folder}")
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            listed = [(str(p["file"]), int(p["rows"])) for p in data["partitions"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CaseloadError(f"分区台账的清单 {manifest} 无法读取：{exc}") from None
        paths = []
        for name, rows in listed:
            path = folder / name
            if Path(name).name != name or not name.endswith(".parquet"):
                raise CaseloadError(f"分区台账的清单列出了不合格的文件名：{name}")
            if not path.is_file():
                raise CaseloadError(f"分区台账缺少清单所列的分区文件：{name}")
            found = _records_in(path)
            if found != rows:
                raise CaseloadError(f"分区文件 {name} 有 {found} 条记录，清单记为 {rows} 条：分区不完整或已被改动")
            paths.append((path, rows))
    else:
        paths = [(p, _records_in(p)) for p in sorted(folder.glob("*.parquet"))]
    if not paths:
        raise CaseloadError(f"分区台账文件夹 {folder} 中没有 .parquet 分区文件")
    out, first = [], 1
    for path, rows in paths:
        out.append(Partition(path, rows, first))
        first += rows
    return out


def _frame(records: list[dict]):
    import polars as pl
    flat = [flatten(r) for r in records]
    return pl.DataFrame({c.path: [None if f.get(c.path) is None else cell_text(f[c.path]) for f in flat]
                         for c in COLUMNS}, schema={c.path: pl.String for c in COLUMNS})


def _slices(records: Iterable[dict], size: int, parts: int) -> Iterator[list[dict]]:
    """``parts`` consecutive slices of ``size`` records, as even as can be."""
    stream = iter(records)
    base, extra = divmod(size, parts)
    for index in range(parts):
        count = base + (1 if index < extra else 0)
        yield [next(stream) for _ in range(count)]


def write_partitioned(records: Iterable[dict], size: int, parts: int, out, about: dict) -> list[Partition]:
    """Write ``size`` records as ``parts`` Parquet partitions of consecutive
    records under the folder ``out``, with the manifest (``about``: how the
    records were made, e.g. the generator's seed). ``out`` must not exist,
    be an empty folder, or be a partitioned caseload (replaced whole)."""
    out = Path(out)
    if parts > size:
        raise CaseloadError(f"分区数（{parts}）不能多于记录数（{size}）")
    if out.exists():
        if not out.is_dir():
            raise CaseloadError(f"{out} 已存在且不是文件夹")
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise CaseloadError(f"文件夹 {out} 不是空的，也不是分区台账（没有 {MANIFEST}）：不覆盖")
    partial = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part"))
    try:
        os.chmod(partial, 0o777 & ~_umask())
        listed, first = [], 1
        for index, chunk in enumerate(_slices(records, size, parts)):
            name = f"part-{index:05d}.parquet"
            _frame(chunk).write_parquet(partial / name)
            listed.append({"file": name, "rows": len(chunk), "first_row": first})
            first += len(chunk)
        manifest = {"kind": KIND, "rows": size, **about, "partitions": listed}
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        for path in partial.iterdir():
            with open(path, "rb") as done:
                os.fsync(done.fileno())
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
            os.replace(out, old / "caseload")
        try:
            os.replace(partial, out)
        except OSError:
            if old is not None:         # the earlier caseload goes back where it was
                os.replace(old / "caseload", out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        with suppress(OSError):
            shutil.rmtree(partial)
        raise
    return read_partitions(out)
