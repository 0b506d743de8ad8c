"""The calculators: one form per engine method, each submission a ledger record."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboards.calculators import CALCULATORS, EDITABLE_FIGURES, Field, calculation_body, field_errors
from governance import roles
from governance.ledger import Actor
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi.engine import EngineInputError
from roi.services import calculation_run, figures_in_force


@tenant_page(roles.CALCULATE)
def calculators(request: TenantRequest) -> HttpResponse:
    return render(request, "dashboards/calculators.html", {"calculators": CALCULATORS.values()})


@tenant_page(roles.CALCULATE)
@require_http_methods(["GET", "POST"])
def calculator(request: TenantRequest, method: str) -> HttpResponse:
    """One method's form; a submission is a ledger record, shown on its own page."""
    chosen = CALCULATORS.get(method)
    if chosen is None:
        raise Http404("No such calculator.")
    try:
        figures = figures_in_force()[0].as_dict(include_derived=False)
    except EngineInputError:
        figures = {}
    shown = {name: figures.get(name) for name in EDITABLE_FIGURES if name in figures}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            body = calculation_body(chosen, request.POST, shown)
            record = calculation_run(actor=Actor.of_user(request.user), method=method, body=body)
        except EngineInputError as error:
            errors = field_errors(chosen, error.errors)
        else:
            return redirect("ledger-record", slug=request.tenant.slug, record_id=record.pk)
    # A link may prefill the form (GET ?field=...), e.g. an investment's value at risk.
    given = request.POST if request.method == "POST" else request.GET
    mode = given.get("mode") or (chosen.modes[0][0] if chosen.modes else "")

    def rows(fields: tuple[Field, ...]) -> list[tuple[Field, str, list[str]]]:
        return [(field, given.get(field.name, field.example), errors.get(field.name, [])) for field in fields]

    return render(
        request,
        "dashboards/calculator.html",
        {
            "calculator": chosen,
            "common": rows(tuple(field for field in chosen.fields if not field.modes)),
            "modes": [
                (key, label, key == mode, rows(tuple(field for field in chosen.fields if key in field.modes)))
                for key, label in chosen.modes
            ],
            "figures": [(name, request.POST.get(f"assume_{name}", value)) for name, value in shown.items()],
            "errors": errors,
        },
        status=400 if errors else 200,
    )
