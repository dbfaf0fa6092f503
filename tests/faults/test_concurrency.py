"""Many writers at once while the dashboard is read: every accepted POST is a row, and every
row is an accepted POST (scripts/load_test.py; its numbers go to artifacts/load-test.txt)."""

from __future__ import annotations

import uuid

import load_test
import pytest
from kit import DB, PASSWORD, PROJECT, WEB_USER, basic, published_port, trusted_ca

# Afterwards a live request shows that the host still serves.
pytestmark = pytest.mark.usefixtures("serving")

REQUESTS = 2000
PROCESSES = 4
CONCURRENCY = 16
# At most this many POSTs may be refused with 503 (each waited past the busy
# timeout for another's write lock): 1 %.
MAX_REFUSED = REQUESTS // 100


def stored_numbers(host, prefix: str) -> list[int]:
    """The numbers of the stored submissions named "PREFIX n", one per row."""
    code = (
        f"import sqlite3, sys; c = sqlite3.connect('file:{DB}?mode=ro', uri=True); "
        "rows = c.execute('SELECT name FROM feedback WHERE name LIKE ?', (sys.argv[1] + ' %',)); "
        "print('\\n'.join(name.rsplit(' ', 1)[1] for (name,) in rows))"
    )
    output = host.check_output(f"runuser -u {WEB_USER} -- python3 -c %s %s", code, prefix)
    return [int(number) for number in output.split()]


def test_parallel_posts_while_the_dashboard_is_read(host):
    assert_parallel_posts_are_rows(host, "load-test.txt")


def assert_parallel_posts_are_rows(host, artifact: str, max_refused: int = MAX_REFUSED) -> None:
    """2,000 POSTs from 16 clients at once while the dashboard is read: each accepted
    POST is one row and no other row, at most ``max_refused`` refused (503); the
    numbers go to artifacts/ARTIFACT."""
    name = host.backend.get_hostname()
    origin = f"https://127.0.0.1:{published_port(name, 443)}/cgi-bin"
    prefix = f"load {uuid.uuid4().hex[:8]}"
    result = load_test.run(
        f"{origin}/feedback.py",
        REQUESTS,
        CONCURRENCY,
        prefix,
        trusted_ca(host),
        processes=PROCESSES,
        read_url=f"{origin}/dashboard.py",
        authorization=basic("admin", PASSWORD),
    )
    report = f"{name}\n{load_test.report(result)}"
    (PROJECT / "artifacts").mkdir(exist_ok=True)
    (PROJECT / "artifacts" / artifact).write_text(report)
    print(report)
    rows = stored_numbers(host, prefix)
    assert sorted(rows) == result["accepted"]  # each accepted POST is one row, and no other row
    # A submission that waited past the busy timeout is refused with 503, and stored
    # nowhere; every other is accepted.
    assert set(result["statuses"]) <= {"303", "503"}, report
    assert result["statuses"].get("503", 0) <= max_refused, report
    assert len(result["accepted"]) >= REQUESTS - max_refused, report
    assert sum(result["reads"].values()) > 0
    assert set(result["reads"]) == {"200"}, report
