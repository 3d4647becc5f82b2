"""A bounded loopback load: several client processes hit one URL for a few seconds."""

from __future__ import annotations

import http.client
import multiprocessing
import time
from urllib.parse import urlsplit


def _client(url: str, seconds: float, counter) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            done += 1
    conn.close()
    with counter.get_lock():
        counter.value += done


def requests_per_second(url: str, clients: int = 4, seconds: float = 5.0) -> float:
    """Successful requests per second that ``clients`` keep-alive clients get from ``url``."""
    assert urlsplit(url).hostname == "127.0.0.1", "load tests stay on loopback"
    counter = multiprocessing.Value("i", 0)
    workers = [
        multiprocessing.Process(target=_client, args=(url, seconds, counter))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 30)
    return counter.value / seconds
