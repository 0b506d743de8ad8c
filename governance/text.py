"""Text no database column can hold: a NUL character, or a lone surrogate.

PostgreSQL refuses NUL in `text` and `jsonb` (a 500 if it gets that far) while SQLite stores
it; a lone surrogate (half of a UTF-16 pair, sent as the JSON escape ``\\ud800``) cannot be
encoded to UTF-8 at all. Both are refused wherever text enters, with a 400 naming the field,
so the answer is the same on every database.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# How they are spelled in JSON source (raw they are a parse error already): a cheap pre-check
# before a body is walked. A surrogate pair is combined by the parser, so only lone ones remain.
UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
NUL_REFUSED = "Null characters are not allowed."


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored, or None if it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return NUL_REFUSED
    return f"Lone surrogate characters are not allowed (U+{ord(found.group()):04X})."


def escaped(text: str) -> str:
    """`text` with each NUL and lone surrogate written as ``\\uXXXX``, safe to store and show."""
    return UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
