"""Caseload cost estimates for the finance office (财政测算): batch
evaluation of a caseload file on all cores, and the yearly cost by benefit,
county and payer."""
from ..caseload import CaseloadError, LayoutError, open_caseload
from .estimate import estimate

__all__ = ["estimate", "open_caseload", "CaseloadError", "LayoutError"]
