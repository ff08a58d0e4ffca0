import threading
import time

import pytest

from deepdream.serving.cache import LruCache


def test_least_recently_used_goes_first():
    cache = LruCache(2)
    cache.get_or_build("a", lambda: 1)
    cache.get_or_build("b", lambda: 2)
    assert cache.get_or_build("a", lambda: 99) == 1  # a is now the most recent
    cache.get_or_build("c", lambda: 3)
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.values() == (1, 3)


def test_one_build_per_key_when_threads_ask_at_once():
    cache = LruCache(4)
    builds = []

    def slow_build():
        builds.append(threading.get_ident())
        time.sleep(0.2)
        return object()

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get_or_build("model", slow_build)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(builds) == 1 and len(got) == 4 and all(g is got[0] for g in got)


def test_a_failed_build_leaves_nothing_and_is_tried_again():
    cache = LruCache(1)
    with pytest.raises(RuntimeError):
        cache.get_or_build("k", lambda: (_ for _ in ()).throw(RuntimeError("no weights")))
    assert len(cache) == 0
    assert cache.get_or_build("k", lambda: 5) == 5
    with pytest.raises(ValueError):
        LruCache(0)
