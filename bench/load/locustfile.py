"""Locust users for the load test (bench/load/run.py starts everything and runs this headless).

Three kinds of visitor of the seeded `demo` tenant, each request named by its endpoint:

  DashboardReader  the four dashboard endpoints of the API, with a viewer key
  PageReader       the executive overview page, logged in as the demo viewer (session cookie)
  Ingester         batches of automation runs with fresh external ids, with an ingest key

Settings come from the environment: LOAD_VIEWER_KEY, LOAD_INGEST_KEY, LOAD_USERNAME,
LOAD_PASSWORD, LOAD_TENANT (default demo) and LOAD_BATCH (events per batch, default 50);
LOAD_ONE_OF_EACH=1 starts exactly one user of each kind (the smoke run, with --users 3).
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, task

TENANT = os.environ.get("LOAD_TENANT", "demo")
BATCH = int(os.environ.get("LOAD_BATCH", "50"))
DASHBOARDS = ("executive", "trends", "comparative", "real-time")
# Unique across users, processes and runs: a run never updates events of another.
RUN = uuid.uuid4().hex[:8]
SEQUENCE = itertools.count()


class DashboardReader(HttpUser):
    weight = 3
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_VIEWER_KEY']}"

    @task
    def dashboard(self) -> None:
        name = random.choice(DASHBOARDS)
        self.client.get(f"/api/v1/dashboard/{name}", name=f"GET /api/v1/dashboard/{name}")


class PageReader(HttpUser):
    weight = 1
    wait_time = between(1, 2)

    def _keep_cookies_on_plain_http(self) -> None:
        # With DEBUG off the cookies are Secure: sent only over HTTPS, which a TLS proxy gives
        # in production. Here, on loopback without one, the client sends them anyway.
        for cookie in self.client.cookies:
            cookie.secure = False

    def on_start(self) -> None:
        self.client.get("/accounts/login/", name="GET /accounts/login/")
        self._keep_cookies_on_plain_http()
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/accounts/login/",
            data={"username": os.environ["LOAD_USERNAME"], "password": os.environ["LOAD_PASSWORD"]},
            headers={"X-CSRFToken": token, "Referer": f"{self.host}/accounts/login/"},
            name="POST /accounts/login/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
        self._keep_cookies_on_plain_http()

    @task
    def overview(self) -> None:
        with self.client.get(
            f"/t/{TENANT}/", name="GET /t/<slug>/ (overview page)", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:  # a redirect to the login page is a failure here
                response.failure(f"overview answered {response.status_code}")


class Ingester(HttpUser):
    weight = 1
    wait_time = between(1, 2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_INGEST_KEY']}"

    @task
    def automation_runs(self) -> None:
        # Within the current month, which is never a closed period.
        now = datetime.now(UTC)
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        minutes = max(1, int((now - month_start).total_seconds() // 60))
        batch = [
            {
                "external_id": f"load-{RUN}-{next(SEQUENCE)}",
                "process": random.choice(("invoice-matching", "user-provisioning", "backup-verification")),
                "started_at": (month_start + timedelta(minutes=random.randrange(minutes))).isoformat(),
                "execution_time": str(random.randint(30, 600)),
                "manual_time_equivalent": str(random.randint(900, 7200)),
                "runs": random.randint(1, 20),
                "department": random.choice(("finance", "it", "operations")),
                "product": random.choice(("erp", "identity", "platform")),
            }
            for _ in range(BATCH)
        ]
        self.client.post("/api/v1/events/automation-runs", json=batch, name="POST /api/v1/events/automation-runs")


if os.environ.get("LOAD_ONE_OF_EACH") == "1":
    # (No module-level name may hold a user class twice: locust would see a duplicate.)
    DashboardReader.fixed_count = PageReader.fixed_count = Ingester.fixed_count = 1
