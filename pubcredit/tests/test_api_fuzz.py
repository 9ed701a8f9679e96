"""Every operation of /api/v1/openapi.json under generated requests (schemathesis), called
anonymously and with API keys of every role a key may carry, on a small demo city: no answer
is a server error, and every JSON error keeps the platform's shape {"code", "message",
"details"}. The run is sized to stay within about a minute on two cores."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.xdist_group("api-fuzz")]

EXAMPLES = 20  # per operation; each example picks one caller


def test_no_operation_answers_a_server_error(world, settings):
    import schemathesis
    from django.core import signals
    from django.db import close_old_connections
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    from pubcredit.wsgi import application

    settings.PUBCREDIT_PUBLIC_RATE = "0"
    callers = [None, *world.keys.values()]  # anonymous, then each key role
    failures, calls = [], []
    # The WSGI handler closes the connection after each request; the test's transaction lives
    # on it, so not during this in-process run.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) >= 50
        for operation in operations:

            @given(case=operation.as_strategy(), caller=st.sampled_from(callers))
            @hsettings(
                max_examples=EXAMPLES,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=True,
            )
            def fuzz(case, caller):
                headers = {"Authorization": f"Bearer {caller}"} if caller else {}
                response = case.call(headers=headers)
                calls.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(
                        (case.method, case.formatted_path, case.query, response.text[:300])
                    )
                kind = response.headers.get("Content-Type") or response.headers.get("content-type")
                kind = kind[0] if isinstance(kind, list) else kind
                if 400 <= response.status_code < 500 and "json" in (kind or ""):
                    assert {"code", "message", "details"} <= set(response.json()), response.text

            fuzz()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert failures == []
    assert len(calls) >= 5 * len(operations)
    assert 200 in calls and 401 in calls
