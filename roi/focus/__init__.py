"""FinOps FOCUS 1.x cost exports: parse a file, sum it per month and cost cell, store the sums.

A file is imported whole or refused whole. Each charge lands in the month its
ChargePeriodStart falls in, in the tenant's time zone, and in a cell of (service, service
category, department tag, product tag, sub-account, charge category). Cells add up
across files, because different exports (accounts, providers) hold different charges;
the same file (same sha256) is refused as already imported, so re-sending it never
counts its charges twice.
"""

from roi.focus.parse import DEFAULT_DEPARTMENT_TAG, DEFAULT_PRODUCT_TAG, parse_tags, tag_value
from roi.focus.selectors import BREAKDOWNS, cost_imports_recent, costs_monthly
from roi.focus.services import FocusAlreadyImported, FocusImportOutcome, focus_import

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_DEPARTMENT_TAG",
    "DEFAULT_PRODUCT_TAG",
    "FocusAlreadyImported",
    "FocusImportOutcome",
    "cost_imports_recent",
    "costs_monthly",
    "focus_import",
    "parse_tags",
    "tag_value",
]
