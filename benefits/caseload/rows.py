"""A caseload's rows one by one: a row as a validated applicant, a row's
rejects as the clerk sees them ({row, field, message}), rows in chunks."""
from __future__ import annotations

from itertools import islice
from typing import Iterator, Optional

from ..engine.applicant import Applicant, InvalidApplicant, parse_applicant
from .columns import unflatten


def parse_row(names: Optional[list], payload) -> Applicant:
    """A row payload → validated Applicant (raises InvalidApplicant)."""
    if names is not None and isinstance(payload, tuple):
        payload = unflatten(names, payload)
    return parse_applicant(payload)


def row_rejects(number: int, exc: Exception) -> list[dict]:
    """The rejects of row ``number``: one per field an InvalidApplicant names."""
    if isinstance(exc, InvalidApplicant):
        return [{"row": number, "field": e.field, "message": e.message} for e in exc.errors]
    # an engine failure on a valid record is a bug, but must not stop a run
    return [{"row": number, "field": "(记录)", "message": f"规则引擎未能处理此记录：{exc}"}]


def chunks(rows: Iterator, size: int) -> Iterator[list]:
    """Lists of up to ``size`` rows, in order."""
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk
