"""Text no database column can hold: a NUL character, or a lone surrogate.

PostgreSQL refuses NUL in `text` and `jsonb` (a 500 if it gets that far) while SQLite stores
it; a lone surrogate (half of a UTF-16 pair, sent as the JSON escape ``\\ud800``) cannot be
encoded to UTF-8 at all. Both are refused wherever text enters, with a 400 naming the field,
so the answer is the same on every database.
"""

from __future__ import annotations

import re

UNSTORABLE_MESSAGE = "must not contain NUL characters or unpaired surrogates"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# How they are spelled in JSON source (raw they are a parse error already): a cheap pre-check
# before a body is walked. A surrogate pair is combined by the parser, so only lone ones remain.
UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def storable(text: str) -> bool:
    """Whether a database text column can hold `text`: no NUL, and valid UTF-8 (no lone surrogate)."""
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored, or None if it can."""
    return None if storable(text) else UNSTORABLE_MESSAGE


def escaped(text: str) -> str:
    """`text` with each NUL and lone surrogate written as ``\\uXXXX``, safe to store and show."""
    return UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
