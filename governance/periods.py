"""Period close: a finance admin closes a month, and nothing dated in it changes afterwards.

Months are calendar months in the tenant's time zone (as the rollups count them). A late
correction is a new event dated in an open month, so it shows up where it was made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.audit import audit_record
from governance.ledger import Actor
from governance.models import AuditKind, ClosedPeriod
from governance.months import parse_month
from governance.tenancy import current_tenant


def month_to_close(text: str) -> date:
    """ "2026-03" -> date(2026, 3, 1) (`governance.months.parse_month`); a ValidationError naming `month` otherwise."""
    try:
        return parse_month(text)
    except ValueError:
        raise ValidationError({"month": [f"{text!r} is not a month; use YYYY-MM."]}) from None


def month_of(moment: datetime) -> date:
    """The first day of the scope tenant's month holding `moment`."""
    local = moment.astimezone(ZoneInfo(current_tenant().time_zone))
    return date(local.year, local.month, 1)


def closed_months() -> set[date]:
    """The scope tenant's closed months."""
    return set(ClosedPeriod.objects.values_list("month", flat=True))


def is_closed(moment: datetime, closed: set[date] | None = None) -> bool:
    return month_of(moment) in (closed_months() if closed is None else closed)


def period_close(*, month: date, actor: Actor) -> ClosedPeriod:
    """Close one month of the scope tenant; audited, and refused twice or for a month not yet begun."""
    month = month.replace(day=1)
    if month > month_of(timezone.now()):
        raise ValidationError({"month": [f"{month:%Y-%m} has not begun; only a current or past month can be closed."]})
    try:
        with transaction.atomic():
            period = ClosedPeriod.objects.create(
                tenant=current_tenant(), month=month, closed_by=actor.user, closed_by_actor=actor.label
            )
    except IntegrityError:
        raise ValidationError({"month": [f"{month:%Y-%m} is already closed."]}) from None
    audit_record(kind=AuditKind.PERIOD_CLOSED, actor=actor.label, detail={"month": f"{month:%Y-%m}"})
    return period


def ensure_open(*, events: Iterable[dict[str, Any]], stored: QuerySet) -> None:
    """Refuse a batch touching a closed month: by its new date or the stored event it would replace.

    Errors are keyed "<index>.occurred_at" like every other batch error, so the caller
    sees which event and why.
    """
    closed = closed_months()
    if not closed:
        return
    events = list(events)
    previous = dict(
        stored.filter(external_id__in=[e["external_id"] for e in events]).values_list("external_id", "occurred_at")
    )
    errors: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        for moment, which in ((event["occurred_at"], "is dated"), (previous.get(event["external_id"]), "was stored")):
            if moment is not None and month_of(moment) in closed:
                errors.setdefault(f"{index}.occurred_at", []).append(
                    f"this event {which} in {month_of(moment):%Y-%m}, a closed period; "
                    "send a correction as a new event dated in an open month."
                )
    if errors:
        raise ValidationError(errors)
