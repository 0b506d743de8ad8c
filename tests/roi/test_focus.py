"""FinOps FOCUS cost import: months, cells and currencies right, each file counted once, tenants apart."""

import csv
import io
import json
from datetime import UTC, date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Sum

from governance.ledger import Actor
from governance.roles import Role
from governance.services import membership_set_role
from governance.tenancy import tenant_scope
from roi.csv_import import MAX_UPLOAD_BYTES, CsvRowsInvalid
from roi.focus import focus_import, parse_tags, tag_value
from roi.models import CostImport, CostMonth

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "focus" / "aws-2026-09-10.csv"
COLUMNS = [
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ServiceName",
    "ServiceCategory",
    "SubAccountName",
    "BilledCost",
    "EffectiveCost",
    "Tags",
]


def focus_csv(*rows: dict, currency: str = "USD") -> bytes:
    """A small FOCUS file: each row's missing columns take plausible defaults."""
    out = io.StringIO()
    extra = list(dict.fromkeys(name for row in rows for name in row if name not in COLUMNS))
    writer = csv.DictWriter(out, fieldnames=[*extra, *COLUMNS])
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "BillingCurrency": currency,
                "ChargePeriodStart": "2026-10-01T00:00:00Z",
                "ChargePeriodEnd": "2026-10-02T00:00:00Z",
                "ChargeCategory": "Usage",
                "ServiceName": "Amazon Elastic Compute Cloud",
                "ServiceCategory": "Compute",
                "SubAccountName": "prod",
                "BilledCost": "10.00",
                "EffectiveCost": "8.00",
                "Tags": json.dumps({"department": "payments", "product": "checkout"}),
                **row,
            }
        )
    return out.getvalue().encode()


def as_upload(data: bytes, name: str = "focus.csv", content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_focus(client, data: bytes, name: str = "focus.csv", **fields):
    return client.post("/api/v1/costs/focus", {"file": as_upload(data, name), **fields}, format="multipart")


def cells(tenant, *group):
    with tenant_scope(tenant):
        rows = CostMonth.objects.values(*group).annotate(b=Sum("billed_cost"), e=Sum("effective_cost"))
        return {tuple(str(r[g]) for g in group): (r["b"], r["e"]) for r in rows}


@pytest.fixture
def analyst(api_as, acme):
    return api_as(acme, "analyst")


# --- The sample export ------------------------------------------------------------------------


def test_a_real_export_lands_in_the_right_months(analyst, acme):
    response = post_focus(analyst, SAMPLE.read_bytes(), SAMPLE.name)
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["rows"], answer["currency"], answer["file_name"]) == (12, "USD", SAMPLE.name)
    assert answer["months"] == {
        "2026-09": {"billed_cost": "394.50", "effective_cost": "333.60"},
        "2026-10": {"billed_cost": "1092.87", "effective_cost": "495.62"},
    }
    with tenant_scope(acme):
        recorded = CostImport.objects.get()
        assert (recorded.rows, recorded.months, recorded.actor[:8]) == (12, ["2026-09", "2026-10"], "api-key:")
        assert CostMonth.objects.aggregate(rows=Sum("row_count"))["rows"] == 12


def test_services_departments_and_products_come_from_the_columns_and_tags(analyst, acme):
    post_focus(analyst, SAMPLE.read_bytes())
    by_department = cells(acme, "month", "department")
    october = {
        department: effective for (month, department), (_, effective) in by_department.items() if month == "2026-10-01"
    }
    assert october == {
        "payments": Decimal("223.623457"),  # stored to six places
        "data": Decimal(250),
        "platform": Decimal(10),  # from `user:department`, as AWS exports name user tags
        "": Decimal(12),  # the untagged tax (and the purchase, worth 0 effective)
    }
    by_service = cells(acme, "month", "service_name", "charge_category")
    assert by_service[("2026-10-01", "Amazon Elastic Compute Cloud", "Usage")] == (Decimal("250.75"), Decimal("203.5"))
    assert by_service[("2026-10-01", "Amazon Elastic Compute Cloud", "Credit")] == (Decimal("-25"), Decimal("-25"))
    assert by_service[("2026-10-01", "Savings Plans for AWS Compute usage", "Purchase")] == (Decimal("500"), Decimal(0))
    assert cells(acme, "product")[("api",)] == (Decimal("10"), Decimal("10"))
    assert set(cells(acme, "sub_account")) == {("payments-prod",), ("data-prod",), ("platform-prod",)}


def test_the_month_is_the_charge_start_in_the_tenants_time_zone(analyst, acme):
    acme.time_zone = "Asia/Tokyo"
    acme.save()
    months = post_focus(analyst, SAMPLE.read_bytes()).json()["months"]
    # 2026-09-30T23:00Z is already 1 October in Tokyo: 4.50 billed moves to October.
    assert months["2026-09"]["billed_cost"] == "390.00"
    assert months["2026-10"]["billed_cost"] == "1097.37"


def test_the_monthly_costs_read_back_by_service_department_and_product(analyst, api_as, acme):
    post_focus(analyst, SAMPLE.read_bytes())
    viewer = api_as(acme, "viewer")
    total = viewer.get("/api/v1/costs/monthly?start=2026-09&end=2026-10").json()
    assert total["currency"] == "USD" and total["by"] is None
    assert [(m["month"], m["billed_cost"], m["effective_cost"]) for m in total["months"]] == [
        ("2026-09", "394.50", "333.60"),
        ("2026-10", "1092.87", "495.62"),
    ]
    by_department = viewer.get("/api/v1/costs/monthly?start=2026-10&end=2026-10&by=department").json()
    [october] = by_department["months"]
    assert [(g["name"], g["effective_cost"]) for g in october["groups"]] == [
        ("data", "250.00"),
        ("payments", "223.62"),
        ("", "12.00"),
        ("platform", "10.00"),
    ]
    by_service = viewer.get("/api/v1/costs/monthly?start=2026-10&end=2026-10&by=service").json()["months"][0]
    assert by_service["groups"][0] == {
        "name": "Amazon Relational Database Service",
        "billed_cost": "300.00",
        "effective_cost": "250.00",
    }
    by_product = viewer.get("/api/v1/costs/monthly?start=2026-09&end=2026-09&by=product").json()["months"][0]
    assert {g["name"] for g in by_product["groups"]} == {"analytics", "checkout"}


@pytest.mark.parametrize(
    ("query", "field"), [("by=colour", "by"), ("start=2026-13", "start"), ("start=2026-10&end=2026-09", "start")]
)
def test_monthly_costs_reject_bad_parameters(api_as, acme, query, field):
    response = api_as(acme, "viewer").get(f"/api/v1/costs/monthly?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# --- What real exports look like ---------------------------------------------------------------

PROVIDER_LIKE = (
    "\ufeffx_ServiceCode,BillingPeriodStart,ChargePeriodEnd,ChargePeriodStart,BillingAccountId,ProviderName,"
    "ChargeCategory,ChargeClass,ChargeDescription,ServiceCategory,ServiceName,SubAccountName,BillingCurrency,"
    "ListCost,BilledCost,EffectiveCost,CommitmentDiscountId,Tags,x_UsageType\r\n"
    # Usage covered by a savings plan: billed 0, its amortized share as effective cost.
    "AmazonEC2,2026-10-01T00:00:00.000Z,2026-10-01T01:00:00.000Z,2026-10-01T00:00:00.000Z,999988887777,AWS,"
    "Usage,,t3.medium hour,Compute,Amazon Elastic Compute Cloud,payments-prod,USD,107.54,0,71.69,"
    'arn:aws:savingsplans::999988887777:savingsplan/sp-1,"{""user:department"":""payments"",'
    '""user:product"":""checkout""}",BoxUsage\r\n'
    # The plan bought for a year: billed in full, effective 0 (its cost is in the usage above).
    "ComputeSavingsPlans,2026-10-01T00:00:00Z,2027-10-01T00:00:00Z,2026-10-01T00:00:00Z,999988887777,AWS,"
    "Purchase,,1 year Compute Savings Plan,Compute,Savings Plans for AWS Compute usage,,USD,628,628.00,0,"
    "arn:aws:savingsplans::999988887777:savingsplan/sp-1,,\r\n"
    # BigQuery's timestamp text and number formats; Google's key/value list of labels.
    "storage,2026-10-01T00:00:00Z,2026-10-03 00:00:00 UTC,2026-10-02 00:00:00 UTC,999988887777,AWS,Usage,,"
    "Standard storage,Storage,Cloud Storage,data-prod,USD,1.2E-5,1.2E-5,1.2E-5,,"
    '"[{""key"":""department"",""value"":""data""},{""key"":""product"",""value"":""analytics"",'
    '""inherited"":false}]",\r\n'
    # An offset, a description with a comma and a line break, Azure's brace-less tags.
    "vm,2026-10-01T00:00:00Z,2026-10-04T00:00:00+00:00,2026-10-03T00:00:00+00:00,999988887777,AWS,Usage,,"
    '"D4s v5, pay as you go\nWest Europe",Compute,Virtual Machines,platform-prod,usd,3.5e+2,3.5e+2,3.5E2,,'
    '"""department"": ""platform"",""product"": ""api""",\r\n'
    # A credit, times without seconds, empty tags.
    "support,2026-10-01T00:00:00Z,2026-10-05T00:00Z,2026-10-04T00:00Z,999988887777,AWS,Credit,,"
    "Service credit,Management and Governance,AWS Support,payments-prod,USD,-2.50,-2.50,-2.50,,{},\r\n"
    # A monthly tax, seven fractional digits, EffectiveCost left empty.
    "tax,2026-10-01T00:00:00Z,2026-11-01T00:00:00.0000000Z,2026-10-01T00:00:00.0000000Z,999988887777,AWS,"
    "Tax,,Tax,Other,Tax,,USD,12.345,12.345,,,,\r\n"
).encode()


def test_an_export_in_the_shapes_providers_write_is_read_exactly(analyst, acme):
    response = post_focus(analyst, PROVIDER_LIKE)
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["rows"] == 6
    # billed: 628 + 0.000012 + 350 - 2.50 + 12.345; effective: 71.69 + 0.000012 + 350 - 2.50 + 12.345
    assert answer["months"] == {"2026-10": {"billed_cost": "987.85", "effective_cost": "431.54"}}
    assert answer["notes"] == [
        "1 row(s) had no EffectiveCost: their BilledCost counted as effective cost "
        "(0 for commitment purchases, whose cost is amortized into usage)."
    ]
    by_department = {department: e for (department,), (_, e) in cells(acme, "department").items()}
    assert by_department == {
        "payments": Decimal("71.69"),
        "data": Decimal("0.000012"),
        "platform": Decimal(350),
        "": Decimal("9.845"),  # the purchase (0), the credit and the tax
    }
    assert set(cells(acme, "product")) == {("checkout",), ("analytics",), ("api",), ("",)}
    with tenant_scope(acme):
        assert set(CostMonth.objects.values_list("provider", "billing_account", "billing_period")) == {
            ("AWS", "999988887777", date(2026, 10, 1))
        }


def test_a_commitment_purchase_without_effective_cost_is_not_counted_twice(analyst, acme):
    plan = {"CommitmentDiscountId": "sp-1", "ChargeCategory": "Purchase", "BilledCost": "600", "EffectiveCost": ""}
    usage = {"CommitmentDiscountId": "sp-1", "BilledCost": "0", "EffectiveCost": "50"}
    fee = {"ChargeCategory": "Purchase", "BilledCost": "20", "EffectiveCost": ""}  # a one-off, not a commitment
    response = post_focus(analyst, focus_csv(plan, usage, fee))
    assert response.json()["months"] == {"2026-10": {"billed_cost": "620.00", "effective_cost": "70.00"}}
    assert response.json()["notes"][0].startswith("2 row(s) had no EffectiveCost")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-10-01T00:00:00Z", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01T00:00:00.000Z", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01T00:00:00.0000000Z", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01T02:00:00+02:00", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01T00:00Z", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01T00:00:00z", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01 00:00:00", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01 00:00:00 UTC", "2026-10-01T00:00:00+00:00"),
        ("2026-10-01", "2026-10-01T00:00:00+00:00"),
    ],
)
def test_the_date_time_formats_providers_write_are_read_as_utc(moment, expected):
    from roi.focus.parse import _moment

    assert _moment({"ChargePeriodStart": moment}, "ChargePeriodStart").astimezone(UTC).isoformat() == expected


def test_a_charge_counts_in_the_month_it_mostly_belongs_to_west_of_utc(analyst, acme):
    acme.time_zone = "America/New_York"
    acme.save()
    data = focus_csv(
        # A monthly fee and a daily charge from midnight UTC on 1 October: still October in New
        # York, though their start is 20:00 on 30 September there.
        {"BilledCost": "100", "ChargePeriodStart": "2026-10-01T00:00:00Z", "ChargePeriodEnd": "2026-11-01T00:00:00Z"},
        {"BilledCost": "10", "ChargePeriodStart": "2026-10-01T00:00:00Z", "ChargePeriodEnd": "2026-10-02T00:00:00Z"},
        # A commitment whose charge period runs a year: the month it starts.
        {"BilledCost": "1000", "ChargePeriodStart": "2026-10-01T00:00:00Z", "ChargePeriodEnd": "2027-10-01T00:00:00Z"},
        # An hour at 22:00 New York time on 30 September: September.
        {"BilledCost": "1", "ChargePeriodStart": "2026-10-01T02:00:00Z", "ChargePeriodEnd": "2026-10-01T03:00:00Z"},
    )
    months = post_focus(analyst, data).json()["months"]
    assert {month: cost["billed_cost"] for month, cost in months.items()} == {"2026-09": "1.00", "2026-10": "1110.00"}


def test_a_header_differing_only_in_case_is_named(analyst):
    data = focus_csv({}).replace(b"BilledCost", b"billedcost", 1)
    response = post_focus(analyst, data)
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == [
        "header: lacks FOCUS column(s): BilledCost (the file has 'billedcost'; FOCUS column names are case-sensitive)"
    ]


def test_a_month_too_large_to_store_is_a_400_not_a_database_error(analyst, acme):
    data = focus_csv(*[{"BilledCost": "999999999999999"}] * 101)
    response = post_focus(analyst, data)
    assert response.status_code == 400
    assert "implausibly large" in response.json()["errors"]["file"][0]
    with tenant_scope(acme):
        assert CostImport.objects.count() == 0


# --- What is refused ---------------------------------------------------------------------------


def test_another_currency_is_refused_naming_the_row_and_both_currencies(analyst, acme):
    data = focus_csv({}, {"BillingCurrency": "EUR"}, {}, {"BillingCurrency": "gbp"})
    response = post_focus(analyst, data)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "rows": [
            "row 2 (line 3): BillingCurrency: EUR differs from the tenant's currency USD",
            "row 4 (line 5): BillingCurrency: GBP differs from the tenant's currency USD",
        ]
    }
    with tenant_scope(acme):
        assert CostImport.objects.count() == 0 and CostMonth.objects.count() == 0


def test_the_sample_is_refused_by_a_tenant_in_another_currency(api_as, globex):
    response = post_focus(api_as(globex, "analyst"), SAMPLE.read_bytes())
    assert response.status_code == 400
    rows = response.json()["errors"]["rows"]
    assert len(rows) == 12
    assert rows[0] == "row 1 (line 2): BillingCurrency: USD differs from the tenant's currency EUR"


def test_every_invalid_row_is_listed_and_nothing_is_stored(analyst, acme):
    data = focus_csv(
        {"BilledCost": "ten"},
        {},
        {"ChargePeriodStart": "last tuesday", "EffectiveCost": "12,50"},
        {"ChargePeriodEnd": "2026-09-30T00:00:00Z"},
        {"Tags": '{"department": '},
        {"BilledCost": "NaN"},
    )
    errors = post_focus(analyst, data).json()["errors"]["rows"]
    assert errors == [
        "row 1 (line 2): BilledCost: 'ten' is not a number",
        "row 3 (line 4): EffectiveCost: '12,50' is not a number",
        "row 3 (line 4): ChargePeriodStart: 'last tuesday' is not an ISO 8601 date-time (e.g. 2026-10-01T00:00:00Z)",
        "row 4 (line 5): ChargePeriodEnd: must not be before ChargePeriodStart",
        "row 5 (line 6): Tags: is not a valid JSON object (Expecting value at character 14)",
        "row 6 (line 7): BilledCost: 'NaN' is not a finite number",
    ]
    with tenant_scope(acme):
        assert CostMonth.objects.count() == 0


def test_an_error_after_a_cell_spanning_lines_names_the_row_and_its_file_line(analyst):
    data = focus_csv({"ChargeDescription": "Compute, on demand\nsecond line"}, {"BillingCurrency": "EUR"})
    assert post_focus(analyst, data).json()["errors"]["rows"] == [
        "row 2 (line 4): BillingCurrency: EUR differs from the tenant's currency USD"
    ]


def test_sub_account_and_tags_may_be_absent_and_times_without_offset_are_utc(analyst, acme):
    data = (
        b"BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ServiceName,"
        b"ServiceCategory\n7.50,7.50,USD,2026-10-31 23:30:00,2026-11-01 00:00:00,Usage,Cloud Run,Compute\n"
    )
    response = post_focus(analyst, data)
    assert response.status_code == 201, response.json()
    assert response.json()["months"] == {"2026-10": {"billed_cost": "7.50", "effective_cost": "7.50"}}
    assert set(cells(acme, "service_name", "department", "sub_account")) == {("Cloud Run", "", "")}


def test_a_file_without_the_focus_columns_is_refused(analyst):
    response = post_focus(analyst, b"Cost,Date\n1,2026-10-01\n")
    assert response.status_code == 400
    assert response.json()["errors"]["file"][0].startswith("header: lacks FOCUS column(s): BilledCost, EffectiveCost")


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"),
    [
        ("focus.parquet", b"PAR1\x00\x00", "application/octet-stream", "Send a CSV file"),
        ("focus.pdf", b"%PDF-1.7", "application/pdf", "this one is application/pdf"),
        ("focus.csv", "BilledCost\n1\u00a0".encode("cp1252"), "text/csv", "not UTF-8"),
    ],
)
def test_an_upload_that_is_not_csv_is_refused(analyst, name, data, content_type, message):
    response = analyst.post("/api/v1/costs/focus", {"file": as_upload(data, name, content_type)}, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["errors"]["file"][0]


def test_an_oversized_upload_is_refused(analyst, acme):
    data = focus_csv({}) + b"x" * MAX_UPLOAD_BYTES
    response = post_focus(analyst, data)
    assert response.status_code == 400
    assert "limit" in response.json()["errors"]["file"][0]
    with tenant_scope(acme):
        assert CostImport.objects.count() == 0


def test_a_body_declared_too_large_is_refused_before_it_is_read(analyst):
    declared = str(MAX_UPLOAD_BYTES * 2)
    response = analyst.post(
        "/api/v1/costs/focus", {"file": as_upload(focus_csv({}))}, format="multipart", CONTENT_LENGTH=declared
    )
    assert response.status_code == 400
    assert "exceeds the limit" in response.json()["errors"]["file"][0]


def test_a_json_body_is_415_not_a_500(analyst):
    response = analyst.post("/api/v1/costs/focus", {"file": "BilledCost\n1\n"}, format="json")
    assert response.status_code == 415


def test_the_file_field_is_required(analyst):
    response = analyst.post("/api/v1/costs/focus", {}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]


# --- Idempotence -------------------------------------------------------------------------------


def test_importing_the_same_file_again_is_refused_and_counts_nothing_twice(analyst, acme):
    first = post_focus(analyst, SAMPLE.read_bytes())
    before = cells(acme, "month", "service_name", "department", "charge_category")
    again = post_focus(analyst, SAMPLE.read_bytes())
    assert again.status_code == 409
    assert f"as import #{first.json()['id']}" in again.json()["errors"]["file"][0]
    assert cells(acme, "month", "service_name", "department", "charge_category") == before
    with tenant_scope(acme):
        assert CostImport.objects.count() == 1


def billed(*rows: dict, account: str = "111122223333", period: str = "2026-10-01T00:00:00Z") -> bytes:
    """A FOCUS file that says whose bill its rows are from, as every real export does."""
    head = {"ProviderName": "AWS", "BillingAccountId": account, "BillingPeriodStart": period}
    return focus_csv(*[head | row for row in rows])


def october(client) -> tuple[str, str]:
    month = client.get("/api/v1/costs/monthly?start=2026-10&end=2026-10").json()["months"][0]
    return month["billed_cost"], month["effective_cost"]


def test_a_refreshed_export_of_the_same_bill_replaces_the_earlier_one(analyst, acme):
    # AWS, Azure and GCP deliver month-to-date exports again and again as the month fills.
    first_half = billed({"BilledCost": "10", "EffectiveCost": "8"}, {"BilledCost": "5", "EffectiveCost": "4"})
    whole_month = billed(
        {"BilledCost": "10", "EffectiveCost": "8"},
        {"BilledCost": "5", "EffectiveCost": "4"},
        {"BilledCost": "7", "EffectiveCost": "6", "ChargePeriodStart": "2026-10-20", "ChargePeriodEnd": "2026-10-21"},
    )
    first = post_focus(analyst, first_half)
    assert first.json()["replaced_imports"] == []
    second = post_focus(analyst, whole_month)
    assert second.status_code == 201, second.json()
    assert (second.json()["mode"], second.json()["replaced_imports"]) == ("replace", [first.json()["id"]])
    assert october(analyst) == ("22.00", "18.00")  # not 37.00 / 30.00
    with tenant_scope(acme):
        assert CostMonth.objects.aggregate(rows=Sum("row_count"))["rows"] == 3
        assert set(CostMonth.objects.values_list("source_import_id", flat=True)) == {second.json()["id"]}


def test_a_refreshed_bill_replaces_its_marketplace_rows_too(analyst):
    # Marketplace rows name the vendor as ProviderName but belong to the account's bill.
    vendor = {"ProviderName": "Datadog", "ServiceName": "Datadog Pro", "BilledCost": "40", "EffectiveCost": "40"}
    post_focus(analyst, billed({"BilledCost": "10", "EffectiveCost": "8"}, vendor))
    restated = billed({"BilledCost": "10", "EffectiveCost": "8"})  # the vendor charge was reversed
    assert post_focus(analyst, restated).status_code == 201
    assert october(analyst) == ("10.00", "8.00")


def test_the_same_export_saved_again_with_other_bytes_is_not_counted_twice(analyst):
    # Opened and saved by a spreadsheet: CRLF line ends and a byte-order mark, so another sha256.
    resaved = b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n")
    assert post_focus(analyst, SAMPLE.read_bytes()).status_code == 201
    assert post_focus(analyst, resaved).status_code == 201
    month = analyst.get("/api/v1/costs/monthly?start=2026-10&end=2026-10").json()["months"][0]
    assert (month["billed_cost"], month["effective_cost"]) == ("1092.87", "495.62")


def test_other_accounts_and_billing_periods_add_up(analyst, acme):
    post_focus(analyst, billed({"BilledCost": "10", "EffectiveCost": "8"}))
    post_focus(analyst, billed({"BilledCost": "5", "EffectiveCost": "4"}, account="444455556666"))
    # A correction billed in November for a charge of October: November's bill, October's month.
    late = billed({"BilledCost": "-1", "EffectiveCost": "-1"}, period="2026-11-01T00:00:00Z")
    assert post_focus(analyst, late).json()["replaced_imports"] == []
    assert october(analyst) == ("14.00", "11.00")
    with tenant_scope(acme):
        assert CostMonth.objects.count() == 3


def test_mode_add_adds_a_further_part_of_one_export(analyst, acme):
    first = post_focus(analyst, billed({"BilledCost": "10.005", "EffectiveCost": "8"}))
    part_two = billed({"BilledCost": "5", "EffectiveCost": "4", "ChargePeriodStart": "2026-10-01T12:00:00Z"})
    second = post_focus(analyst, part_two, mode="add")
    assert (first.status_code, second.status_code) == (201, 201)
    assert (second.json()["mode"], second.json()["replaced_imports"]) == ("add", [])
    with tenant_scope(acme):
        cell = CostMonth.objects.get()
        assert (cell.billed_cost, cell.effective_cost, cell.row_count) == (Decimal("15.005"), Decimal(12), 2)
        assert cell.source_import_id == second.json()["id"]


def test_a_file_without_billing_columns_replaces_by_the_utc_month_of_its_charges(analyst):
    september = {"BilledCost": "3", "ChargePeriodStart": "2026-09-30", "ChargePeriodEnd": "2026-10-01"}
    assert post_focus(analyst, focus_csv({"BilledCost": "10"}, september)).status_code == 201
    assert post_focus(analyst, focus_csv({"BilledCost": "12"})).status_code == 201
    months = analyst.get("/api/v1/costs/monthly?start=2026-09&end=2026-10").json()["months"]
    assert [(m["month"], m["billed_cost"]) for m in months] == [("2026-09", "3.00"), ("2026-10", "12.00")]


def test_an_unknown_mode_is_a_400_naming_it(analyst):
    response = post_focus(analyst, focus_csv({}), mode="merge")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["mode"]


# --- Tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("", {}),
        ("  ", {}),
        ("{}", {}),
        ("null", {}),
        ('{"department": "payments", "cost-center": 42, "empty": null}', {"department": "payments", "cost-center": "42", "empty": ""}),
        ("department=payments;product=checkout", {"department": "payments", "product": "checkout"}),
        ("department:payments, product:checkout", {"department": "payments", "product": "checkout"}),
        ("user:department=payments", {"user:department": "payments"}),
        ("[]", {}),
        ('{"flag": true}', {"flag": "true"}),
        ('[{"key": "department", "value": "payments"}, {"Key": "env", "Value": "prod", "inherited": false}]', {"department": "payments", "env": "prod"}),
        ('"department": "payments","cost-center": "42"', {"department": "payments", "cost-center": "42"}),
    ],
)  # fmt: skip
def test_tags_are_read_from_json_or_key_value_pairs(text, tags):
    assert parse_tags(text) == tags


@pytest.mark.parametrize("text", ["[1, 2]", '["a", 3]', '"department" "payments"', '{"department": '])
def test_tags_that_are_not_a_tag_set_are_refused(text):
    from roi.focus.parse import _RowError

    with pytest.raises(_RowError):
        parse_tags(text)


def test_a_tag_is_found_by_name_case_or_provider_prefix():
    assert tag_value({"Department": "ops"}, "department") == "ops"
    assert tag_value({"user:department": "ops", "department": "exact"}, "department") == "exact"
    assert tag_value({"aws:createdBy": "x", "user:Team": "sre"}, "team") == "sre"
    assert tag_value({"Oracle-Tags.CreatedBy": "x", "Finance.Department": "ops"}, "department") == "ops"
    assert tag_value({}, "department") == ""


def test_the_department_and_product_tags_can_be_renamed(analyst, acme):
    data = focus_csv({"Tags": json.dumps({"team": "sre", "app": "portal", "department": "ignored"})})
    assert post_focus(analyst, data, department_tag="team", product_tag="app").status_code == 201
    assert set(cells(acme, "department", "product")) == {("sre", "portal")}


# --- Commands and the page --------------------------------------------------------------------------


def test_the_command_imports_and_refuses_the_same_file_twice(acme):
    out = StringIO()
    call_command("import_focus", "acme", str(SAMPLE), stdout=out)
    assert "acme: 12 charge row(s) imported" in out.getvalue()
    assert "2026-10: billed 1092.87, effective 495.62 USD" in out.getvalue()
    with pytest.raises(CommandError, match="already imported") as raised:
        call_command("import_focus", "acme", str(SAMPLE), stdout=StringIO())
    assert raised.value.returncode == 1
    with tenant_scope(acme):
        assert CostImport.objects.get().actor == "system:import_focus"


def test_the_command_takes_the_tag_names_and_prints_row_errors(acme, tmp_path):
    path = tmp_path / "focus.csv"
    path.write_bytes(focus_csv({"Tags": "team=sre;app=portal"}))
    call_command(
        "import_focus", "acme", str(path), "--department-tag", "team", "--product-tag", "app", stdout=StringIO()
    )
    assert set(cells(acme, "department", "product")) == {("sre", "portal")}

    path.write_bytes(focus_csv({"BillingCurrency": "EUR"}))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_focus", "acme", str(path), stdout=out)
    assert "row 1 (line 2): BillingCurrency: EUR differs from the tenant's currency USD" in out.getvalue()


def test_the_command_replaces_a_refreshed_export_and_prints_its_notes(acme, tmp_path):
    call_command("import_focus", "acme", str(SAMPLE), stdout=StringIO())
    refreshed = tmp_path / "refreshed.csv"
    refreshed.write_bytes(SAMPLE.read_bytes().replace(b",8.7654321,8.7654321,", b",8.7654321,,"))
    out = StringIO()
    call_command("import_focus", "acme", str(refreshed), stdout=out)
    with tenant_scope(acme):
        first = CostImport.objects.order_by("id").first()
    assert f"replaced the costs of import(s) #{first.pk} for the same billing periods" in out.getvalue()
    assert "note: 1 row(s) had no EffectiveCost" in out.getvalue()
    assert "2026-10: billed 1092.87, effective 495.62 USD" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import_focus", "acme", str(refreshed), "--mode", "merge", stdout=StringIO())


def test_the_page_adds_a_further_part_when_asked(client, acme):
    user = get_user_model().objects.create_user(username="anna", password="anna-long-password")
    membership_set_role(tenant=acme, user=user, role=Role.ANALYST)
    client.force_login(user)
    for data, mode in ((focus_csv({"BilledCost": "10"}), "replace"), (focus_csv({"BilledCost": "5"}), "add")):
        response = client.post("/t/acme/import/", {"kind": "focus-costs", "file": as_upload(data), "mode": mode})
        assert response.status_code == 200, response.content.decode()
    with tenant_scope(acme):
        assert CostMonth.objects.get().billed_cost == Decimal(15)


def test_the_page_imports_a_focus_file_for_an_analyst(client, acme):
    user = get_user_model().objects.create_user(username="anna", password="anna-long-password")
    membership_set_role(tenant=acme, user=user, role=Role.ANALYST)
    client.force_login(user)
    response = client.post(
        "/t/acme/import/", {"kind": "focus-costs", "file": as_upload(SAMPLE.read_bytes(), SAMPLE.name)}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "1092.87" in page and SAMPLE.name in page
    again = client.post("/t/acme/import/", {"kind": "focus-costs", "file": as_upload(SAMPLE.read_bytes(), SAMPLE.name)})
    assert again.status_code == 400 and "already imported" in again.content.decode()


# --- Tenants apart -------------------------------------------------------------------------------


def test_tenant_b_sees_none_of_tenant_as_costs(analyst, api_as, acme, globex, client, charlie):
    post_focus(analyst, SAMPLE.read_bytes())
    months = api_as(globex, "tenant_admin").get("/api/v1/costs/monthly?start=2026-01&end=2026-12&by=service").json()
    assert months["months"] == [] and months["currency"] == "EUR"
    client.force_login(charlie)
    page = client.get("/t/globex/import/").content.decode()
    assert SAMPLE.name not in page and "No cost imports yet" in page
    assert client.get("/t/acme/import/").status_code == 404


def test_an_import_into_b_never_touches_a(analyst, api_as, acme, globex):
    post_focus(analyst, SAMPLE.read_bytes())
    before = cells(acme, "month", "service_name", "department", "product", "charge_category")
    same_file_in_euros = SAMPLE.read_bytes().replace(b",USD,", b",EUR,")
    response = post_focus(api_as(globex, "analyst"), same_file_in_euros)
    assert response.status_code == 201  # the same cells and even the same charges: another tenant's
    assert cells(acme, "month", "service_name", "department", "product", "charge_category") == before
    assert cells(globex, "month") == {
        ("2026-09-01",): (Decimal("394.5"), Decimal("333.6")),
        ("2026-10-01",): (Decimal("1092.873457"), Decimal("495.623457")),
    }
    with tenant_scope(acme):
        assert CostImport.objects.count() == 1


def test_the_service_refuses_a_file_with_an_invalid_row(acme):
    with tenant_scope(acme), pytest.raises(CsvRowsInvalid):
        focus_import(actor=Actor.system("test"), file_name="x.csv", data=focus_csv({"BilledCost": "x"}))


# --- Bounded queries ----------------------------------------------------------------------------


def test_an_import_runs_the_same_queries_for_ten_rows_or_two_thousand(analyst):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def charges(n: int, day: int) -> bytes:
        start = {"ChargePeriodStart": f"2026-10-{day:02d}T00:00:00Z", "ChargePeriodEnd": f"2026-10-{day:02d}T01:00:00Z"}
        return focus_csv(*[start | {"BilledCost": f"{i}.01"} for i in range(n)])

    with CaptureQueriesContext(connection) as small:
        assert post_focus(analyst, charges(10, 1)).status_code == 201
    with CaptureQueriesContext(connection) as large:
        assert post_focus(analyst, charges(2000, 2)).status_code == 201
    assert len(large) == len(small)


def test_the_reads_run_a_bounded_number_of_queries(analyst, api_as, acme, client, django_assert_max_num_queries):
    post_focus(analyst, SAMPLE.read_bytes())
    viewer = api_as(acme, "viewer")
    with django_assert_max_num_queries(12):  # key, tenant, RLS settings on PostgreSQL; one for the costs
        assert viewer.get("/api/v1/costs/monthly?start=2026-01&end=2026-12&by=service").status_code == 200
    user = get_user_model().objects.create_user(username="anna", password="anna-long-password")
    membership_set_role(tenant=acme, user=user, role=Role.ANALYST)
    client.force_login(user)
    with django_assert_max_num_queries(15):  # session, user, roles, content types; one for the imports
        assert client.get("/t/acme/import/").status_code == 200
