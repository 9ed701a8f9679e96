"""URLconf of the check server (pubcredit.settings_checks): `POST /api/v1/checks` and
`GET /api/v1/health`, nothing else.

The API is built like the site's (`pubcredit.apibase.make_api`: the same error handlers and
health check) with the check's own operation (`pubcredit.checks.api.run_check_router`: the same
view and schema as the site's) behind API-key authentication only (`ApiKeyAuth`, the site's
first authenticator): no session reaches this server. Any other path is a 404 in the API's
error shape (the site's HTML error pages link to pages this server does not have)."""

from django.http import JsonResponse
from django.urls import path

from pubcredit import apibase
from pubcredit.accounts.api import ApiKeyAuth
from pubcredit.checks.api import run_check_router

api = apibase.make_api(auth=[ApiKeyAuth()], docs=False)
api.add_router("/checks", run_check_router())

urlpatterns = [path("api/v1/", api.urls)]


def _json(answer: apibase.Answer) -> JsonResponse:
    status, body = answer
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def page_not_found(request, exception):
    return _json(apibase.not_found(request, exception))


def server_error(request):
    return _json(apibase.server_error(request, None))


handler404 = page_not_found
handler500 = server_error
