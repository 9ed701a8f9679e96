"""Coalesced cache invalidation: inside `coalesced()`, an invalidation asked for many times runs
once, when the outermost block ends.

A seed import changes dozens of rows whose saves each invalidate a cache (the compiled measures
rules are rebuilt from list types, measures and matters); the importer wraps its work in
`coalesced()` so that the cache is invalidated once. The importer does not need to know which
caches depend on its rows: each cache's owner calls `invalidate(key, function)` from its own
receiver, and lower layers (lists importing list types) can coalesce the invalidations of higher
ones (the measures rules) without importing them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_state = threading.local()


@contextmanager
def coalesced() -> Iterator[None]:
    """Within this block (nestable), `invalidate` defers each key's function to the end of the
    outermost block, where it runs once, in the order the keys were first asked for."""
    depth = getattr(_state, "depth", 0)
    if not depth:
        _state.pending = {}
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth -= 1
        if not _state.depth:
            pending, _state.pending = _state.pending, {}
            for function in pending.values():
                function()


def invalidate(key: str, function: Callable[[], None]) -> None:
    """Run `function` now, or once at the end of the enclosing `coalesced()` block."""
    if getattr(_state, "depth", 0):
        _state.pending.setdefault(key, function)
    else:
        function()
