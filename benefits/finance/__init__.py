"""Caseload cost estimates for the finance office (财政测算): batch
evaluation of a caseload file on all cores, and the yearly cost by benefit,
county and payer."""
from .estimate import estimate
from .readers import CaseloadError, open_caseload
from .columns import LayoutError

__all__ = ["estimate", "open_caseload", "CaseloadError", "LayoutError"]
