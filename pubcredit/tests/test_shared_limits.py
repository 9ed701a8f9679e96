"""What every server process must agree on lives in the shared cache (settings.CACHES["shared"],
pubcredit.core.cache): rate-limit counters, counted by two real processes together, and the
API-key revocation generation, so that a revoked key is refused on the very next request in a
process that still holds it in its key cache (the check server's case: pubcredit/checks/tests/
test_check_server.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client

from pubcredit.accounts import services
from pubcredit.accounts.models import Role
from pubcredit.core import ratelimit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

# One server process: N requests of one client at a fixed instant (the sliding window's
# previous window is empty, so the estimate is the count itself).
COUNTER = """
import json, sys, time
import django
django.setup()
from django.core.management import call_command
from pubcredit.core import ratelimit

scope, requests, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
if scope == "--prepare":
    call_command("createcachetable", verbosity=0)
    sys.exit(0)
rate = ratelimit.Rate(requests, 60)
while time.time() < start_at:
    time.sleep(0.005)
allowed = sum(
    ratelimit.hit(scope, "198.51.100.7", rate, now=6_000_030.0).allowed for _ in range(requests)
)
print(json.dumps(allowed))
"""


def _shared_database_url(tmp_path) -> str:
    """A database two subprocesses can both open: this test run's PostgreSQL test database
    (its cache table was made with it), or a SQLite file (the test run's own is in memory)."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


def _environment(tmp_path) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": _shared_database_url(tmp_path),
        "DJANGO_SETTINGS_MODULE": "pubcredit.settings",
        "PUBCREDIT_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("PUBCREDIT_CACHE_URL", "PUBCREDIT_REDIS_URL"):
        env.pop(name, None)  # the default: the database cache
    return env


def test_two_processes_together_reach_the_limit_at_n_not_2n(tmp_path):
    env = _environment(tmp_path)
    prepare = [sys.executable, "-c", COUNTER, "--prepare", "0", "0"]
    subprocess.run(prepare, env=env, check=True, capture_output=True, timeout=120)
    scope = f"t{uuid.uuid4().hex[:12]}"
    start_at = time.time() + 4  # both processes are started and set up by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER, scope, "30", str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    allowed = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        allowed.append(json.loads(out.strip().splitlines()[-1]))
    # 60 requests in all against a limit of 30: 30 allowed between the two, not 30 each.
    assert sum(allowed) == 30, allowed


def test_the_database_cache_counts_atomically_and_expires():
    cache = caches["shared"]
    key = f"t:{uuid.uuid4().hex}"
    assert cache.add(key, 1, timeout=60) is True
    assert cache.add(key, 1, timeout=60) is False  # live: not replaced
    assert cache.incr(key) == 2
    assert cache.incr(key, 5) == 7
    assert cache.get(key) == 7
    # another instance of the backend (as another process would open) sees the same count
    other = caches.create_connection("shared")
    assert other.incr(key) == 8
    cache.set(key, 1, timeout=-1)  # expired
    assert cache.get(key) is None
    with pytest.raises(ValueError):
        cache.incr(key)
    assert cache.add(key, 1, timeout=60) is True  # an expired row is replaced
    assert cache.count(f"{key}:n", timeout=60) == 1  # the rate limiter's one-statement count
    assert cache.count(f"{key}:n", timeout=60) == 2
    cache.set(f"{key}:n", 5, timeout=-1)
    assert cache.count(f"{key}:n", timeout=60) == 1  # an expired count starts again
    cache.set(f"{key}:obj", {"a": [1, 2]}, timeout=60)  # other values as Django stores them
    assert cache.get(f"{key}:obj") == {"a": [1, 2]}


def test_the_rate_limiter_uses_the_shared_cache():
    rate = ratelimit.Rate(3, 60)
    client = f"203.0.113.{uuid.uuid4().int % 250}"
    scope = f"s{uuid.uuid4().hex[:8]}"
    assert [ratelimit.hit(scope, client, rate, now=600.0).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    window = int(600.0 // 60)
    assert caches["shared"].get(f"pubcredit:rl:{scope}:{client}:60:{window}") == 4


# --------------------------------------------------------------------------- revocation


@pytest.fixture
def long_key_cache(settings):
    """Keys cached for an hour: whatever is refused below is refused within the cache period."""
    settings.PUBCREDIT_API_KEY_CACHE_SECONDS = 3600


def _revoke_elsewhere(system, key):
    """Revoke `key` as another process would (the admin, `pubcredit apikey revoke`): this
    process's key cache keeps what it held, as a server process's does."""
    held = dict(services._key_cache)
    services.revoke_api_key(system, key, reason="泄露")
    services._key_cache.update(held)
    assert held  # the key was cached here


def test_a_revoked_key_is_refused_on_the_next_request(long_key_cache, system):
    key, clear = services.issue_api_key(system, name="某银行", role=Role.BANK_USER)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert client.get("/api/v1/accounts/me").status_code == 200
    assert client.get("/api/v1/accounts/me").status_code == 200  # served from the key cache
    _revoke_elsewhere(system, key)
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_an_unchanged_key_is_served_from_the_cache(
    long_key_cache, system, django_assert_num_queries
):
    """The cache still saves the key's read: with the generation unchanged, authenticating is
    one read of the shared cache (the database cache's row here), not the key with its scope."""
    _key, clear = services.issue_api_key(system, name="某银行", role=Role.BANK_USER)
    assert services.authenticate_api_key(clear) is not None
    with django_assert_num_queries(1) as captured:
        assert services.authenticate_api_key(clear) is not None
    assert "pubcredit_cache" in captured.captured_queries[0]["sql"]


@pytest.mark.slow
def test_migrate_creates_the_shared_cache_table(tmp_path):
    """`pubcredit migrate` (and so `make run` / `setup`'s flow) leaves the database cache's table
    in place: without it every rate-limited page and every key would fail."""
    import sqlite3

    env = {**_environment(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-m", "pubcredit", "migrate", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(tmp_path / "fresh.sqlite3") as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "pubcredit_cache" in names
