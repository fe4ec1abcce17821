"""The 应保尽保 roll audit (名册核对比对, 81号 第2条) and its 动态管理
re-check list: who will change status, amount or payer in the next months
with nothing new recorded (``recheck``). Columnar only. See docs/audit.md."""
from .recheck import (MAX_MONTHS, Recheck, RecheckError, Rechecker, recheck, run_recheck, write_recheck_sheet,
                      write_recheck_workbook)

__all__ = ["MAX_MONTHS", "Recheck", "RecheckError", "Rechecker", "recheck", "run_recheck", "write_recheck_sheet",
           "write_recheck_workbook"]
