"""Reading a FOCUS 1.x CSV export: each row checked, then summed into its month and cost cell.

Pure functions over text, apart from the column sizes read from the model.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
# sub-accounts or tags): read when present, empty otherwise.
DEFAULT_DEPARTMENT_TAG = "department"
DEFAULT_PRODUCT_TAG = "product"
MAX_AMOUNT = Decimal("1e15")
ZERO = Decimal(0)
CENT = Decimal("0.01")
STORED = Decimal("0.000001")

CellKey = tuple[date, str, str, str, str, str, str]
CELL_COLUMNS = (
    "month",
    "service_name",
    "service_category",
    "department",
    "product",
    "sub_account",
    "charge_category",
)
LABEL_LENGTHS = {
    field.name: field.max_length for field in CostMonth._meta.concrete_fields if field.name in CELL_COLUMNS[1:]
}


class _RowError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def parse_tags(text: str) -> dict[str, str]:
    """FOCUS Tags as a dict of text: a JSON object, or `key=value` / `key:value` pairs split by `;` or `,`.

    FOCUS 1.x specifies a JSON object, but exports converted by hand or by older tools
    carry key-value lists; empty means no tags.
    """
    text = text.strip()
    if not text or text.lower() in {"null", "{}"}:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise _RowError("Tags", f"is not a valid JSON object ({error.msg} at character {error.pos})") from None
        if not isinstance(parsed, dict):
            raise _RowError("Tags", "must be a JSON object")
        return {str(key): _tag_text(value) for key, value in parsed.items()}
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
    """The value of tag `key`: exact name, else any case, else a provider-prefixed name (`user:key`)."""
    if key in tags:
        return tags[key]
    wanted = key.lower()
    for name, value in tags.items():
        if name.lower() == wanted:
            return value
    for name, value in tags.items():
        if re.split(r"[:/]", name)[-1].lower() == wanted:
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


def _moment(cells: Mapping[str, str], column: str) -> datetime:
    raw = (cells.get(column) or "").strip()
    if not raw:
        raise _RowError(column, "is required")
    try:
        moment = parse_datetime(raw)
        day = None if moment else parse_date(raw)
    except ValueError:
        moment = day = None
    if moment is None and day is not None:
        moment = datetime(day.year, day.month, day.day)
    if moment is None:
        raise _RowError(column, f"{raw!r} is not an ISO 8601 date-time (e.g. 2026-10-01T00:00:00Z)")
    # FOCUS date-times are UTC; exports that drop the offset still mean UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _label(name: str, value: str) -> str:
    # Labels only group costs; a long one is cut to the column's size rather than
    # refusing a whole export over a verbose tag.
    return value.strip()[: LABEL_LENGTHS[name]]


@dataclass(frozen=True, slots=True)
class Charge:
    key: CellKey
    billed_cost: Decimal
    effective_cost: Decimal


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
    effective = read(_amount, cells, "EffectiveCost")
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
    if errors:
        return None, errors
    local = start.astimezone(zone)
    key: CellKey = (
        date(local.year, local.month, 1),
        _label("service_name", cells.get("ServiceName") or ""),
        _label("service_category", cells.get("ServiceCategory") or ""),
        _label("department", tag_value(tags, department_tag)),
        _label("product", tag_value(tags, product_tag)),
        _label("sub_account", cells.get("SubAccountName") or ""),
        _label("charge_category", cells.get("ChargeCategory") or ""),
    )
    return Charge(key, billed, effective), []


@dataclass
class CellSum:
    billed_cost: Decimal = ZERO
    effective_cost: Decimal = ZERO
    rows: int = 0


def focus_cells(
    text: str, *, currency: str, zone: ZoneInfo, department_tag: str, product_tag: str
) -> tuple[int, dict[CellKey, CellSum]]:
    """Rows read and the summed cells of a FOCUS CSV text; any invalid row refuses the file."""
    header, row_iterator = csv_rows(text)
    absent = [column for column in REQUIRED_COLUMNS if column not in header]
    if absent:
        raise CsvFileRefused([f"header: lacks FOCUS column(s): {', '.join(absent)}"])
    rows: list[CsvRow] = list(row_iterator)
    if not rows:
        raise CsvFileRefused(["The file has a header but no charge rows."])
    messages = overlong_rows(rows, header)
    cells: dict[CellKey, CellSum] = defaultdict(CellSum)
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
    if messages:
        raise CsvRowsInvalid(messages)
    return len(rows), cells


def money(value: Decimal) -> str:
    """An amount as answers show it: a string, to the cent."""
    return str(value.quantize(CENT))
