#!/usr/bin/env python3
"""POST many feedback submissions at once and report what happened.

    scripts/load_test.py http://127.0.0.1:8080/cgi-bin/feedback.py --requests 2000 --concurrency 16

Every submission carries the same name (``--name``), so the rows it stored
can be counted afterwards.  Prints the status counts, the throughput and the
latency percentiles; exits 1 if any answer was not 303 See Other.  A
benchmark, not a timed test: the numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
import urllib.parse
from collections import Counter


def worker(
    url: urllib.parse.SplitResult,
    body: bytes,
    jobs: list[int],
    lock: threading.Lock,
    statuses: Counter,
    latencies: list[float],
) -> None:
    """Send POSTs over one keep-alive connection until the shared job list is empty."""
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
    while True:
        with lock:
            if not jobs:
                break
            jobs.pop()
        started = time.perf_counter()
        try:
            connection.request("POST", url.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = str(response.status)
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
            connection.close()
        elapsed = time.perf_counter() - started
        with lock:
            statuses[status] += 1
            latencies.append(elapsed)
    connection.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(url: str, requests: int, concurrency: int, name: str) -> dict:
    """Send the POSTs; return the counts and timings."""
    body = urllib.parse.urlencode(
        {"name": name, "mood": "neutral", "message": "load test"}
    ).encode()
    jobs, lock = list(range(requests)), threading.Lock()
    statuses: Counter = Counter()
    latencies: list[float] = []
    threads = [
        threading.Thread(
            target=worker, args=(urllib.parse.urlsplit(url), body, jobs, lock, statuses, latencies)
        )
        for _ in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": requests,
        "concurrency": concurrency,
        "statuses": dict(statuses),
        "seconds": elapsed,
        "per_second": requests / elapsed,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


def report(result: dict) -> str:
    statuses = ", ".join(
        f"{status}: {count}" for status, count in sorted(result["statuses"].items())
    )
    return (
        f"{result['requests']} POSTs at concurrency {result['concurrency']}: {statuses}\n"
        f"{result['seconds']:.1f} s, {result['per_second']:.0f} requests/s, "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--name", default="load test")
    args = parser.parse_args()
    result = run(args.url, args.requests, args.concurrency, args.name)
    print(report(result), end="")
    return 0 if result["statuses"] == {"303": args.requests} else 1


if __name__ == "__main__":
    raise SystemExit(main())
