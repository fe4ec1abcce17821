"""The 应保尽保 roll audit (名册核对比对, 81号 第2条): a county's roll of who
is paid 低保, 五保, 63号's top-up and psychiatric subsidy, checked against
what the rules find for the caseload on a day; and its 动态管理 re-check
list: who will change status, amount or payer in the next months with
nothing new recorded (``recheck``). Columnar only (it never runs
durable_rules): ``run_audit`` for a whole caseload, ``Auditor.audit`` for
one partition (a Dask task), ``write_audit_workbook`` and
``benefits.audit.chart`` for the outputs. See docs/audit.md."""
from .api import Audit, audit_partition, run_audit
from .findings import KIND_ZH, KINDS, Auditor, Partial, merge_summaries, summarise
from .mapping import DEFAULT_NAMES, AuditLine, LineNames, MappingError, load_names
from .recheck import (MAX_MONTHS, Recheck, RecheckError, Rechecker, recheck, run_recheck, write_recheck_sheet,
                      write_recheck_workbook)
from .roll import Roll, read_roll, validate_roll
from .workbook import write_audit_workbook

__all__ = ["Audit", "audit_partition", "run_audit", "KIND_ZH", "KINDS", "Auditor", "Partial", "merge_summaries",
           "summarise", "DEFAULT_NAMES", "AuditLine", "LineNames", "MappingError", "load_names", "Roll",
           "read_roll", "validate_roll", "write_audit_workbook",
           "MAX_MONTHS", "Recheck", "RecheckError", "Rechecker", "recheck", "run_recheck", "write_recheck_sheet",
           "write_recheck_workbook"]
