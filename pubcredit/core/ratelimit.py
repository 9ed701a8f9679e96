"""A small per-client rate limiter for the public portal and its API.

Sliding-window counter on the shared cache (`caches["shared"]`): one counter per client and fixed
window (created with `cache.add`, bumped with the atomic `cache.incr`), and the estimate
`previous window × (share of it still inside the sliding window) + current window`. Two cache keys
per client, O(1) work, no read-modify-write race. The cache is shared by every server process
(settings.CACHES: Redis when configured, else the database cache of `pubcredit.core.cache`,
whose `add` and `incr` are single atomic statements), so N processes together allow the rate,
not N times it. If the cache cannot be reached the request is allowed (and logged): the limiter
protects the site, it must not take it down.

The client is the connecting address (REMOTE_ADDR). Behind reverse proxies, set
PUBCREDIT_TRUSTED_PROXIES to their number so the address they saw is taken from
X-Forwarded-For; by default the header is ignored, since anyone can write it.

Setting: PUBCREDIT_PUBLIC_RATE = "<requests>/<seconds>" (e.g. "120/60"); "0" or "" disables.

API-key credit checks (the check server, pubcredit.settings_checks) are not rate-limited, so
none of this is on their path.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from ninja.throttling import BaseThrottle

DEFAULT_RATE = "120/60"

logger = logging.getLogger("pubcredit.ratelimit")


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str | None) -> Rate | None:
        text = (text or "").strip()
        if not text or text == "0":
            return None
        count, _sep, seconds = text.partition("/")
        requests, window = int(count), int(seconds or 1)
        if requests <= 0 or window <= 0:
            return None
        return cls(requests, window)


def configured_rate() -> Rate | None:
    return Rate.parse(getattr(settings, "PUBCREDIT_PUBLIC_RATE", DEFAULT_RATE))


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the last trusted proxy saw."""
    proxies = int(getattr(settings, "PUBCREDIT_TRUSTED_PROXIES", 0) or 0)
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]


def client_ip(request) -> str | None:
    """`client_address` when it is an IP address, else None (a request built without one, a
    proxy's "unknown"): what a GenericIPAddressField may store (PostgreSQL checks it)."""
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    estimate: float
    retry_after: int


def hit(scope: str, client: str, rate: Rate | None, now: float | None = None) -> Decision:
    """Count one request of `client` in `scope` and say whether it is within `rate`."""
    if rate is None:
        return Decision(True, 0.0, 0)
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    elapsed = (now % rate.seconds) / rate.seconds
    key = f"pubcredit:rl:{scope}:{client}:{rate.seconds}:"
    current_key, previous_key = key + str(window), key + str(window - 1)
    try:
        current, previous = _count(current_key, previous_key, rate.seconds * 2 + 1)
    except Exception:  # the cache is down: let the request through
        logger.exception("rate limit: the shared cache did not answer")
        return Decision(True, 0.0, 0)
    estimate = previous * (1 - elapsed) + current
    if estimate <= rate.requests:
        return Decision(True, estimate, 0)
    retry = max(1, int(rate.seconds * (1 - elapsed)) + 1)
    return Decision(False, estimate, retry)


def _count(current_key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Bump this window's counter (creating it at 1) and read the previous window's."""
    cache = caches["shared"]
    if hasattr(cache, "count"):  # the database cache: one upsert
        return cache.count(current_key, timeout=timeout), cache.get(previous_key, 0)
    if cache.add(current_key, 1, timeout=timeout):
        current = 1
    else:
        try:
            current = cache.incr(current_key)
        except ValueError:  # expired or evicted between add and incr
            cache.set(current_key, 1, timeout=timeout)
            current = 1
    return current, cache.get(previous_key, 0)


def check(request, scope: str) -> Decision:
    return hit(scope, client_address(request), configured_rate())


class PublicRateThrottle(BaseThrottle):
    """django-ninja throttle for the public API (a refusal becomes HTTP 429 with the API's
    error shape, see pubcredit.api)."""

    def __init__(self, scope: str = "api") -> None:
        self.scope = scope
        self._retry = None

    def allow_request(self, request) -> bool:
        decision = check(request, self.scope)
        self._retry = decision.retry_after or None
        return decision.allowed

    def wait(self):
        return self._retry
