"""A caseload file as applicant frames for the columnar engine (台账 →
申请人数据表), chunk by chunk, with the rejected rows.

CSV, XLSX and Parquet are read (engine/columnar/readers.py) and validated
column-wise (engine/columnar/validate.py: the same verdicts and messages as
the single-applicant path). A CSV file is read piece by piece, never whole,
and the next piece is read and validated in a thread while the caller
evaluates this one (``read_ahead``).
JSON Lines, streams and lists of records go row by row through the exact
single-applicant path, which is slower but the same.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import polars as pl

from ..caseload import CaseloadError, chunks, detect_format, open_caseload, parse_row, row_rejects
from ..caseload.partitions import Partition, is_partitioned, read_partitions
from ..engine.applicant import InvalidApplicant
from ..engine.columnar import frame_from_records
from ..engine.columnar.readers import csv_frames, read_parquet_frame, read_xlsx_frame
from ..engine.columnar.schema import ROW
from ..engine.columnar.validate import validate_frame

CHUNK_ROWS = 200_000


def chunk_rows(total: Optional[int]) -> int:
    """About ten chunks a file, for the progress bar; bounded for memory."""
    return CHUNK_ROWS if not total else max(1_000, min(CHUNK_ROWS, total // 10))


@dataclass
class FrameChunk:
    frame: pl.DataFrame        # valid applicants (engine/columnar/schema.py)
    rejects: list[dict]        # {row, field, message}, in row order
    rows: int                  # rows read (valid + rejected)


def _columnwise(parts: Iterable[pl.DataFrame]) -> Iterator[FrameChunk]:
    for part in parts:
        if part.height:
            frame, rejects = validate_frame(part)
            yield FrameChunk(frame, sorted(rejects, key=lambda r: r["row"]), part.height)


def _slices(raw: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    return (raw.slice(start, size) for start in range(0, raw.height, size))


def read_ahead(chunks: Iterator, depth: int = 1) -> Iterator:
    """The same items, each next one made in a thread while the caller works
    on this one (reading and validating a chunk while the previous one is
    evaluated: Polars works outside the GIL). At most ``depth`` items wait
    made; an error in the thread is raised here, where its item was due;
    closing the iterator stops the thread after its current item."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for chunk in chunks:
                if not put((True, chunk)):
                    return
            put((False, None))
        except BaseException as exc:           # handed to the caller, raised there
            put((False, exc))

    thread = threading.Thread(target=work, name="caseload-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, item = waiting.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _rowwise(rows: Iterator, names: Optional[list], size: int) -> Iterator[FrameChunk]:
    for chunk in chunks(rows, size):
        records, numbers, rejects = [], [], []
        for number, payload in chunk:
            try:
                records.append(parse_row(names, payload))
                numbers.append(number)
            except InvalidApplicant as exc:
                rejects += row_rejects(number, exc)
        yield FrameChunk(frame_from_records(records, numbers), rejects, len(chunk))


def partition_frames(partition: Partition, size: int) -> Iterator[FrameChunk]:
    """One partition of a partitioned caseload, read when its turn comes, in
    chunks of ``size`` rows; row numbers are the caseload's (caseload/partitions.py).
    A distributed task and the local run over the folder chunk it alike."""
    raw = read_parquet_frame(partition.path)
    if partition.first_row != 1:
        raw = raw.with_columns(pl.col(ROW) + (partition.first_row - 1))
    yield from _columnwise(_slices(raw, size))


def partitioned_frames(folder) -> tuple[int, int, Iterator[FrameChunk]]:
    """(rows, chunk size, chunks) of a folder of Parquet partitions, each
    partition read only when the previous one is done."""
    partitions = read_partitions(folder)
    total = sum(p.rows for p in partitions)
    size = chunk_rows(total)
    return total, size, (chunk for p in partitions for chunk in partition_frames(p, size))


def applicant_frames(source, fmt: Optional[str] = None) -> tuple[Optional[int], Iterator[FrameChunk]]:
    """(rows expected if known, chunks) of a caseload path (a file, or a
    folder of Parquet partitions), stream or records."""
    if isinstance(source, (str, Path)) and is_partitioned(source):
        total, _, frames = partitioned_frames(source)
        return total, frames
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise CaseloadError(f"找不到台账文件：{path}")
        fmt = fmt or detect_format(path.name)
        if fmt == "csv":
            total, parts = csv_frames(path, chunk_rows)
            return total, read_ahead(_columnwise(parts))
        readers = {"parquet": read_parquet_frame, "xlsx": read_xlsx_frame}
        if fmt in readers:
            raw = readers[fmt](path)
            return raw.height, _columnwise(_slices(raw, chunk_rows(raw.height)))
    caseload = open_caseload(source, fmt)
    return caseload.total, _rowwise(caseload.rows, caseload.names, chunk_rows(caseload.total))
