"""``benefits evaluate --batch``: a whole caseload file through the columnar
engine into a Parquet or JSON Lines file, one compact row per applicant
(engine/columnar/output.py), written to a temporary file and renamed when
complete so a killed run never leaves a partial file under the asked name."""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Optional

import polars as pl

from ..caseload import CaseloadError
from ..costing import applicant_frames
from ..engine import default_engine
from ..engine.columnar import ColumnarEngine
from ..engine.columnar.output import output_frame

OUTPUTS = (".parquet", ".jsonl")


def evaluated_frames(source, as_of: Optional[dt.date], rules_dir=None, fmt=None,
                     on_reject: Optional[Callable[[dict], None]] = None) -> Iterator[pl.DataFrame]:
    """The compact output of each chunk of a caseload; rejects go to ``on_reject``."""
    columnar = ColumnarEngine(default_engine(rules_dir).rulebook)
    _, frames = applicant_frames(source, fmt)
    for chunk in frames:
        result, late = columnar.evaluate_frame(chunk.frame, as_of)
        if on_reject:
            for reject in sorted(chunk.rejects + late, key=lambda r: r["row"]):
                on_reject(reject)
        yield output_frame(columnar.plan, result)


def evaluate_file(source, out: Path, as_of: Optional[dt.date] = None, rules_dir=None, fmt=None,
                  on_reject: Optional[Callable[[dict], None]] = None) -> int:
    """Write the evaluation of every valid row to ``out``; returns rows written."""
    out = Path(out)
    if out.suffix.lower() not in OUTPUTS:
        raise CaseloadError("输出文件应以 .parquet 或 .jsonl 结尾")
    parts = list(evaluated_frames(source, as_of, rules_dir, fmt, on_reject))
    frame = pl.concat(parts) if parts else None
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(handle)
    try:
        if frame is None:
            Path(temporary).write_bytes(b"")
        elif out.suffix.lower() == ".parquet":
            frame.write_parquet(temporary)
        else:
            frame.write_ndjson(temporary)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return 0 if frame is None else frame.height
