"""Figures the public portal shows. Read-only; nothing here writes."""

from django.core.cache import cache
from django.db.models import Count

from pubcredit.catalog.models import SubjectKind
from pubcredit.subjects.models import Subject

HEADLINE_CACHE_KEY = "portal:headline-figures"
# The home page is the most visited public page; a grouped count over the whole subject register
# is cheap on a demo database but not on a city's tens of millions of rows, so it is cached.
HEADLINE_CACHE_SECONDS = 300


def headline_figures(*, use_cache: bool = True) -> dict:
    """Subjects in the register by kind, for the public home page.

    Guarantees: one grouped query (or none, from the cache); every kind appears, with 0 when
    there are none; counts are plain ints, `total` is their sum. Labels are left to the caller so
    that a cached value serves every language.
    """
    if use_cache:
        cached = cache.get(HEADLINE_CACHE_KEY)
        if cached is not None:
            return cached
    counts = dict(
        Subject.objects.order_by().values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    figures = {
        "by_kind": {kind.value: int(counts.get(kind.value, 0)) for kind in SubjectKind},
        "total": int(sum(counts.values())),
    }
    if use_cache:
        cache.set(HEADLINE_CACHE_KEY, figures, HEADLINE_CACHE_SECONDS)
    return figures
