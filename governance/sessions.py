"""Sessions kept in the database exactly as Django's own backend keeps them, read by hand.

Every page and session API call reads its session before anything else; compiling the ORM's
`Session.objects.get(…)` cost more Python than the statement costs the database
(governance.sql). Same table, same rows, same one statement; writing is Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from governance import sql


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        found = sql.instances(
            self.model,
            '"session_key" = %s AND "expire_date" > %s',
            [self.session_key, sql.adapt_datetime(timezone.now())],
            limit=1,
        )
        if not found:
            self._session_key = None  # as Django's: a missing or expired session starts afresh
            return None
        return found[0]
