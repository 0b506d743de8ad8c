"""Making reports: generate a closed period's report once, store its files, and e-mail it once.

The business value index is the one figure a report computes rather than sums, so it is
recorded as a ledger calculation of its own; everything else sums ledgered values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from dashboards.models import Report, ReportSubscription
from dashboards.reports.figures import report_figures
from dashboards.reports.pdf import render_pdf
from dashboards.reports.periods import period_months
from dashboards.reports.spreadsheets import render_csv, render_xlsx
from governance.anchors import anchor_chain_head_on_commit
from governance.fiscal import add_months
from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.engine import EngineInputError
from roi.ingestion import KINDS
from roi.models import PerformanceMonth
from roi.selectors import financial_model_current
from roi.services import calculation_run


def _ledger_ids(first: date, last: date, zone: ZoneInfo) -> list[int]:
    """Ledger records that hold the values of the period's events (one query per event kind)."""
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(*add_months(last, 1).timetuple()[:3], tzinfo=zone)
    ids: set[int] = set()
    for spec in KINDS.values():
        ids.update(
            spec.model.objects.filter(occurred_at__gte=start, occurred_at__lt=end, ledger_record__isnull=False)
            .values_list("ledger_record_id", flat=True)
            .distinct()
        )
    ids.update(
        PerformanceMonth.objects.filter(month__gte=first, month__lte=last, ledger_record__isnull=False)
        .values_list("ledger_record_id", flat=True)
        .distinct()
    )
    return sorted(ids)


@dataclass(frozen=True)
class Generated:
    report: Report
    created: bool


def report_generate(*, actor: Actor, kind: str, period: str) -> Generated:
    """The report of a closed period under the model in force: the stored one, or a new one.

    The business value index is recorded as a ledger calculation of its own, so the one
    figure that is computed (not summed) is verifiable; everything else sums the values of
    the ledger records the report lists.
    """
    tenant = current_tenant()
    model = financial_model_current()
    model_version = 0 if model is None else model.version
    first, last = period_months(kind=kind, period=period, start_month=tenant.fiscal_year_start_month)
    existing = Report.objects.filter(kind=kind, period=period, model_version=model_version).first()
    if existing is not None:
        return Generated(existing, created=False)
    figures = report_figures(kind=kind, period=period)
    try:
        with transaction.atomic():
            ids = _ledger_ids(first, last, ZoneInfo(tenant.time_zone))
            inputs = figures.pop("business_value_index_inputs")
            if inputs is not None:
                try:
                    index = calculation_run(actor=actor, method="business_value_index", body=inputs)
                except EngineInputError:
                    index = None
                # Only a figure the ledger holds is printed: no record, no index.
                figures["business_value_index"] = None if index is None else index.result["business_value_index"]
                figures["headline"]["figures"]["business_value_index"]["value"] = figures["business_value_index"]
                if index is not None:
                    ids.append(index.pk)
            head = LedgerRecord.objects.order_by("-sequence").only("sequence", "hash").first()
            figures["model_version"] = model_version
            figures["ledger_record_ids"] = ids
            figures["chain_head_sequence"] = 0 if head is None else head.sequence
            figures["chain_head_hash"] = "" if head is None else head.hash
            report = Report(
                tenant=tenant,
                kind=kind,
                period=period,
                model_version=model_version,
                figures=figures,
                ledger_record_ids=ids,
                chain_head_sequence=figures["chain_head_sequence"],
                chain_head_hash=figures["chain_head_hash"],
                actor=actor.label,
            )
            stem = f"{tenant.slug}-{kind}-{period}-v{model_version}"
            report.pdf.save(f"{stem}.pdf", ContentFile(render_pdf(figures)), save=False)
            report.xlsx.save(f"{stem}.xlsx", ContentFile(render_xlsx(figures)), save=False)
            report.csv.save(f"{stem}.csv", ContentFile(render_csv(figures)), save=False)
            report.save(force_insert=True)
            # The head the report prints is anchored outside the database once it is committed,
            # so the chain behind a report can never be rewritten or cut unseen.
            anchor_chain_head_on_commit()
    except IntegrityError:
        # A concurrent run stored the same report first: that one is the report.
        return Generated(Report.objects.get(kind=kind, period=period, model_version=model_version), created=False)
    return Generated(report, created=True)


def report_recipients(*, kind: str) -> list[str]:
    """Subscribers' addresses for a kind of report, each once."""
    subscriptions = ReportSubscription.objects.select_related("user").order_by("pk")
    return sorted({s.address for s in subscriptions if s.wants(kind) and s.address})


def report_deliver(*, report: Report) -> int:
    """E-mail a report's PDF to its subscribers, once: a retried task does not send it again."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.emailed_at is not None:
        return 0
    recipients = report_recipients(kind=report.kind)
    figures = report.figures
    subject = f"{figures['tenant']}: {report.get_kind_display()} {report.period}"
    body = render_to_string("dashboards/report_email.txt", {"report": report, "figures": figures})
    with report.pdf.open("rb") as pdf:
        attachment = pdf.read()
    # One message per person, so subscribers do not see each other's addresses.
    messages = []
    for address in recipients:
        message = EmailMessage(subject=subject, body=body, to=[address])
        message.attach((report.pdf.name or "").rsplit("/", 1)[-1], attachment, "application/pdf")
        messages.append(message)
    sent = get_connection().send_messages(messages) if messages else 0
    report.emailed_at = timezone.now()
    report.save(update_fields=["emailed_at"])
    return sent or 0


def report_make(*, actor: Actor, kind: str, period: str) -> Generated:
    """Generate (or find) a report and make sure its subscribers have it: what every entry point calls."""
    generated = report_generate(actor=actor, kind=kind, period=period)
    report_deliver(report=generated.report)
    return generated
