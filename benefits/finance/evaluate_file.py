"""``benefits evaluate --batch``: a whole caseload file through the columnar
engine into a Parquet or JSON Lines file, one compact row per applicant
(engine/columnar/output.py), written to a temporary file and renamed when
complete so a killed run never leaves a partial file under the asked name."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path
from typing import Callable, Iterator, Optional

import polars as pl

from ..caseload import CaseloadError, atomic_output
from ..costing import applicant_frames
from ..engine import default_engine
from ..engine.columnar import ColumnarEngine
from ..engine.columnar.output import output_frame

OUTPUTS = (".parquet", ".jsonl")


class NoRecords(CaseloadError):
    """A caseload without a single row (header only, empty, 0-row Parquet)."""


def evaluated_frames(source, as_of: Optional[dt.date], rules_dir=None, fmt=None,
                     on_reject: Optional[Callable[[dict], None]] = None, count=None) -> Iterator[pl.DataFrame]:
    """The compact output of each chunk of a caseload; rejects go to
    ``on_reject``; ``count``, if given, sees the chunks go by."""
    columnar = ColumnarEngine(default_engine(rules_dir).rulebook)
    _, frames = applicant_frames(source, fmt)
    for chunk in (count or iter)(frames):
        result, late = columnar.evaluate_frame(chunk.frame, as_of)
        if on_reject:
            for reject in sorted(chunk.rejects + late, key=lambda r: r["row"]):
                on_reject(reject)
        yield output_frame(columnar.plan, result)


def evaluate_file(source, out: Path, as_of: Optional[dt.date] = None, rules_dir=None, fmt=None,
                  on_reject: Optional[Callable[[dict], None]] = None) -> tuple[int, int]:
    """Write the evaluation of every valid row to ``out``; returns (rows
    read, rows written). A caseload without a single row raises NoRecords
    and writes nothing (a Parquet file of no columns could not be read)."""
    out = Path(out)
    if out.suffix.lower() not in OUTPUTS:
        raise CaseloadError("输出文件应以 .parquet 或 .jsonl 结尾")
    rows = 0

    def counted(chunks):
        nonlocal rows
        for chunk in chunks:
            rows += chunk.rows
            yield chunk
    parts = list(evaluated_frames(source, as_of, rules_dir, fmt, on_reject, count=counted))
    if not rows:
        raise NoRecords(f"没有记录：台账 {source} 中没有申请人记录，未写出 {out.name}")
    frame = pl.concat(parts)
    with atomic_output(out) as partial:
        try:
            if out.suffix.lower() == ".parquet":
                # compressed, so small: built in memory and written here, where a
                # full disk is an OSError (polars' own writer may hide it in a thrift error)
                buffer = io.BytesIO()
                frame.write_parquet(buffer)
                with open(partial, "wb") as file:
                    file.write(buffer.getbuffer())
            else:
                frame.write_ndjson(partial)
        except (pl.exceptions.PolarsError, OSError) as exc:    # a full disk comes back as "… (os error 28)"
            code = re.search(r"os error (\d+)", str(exc))
            if code is None or getattr(exc, "errno", None):
                raise
            raise OSError(int(code[1]), os.strerror(int(code[1])), str(out)) from None
    return rows, frame.height
