"""The check lane: `POST /api/v1/checks` from a system with an API key, served by a WSGI layer in
front of Django instead of through the whole request stack.

A department system or a bank sends thousands of checks a minute, each a short JSON body with a
Bearer key. On a 2-core server, Django's middleware, URL resolving and django-ninja's request
machinery cost about as much CPU as the check itself. The lane answers such a request with the
same code the API view runs and only the middleware work that applies to it:

- the same authentication (`ApiKeyAuth`, which ninja runs for the view), the same body parsing
  (ninja's parser) and validation (`CheckIn`), the same check (`checks_api.check_response`,
  which the view also calls: `checks.run_check`, its log row, its JSON);
- the request and response hooks of the middleware that shape such a response (security
  headers, the language from Accept-Language or the language cookie, Content-Length,
  X-Frame-Options, Content-Security-Policy), in the configured order, and Django's
  request_started / request_finished signals (connection ageing and health checks);
- not the session (and its idle timeout), CSRF, authentication-by-session, messages and
  login-throttling (django-axes) middleware: a Bearer request touches none of them, so they do
  nothing to it.

Anything else takes the full stack, unchanged: another path or method, no Bearer header, a key
that does not authenticate, a body that is not valid JSON or not a valid `CheckIn`, a role
without "checks.run", an invalid identifier or an unknown matter, a middleware refusing or
answering the request (a disallowed host, an HTTPS redirect), or any error before the check is
logged. The lane never writes anything the full stack would not: the log row is the check's last
statement, and a request is handed on only before it. The full stack then answers with its own
status, error shape and headers, so every error is exactly what the API documents.

The lane turns itself off (everything takes the full stack) when settings.MIDDLEWARE holds a
middleware it does not know, or when PUBCREDIT_CHECK_LANE is false. Tests hold its answers to
the full stack's, status, headers and body.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.urls import reverse, set_script_prefix
from django.utils.module_loading import import_string
from ninja.parser import Parser

from pubcredit.accounts.api import ApiKeyAuth
from pubcredit.checks import api as checks_api

logger = logging.getLogger("pubcredit.checks")

# Middleware whose hooks the lane runs for a lane request (their process_request may answer or
# refuse it, which hands the request to the full stack).
RUN = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
    }
)
# Middleware that does nothing to a request authenticated by an API key that neither reads
# the session nor uses messages or CSRF (ninja exempts its views from CSRF), nor logs in with a
# password (django-axes acts only on a password login that was locked out).
SKIP = frozenset(
    {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "pubcredit.accounts.middleware.IdleSessionMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "axes.middleware.AxesMiddleware",
    }
)


def _unreachable(request):  # a middleware's get_response: the lane never calls it
    raise AssertionError("the check lane calls middleware hooks, not the chain")


class CheckLane:
    """WSGI application: the lane for Bearer `POST /api/v1/checks`, `app` for the rest."""

    def __init__(self, app):
        self.app = app
        self.handler_class = type(app)
        self.path = reverse("api:run_check")
        unknown = [m for m in settings.MIDDLEWARE if m not in RUN and m not in SKIP]
        self.enabled = settings.PUBCREDIT_CHECK_LANE and not unknown
        if unknown:
            logger.info("check lane off: unknown middleware %s", ", ".join(unknown))
        middleware = [import_string(m)(_unreachable) for m in settings.MIDDLEWARE if m in RUN]
        self.request_hooks = [
            m.process_request for m in middleware if hasattr(m, "process_request")
        ]
        self.response_hooks = [
            m.process_response for m in reversed(middleware) if hasattr(m, "process_response")
        ]
        self.auth = ApiKeyAuth()
        # The parser ninja's API uses (pubcredit.api configures none of its own).
        self.parser = Parser()
        self.checks_api = checks_api

    def takes(self, environ) -> bool:
        return (
            self.enabled
            and environ.get("PATH_INFO") == self.path
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
        )

    def __call__(self, environ, start_response):
        if not self.takes(environ):
            return self.app(environ, start_response)
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=self.handler_class, environ=environ)
        request = WSGIRequest(environ)
        response = self.serve(request)
        if response is None:
            if hasattr(request, "_body"):  # the body was read: hand on a fresh stream of it
                environ["wsgi.input"] = io.BytesIO(request._body)
                environ["CONTENT_LENGTH"] = str(len(request._body))
            return self.app(environ, start_response)
        response._handler_class = self.handler_class
        response._resource_closers.append(request.close)
        cookies = [("Set-Cookie", c.output(header="")) for c in response.cookies.values()]
        start_response(
            f"{response.status_code} {response.reason_phrase}", [*response.items(), *cookies]
        )
        return response

    def serve(self, request):
        """The response, or None to hand the request on (before anything is written)."""
        try:
            for hook in self.request_hooks:
                if hook(request) is not None:
                    return None
            if not self.auth(request):
                return None
            body = self.checks_api.CheckIn.model_validate(self.parser.parse_body(request))
            # run_check's last statement writes the log row: whatever it raises was raised
            # before anything was written.
            result = self.checks_api.checked(request, body)
        except Exception:
            # An error, a refusal, a redirect: the full stack answers it in the API's shape.
            return None
        response = self.checks_api.json_response(result.body)
        for hook in self.response_hooks:
            response = hook(request, response)
        return response
