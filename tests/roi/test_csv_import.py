"""CSV import of events: one file per kind, all rows or none, errors that point at the row and line."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.roles import Role
from governance.services import membership_set_role
from governance.tenancy import tenant_scope
from roi import csv_import
from roi.csv_import import CsvFileRefused, CsvRowsInvalid, csv_text, events_import_csv
from roi.models import AutomationRun, Deployment, Incident, Investment, MonthlyRollup, PerformanceSample

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")

CSV_BY_KIND = {
    "incidents": (
        Incident,
        "external_id,title,severity,started_at,resolved_at,affected_services,public,prevented,"
        "estimated_downtime_minutes,prevention_confidence,department,product\n"
        "INC-1,Checkout down,sev1,2026-10-05T10:00:00Z,2026-10-05T10:45:00Z,checkout;payments,yes,no,,,payments,checkout\n"
        "INC-2,Disk filling,sev2,2026-10-06T08:00:00Z,,,false,true,30,0.5,platform,\n",
    ),
    "automation-runs": (
        AutomationRun,
        "external_id,process,started_at,execution_time,manual_time_equivalent,runs,errors_avoided,department\n"
        "RUN-1,invoice-matching,2026-10-06T02:00:00Z,60,3600,3,1,finance\n"
        "RUN-2,backup-verify,2026-10-07T02:00:00+02:00,120,1800,,,\n",
    ),
    "performance-samples": (
        PerformanceSample,
        "external_id,service,measured_at,response_time_ms,availability_percent,conversion_rate\n"
        "P-1,web,2026-10-10T00:00:00Z,420,99.95,3.1\nP-2,web,2026-10-11T00:00:00Z,380.5,,\n",
    ),
    "deployments": (
        Deployment,
        "external_id,service,deployed_at,committed_at,failed,restored_at\n"
        "D-1,web,2026-10-10T12:00:00Z,2026-10-10T09:00:00Z,0,\n"
        "D-2,api,2026-10-11T12:00:00Z,,1,2026-10-11T12:40:00Z\n",
    ),
    "investments": (
        Investment,
        "external_id,name,started_at,upfront_cost,monthly_cost,expected_monthly_benefit,months\n"
        "V-1,SRE team,2026-01-01T00:00:00Z,100000,5000,25000,36\nV-2,Observability,2026-03-01T00:00:00Z,20000.50,,,\n",
    ),
}


@pytest.fixture
def anna(acme):
    """An analyst of acme: the least role that may import."""
    user = get_user_model().objects.create_user(username="anna", password="anna-long-password")
    membership_set_role(tenant=acme, user=user, role=Role.ANALYST)
    return user


def import_text(tenant, kind, text):
    with tenant_scope(tenant):
        return events_import_csv(actor=SYSTEM, kind=kind, text=text)


@pytest.mark.parametrize("kind", CSV_BY_KIND)
def test_a_csv_file_of_each_kind_imports(acme, acme_model, kind):
    model, text = CSV_BY_KIND[kind]
    outcome = import_text(acme, kind, text)
    assert (outcome.rows, outcome.created, outcome.updated) == (2, 2, 0)
    with tenant_scope(acme):
        assert model.objects.count() == 2
        assert MonthlyRollup.objects.exists()


def test_cells_become_lists_booleans_and_absent_fields(acme, acme_model):
    import_text(acme, "incidents", CSV_BY_KIND["incidents"][1])
    with tenant_scope(acme):
        real, prevented = Incident.objects.order_by("external_id")
    assert real.affected_services == ["checkout", "payments"]
    assert (real.public, real.prevented, real.downtime_minutes) == (True, False, 45)
    assert (prevented.prevented, prevented.prevention_confidence, prevented.product) == (True, Decimal("0.5"), "")
    assert prevented.value > 0 and real.downtime_cost > 0


def test_importing_the_same_rows_again_updates_them(acme, acme_model):
    import_text(acme, "automation-runs", CSV_BY_KIND["automation-runs"][1])
    again = import_text(acme, "automation-runs", CSV_BY_KIND["automation-runs"][1].replace(",3,1,", ",5,1,"))
    assert (again.created, again.updated) == (0, 2)
    with tenant_scope(acme):
        assert AutomationRun.objects.get(external_id="RUN-1").runs == 5


def test_a_bom_and_windows_line_endings_are_read(acme, acme_model):
    _, text = CSV_BY_KIND["deployments"]
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    assert import_text(acme, "deployments", csv_text(data)).rows == 2


def test_row_errors_name_row_line_and_field_and_store_nothing(acme, acme_model):
    # given a title spanning two lines, so row 3 starts on line 5, and two bad rows
    text = (
        "external_id,title,severity,started_at,downtime_minutes\n"
        'INC-1,"Checkout\ndown",sev1,2026-10-05T10:00:00Z,30\n'
        "INC-2,Slow,sev2,2026-10-06T10:00:00Z,-5\n"
        "INC-3,Outage,sev9,yesterday,10\n"
    )
    # when
    with pytest.raises(CsvRowsInvalid) as raised:
        import_text(acme, "incidents", text)
    # then
    assert raised.value.messages == [
        "row 2 (line 4): downtime_minutes: must not be negative",
        "row 3 (line 5): severity: must be one of sev1, sev2, sev3, sev4",
        "row 3 (line 5): started_at: must be an ISO 8601 date-time, e.g. 2026-11-02T14:05:00+00:00",
    ]
    with tenant_scope(acme):
        assert Incident.objects.count() == 0 and LedgerRecord.objects.count() == 0


def test_an_error_in_a_later_chunk_rolls_back_the_earlier_chunks(acme, acme_model, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK", 2)
    rows = [f"RUN-{n},p,2026-10-06T02:00:00Z,60,{'x' if n == 5 else 3600}" for n in range(1, 7)]
    text = "external_id,process,started_at,execution_time,manual_time_equivalent\n" + "\n".join(rows)
    with pytest.raises(CsvRowsInvalid) as raised:
        import_text(acme, "automation-runs", text)
    assert [m.split(": ")[0:2] for m in raised.value.messages] == [["row 5 (line 6)", "manual_time_equivalent"]]
    with tenant_scope(acme):
        assert AutomationRun.objects.count() == 0 and MonthlyRollup.objects.count() == 0
        assert LedgerRecord.objects.count() == 0


def test_large_files_go_in_chunks_of_the_batch_limit(acme, acme_model, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK", 3)
    rows = [f"D-{n},web,2026-10-{n:02d}T12:00:00Z" for n in range(1, 8)]
    outcome = import_text(acme, "deployments", "external_id,service,deployed_at\n" + "\n".join(rows))
    assert (outcome.rows, outcome.created) == (7, 7)


def test_the_same_external_id_twice_in_a_file_is_an_error(acme, acme_model):
    text = "external_id,service,deployed_at\nD-1,web,2026-10-10T12:00:00Z\n\nD-1,web,2026-10-11T12:00:00Z\n"
    with pytest.raises(CsvRowsInvalid) as raised:
        import_text(acme, "deployments", text)
    assert raised.value.messages == [
        "row 2 (line 4): external_id: D-1 appears twice in this file (first at row 1 (line 2))"
    ]


def test_a_row_longer_than_the_header_is_an_error(acme, acme_model):
    text = "external_id,service,deployed_at\nD-1,web,2026-10-10T12:00:00Z,surprise\n"
    with pytest.raises(CsvRowsInvalid, match="has 4 cells, the header names 3"):
        import_text(acme, "deployments", text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("external_id,service,deployed_at,colour\nD-1,web,2026-10-10T12:00:00Z,red\n", "colour: is not a field"),
        ("external_id,service\nD-1,web\n", "lacks required column(s): deployed_at"),
        ("external_id,service,service\n", "service is named twice"),
        ("external_id,service,deployed_at\n", "no data rows"),
        ("\n\n", "The file is empty"),
    ],
)
def test_a_bad_header_or_an_empty_file_is_refused(acme, acme_model, text, message):
    with pytest.raises(CsvFileRefused) as raised:
        import_text(acme, "deployments", text)
    assert message in "; ".join(raised.value.messages)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"external_id\n\xe9t\xe9\n", "not UTF-8"), (b"external_id\nD-1\x00\n", "binary content")],
)
def test_text_that_is_not_utf8_csv_is_refused(data, message):
    with pytest.raises(CsvFileRefused, match=message):
        csv_text(data)


# --- The command ----------------------------------------------------------------------------


def test_the_command_imports_a_file(acme, acme_model, tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(CSV_BY_KIND["automation-runs"][1])
    out = StringIO()
    call_command("import_events", "acme", "automation-runs", str(path), stdout=out)
    assert "acme: 2 automation-runs row(s) imported: 2 new" in out.getvalue()
    with tenant_scope(acme):
        assert AutomationRun.objects.count() == 2


def test_the_command_exits_1_printing_each_row_error(acme, acme_model, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("external_id,service,deployed_at\nD-1,web,soon\n")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_events", "acme", "deployments", str(path), stdout=out)
    assert raised.value.returncode == 1
    assert "row 1 (line 2): deployed_at: must be an ISO 8601 date-time" in out.getvalue()
    with tenant_scope(acme):
        assert Deployment.objects.count() == 0


def test_the_command_refuses_an_unknown_tenant(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("external_id\n")
    with pytest.raises(CommandError, match="No tenant"):
        call_command("import_events", "nope", "deployments", str(path))


# --- The upload page ------------------------------------------------------------------------


def upload(name, content, content_type="text/csv"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_an_analyst_imports_a_file_on_the_page(client, anna, acme, acme_model):
    client.force_login(anna)
    assert client.get("/t/acme/import/").status_code == 200
    _, text = CSV_BY_KIND["deployments"]
    response = client.post("/t/acme/import/", {"kind": "deployments", "file": upload("deploys.csv", text.encode())})
    assert response.status_code == 200
    assert "Imported" in response.content.decode()
    with tenant_scope(acme):
        assert Deployment.objects.count() == 2


def test_the_page_lists_the_row_errors_and_stores_nothing(client, anna, acme, acme_model):
    client.force_login(anna)
    data = b"external_id,service,deployed_at\nD-1,web,soon\n"
    response = client.post("/t/acme/import/", {"kind": "deployments", "file": upload("d.csv", data)})
    assert response.status_code == 400
    assert "row 1 (line 2): deployed_at: must be an ISO 8601 date-time" in response.content.decode()
    with tenant_scope(acme):
        assert Deployment.objects.count() == 0


def test_the_tenant_page_links_to_the_import_page_for_analysts(client, anna, bob):
    client.force_login(anna)
    assert "/t/acme/import/" in client.get("/t/acme/settings/").content.decode()
    client.force_login(bob)
    assert "/t/acme/import/" not in client.get("/t/acme/settings/").content.decode()


def test_the_page_is_403_for_a_viewer(client, bob, acme):
    client.force_login(bob)
    assert client.get("/t/acme/import/").status_code == 403
    data = CSV_BY_KIND["deployments"][1].encode()
    assert client.post("/t/acme/import/", {"kind": "deployments", "file": upload("d.csv", data)}).status_code == 403
    with tenant_scope(acme):
        assert Deployment.objects.count() == 0


def test_the_page_is_404_for_another_tenant(client, charlie, acme):
    client.force_login(charlie)
    data = CSV_BY_KIND["deployments"][1].encode()
    assert client.get("/t/acme/import/").status_code == 404
    assert client.post("/t/acme/import/", {"kind": "deployments", "file": upload("d.csv", data)}).status_code == 404
    with tenant_scope(acme):
        assert Deployment.objects.count() == 0


def test_an_oversized_upload_is_refused(client, anna, acme):
    client.force_login(anna)
    data = b"external_id,service,deployed_at\n" + b"x" * csv_import.MAX_UPLOAD_BYTES
    response = client.post("/t/acme/import/", {"kind": "deployments", "file": upload("big.csv", data)})
    assert response.status_code == 400
    assert "the limit is 20,971,520" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("chart.png", b"\x89PNG\r\n\x1a\n", "image/png", "Send a CSV file (text/csv); this one is image/png"),
        ("book.xlsx", b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Send a CSV"),
        ("data.bin", b"a,b\n", "application/octet-stream", "Send a CSV"),
        ("fake.csv", b"external_id\nD\x00\n", "text/csv", "binary content"),
        ("latin1.csv", "external_id\nD-é\n".encode("latin-1"), "text/csv", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_utf8_csv_is_refused(client, anna, acme, name, content, content_type, message):
    client.force_login(anna)
    response = client.post("/t/acme/import/", {"kind": "deployments", "file": upload(name, content, content_type)})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_untyped_upload_named_csv_is_read(client, anna, acme, acme_model):
    client.force_login(anna)
    data = CSV_BY_KIND["deployments"][1].encode()
    file = upload("d.csv", data, "application/octet-stream")
    assert client.post("/t/acme/import/", {"kind": "deployments", "file": file}).status_code == 200
