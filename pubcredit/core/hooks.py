"""Hooks: how a lower layer tells higher ones that something happened, in a declared order.

A `Hook` is declared in the module of the layer that publishes it (records.changes: records
changed; lists.changes: list entries changed), with its subscribers listed there, in the order
they run, each with what it does. Subscribers sit in higher layers, so they are named by dotted
path and imported when the hook runs (the publishing app never imports them).

`hook.run(event)` runs every subscriber with the event, each in its own savepoint (one step),
all of them inside one transaction: the caller's, when it holds one (the write that caused the
event), else a new one. An exception in any subscriber propagates: the caller's transaction,
with the write itself, rolls back, so nothing is ever half applied. Returns what each subscriber
returned, by name.

Unlike Django signals, nothing here is connected at import time: what runs is what the list says.
Model signals remain for caches only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Subscriber:
    """One step of a hook: `name` (the key of its result), `path` (the dotted path of a function
    taking the event), `does` (what it does, for the reader of the list)."""

    name: str
    path: str
    does: str

    def resolve(self) -> Callable[[Any], Any]:
        return import_string(self.path)


class Hook:
    """A named, ordered list of subscribers (see the module docstring)."""

    def __init__(self, name: str, subscribers: tuple[Subscriber, ...]):
        names = [s.name for s in subscribers]
        if len(set(names)) != len(names):
            raise ValueError(f"hook {name}: duplicate subscriber names {names}")
        self.name = name
        self.subscribers = subscribers

    def run(self, event, timings: dict[str, float] | None = None) -> dict[str, Any]:
        """Run the steps (module docstring). `timings`, when given, receives each step's
        seconds by name (a bulk writer reports where its derived work went)."""
        results: dict[str, Any] = {}
        with transaction.atomic():
            for subscriber in self.subscribers:
                function = subscriber.resolve()
                started = time.perf_counter()
                with transaction.atomic():
                    results[subscriber.name] = function(event)
                if timings is not None:
                    timings[subscriber.name] = round(time.perf_counter() - started, 3)
        return results

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {[s.name for s in self.subscribers]})"
