"""Requests to a `live_server` from threads, for the concurrency tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def post_json(url: str, raw_key: str, body: Any, *, headers: dict[str, str] | None = None, timeout: float = 120) -> int:
    """POST `body` as JSON with the API key; the response's status (an error status is returned, not raised)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
