"""The auditor's JSON Lines export of the ledger: the lines, and the streamed download.

Both the ledger page and the API answer with `ledger_export_response`, so the file an
auditor verifies with `bin/verify_ledger_export.py` is the same whichever way it was taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse

from governance.ledger import canonical_json, export_line
from governance.models import Tenant
from governance.tenancy import tenant_scope
from roi.ingestion.stored_checks import stored_rows_for_export
from roi.selectors import ledger_records

JSONL_CONTENT_TYPE = "application/jsonl; charset=utf-8"
# Records per fetch: a batch record can be several hundred kB of JSON, so a small chunk
# keeps the export's memory bounded whatever the size of the ledger.
CHUNK = 50


def ledger_export_lines(
    *, tenant: Tenant, since: date | None = None, until: date | None = None, rows: bool = False
) -> Iterator[bytes]:
    """The tenant's records in chain order, one `governance.ledger.export_line` each, lazily.

    Consumed after the view has returned, so it opens its own tenant scope (and, on
    PostgreSQL, the RLS setting and the transaction a server-side cursor needs). Only a
    date filter applies: a method or actor filter would cut links the verifier checks.
    With `rows` (whole ledger only), every stored row the pages sum follows the records, in
    the same transaction, for the verifier to hold against them.
    """
    with tenant_scope(tenant):
        records = ledger_records(since=since, until=until).order_by("sequence")
        for record in records.iterator(chunk_size=CHUNK):
            yield (export_line(record) + "\n").encode()
        if rows:
            for row in stored_rows_for_export(zone=ZoneInfo(tenant.time_zone)):
                yield (canonical_json(row) + "\n").encode()


def ledger_export_response(
    *, tenant: Tenant, since: date | None, until: date | None, rows: bool = False
) -> StreamingHttpResponse:
    """The export as a download, streamed record by record."""
    response = StreamingHttpResponse(
        ledger_export_lines(tenant=tenant, since=since, until=until, rows=rows), content_type=JSONL_CONTENT_TYPE
    )
    response["Content-Disposition"] = export_disposition(tenant=tenant, since=since, until=until)
    return response


def export_disposition(*, tenant: Tenant, since: date | None, until: date | None) -> str:
    """The download's file name: the tenant and the days it holds."""
    days = "".join(f"-{label}-{day:%Y%m%d}" for label, day in (("from", since), ("to", until)) if day)
    return f'attachment; filename="bizvalue-ledger-{tenant.slug}{days}.jsonl"'
