"""webapp/cache.py: entries expire, the size is capped, and threads may share one cache."""

import threading
import time

from webapp.cache import LockedTTLCache


def test_entries_expire_and_the_oldest_leave_first():
    cache = LockedTTLCache(maxsize=2, ttl_s=0.05)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)
    time.sleep(0.06)
    assert cache.get("b") is None


def test_drop_where_removes_the_matching_entries():
    cache = LockedTTLCache(maxsize=10, ttl_s=60)
    for key in range(5):
        cache.put(key, key % 2)
    cache.drop_where(lambda value: value == 1)
    assert [cache.get(key) for key in range(5)] == [0, None, 0, None, 0]


def test_threads_expiring_the_same_entries_raise_nothing():
    cache = LockedTTLCache(maxsize=8, ttl_s=0.0005)
    errors = []

    def hammer():
        try:
            for i in range(3000):
                cache.put(i % 16, i)
                cache.get((i + 1) % 16)
                if i % 100 == 0:
                    cache.drop_where(lambda value: value % 7 == 0)
        except Exception as err:  # pragma: no cover - the failure this test guards against
            errors.append(err)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
