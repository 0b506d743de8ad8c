"""CSV files of events, turned into ingestion batches; and the checks every CSV upload passes.

A file goes in whole or not at all: its rows are sent to `events_ingest` in chunks of up
to 10,000 (the API's batch limit) inside one transaction, and any invalid row rolls every
chunk back. Errors name the data row and the file line it starts on, because people fix
CSV files in editors and spreadsheets that show one or the other.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from governance.ledger import Actor
from roi.engine.money import ZERO, money_text
from roi.ingestion.batch import MAX_BATCH, BatchInvalid, BatchOutcome, parse_batch
from roi.ingestion.service import events_ingest
from roi.kinds import KINDS
from roi.kinds.fields import Field

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
CSV_CONTENT_TYPES = frozenset({"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"})
# Types a client sends when it does not know better (curl -F, some scripts); the name must
# then say .csv, and the content is checked all the same.
UNTYPED_CONTENT_TYPES = frozenset({"", "application/octet-stream"})
CHUNK = MAX_BATCH
MAX_REPORTED_ERRORS = 200
UNKNOWN_FIELD = "is not a field of this event kind"


class CsvFileRefused(Exception):
    """The file as a whole cannot be read (size, type, encoding, header); nothing was stored."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


class CsvRowsInvalid(Exception):
    """Rows with errors, each "row <n> (line <m>): <field>: <message>"; nothing was stored."""

    def __init__(self, messages: list[str]) -> None:
        if len(messages) > MAX_REPORTED_ERRORS:
            hidden = len(messages) - MAX_REPORTED_ERRORS
            messages = [*messages[:MAX_REPORTED_ERRORS], f"... and {hidden} more error(s)"]
        super().__init__("\n".join(messages))
        self.messages = messages


# --- Uploads ------------------------------------------------------------------------------


def upload_read(upload: UploadedFile) -> bytes:
    """The bytes of an uploaded CSV file, once its size and declared type are acceptable.

    The size is checked before reading so an oversized file is never loaded into memory.
    """
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise CsvFileRefused([f"The file is {upload.size:,} bytes; the limit is {MAX_UPLOAD_BYTES:,} (20 MB)."])
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    name = (upload.name or "").lower()
    if content_type not in CSV_CONTENT_TYPES and not (content_type in UNTYPED_CONTENT_TYPES and name.endswith(".csv")):
        raise CsvFileRefused([f"Send a CSV file (text/csv); this one is {content_type or 'of no declared type'}."])
    return upload.read()


def csv_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 with or without a byte-order mark, and no binary content."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileRefused([f"The file is not UTF-8 text (byte {error.start:,} cannot be decoded)."]) from None
    if "\x00" in text:
        raise CsvFileRefused(["The file holds binary content (NUL bytes), not CSV text."])
    return text


@dataclass(frozen=True, slots=True)
class CsvRow:
    number: int  # the data row, counting from 1 after the header
    line: int  # the file line the row starts on (a quoted cell may span lines)
    cells: dict[str, str]
    width: int  # cells in the row as written, to catch rows longer than the header

    @property
    def where(self) -> str:
        return f"row {self.number} (line {self.line})"


def csv_rows(text: str) -> tuple[list[str], Iterator[CsvRow]]:
    """The header and the data rows of a CSV text; blank lines are skipped, short rows padded."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                header = [cell.strip() for cell in cells]
                break
            line = reader.line_num + 1
    except csv.Error as error:
        raise CsvFileRefused([f"line {reader.line_num}: {error}"]) from None
    if header is None:
        raise CsvFileRefused(["The file is empty: it needs a header row and at least one data row."])
    seen: set[str] = set()
    problems = []
    for name in header:
        if not name:
            problems.append(f"header (line {line}): a column has no name")
        elif name in seen:
            problems.append(f"header (line {line}): {name} is named twice")
        seen.add(name)
    if problems:
        raise CsvFileRefused(problems)

    def rows() -> Iterator[CsvRow]:
        number, start = 0, reader.line_num + 1
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    number += 1
                    yield CsvRow(number, start, dict(zip(header, cells, strict=False)), len(cells))
                start = reader.line_num + 1
        except csv.Error as error:
            raise CsvFileRefused([f"line {reader.line_num}: {error}"]) from None

    return header, rows()


def overlong_rows(rows: list[CsvRow], header: list[str]) -> list[str]:
    """Rows with more cells than the header names: a shifted row would store wrong values."""
    width = len(header)
    return [f"{row.where}: has {row.width} cells, the header names {width}" for row in rows if row.width > width]


# --- Events ---------------------------------------------------------------------------------


@dataclass
class CsvImportOutcome:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    valued: int = 0
    unvalued: int = 0
    total_value: Decimal = ZERO
    ledger_records: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, batch: BatchOutcome) -> None:
        self.rows += batch.received
        self.created += batch.created
        self.updated += batch.updated
        self.valued += batch.valued
        self.unvalued += batch.unvalued
        self.total_value += batch.total_value
        if batch.ledger_record is not None:
            self.ledger_records.append(batch.ledger_record.pk)
        self.notes += [note for note in batch.notes if note not in self.notes]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "valued": self.valued,
            "unvalued": self.unvalued,
            "total_value": money_text(self.total_value),
            "ledger_records": self.ledger_records,
            "notes": self.notes,
        }


def _check_header(kind: str, header: list[str]) -> None:
    # The event parser is the one authority on fields: asking it about an all-empty event
    # names the unknown columns and the required ones, so nothing is listed twice.
    parse = KINDS[kind].parse
    _, named = parse(dict.fromkeys(header))
    _, missing = parse({})
    problems = [f"header: {name}: {UNKNOWN_FIELD}" for name, messages in named.items() if UNKNOWN_FIELD in messages]
    required = sorted(name for name, messages in missing.items() if "is required" in messages)
    absent = [name for name in required if name not in header]
    if absent:
        problems.append(f"header: lacks required column(s): {', '.join(absent)}")
    if problems:
        raise CsvFileRefused(problems)


def row_event(fields: Mapping[str, Field], cells: Mapping[str, str]) -> dict[str, Any]:
    """One CSV row as an event object: empty cells are absent, each other cell read by its field
    (lists split on `;`, booleans read; numbers and times stay text, for the parser to read exactly).
    Every column is one of `fields`: the header was checked first."""
    return {name: fields[name].from_cell(raw.strip()) for name, raw in cells.items() if raw is not None and raw.strip()}


def _row_messages(errors: Mapping[str, list[str]], rows: list[CsvRow]) -> list[str]:
    """Ingestion's "<index>.<field>" errors as "row <n> (line <m>): <field>: <message>"."""
    messages = []
    for key, texts in errors.items():
        index, _, name = key.partition(".")
        if not index.isdigit():
            messages += [f"{key}: {text}" for text in texts]
            continue
        where = rows[int(index)].where
        for text in texts:
            if text.startswith("appears twice in this batch"):
                continue  # reported file-wide, with row numbers, by _duplicates
            messages.append(f"{where}: {name}: {text}" if name else f"{where}: {text}")
    return messages


def _duplicates(rows: list[CsvRow]) -> list[str]:
    first: dict[str, CsvRow] = {}
    messages = []
    for row in rows:
        external_id = (row.cells.get("external_id") or "").strip()
        if not external_id:
            continue
        if external_id in first:
            earlier = first[external_id]
            messages.append(
                f"{row.where}: external_id: {external_id} appears twice in this file (first at {earlier.where})"
            )
        else:
            first[external_id] = row
    return messages


def events_import_csv(*, actor: Actor, kind: str, text: str) -> CsvImportOutcome:
    """Store every row of a CSV file as an event of `kind` for the scope tenant, or none of them.

    Chunks of 10,000 keep each ingestion batch (and its ledger record) at the API's size;
    after the first invalid chunk the rest are only parsed, so one answer lists the
    errors of the whole file.
    """
    if kind not in KINDS:
        raise CsvFileRefused([f"Unknown event kind {kind!r}: use one of {', '.join(KINDS)}."])
    header, row_iterator = csv_rows(text)
    _check_header(kind, header)
    rows = list(row_iterator)
    if not rows:
        raise CsvFileRefused(["The file has a header but no data rows."])
    outcome = CsvImportOutcome(kind=kind)
    fields = KINDS[kind].fields_by_name
    messages = overlong_rows(rows, header) + _duplicates(rows)
    with transaction.atomic():
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            payload = [row_event(fields, row.cells) for row in chunk]
            try:
                if messages:
                    parse_batch(kind, payload)
                else:
                    outcome.add(events_ingest(actor=actor, kind=kind, payload=payload))
            except BatchInvalid as invalid:
                messages += _row_messages(invalid.errors, chunk)
        if messages:
            raise CsvRowsInvalid(sorted(messages, key=_row_order))  # raised inside: rolls every chunk back
    return outcome


def _row_order(message: str) -> int:
    head = message.split(" ", 2)
    return int(head[1]) if len(head) > 1 and head[0] == "row" and head[1].isdigit() else 0
