"""The 应保尽保 roll audit (名册核对比对, 81号 第2条): a county's roll of who
is paid 低保, 五保, 63号's top-up and psychiatric subsidy, checked against
what the rules find for the caseload on a day. Columnar only (it never runs
durable_rules): ``run_audit`` for a whole caseload, ``Auditor.audit`` for
one partition (a Dask task), ``write_audit_workbook`` and
``benefits.audit.chart`` for the outputs. See docs/audit.md."""
from .api import Audit, audit_partition, run_audit
from .findings import KIND_ZH, KINDS, Auditor, Partial, merge_summaries, summarise
from .mapping import DEFAULT_NAMES, AuditLine, LineNames, MappingError, load_names
from .roll import Roll, read_roll, validate_roll
from .workbook import write_audit_workbook

__all__ = ["Audit", "audit_partition", "run_audit", "KIND_ZH", "KINDS", "Auditor", "Partial", "merge_summaries",
           "summarise", "DEFAULT_NAMES", "AuditLine", "LineNames", "MappingError", "load_names", "Roll",
           "read_roll", "validate_roll", "write_audit_workbook"]
