"""A bounded loopback load: several client processes hit one URL for a few seconds; and the
app served by gunicorn on a free loopback port for such a load."""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit


def median_ms(fn, runs: int = 25) -> float:
    """The median milliseconds of ``runs`` calls of ``fn``, after one to warm caches and plans."""
    import statistics

    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


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


def _paced_client(url: str, rate: float, stop, samples) -> None:
    """GET ``url`` about ``rate`` times a second until ``stop``; put (start time, ms, status)
    of each request on ``samples`` at the end."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    seen = []
    next_at = time.time()
    while not stop.is_set():
        started = time.time()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        seen.append((started, (time.time() - started) * 1000, response.status))
        next_at += 1 / rate
        time.sleep(max(0.0, next_at - time.time()))
    conn.close()
    samples.put(seen)


@contextlib.contextmanager
def paced_load(url: str, clients: int = 3, rate: float = 10.0):
    """``clients`` processes, each asking ``url`` about ``rate`` times a second, until the
    block ends; yields a list that then holds every (start time, ms, status)."""
    assert urlsplit(url).hostname == "127.0.0.1", "load tests stay on loopback"
    stop = multiprocessing.Event()
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_paced_client, args=(url, rate, stop, queue))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    samples: list[tuple[float, float, int]] = []
    try:
        yield samples
    finally:
        stop.set()
        for _ in workers:
            samples.extend(queue.get(timeout=60))
        for worker in workers:
            worker.join(30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(url: str, **settings: str):
    """The app under gunicorn on a free loopback port, rate limits lifted, for a load test;
    yields its base URL (the gunicorn process is ``served.process`` meanwhile)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOOKUP_RATE_LIMIT": "1000000 per minute", **settings}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "error",
            "webapp:create_app()",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    served.process = server
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/livez", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)
