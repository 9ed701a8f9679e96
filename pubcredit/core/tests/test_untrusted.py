"""The child-process sandbox for untrusted input: answers, exceptions, memory, time, crashes."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.core.exceptions import ValidationError

from pubcredit.core.untrusted import ChildFailed, run_limited

MB = 1024 * 1024


def add(a, b):
    return a + b, os.getpid()


def refuse(message):
    raise ValidationError(message)


def hog(megabytes):
    chunks = [bytearray(MB) for _ in range(megabytes)]
    return len(chunks)


def sleep(seconds):
    time.sleep(seconds)


def abort():
    os.kill(os.getpid(), signal.SIGABRT)


def test_the_answer_comes_from_another_process():
    total, pid = run_limited(add, 2, 3, memory_bytes=256 * MB, seconds=20)
    assert total == 5
    assert pid != os.getpid()


def test_an_exception_raised_in_the_child_is_raised_in_the_parent():
    with pytest.raises(ValidationError) as caught:
        run_limited(refuse, "文件不对", memory_bytes=256 * MB, seconds=20)
    assert caught.value.messages == ["文件不对"]


def test_a_child_over_its_memory_limit_fails_cleanly_and_the_parent_lives_on():
    usage: dict = {}
    with pytest.raises(ChildFailed) as caught:
        run_limited(hog, 400, memory_bytes=100 * MB, seconds=20, usage=usage)
    assert caught.value.reason == "memory"
    assert usage["outcome"] == "memory"
    assert usage["peak_rss"] < 300 * MB
    # the same call within a larger limit succeeds: the limit, not the code, stopped it
    assert run_limited(hog, 50, memory_bytes=300 * MB, seconds=20) == 50


def test_a_child_past_its_time_is_killed():
    started = time.monotonic()
    with pytest.raises(ChildFailed) as caught:
        run_limited(sleep, 30, memory_bytes=256 * MB, seconds=0.5)
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 5


def test_a_child_that_aborts_is_reported_not_fatal():
    with pytest.raises(ChildFailed) as caught:
        run_limited(abort, memory_bytes=256 * MB, seconds=20)
    assert caught.value.reason == "crashed"
