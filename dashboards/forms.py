"""Forms of the tenant pages."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboards.selectors.trends import (
    HORIZON_DEFAULT,
    HORIZON_MAX,
    HORIZON_MIN,
    MONTHS_DEFAULT,
    MONTHS_MAX,
    MONTHS_MIN,
)
from roi.focus import ADD, DEFAULT_DEPARTMENT_TAG, DEFAULT_PRODUCT_TAG, REPLACE
from roi.models import EventKind

FOCUS_KIND = "focus-costs"


class ImportForm(forms.Form):
    """A CSV file of events of one kind, or a FinOps FOCUS cost export."""

    kind = forms.ChoiceField(choices=[*EventKind.choices, (FOCUS_KIND, "Costs (FinOps FOCUS export)")])
    file = forms.FileField(help_text="CSV, UTF-8, at most 20 MB.")
    department_tag = forms.CharField(
        max_length=100,
        required=False,
        initial=DEFAULT_DEPARTMENT_TAG,
        help_text="FOCUS only: the tag naming the department.",
    )
    product_tag = forms.CharField(
        max_length=100, required=False, initial=DEFAULT_PRODUCT_TAG, help_text="FOCUS only: the tag naming the product."
    )
    mode = forms.ChoiceField(
        choices=[
            (REPLACE, "Replace: this export replaces earlier imports of the same accounts and billing periods"),
            (ADD, "Add: this file is a further part of an export already imported"),
        ],
        required=False,
        initial=REPLACE,
        help_text="FOCUS only.",
    )

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or REPLACE


class TrendsForm(forms.Form):
    """How many months the trends page shows and forecasts: the API's `months` and `horizon`."""

    months = forms.IntegerField(min_value=MONTHS_MIN, max_value=MONTHS_MAX, required=False, initial=MONTHS_DEFAULT)
    horizon = forms.IntegerField(min_value=HORIZON_MIN, max_value=HORIZON_MAX, required=False, initial=HORIZON_DEFAULT)

    def clean_months(self) -> int:
        return self.cleaned_data.get("months") or MONTHS_DEFAULT

    def clean_horizon(self) -> int:
        return self.cleaned_data.get("horizon") or HORIZON_DEFAULT


class ServiceLevelsForm(forms.Form):
    """How many months the service-levels page shows: the API's `months`."""

    months = forms.IntegerField(min_value=MONTHS_MIN, max_value=MONTHS_MAX, required=False, initial=MONTHS_DEFAULT)

    def clean_months(self) -> int:
        return self.cleaned_data.get("months") or MONTHS_DEFAULT


class AuditFilterForm(forms.Form):
    """The security log's day filters, shared by its CSV export: an impossible day is the field's error."""

    since = forms.DateField(required=False, help_text="First day, YYYY-MM-DD (UTC).")
    until = forms.DateField(required=False, help_text="Day the log stops before, YYYY-MM-DD (UTC).")

    def error_text(self) -> str:
        """The errors as one line naming each field, for an export's 400."""
        return "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in self.errors.items())


class LedgerFilterForm(forms.Form):
    """The ledger page's filters, shared by its CSV and JSON Lines exports (dates are UTC days)."""

    method = forms.CharField(max_length=64, required=False)
    actor = forms.CharField(max_length=200, required=False)
    since = forms.DateField(required=False, help_text="First day, YYYY-MM-DD (UTC).")
    until = forms.DateField(required=False, help_text="Last day, YYYY-MM-DD (UTC).")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The last day comes before the first.")
        return cleaned

    def filters(self, *, dates_only: bool = False) -> dict[str, Any]:
        """The valid filters as `roi.selectors.ledger_records` takes them (call after is_valid)."""
        names = ("since", "until") if dates_only else ("method", "actor", "since", "until")
        return {name: self.cleaned_data[name] or None for name in names}

    def error_text(self) -> str:
        """The errors as one line naming each field, for an export's 400."""
        return "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in self.errors.items())
