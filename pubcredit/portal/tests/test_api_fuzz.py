"""The public API under generated requests (schemathesis from its OpenAPI schema): never a server
error, every error in the platform's shape, no clear 身份证号 in any answer."""

import pytest

from pubcredit.portal.tests.test_privacy import clear_ids
from pubcredit.testing.portalkit import make_ric, make_uscc, penalty, submit

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_public_api_survives_generated_requests(platform, system, settings):
    import schemathesis
    from django.core import signals
    from django.db import close_old_connections
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings

    from pubcredit.lists.services import import_list_types
    from pubcredit.measures.catalogue import import_measures
    from pubcredit.wsgi import application

    settings.PUBCREDIT_PUBLIC_RATE = "0"
    import_list_types(system)
    import_measures(system)
    submit(
        system,
        "CF",
        [
            penalty(1, name="淄博宏达机械制造有限公司", uscc=make_uscc(901)),
            penalty(2, name="王二小", kind="自然人", id_number=make_ric(902)),
        ],
    )
    failures, calls = [], []
    # The WSGI handler closes the connection after each request; the test's transaction lives
    # on it, so not during this in-process run.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
            path_regex=r"^/api/v1/public"
        )
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:

            @given(case=operation.as_strategy())
            @hsettings(
                max_examples=25,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def fuzz(case):
                response = case.call()
                calls.append(response.status_code)
                text = response.text
                if response.status_code >= 500:
                    failures.append((case.method, case.formatted_path, text[:300]))
                if response.status_code >= 400:
                    assert {"code", "message", "details"} <= set(response.json()), text[:300]
                assert clear_ids(text) == [], text[:300]

            fuzz()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert failures == []
    assert 200 in calls and len(calls) >= 5 * len(operations)
