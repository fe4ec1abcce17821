"""The columnar back end: the same rulebook compiled to Polars expressions,
for caseloads. durable_rules serves one applicant with the full explanation;
this serves a million at once with every condition's status as a column.
See docs/finance.md (why Polars, and where it stops)."""
from .engine import ColumnarEngine
from .schema import SCHEMA, frame_from_records

__all__ = ["ColumnarEngine", "SCHEMA", "frame_from_records"]
