"""The run-time pieces the tools share: one bounded cache kind, a lock per model."""

from __future__ import annotations

import threading

import numpy as np

from muie.tools.runtime import BoundedCache, clear_caches, model_lock


def test_the_cache_keeps_the_newest_entries():
    c: BoundedCache[str, int] = BoundedCache("test entries", 2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1  # "a" is now the newest
    c.put("c", 3)
    assert c.get("b") is None and c.get("a") == 1 and c.get("c") == 3 and len(c) == 2


def test_the_cache_is_bounded_in_bytes_and_keeps_the_newest_however_large():
    c: BoundedCache[int, np.ndarray] = BoundedCache("test bytes", 10, max_bytes=1000, sizeof=lambda a: a.nbytes)
    for k in range(3):
        c.put(k, np.zeros(100, np.uint8))
    c.put(3, np.zeros(900, np.uint8))  # 300 + 900 > 1000: the oldest go until 100 + 900
    assert [k for k, _ in c.items()] == [2, 3]
    c.put(4, np.zeros(5000, np.uint8))
    assert [k for k, _ in c.items()] == [4]


def test_the_first_value_set_stays():
    c: BoundedCache[str, str] = BoundedCache("test first", 4)
    assert c.setdefault("k", "first") == "first"
    assert c.setdefault("k", "second") == "first"


def test_clear_caches_empties_every_cache():
    a: BoundedCache[str, int] = BoundedCache("test a", 4)
    b: BoundedCache[str, int] = BoundedCache("test b", 4)
    a.put("x", 1)
    b.put("y", 2)
    clear_caches()
    assert len(a) == 0 and len(b) == 0


def test_each_model_has_its_own_lock():
    assert model_lock("whisper") is model_lock("whisper")
    assert model_lock("whisper") is not model_lock("spacy")
    both = threading.Barrier(2, timeout=5)
    met: list[str] = []

    def hold(name: str) -> None:
        with model_lock(name):
            both.wait()  # each thread holds its model's lock while the other takes its own
            met.append(name)

    threads = [threading.Thread(target=hold, args=(n,)) for n in ("test-model-a", "test-model-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(met) == ["test-model-a", "test-model-b"]


def test_one_model_is_called_by_one_thread_at_a_time():
    inside, most = [0], [0]
    guard = threading.Lock()

    def call() -> None:
        with model_lock("test-model-c"):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            threading.Event().wait(0.02)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1
