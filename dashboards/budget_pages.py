"""The IT budget page: everyone reads it, finance admins set it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from governance import roles
from governance.ledger import Actor
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi.budgets import (
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    current_fiscal_year,
    it_budget_get,
    it_budget_history,
    it_budget_set,
)
from roi.engine import EngineInputError


class ItBudgetForm(forms.Form):
    """One fiscal year's IT budget; the service re-checks every field and has the last word."""

    fiscal_year = forms.IntegerField(
        min_value=FIRST_FISCAL_YEAR,
        max_value=LAST_FISCAL_YEAR,
        help_text="The calendar year the fiscal year starts in.",
    )
    annual_amount = forms.DecimalField(
        min_value=0, max_digits=17, decimal_places=2, help_text="Spread evenly over the twelve months."
    )
    change_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), max_length=2000)


@tenant_page()
@require_http_methods(["GET", "POST"])
def it_budget(request: TenantRequest) -> HttpResponse:
    """One fiscal year's budget (`?year=`, default this one) and its versions; POST sets it."""
    tenant = request.tenant
    can_edit = bool(request.roles & roles.MANAGE_MODEL)
    this_year = current_fiscal_year()
    raw_year = request.GET.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and FIRST_FISCAL_YEAR <= int(raw_year) <= LAST_FISCAL_YEAR else this_year
    budget = it_budget_get(fiscal_year=year)
    form = ItBudgetForm(
        initial={"fiscal_year": year, "annual_amount": budget.annual_amount if budget else None},
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = ItBudgetForm(request.POST)
        if form.is_valid():
            try:
                saved = it_budget_set(actor=Actor.of_user(request.user), **form.cleaned_data)
            except EngineInputError as error:
                for field, messages in error.errors.items():
                    form.add_error(field if field in form.fields else None, "; ".join(messages))
            else:
                return redirect(f"{reverse('it-budget', args=[tenant.slug])}?year={saved.fiscal_year}")
    context = {
        "year": year,
        "this_year": this_year,
        "start_month": tenant.fiscal_year_start_month,
        "budget": budget,
        "history": it_budget_history(fiscal_year=year),
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "dashboards/it_budget.html", context, status=400 if form.errors else 200)
