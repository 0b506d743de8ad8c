"""Idle and absolute limits on the sessions of members who can change or attest figures.

A person who must pass MFA (an elevated role on any tenant, or platform staff:
`governance.mfa.mfa_required`) is signed out after `ELEVATED_SESSION_IDLE_TIMEOUT` without
a request, and `ELEVATED_SESSION_ABSOLUTE_TIMEOUT` after signing in, whichever comes first.
Everyone else keeps Django's session age. The limit belongs to the person's session, not
to the tenant in the URL: one session serves every tenant the person belongs to, so a
viewer of one tenant who is finance admin of another has the strict limits on both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from governance import mfa

SIGNED_IN_AT = "bizvalue_signed_in_at"
LAST_SEEN_AT = "bizvalue_last_seen_at"
NOT_ELEVATED_AT = "bizvalue_not_elevated_at"
# Storing the time of every request would write the session row on every request; a stamp
# at most a minute stale is precise enough for a limit counted in minutes.
RESOLUTION = 60
# Sent by the page's own polling (static/js/live.js): not the person at the keyboard, so it
# must not keep an idle session alive.
BACKGROUND_HEADER = "X-BizValue-Background"


def _now() -> int:
    return int(timezone.now().timestamp())


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Stamp a new session with its sign-in time, from which the absolute limit counts."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = _now()


def limit_passed(*, session: Any, now: int) -> str | None:
    """The message to sign out with if this session has outlived a limit for elevated sessions, else None.

    A session without stamps began before the limits existed: its age is unknown, so it has passed.
    """
    signed_in_at, last_seen_at = session.get(SIGNED_IN_AT), session.get(LAST_SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(last_seen_at, int):
        return "You were signed out: please sign in again."
    absolute: timedelta = settings.ELEVATED_SESSION_ABSOLUTE_TIMEOUT
    if now - signed_in_at >= absolute.total_seconds():
        return f"You were signed out {_duration(absolute)} after signing in: please sign in again."
    idle: timedelta = settings.ELEVATED_SESSION_IDLE_TIMEOUT
    if now - last_seen_at >= idle.total_seconds():
        return f"You were signed out after {_duration(idle)} without activity: please sign in again."
    return None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class ElevatedSessionLimitMiddleware:
    """Signs an elevated session out on its first request past a limit, saying why.

    Whether the person is elevated costs a query, so it is asked only once a limit has
    passed (then at most once a minute); every other request just refreshes the idle stamp,
    at most once a minute.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.get_response(request)
        session, now = request.session, _now()
        reason = limit_passed(session=session, now=now)
        if reason is not None and not _recently_not_elevated(session, now):
            if mfa.mfa_required(request.user):
                return _signed_out(request, reason)
            # A viewer's long session stays; ask again a minute later, in case a role was granted.
            session.setdefault(SIGNED_IN_AT, now)
            session[NOT_ELEVATED_AT] = now
        if not request.headers.get(BACKGROUND_HEADER) and now - session.get(LAST_SEEN_AT, 0) >= RESOLUTION:
            session[LAST_SEEN_AT] = now
        return self.get_response(request)


def _recently_not_elevated(session: Any, now: int) -> bool:
    checked_at = session.get(NOT_ELEVATED_AT)
    return isinstance(checked_at, int) and now - checked_at < RESOLUTION


def _signed_out(request: HttpRequest, reason: str) -> HttpResponse:
    logout(request)
    if request.path_info.startswith("/api/"):
        return JsonResponse({"errors": {"detail": [reason]}}, status=401)
    messages.warning(request, reason)  # on the sign-in page, also when the overview reloads onto it
    if request.headers.get(BACKGROUND_HEADER):
        return JsonResponse({"errors": {"detail": [reason]}}, status=401)
    if request.method == "GET":
        return redirect_to_login(request.get_full_path())
    return redirect_to_login("/")
