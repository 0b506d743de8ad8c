"""Figures are written in the tenant's currency and locale (CLDR via Babel), on pages and live."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from dashboards.templatetags import bizvalue as bizvalue_tags
from dashboards.templatetags.bizvalue import change, money, percent, short_money
from governance.services import tenant_create
from governance.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "expected"),
    [
        ("en_US", "USD", "49499.854", "$49,499.85"),
        ("en_US", "USD", "-1200", "-$1,200.00"),
        ("de_DE", "EUR", "49499.85", "49.499,85\xa0€"),
        ("fr_FR", "EUR", "49499.85", "49\u202f499,85\xa0€"),
        ("de_CH", "CHF", "1234.5", "CHF\xa01'234.50"),
        ("ja_JP", "JPY", "1234.6", "￥1,235"),
        ("en_GB", "GBP", "0", "£0.00"),
    ],
)
def test_money_follows_the_tenants_locale_and_the_currencys_minor_units(locale, currency, amount, expected, acme):
    acme.locale = locale
    with tenant_scope(acme):
        assert money(Decimal(amount), currency) == expected


def test_outside_a_tenant_figures_are_written_in_en_us_and_a_missing_figure_is_a_dash():
    assert money("1234.5", "EUR") == "€1,234.50"
    assert money(None, "USD") == "—"
    assert short_money("1250000", "USD") == "$1.2M"
    assert percent("305.25") == "305.2 %"
    assert change("110", "100") == "+10.0 %"


def test_percentages_and_changes_use_the_locales_decimal_sign(acme):
    acme.locale = "de_DE"
    with tenant_scope(acme):
        assert percent("1305.25") == "1.305,2 %"
        assert change("90", "100") == "-10,0 %"


def test_the_overview_is_written_in_the_tenants_locale(client, bob, acme, history):
    acme.locale = "de_DE"
    acme.currency = "EUR"
    acme.save(update_fields=["locale", "currency"])
    client.force_login(bob)
    page = client.get("/t/acme/").content.decode()
    assert "\xa0€" in page and "$" not in page.split("<main>")[1]
    live = client.get("/t/acme/live/").content.decode()  # what static/js/live.js swaps in: the same formatting
    assert "\xa0€" in live and "$" not in live


def test_an_unknown_locale_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        tenant_create(slug="zz", name="Nowhere", locale="xx_NOPE")
    assert "locale" in refused.value.message_dict
    with pytest.raises(CommandError, match="locale"):
        call_command("create_tenant", "zz", "--name", "Nowhere", "--locale", "xx_NOPE")


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ja_JP", "en_IN", "de_CH"])
@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "INR", "CHF", "BHD"])
def test_money_writes_exactly_what_babel_writes(monkeypatch, locale, currency):
    # The filter keeps each locale's pattern instead of looking it up per amount; same text.
    monkeypatch.setattr(bizvalue_tags, "number_locale", lambda: locale)
    for amount in ["0", "-0.5", "1234567.891", "-98765432.1", "0.005", "999999999999999.99"]:
        assert bizvalue_tags.money(Decimal(amount), currency) == format_currency(
            Decimal(amount), currency, locale=locale
        )
