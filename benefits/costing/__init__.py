"""What a caseload costs in a budget year (测算口径), shared by finance's estimate and policy's comparison: the caseload as applicant frames, each person's change points and month weights, the columnar evaluation folded into running totals (Tally), and the summary of those totals.

The columnar half (columnar.py, frames.py: Polars and PyArrow) is imported
on first use of one of its names (PEP 562), so that a worker of ``estimate
--engine durable``, which needs only Planner and Tally, loads neither."""
from .periods import Planner
from .summary import METHOD_ZH, UNKNOWN_COUNTY_ZH, county_name, parameters_in_year, summarise
from .tally import MONEY_KINDS, Tally, household_key
from ..engine.vocabulary import PAYERS

_COLUMNAR = ("COUNTY", "PERSON", "ColumnarEstimate", "LineTotals")
_FRAMES = ("CHUNK_ROWS", "FrameChunk", "applicant_frames", "chunk_rows", "partition_frames", "partitioned_frames")


def __getattr__(name: str):
    """The columnar names, imported when first asked for (then cached here)."""
    if name in _COLUMNAR:
        import benefits.costing.columnar as module
    elif name in _FRAMES:
        import benefits.costing.frames as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(module, name)
    return value


__all__ = ["COUNTY", "PERSON", "ColumnarEstimate", "LineTotals", "CHUNK_ROWS", "FrameChunk", "applicant_frames",
           "chunk_rows", "partition_frames", "partitioned_frames", "Planner", "METHOD_ZH", "UNKNOWN_COUNTY_ZH",
           "county_name", "parameters_in_year", "summarise", "MONEY_KINDS", "PAYERS", "Tally", "household_key"]
