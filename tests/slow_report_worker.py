"""A real Celery worker whose report rendering can be slowed down, for the killed-worker fault test.

    python -m tests.slow_report_worker QUEUE

Environment: the usual settings (DATABASE_URL, REDIS_URL, MEDIA_ROOT, EMAIL_URL), plus
FAULT_RENDER_SECONDS (sleep inside the report's transaction, while rendering the PDF),
FAULT_MARKER (a file created when rendering starts) and FAULT_VISIBILITY_TIMEOUT (seconds
before Redis hands an unacknowledged task to another worker). Nothing here is product code.
"""

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizvalue.settings")
django.setup()

from bizvalue.celery import app  # noqa: E402
from dashboards.reports import services as report_services  # noqa: E402

render_pdf = report_services.render_pdf


def slow_render_pdf(figures):
    Path(os.environ["FAULT_MARKER"]).touch()
    time.sleep(float(os.environ.get("FAULT_RENDER_SECONDS", "0")))
    return render_pdf(figures)


report_services.render_pdf = slow_render_pdf
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": float(os.environ.get("FAULT_VISIBILITY_TIMEOUT", "3600")),
    # Look for abandoned tasks every second (kombu's default is about every 100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

if __name__ == "__main__":
    app.worker_main(
        ["worker", "--pool=solo", "-Q", sys.argv[1], "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    )
