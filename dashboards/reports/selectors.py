"""Reading stored reports: the scope tenant's list and one report's files as downloads."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from dashboards.models import Report, ReportFormat

MEDIA_TYPES = {
    ReportFormat.PDF.value: "application/pdf",
    ReportFormat.XLSX.value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.CSV.value: "text/csv",
}


def reports_list() -> QuerySet[Report]:
    """The scope tenant's reports, newest first."""
    return Report.objects.order_by("-created_at", "-pk")


def report_file_response(*, report_id: int, file_format: str) -> FileResponse:
    """One of a report's files as a download; another tenant's report is a 404 like a missing one."""
    if file_format not in MEDIA_TYPES:
        raise Http404("No such format.")
    report = get_object_or_404(reports_list(), pk=report_id)
    stored = report.file_for(file_format)
    name = (stored.name or "").rsplit("/", 1)[-1]  # (a report's files are named when it is made)
    return FileResponse(stored.open("rb"), as_attachment=True, filename=name, content_type=MEDIA_TYPES[file_format])
