"""Background work for the portal: the incremental search-index refresh (schedule it after bulk
loads, or periodically; searches also catch up by themselves when only a few subjects are new)."""

from __future__ import annotations

from django_tasks import task

from pubcredit.portal.search import refresh_search_index


@task()
def refresh_search_index_task() -> dict:
    """Run `search.refresh_search_index` (idempotent) and return its summary."""

    return refresh_search_index().as_dict()
