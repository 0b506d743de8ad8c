"""Formatting for the comparative view: value per unit of cost in the tenant's locale."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from django import template

from dashboards.templatetags.bizvalue import _decimal, number_locale

register = template.Library()


@register.filter
def per_unit(value: Any) -> str:
    """`3.25` (en_US), `3,25` (de_DE): value per unit of cost; a dash when there is no cost."""
    amount = _decimal(value)
    return "—" if amount is None else f"{format_decimal(amount, format='#,##0.00', locale=number_locale())}"
