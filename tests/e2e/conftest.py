from tests.dashboards.conftest import history  # noqa: F401  (the same little history, in the browser)
