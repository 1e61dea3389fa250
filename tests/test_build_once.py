"""The build-once cache shared by the page views and the placed-incident tables."""
import threading

import pytest

from store.build_once import BuildOnceCache


def test_concurrent_callers_of_one_key_share_one_build():
    cache = BuildOnceCache()
    started, release, calls = threading.Event(), threading.Event(), []

    def build():
        calls.append(1)
        started.set()
        release.wait(5)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", build))) for _ in range(6)]
    threads[0].start()
    started.wait(5)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert results == ["value"] * 6


def test_least_recently_used_entries_beyond_the_bound_are_dropped():
    cache = BuildOnceCache(max_entries=2)
    cache.get("a", lambda: 1)
    cache.get("b", lambda: 2)
    cache.get("a", lambda: 0)  # touched: "b" is now the oldest
    cache.get("c", lambda: 3)
    assert "a" in cache and "c" in cache and "b" not in cache
    assert len(cache) == 2


def test_evict_drops_the_entries_the_new_value_makes_obsolete():
    cache = BuildOnceCache()
    cache.get(("db", 1), lambda: "v1")
    cache.get(("other", 1), lambda: "o1")
    cache.get(("db", 2), lambda: "v2", evict=lambda old: old[0] == "db")
    assert ("db", 1) not in cache
    assert ("other", 1) in cache and ("db", 2) in cache


def test_a_failed_build_stores_nothing_and_the_next_caller_builds_again():
    cache = BuildOnceCache()

    def fail():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        cache.get("k", fail)
    assert "k" not in cache
    assert cache.get("k", lambda: "rebuilt") == "rebuilt"
