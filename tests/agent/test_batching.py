"""The batcher gathers calls from concurrent runs into one call, hands each caller its
own results, and passes errors to every caller of the failed batch."""

from __future__ import annotations

import threading

import pytest

from muie.agent.batching import Batcher, active_run


def test_one_run_calls_at_once():
    calls = []
    b = Batcher(lambda xs: calls.append(list(xs)) or [x * 2 for x in xs], wait_s=5.0)
    with active_run():
        assert b([1, 2, 3]) == [2, 4, 6]  # no 5 s wait: the only run has submitted
    assert calls == [[1, 2, 3]]


def test_concurrent_runs_share_one_batch_and_get_their_own_results():
    calls = []
    lock = threading.Lock()

    def fn(xs):
        with lock:
            calls.append(list(xs))
        return [x * 10 for x in xs]

    b = Batcher(fn, wait_s=2.0)
    n = 6
    results: dict[int, list[int]] = {}
    ready = threading.Barrier(n)

    def worker(k: int) -> None:
        with active_run():
            ready.wait()
            results[k] = b([k, k + 100])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(results[k] == [k * 10, (k + 100) * 10] for k in range(n))
    assert sum(len(c) for c in calls) == 2 * n
    assert len(calls) < n  # gathered: fewer model calls than callers


def test_an_error_reaches_every_caller_and_the_batcher_recovers():
    def fn(xs):
        if any(x < 0 for x in xs):
            raise ValueError("negative")
        return xs

    b = Batcher(fn, wait_s=0.0)
    with active_run():
        with pytest.raises(ValueError, match="negative"):
            b([1, -1])
        assert b([5]) == [5]
