"""The report as spreadsheet files (CSV and XLSX), every cell safe from formula injection."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from dashboards.reports.tables import figure_rows, sections

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value safe for a spreadsheet: text that a spreadsheet would run as a formula gets a leading quote.

    Plain numbers (including negative ones) stay numbers; anything else starting with
    = + - @ or a control character is what CSV/formula injection uses (OWASP).
    """
    if value is None:
        return ""
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    if NUMBER.match(text):
        return Decimal(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_csv(figures: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "figure", "value"])
    for row in figure_rows(figures):
        writer.writerow([cell(item) for item in row])
    return out.getvalue().encode("utf-8")


def render_xlsx(figures: dict[str, Any]) -> bytes:
    """Every figure on the first sheet (as the CSV), then one sheet per section of the PDF."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def sheet_cell(value: Any) -> Any:
        # A workbook cannot hold control characters (a label sent with one would be a 500).
        written = cell(value)
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", written) if isinstance(written, str) else written

    book = Workbook()
    first = book.worksheets[0]  # a new workbook's one (and active) sheet
    first.title = "Figures"
    first.append(["section", "figure", "value"])
    for figure_row in figure_rows(figures):
        first.append([sheet_cell(item) for item in figure_row])
    for section in sections(figures):
        sheet = book.create_sheet(section.title)
        for name, value in section.notes:
            sheet.append([sheet_cell(name), sheet_cell(value)])
        if section.header:
            if section.notes:
                sheet.append([])
            sheet.append([sheet_cell(name) for name in section.header])
            for row in section.rows:
                sheet.append([sheet_cell(item) for item in row])
    for sheet in book.worksheets:
        for written in sheet.iter_rows():
            for item in written:
                if isinstance(item.value, str):
                    item.data_type = "s"  # never a formula, whatever the text
                elif isinstance(item.value, Decimal) and item.value.as_tuple().exponent == -2:
                    item.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
