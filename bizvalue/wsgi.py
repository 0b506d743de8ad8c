"""WSGI entry point for gunicorn: `gunicorn bizvalue.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

from bizvalue.chunked import ChunkedRequestBody

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizvalue.settings")
# Chunked request bodies are read in one place, for every view (bizvalue.chunked).
application = ChunkedRequestBody(get_wsgi_application())
