"""WSGI entry point for gunicorn: `gunicorn bizvalue.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from bizvalue.chunked import ChunkedRequestBody

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizvalue.settings")
# Chunked request bodies are read in one place, for every view (bizvalue.chunked).
application = ChunkedRequestBody(get_wsgi_application())
# Import the URLconf and every view as the worker boots, not on its first request: a
# worker answers /healthz and /readyz before any URL is resolved (bizvalue.health), so a
# worker the proxy sees as ready must not still owe seconds of imports to a user.
get_resolver().url_patterns  # noqa: B018
