"""The Celery app: Redis in production, kombu's filesystem transport in embedded mode."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizvalue.settings")

app = Celery("bizvalue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
