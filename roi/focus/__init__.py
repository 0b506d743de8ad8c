"""FinOps FOCUS 1.x cost exports: parse a file, sum it per month and cost cell, store the sums.

A file is imported whole or refused whole. Each charge lands in a tenant-local month
(half-way through its charge period, at most 12 hours after its start) and in a cell of
(provider, billing account, billing period, service, service category, department tag,
product tag, sub-account, charge category). A file replaces the cells earlier imports
stored for the billing periods of the accounts it holds, so a refreshed month-to-date
export updates a month instead of doubling it; different accounts and providers add up.
The same file (same sha256) is refused as already imported.
"""

from roi.focus.parse import DEFAULT_DEPARTMENT_TAG, DEFAULT_PRODUCT_TAG, parse_tags, tag_value
from roi.focus.selectors import BREAKDOWNS, cost_imports_recent, costs_monthly
from roi.focus.services import ADD, MODES, REPLACE, FocusAlreadyImported, FocusImportOutcome, focus_import

__all__ = [
    "ADD",
    "BREAKDOWNS",
    "DEFAULT_DEPARTMENT_TAG",
    "DEFAULT_PRODUCT_TAG",
    "MODES",
    "REPLACE",
    "FocusAlreadyImported",
    "FocusImportOutcome",
    "cost_imports_recent",
    "costs_monthly",
    "focus_import",
    "parse_tags",
    "tag_value",
]
