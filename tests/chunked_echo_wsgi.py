"""A WSGI app for the chunked-body test under a real gunicorn: the body Django's request reads, echoed back."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizvalue.settings")
django.setup()

from django.core.handlers.wsgi import WSGIRequest  # noqa: E402

from bizvalue.chunked import ChunkedRequestBody  # noqa: E402


def echo(environ, start_response):
    body = WSGIRequest(environ).body
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body]


application = ChunkedRequestBody(echo)
