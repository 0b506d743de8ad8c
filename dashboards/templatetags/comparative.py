"""Formatting for the comparative view: value per unit of cost in the tenant's locale."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from django import template

from dashboards.templatetags.bizvalue import number_locale
from roi.engine.money import decimal_or_none

register = template.Library()


@register.filter
def per_unit(value: Any) -> str:
    """`3.25` (en_US), `3,25` (de_DE): value per unit of cost; a dash when there is no cost."""
    amount = decimal_or_none(value)
    return "—" if amount is None else f"{format_decimal(amount, format='#,##0.00', locale=number_locale())}"
