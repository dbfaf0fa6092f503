#!/usr/bin/env python3
"""POST many feedback submissions at once and report what happened.

    scripts/load_test.py https://127.0.0.1:8443/cgi-bin/feedback.py --requests 2000 \
        --concurrency 16 --certificate /etc/ssl/certs/apache-cgi-kit-ca.pem

HTTPS trusts the system's CAs, or with ``--certificate`` exactly that CA
certificate (pinned, so the server's name needn't match the URL's host).

Every submission carries the same name (``--name``), so the rows it stored
can be counted afterwards.  Prints the status counts, the throughput and the
latency percentiles; exits 1 if any answer was not 303 See Other.  A
benchmark, not a timed test: the numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import ssl
import threading
import time
import urllib.parse
from collections import Counter


def connect(url: urllib.parse.SplitResult, certificate: str | None) -> http.client.HTTPConnection:
    """A keep-alive connection to the URL's server; HTTPS pins the CA certificate (PEM) if given."""
    if url.scheme == "http":
        return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    context = ssl.create_default_context(cadata=certificate)
    if certificate:
        context.check_hostname = False
    return http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=60, context=context)


def worker(
    url: urllib.parse.SplitResult,
    certificate: str | None,
    body: bytes,
    jobs: list[int],
    lock: threading.Lock,
    statuses: Counter,
    latencies: list[float],
) -> None:
    """Send POSTs over one keep-alive connection until the shared job list is empty."""
    connection = connect(url, certificate)
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


def run(
    url: str, requests: int, concurrency: int, name: str, certificate: str | None = None
) -> dict:
    """Send the POSTs; return the counts and timings."""
    body = urllib.parse.urlencode(
        {"name": name, "mood": "neutral", "message": "load test"}
    ).encode()
    jobs, lock = list(range(requests)), threading.Lock()
    statuses: Counter = Counter()
    latencies: list[float] = []
    threads = [
        threading.Thread(
            target=worker,
            args=(urllib.parse.urlsplit(url), certificate, body, jobs, lock, statuses, latencies),
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
    parser.add_argument(
        "--certificate", type=argparse.FileType(), help="CA certificate (PEM) to trust alone"
    )
    args = parser.parse_args()
    certificate = args.certificate.read() if args.certificate else None
    result = run(args.url, args.requests, args.concurrency, args.name, certificate)
    print(report(result), end="")
    return 0 if result["statuses"] == {"303": args.requests} else 1


if __name__ == "__main__":
    raise SystemExit(main())
