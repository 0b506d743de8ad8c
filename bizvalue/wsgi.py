"""WSGI entry point for gunicorn: `gunicorn bizvalue.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizvalue.settings")
application = get_wsgi_application()
