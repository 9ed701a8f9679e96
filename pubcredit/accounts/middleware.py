"""The idle timeout of a signed-in session: it ends SESSION_COOKIE_AGE (30 minutes) after the
last request, not after the login.

Django renews a session's expiry only when the session is saved. SESSION_SAVE_EVERY_REQUEST
would make every staff request a database write (the intake page polls its status every
second, beside long loads); instead a signed-in session is marked changed, and so saved with a
fresh expiry, when its last renewal is RENEW_AFTER_SECONDS old. The idle timeout is therefore
exact to within that minute. Anonymous requests, and requests that never read the session, are
left alone (no session read, no Vary: Cookie).
"""

from __future__ import annotations

import time

from django.contrib.auth import SESSION_KEY

RENEW_AFTER_SECONDS = 60
RENEWED_KEY = "_pubcredit_renewed"


class IdleSessionMiddleware:
    """Between SessionMiddleware (which saves) and the view: renews signed-in sessions."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or SESSION_KEY not in session:
            return response
        now = int(time.time())
        if now - session.get(RENEWED_KEY, 0) >= RENEW_AFTER_SECONDS:
            session[RENEWED_KEY] = now  # modified: SessionMiddleware saves it, expiry renewed
        return response
