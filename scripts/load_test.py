#!/usr/bin/env python3
"""POST many feedback submissions from several processes at once, optionally
while another process reads the dashboard, and report what happened.

    scripts/load_test.py https://127.0.0.1:8443/cgi-bin/feedback.py --requests 2000 \\
        --processes 4 --concurrency 16 --certificate /etc/apache2/ssl/apache-cgi-kit-ca.pem \\
        --read https://127.0.0.1:8443/cgi-bin/dashboard.py --user admin --password ...

HTTPS trusts the system's CAs, or with ``--certificate`` exactly that CA
certificate (pinned, so the server's name needn't match the URL's host).

Submission number n carries the name "PREFIX n" (``--prefix``), so that the
rows stored can be matched, one by one, against the submissions the server
accepted (303 See Other).  Prints the status counts, the throughput and the
latency percentiles; exits 1 unless every answer was 303 and every read 200.
A benchmark, not a timed test: the numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import multiprocessing
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

FORM_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Sec-Fetch-Site": "same-origin",
}


def connect(url: urllib.parse.SplitResult, certificate: str | None) -> http.client.HTTPConnection:
    """A keep-alive connection to the URL's server; HTTPS pins the CA certificate (PEM) if given."""
    if url.scheme == "http":
        return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    context = ssl.create_default_context(cadata=certificate)
    if certificate:
        context.check_hostname = False
    return http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=60, context=context)


def exchange(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes, headers: dict
) -> str:
    """One request on a keep-alive connection: the status, or the error's name."""
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (OSError, http.client.HTTPException) as error:
        connection.close()  # reconnects on the next request
        return type(error).__name__


def post_batch(
    url: str, certificate: str | None, prefix: str, numbers: list[int], threads: int
) -> list[tuple[int, str, float]]:
    """In one process: POST the numbered submissions from ``threads`` threads.

    Returns (number, status, seconds) for each.
    """
    target = urllib.parse.urlsplit(url)
    jobs, lock = list(numbers), threading.Lock()
    results: list[tuple[int, str, float]] = []

    def worker() -> None:
        connection = connect(target, certificate)
        while True:
            with lock:
                if not jobs:
                    break
                number = jobs.pop()
            body = urllib.parse.urlencode(
                {"name": f"{prefix} {number}", "mood": "neutral", "message": "load test"}
            ).encode()
            started = time.perf_counter()
            status = exchange(connection, "POST", target.path, body, FORM_HEADERS)
            with lock:
                results.append((number, status, time.perf_counter() - started))
        connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def read_until_stopped(url: str, certificate: str | None, authorization: str, stop) -> Counter:
    """In one process: GET the URL again and again until ``stop`` is set; count the statuses."""
    target = urllib.parse.urlsplit(url)
    connection = connect(target, certificate)
    headers = {"Authorization": authorization} if authorization else {}
    statuses: Counter = Counter()
    while not stop.is_set():
        statuses[exchange(connection, "GET", target.path, b"", headers)] += 1
    connection.close()
    return statuses


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(
    url: str,
    requests: int,
    concurrency: int,
    prefix: str,
    certificate: str | None = None,
    processes: int = 1,
    read_url: str = "",
    authorization: str = "",
) -> dict:
    """Send the POSTs (and the reads, if ``read_url``); return what happened."""
    numbers = list(range(1, requests + 1))
    threads = max(1, concurrency // processes)
    with multiprocessing.Manager() as manager, ProcessPoolExecutor(processes + 1) as pool:
        stop = manager.Event()
        reader = (
            pool.submit(read_until_stopped, read_url, certificate, authorization, stop)
            if read_url
            else None
        )
        started = time.perf_counter()
        batches = [
            pool.submit(post_batch, url, certificate, prefix, numbers[index::processes], threads)
            for index in range(processes)
        ]
        answers = [answer for batch in batches for answer in batch.result()]
        elapsed = time.perf_counter() - started
        stop.set()
        reads = reader.result() if reader else Counter()
    latencies = [seconds for _, _, seconds in answers]
    return {
        "requests": requests,
        "processes": processes,
        "concurrency": threads * processes,
        "statuses": dict(Counter(status for _, status, _ in answers)),
        "accepted": sorted(number for number, status, _ in answers if status == "303"),
        "reads": dict(reads),
        "seconds": elapsed,
        "per_second": requests / elapsed,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


def report(result: dict) -> str:
    def counts(statuses: dict) -> str:
        return ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))

    text = (
        f"{result['requests']} POSTs from {result['processes']} processes at concurrency "
        f"{result['concurrency']}: {counts(result['statuses'])}\n"
        f"{result['seconds']:.1f} s, {result['per_second']:.0f} requests/s, "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms\n"
    )
    if result["reads"]:
        text += f"reads meanwhile: {counts(result['reads'])}\n"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16, help="threads in all")
    parser.add_argument("--prefix", default="load test")
    parser.add_argument(
        "--certificate", type=argparse.FileType(), help="CA certificate (PEM) to trust alone"
    )
    parser.add_argument("--read", default="", help="a URL to GET meanwhile (the dashboard)")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="", help="Basic auth for --read")
    args = parser.parse_args()
    certificate = args.certificate.read() if args.certificate else None
    authorization = ""
    if args.password:
        credentials = f"{args.user}:{args.password}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode()
    result = run(
        args.url,
        args.requests,
        args.concurrency,
        args.prefix,
        certificate,
        args.processes,
        args.read,
        authorization,
    )
    print(report(result), end="")
    reads_ok = set(result["reads"]) <= {"200"}
    return 0 if result["statuses"] == {"303": args.requests} and reads_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
