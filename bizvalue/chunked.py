"""A request body sent with `Transfer-Encoding: chunked` is read, not taken for empty.

Such a request has no Content-Length, and Django reads exactly CONTENT_LENGTH bytes of a
body: none, so a chunked JSON POST arrived as an empty body (a misleading 400) and a form
as no fields. gunicorn de-chunks the body itself and marks `wsgi.input` as ending where it
ends (`wsgi.input_terminated`); this layer reads it there, once, for every view, spooled
to disk past FILE_UPLOAD_MAX_MEMORY_SIZE, and hands it on with its length. A body longer
than the largest the product takes is a 413, and a server that does not de-chunk is told
to send a length (411) rather than have chunk framing read as the body.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
READ_BLOCK = 64 * 1024
# Room for a multipart envelope around a file at the limit (roi.costs_api takes the same).
MULTIPART_ALLOWANCE = 64 * 1024


def is_chunked(environ: dict[str, Any]) -> bool:
    """Whether the request's body is chunked and carries no length of its own."""
    codings = environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return "chunked" in codings and not environ.get("CONTENT_LENGTH")


class ChunkedRequestBody:
    """WSGI middleware around Django's handler: gives a de-chunked body its Content-Length."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_chunked(environ):
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _refuse(environ, start_response, "411 Length Required", "Send a Content-Length.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        cap = None if limit is None else limit + MULTIPART_ALLOWANCE
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        length = 0
        while block := environ["wsgi.input"].read(READ_BLOCK):
            length += len(block)
            if cap is not None and length > cap:
                body.close()
                message = f"The request body exceeds the limit of {limit:,} bytes."
                return _refuse(environ, start_response, "413 Request Entity Too Large", message)
            body.write(block)
        body.seek(0)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(length)
        response = self.app(environ, start_response)
        return _closing_also(response, body)


def _closing_also(response: Iterable[bytes], body: Any) -> Iterable[bytes]:
    try:
        yield from response
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
        body.close()


def _refuse(environ: dict[str, Any], start_response: Callable[..., Any], status: str, message: str) -> list[bytes]:
    # The same envelope as the API's errors (governance.errors); plain text for pages.
    if environ.get("PATH_INFO", "").startswith("/api/"):
        content, content_type = json.dumps({"errors": {"body": [message]}}).encode(), "application/json"
    else:
        content, content_type = message.encode(), "text/plain; charset=utf-8"
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(content)))])
    return [content]
