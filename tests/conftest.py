"""The standing cast and the harness.

Tenants `acme` and `globex`; alice (finance_admin of acme), bob (viewer of acme), carol
(auditor of acme), tara (tenant_admin of acme), charlie (analyst of globex), gus
(tenant_admin of globex).

On PostgreSQL the tests run as the application's role (DATABASE_APP_ROLE), not as the
owner that migrated the database, so every test goes through row-level security exactly
as production does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import hypothesis
import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client as DjangoClient
from rest_framework.test import APIClient

from governance.models import Tenant
from governance.roles import Role
from governance.services import api_key_create, membership_set_role, tenant_create
from governance.tenancy import tenant_scope

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper


# --- Collection: services a test needs, and no silent skips in CI ---------------------


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


# Timing is not what these properties test: a loaded CI machine must not fail them.
hypothesis.settings.register_profile("bizvalue", deadline=None, print_blob=True)
hypothesis.settings.load_profile("bizvalue")


def pytest_configure(config: pytest.Config) -> None:
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) what this run's services cannot host: the PostgreSQL run has them all."""
    unavailable = set()
    unavailable.add("sqlite" if _on_postgres() else "postgres")
    if not settings.REDIS_URL:
        unavailable.add("redis")
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if any(item.get_closest_marker(m) for m in unavailable) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    _let_database_tests_use_the_platform_connection(items)


def _let_database_tests_use_the_platform_connection(items: list[pytest.Item]) -> None:
    """On PostgreSQL every database test may use the `platform` alias (all_tenants_scope).

    Each test then runs in a transaction on both connections. The platform connection cannot
    see what the test wrote on the default one until it commits: tests of cross-tenant paths
    over such rows are transactional (see root_client).
    """
    from pytest_django.fixtures import validate_django_db

    if "platform" not in settings.DATABASES:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        if marker is None and not {"db", "transactional_db"} & set(fixtures):
            continue
        transaction, reset_sequences, databases, serialized_rollback, available_apps = (
            validate_django_db(marker) if marker else (False, False, None, False, None)
        )
        if databases is None:
            item.add_marker(
                pytest.mark.django_db(
                    transaction=transaction,
                    reset_sequences=reset_sequences,
                    databases="__all__",
                    serialized_rollback=serialized_rollback,
                    available_apps=available_apps,
                ),
                append=False,
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped or xfailed test fails the run: it would hide a failure."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    hidden = [*reporter.stats.get("skipped", []), *reporter.stats.get("xfailed", [])] if reporter else []
    if hidden:
        reporter.write_line(f"CI: {len(hidden)} test(s) skipped or xfailed; failing the run.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- Database: run as the application's role --------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SQLite tests use a database file, as the embedded mode does, not Django's in-memory one.

    The in-memory database has one connection, which a live server shares between all its
    request threads; with a file each thread has its own, and concurrent requests queue on
    SQLite's write lock exactly as the embedded mode's do (the concurrency tests run on both
    databases).
    """
    if not _on_postgres():
        connections["default"].settings_dict["TEST"]["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    owner = connection.settings_dict["USER"]
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Test-only grant: Django empties tables between transactional tests with
        # TRUNCATE, which production never grants the application role.
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{settings.DATABASE_APP_ROLE}"')
        if "platform" in connections:
            platform = connections["platform"].settings_dict["USER"]
            cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{platform}"')
    connection.close()
    cast("PostgresWrapper", connection).close_pool()
    connection.settings_dict["USER"] = settings.DATABASE_APP_ROLE
    yield
    connections.close_all()
    cast("PostgresWrapper", connection).close_pool()
    connection.settings_dict["USER"] = owner


# SQLite: Django empties tables between transactional tests with DELETE, which the
# append-only triggers (ledger, history, audit) refuse. Around such tests every trigger is
# dropped just before the flush and put back, from its own SQL, right after it
# (PostgreSQL's TRUNCATE needs none of this).
_SQLITE_TRIGGERS: dict[str, str] = {}


def _transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture(autouse=True)
def _sqlite_ledger_flush_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    transactional = not _on_postgres() and _transactional(request)
    if transactional:
        request.getfixturevalue("_drop_sqlite_ledger_triggers_before_flush")
    yield
    if transactional:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {row[0] for row in cursor.fetchall()}
            for name, statement in _SQLITE_TRIGGERS.items():
                if name not in present:
                    cursor.execute(statement)


@pytest.fixture
def _drop_sqlite_ledger_triggers_before_flush(transactional_db: None) -> Iterator[None]:
    yield
    if not _on_postgres():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            for name, statement in cursor.fetchall():
                _SQLITE_TRIGGERS[name] = statement
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


@pytest.fixture
def owner_sql(django_db_setup: None) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run SQL as the database owner (a superuser here), outside the app's connection."""
    params = connections["default"].settings_dict
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=os.environ.get("DATABASE_OWNER", "postgres"),
        dbname=params["NAME"],
        autocommit=True,
    ) as conn:

        def run(sql: str, *args: Any) -> list[tuple[Any, ...]]:
            with conn.cursor() as cursor:
                cursor.execute(sql, args or None)
                return cursor.fetchall() if cursor.description else []

        yield run


@pytest.fixture(autouse=True)
def _ledger_anchor_file(settings: Any, tmp_path: Any) -> None:
    """Each test anchors ledger heads in its own file: ids repeat across tests' databases."""
    settings.LEDGER_ANCHOR_FILE = tmp_path / "ledger-anchors.jsonl"


# --- The cast ---------------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Any, admin_user: Any, transactional_db: None) -> Any:
    """pytest-django's superuser client, transactional like root_client (admin's own connection)."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def root_client(client: Any, django_user_model: Any, transactional_db: None) -> Any:
    """A platform admin (superuser), logged in.

    Transactional: admin reads through the platform role's own connection, which sees only
    committed rows.
    """
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    return client


# acme and globex start without dual approval, so a finance admin's change applies at once
# in tests about other things; tests/roi/test_proposals.py switches it on (the product default).
@pytest.fixture
def acme(db: None) -> Tenant:
    return tenant_create(
        slug="acme", name="Acme Corp", currency="USD", fiscal_year_start_month=4, require_dual_approval=False
    )


@pytest.fixture
def globex(db: None) -> Tenant:
    return tenant_create(slug="globex", name="Globex", currency="EUR", require_dual_approval=False)


def _member(username: str, tenant: Tenant, role: str) -> Any:
    user = get_user_model().objects.create_user(username=username, password=f"{username}-long-password")
    membership_set_role(tenant=tenant, user=user, role=role)
    return user


@pytest.fixture
def alice(acme: Tenant) -> Any:
    return _member("alice", acme, Role.FINANCE_ADMIN)


@pytest.fixture
def bob(acme: Tenant) -> Any:
    return _member("bob", acme, Role.VIEWER)


@pytest.fixture
def carol(acme: Tenant) -> Any:
    return _member("carol", acme, Role.AUDITOR)


@pytest.fixture
def tara(acme: Tenant) -> Any:
    return _member("tara", acme, Role.TENANT_ADMIN)


@pytest.fixture
def charlie(globex: Tenant) -> Any:
    return _member("charlie", globex, Role.ANALYST)


@pytest.fixture
def gus(globex: Tenant) -> Any:
    return _member("gus", globex, Role.TENANT_ADMIN)


@pytest.fixture
def make_key(db: None) -> Callable[..., str]:
    """Issue a key for `tenant` with `role` and return the raw key."""

    def make(tenant: Tenant, role: str, name: str = "") -> str:
        with tenant_scope(tenant):
            return api_key_create(name=name or f"{role} key", role=role).raw_key

    return make


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(make_key: Callable[..., str]) -> Callable[[Tenant, str], APIClient]:
    """A client calling the API with a fresh key of `role` for `tenant`."""

    def client_for(tenant: Tenant, role: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, role)}")
        return client

    return client_for


# The brief's figures, with its inconsistent derived revenue figures left out.
ACME_MODEL = {
    "revenue_model": {"annual_recurring_revenue": "56000000"},
    "cost_model": {
        "it_staff_hourly_rate": "75",
        "engineer_hourly_rate": "120",
        "infrastructure_cost_per_hour": "50",
        "customer_support_cost_per_incident": "150",
        "cost_per_error": "200",
        "compliance_value_per_check": "1000",
        "development_value_per_day": "2000",
    },
    "impact_model": {
        "customer_count": "2000",
        "customer_churn_rate_per_incident": "0.02",
        "new_customer_acquisition_cost": "5000",
        "customer_lifetime_value": "10000",
        "brand_impact_factor": "1.5",
    },
}


@pytest.fixture
def acme_model(acme: Tenant) -> Any:
    """Acme's financial model, version 1, in force since 2020."""
    from datetime import UTC, datetime

    from governance.ledger import Actor
    from roi.services import financial_model_update

    with tenant_scope(acme):
        return financial_model_update(
            actor=Actor.system("test"),
            groups=ACME_MODEL,
            change_reason="Initial figures",
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )


# --- MFA: elevated members must have entered a TOTP token in their session -----------------


def plain_login(client: Any, user: Any) -> None:
    """Django's force_login, untouched: a session that has not passed MFA (for tests of MFA itself)."""
    _django_force_login(client, user)


def verified_login(client: Any, user: Any) -> None:
    """Log `user` in with a confirmed TOTP device, as right after entering a valid token."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _django_force_login(client, user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


_django_force_login = DjangoClient.force_login


@pytest.fixture(autouse=True)
def _force_login_passes_mfa(monkeypatch: pytest.MonkeyPatch) -> None:
    """`client.force_login(user)` in tests is `verified_login`: tests about roles need not repeat MFA.

    Tests of MFA itself use `plain_login`; MFA changes nothing for users it does not apply to.
    """
    monkeypatch.setattr(DjangoClient, "force_login", lambda client, user, backend=None: verified_login(client, user))
