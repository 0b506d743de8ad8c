"""Reading a FOCUS 1.x CSV export: each row checked, then summed into its month and cost cell.

Pure functions over text, apart from the column sizes read from the model.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime

from roi.csv_import import CsvFileRefused, CsvRow, CsvRowsInvalid, csv_rows, overlong_rows
from roi.models import CostMonth

REQUIRED_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ServiceName",
    "ServiceCategory",
)
# SubAccountName and Tags are conditional in FOCUS (present when the provider has
# sub-accounts or tags): read when present, empty otherwise. BillingAccountId,
# BillingPeriodStart and ProviderName (ServiceProviderName from FOCUS 1.3) say which
# account's bill a row belongs to: a later file for the same account and billing period
# replaces the earlier one's costs (see services.focus_import).
PROVIDER_COLUMNS = ("ProviderName", "ServiceProviderName")
DEFAULT_DEPARTMENT_TAG = "department"
DEFAULT_PRODUCT_TAG = "product"
MAX_AMOUNT = Decimal("1e15")
# The stored sums hold 18 digits before the point.
MAX_CELL = Decimal("1e17")
ZERO = Decimal(0)
STORED = Decimal("0.000001")

# A charge lands in the tenant-local month of its anchor: half-way through its charge
# period, but never more than this after its start (see charge_month).
ANCHOR_LIMIT = timedelta(hours=12)

# (provider, billing account, billing period): the part of a bill one file's rows are from.
Scope = tuple[str, str, date]
SCOPE_COLUMNS = ("provider", "billing_account", "billing_period")
LABEL_COLUMNS = ("service_name", "service_category", "department", "product", "sub_account", "charge_category")
CELL_COLUMNS = (*SCOPE_COLUMNS, "month", *LABEL_COLUMNS)
CellKey = tuple[str, str, date, date, str, str, str, str, str, str]
LABEL_LENGTHS = {
    field.name: field.max_length
    for field in CostMonth._meta.concrete_fields
    if field.name in LABEL_COLUMNS or field.name in SCOPE_COLUMNS[:2]
}


class _RowError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def parse_tags(text: str) -> dict[str, str]:
    """FOCUS Tags as a dict of text; empty means no tags.

    FOCUS 1.x writes a JSON object (`{"user:team": "sre"}`, as AWS, Azure and OCI do).
    Also read: a JSON list of key/value objects (`[{"key": "team", "value": "sre"}]`, how
    BigQuery writes a repeated key/value column, Google's FOCUS view included), Azure's
    older brace-less form (`"team": "sre","env": "prod"`), and `key=value` / `key:value`
    pairs split by `;` or `,` from hand-made files.
    """
    text = text.strip()
    if not text or text.lower() in {"null", "{}", "[]"}:
        return {}
    if text.startswith(("{", "[")):
        parsed = _tags_json(text)
    elif text.startswith('"'):
        parsed = _tags_json("{" + text + "}")
    else:
        return _tag_pairs(text)
    if isinstance(parsed, list):
        return _tag_list(parsed)
    if not isinstance(parsed, dict):
        raise _RowError("Tags", "must be a JSON object")
    return {str(key): _tag_text(value) for key, value in parsed.items()}


def _tags_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _RowError("Tags", f"is not a valid JSON object ({error.msg} at character {error.pos})") from None


def _tag_list(items: list[Any]) -> dict[str, str]:
    tags = {}
    for item in items:
        if isinstance(item, dict):
            fields = {str(name).lower(): value for name, value in item.items()}
            if "key" in fields:
                tags[str(fields["key"])] = _tag_text(fields.get("value"))
                continue
        elif isinstance(item, str):
            tags.update(_tag_pairs(item))
            continue
        raise _RowError("Tags", 'a JSON list of tags must hold {"key": ..., "value": ...} objects')
    return tags


def _tag_pairs(text: str) -> dict[str, str]:
    tags = {}
    for pair in re.split(r"[;,]", text):
        if not pair.strip():
            continue
        separator = "=" if "=" in pair else ":"
        key, _, value = pair.partition(separator)
        tags[key.strip()] = value.strip()
    return tags


def _tag_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def tag_value(tags: Mapping[str, str], key: str) -> str:
    """The value of tag `key`: exact name, else any case, else a prefixed name.

    Prefixes: AWS `user:key`, OCI defined tags `Namespace.key`, path-like `team/key`.
    """
    if key in tags:
        return tags[key]
    wanted = key.lower()
    for name, value in tags.items():
        if name.lower() == wanted:
            return value
    for name, value in tags.items():
        if re.split(r"[:/.]", name)[-1].lower() == wanted:
            return value
    return ""


def _amount(cells: Mapping[str, str], column: str) -> Decimal:
    raw = (cells.get(column) or "").strip()
    if not raw:
        raise _RowError(column, "is required")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _RowError(column, f"{raw!r} is not a number") from None
    if not amount.is_finite():
        raise _RowError(column, f"{raw!r} is not a finite number")
    if abs(amount) >= MAX_AMOUNT:
        raise _RowError(column, f"{raw} is implausibly large")
    return amount


UTC_SUFFIX = re.compile(r"(?:\s*UTC|\s*GMT|z)$", re.IGNORECASE)


def _moment(cells: Mapping[str, str], column: str) -> datetime:
    raw = (cells.get(column) or "").strip()
    if not raw:
        raise _RowError(column, "is required")
    # BigQuery writes TIMESTAMP cells as `2026-10-01 00:00:00 UTC`; some tools a lower-case z.
    text = UTC_SUFFIX.sub("Z", raw) if len(raw) > 10 else raw
    try:
        moment = parse_datetime(text)
        day = None if moment else parse_date(text)
    except ValueError:
        moment = day = None
    if moment is None and day is not None:
        moment = datetime(day.year, day.month, day.day)
    if moment is None:
        raise _RowError(column, f"{raw!r} is not an ISO 8601 date-time (e.g. 2026-10-01T00:00:00Z)")
    # FOCUS date-times are UTC; exports that drop the offset still mean UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def charge_month(start: datetime, end: datetime, zone: ZoneInfo) -> date:
    """The tenant-local month a charge counts in: that of its anchor moment.

    The anchor is half-way through the charge period, at most 12 hours after its start. An
    hourly charge thus lands where its hour falls in the tenant's time zone; a daily charge
    on its own (UTC) day whatever the zone; a monthly fee, or a commitment bought for a year
    whose period runs a year, in the month it starts, not the month before for tenants west
    of UTC (a start of `10-01T00:00Z` is still 30 September in New York).
    """
    anchor = (start + min((end - start) / 2, ANCHOR_LIMIT)).astimezone(zone)
    return date(anchor.year, anchor.month, 1)


def _label(name: str, value: str) -> str:
    # Labels only group costs; a long one is cut to the column's size rather than
    # refusing a whole export over a verbose tag.
    return value.strip()[: LABEL_LENGTHS[name]]


@dataclass(frozen=True, slots=True)
class Charge:
    key: CellKey
    billed_cost: Decimal
    effective_cost: Decimal
    effective_from_billed: bool = False  # EffectiveCost was empty and BilledCost stood in


def _effective(cells: Mapping[str, str], billed: Decimal | None) -> tuple[Decimal | None, bool]:
    """EffectiveCost, or what stands in when a provider leaves it empty on a row.

    FOCUS requires it, but some exports leave it empty on charges with nothing to amortize
    (taxes, credits, support fees): there the billed cost is the effective cost. A
    commitment purchase without it counts 0, as FOCUS has amortized purchases do, since
    their cost reaches EffectiveCost through the usage rows the commitment covers.
    """
    if (cells.get("EffectiveCost") or "").strip():
        return _amount(cells, "EffectiveCost"), False
    if billed is None:
        return None, False  # BilledCost's own error says what is wrong
    category = (cells.get("ChargeCategory") or "").strip().lower()
    if category == "purchase" and (cells.get("CommitmentDiscountId") or "").strip():
        return ZERO, True
    return billed, True


def _scope(cells: Mapping[str, str], charge_start: datetime) -> tuple[str, str, date]:
    provider = next((cells[c].strip() for c in PROVIDER_COLUMNS if (cells.get(c) or "").strip()), "")
    account = (cells.get("BillingAccountId") or "").strip()
    if (cells.get("BillingPeriodStart") or "").strip():
        period = _moment(cells, "BillingPeriodStart").astimezone(UTC)
        return provider, account, period.date()
    # Without the column, a charge's billing period is taken as its UTC calendar month.
    period = charge_start.astimezone(UTC)
    return provider, account, date(period.year, period.month, 1)


def parse_charge(
    cells: Mapping[str, str], *, currency: str, zone: ZoneInfo, department_tag: str, product_tag: str
) -> tuple[Charge | None, list[tuple[str, str]]]:
    """One FOCUS row as a charge in its month and cell, or the (column, message) errors of the row."""
    errors: list[tuple[str, str]] = []

    def read(reader: Any, *args: Any) -> Any:
        try:
            return reader(*args)
        except _RowError as error:
            errors.append((error.column, str(error)))
            return None

    billed = read(_amount, cells, "BilledCost")
    effective, filled = read(_effective, cells, billed) or (None, False)
    start = read(_moment, cells, "ChargePeriodStart")
    end = read(_moment, cells, "ChargePeriodEnd")
    tags = read(parse_tags, cells.get("Tags") or "")
    billing_currency = (cells.get("BillingCurrency") or "").strip().upper()
    if not billing_currency:
        errors.append(("BillingCurrency", "is required"))
    elif billing_currency != currency:
        errors.append(("BillingCurrency", f"{billing_currency} differs from the tenant's currency {currency}"))
    if start is not None and end is not None and end < start:
        errors.append(("ChargePeriodEnd", "must not be before ChargePeriodStart"))
    scope = read(_scope, cells, start) if start is not None else None
    if errors or scope is None or effective is None:  # (both are set when nothing was refused)
        return None, errors
    provider, account, period = scope
    key: CellKey = (
        _label("provider", provider),
        _label("billing_account", account),
        period,
        charge_month(start, end, zone),
        _label("service_name", cells.get("ServiceName") or ""),
        _label("service_category", cells.get("ServiceCategory") or ""),
        _label("department", tag_value(tags, department_tag)),
        _label("product", tag_value(tags, product_tag)),
        _label("sub_account", cells.get("SubAccountName") or ""),
        _label("charge_category", cells.get("ChargeCategory") or ""),
    )
    return Charge(key, billed, effective, filled), []


@dataclass
class CellSum:
    billed_cost: Decimal = ZERO
    effective_cost: Decimal = ZERO
    rows: int = 0


@dataclass
class FocusFile:
    """A checked FOCUS file: its rows summed per cell, and what the reader had to decide."""

    rows: int
    cells: dict[CellKey, CellSum]
    notes: list[str] = field(default_factory=list)

    @property
    def scopes(self) -> set[Scope]:
        return {key[:3] for key in self.cells}


def _absent_columns(header: list[str]) -> list[str]:
    by_case = {name.lower(): name for name in header}
    absent = []
    for column in REQUIRED_COLUMNS:
        if column in header:
            continue
        near = by_case.get(column.lower())
        absent.append(f"{column} (the file has {near!r}; FOCUS column names are case-sensitive)" if near else column)
    return absent


def focus_cells(text: str, *, currency: str, zone: ZoneInfo, department_tag: str, product_tag: str) -> FocusFile:
    """The summed cells of a FOCUS CSV text; any invalid row refuses the file."""
    header, row_iterator = csv_rows(text)
    absent = _absent_columns(header)
    if absent:
        raise CsvFileRefused([f"header: lacks FOCUS column(s): {', '.join(absent)}"])
    rows: list[CsvRow] = list(row_iterator)
    if not rows:
        raise CsvFileRefused(["The file has a header but no charge rows."])
    messages = overlong_rows(rows, header)
    cells: dict[CellKey, CellSum] = defaultdict(CellSum)
    filled = 0
    for row in rows:
        charge, errors = parse_charge(
            row.cells, currency=currency, zone=zone, department_tag=department_tag, product_tag=product_tag
        )
        messages += [f"{row.where}: {column}: {message}" for column, message in errors]
        if charge is not None:
            cell = cells[charge.key]
            cell.billed_cost += charge.billed_cost
            cell.effective_cost += charge.effective_cost
            cell.rows += 1
            filled += charge.effective_from_billed
    if messages:
        raise CsvRowsInvalid(messages)
    for cell in cells.values():
        for name in ("billed_cost", "effective_cost"):
            if abs(getattr(cell, name)) >= MAX_CELL:
                raise CsvFileRefused([f"{name}: a month's sum reaches {getattr(cell, name):.0f}, implausibly large"])
    notes = []
    if filled:
        notes.append(
            f"{filled} row(s) had no EffectiveCost: their BilledCost counted as effective cost "
            "(0 for commitment purchases, whose cost is amortized into usage)."
        )
    return FocusFile(len(rows), dict(cells), notes)
