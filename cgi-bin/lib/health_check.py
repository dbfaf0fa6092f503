"""Health check for monitors and load balancers: JSON, 200 when the database
can be reached and written, 503 otherwise."""

from __future__ import annotations

import cgikit
import kitstore

__all__ = [
    "handle",
    "main",
]

JSON = "application/json"


def handle(request: cgikit.Request) -> cgikit.Response:
    """Try to take the database's write lock."""
    try:
        kitstore.check_writable()
    except kitstore.StorageError:
        cgikit.log_exception()
        return cgikit.Response('{"status": "error", "database": "unavailable"}\n', 503, JSON)
    return cgikit.Response('{"status": "ok", "database": "writable"}\n', 200, JSON)


def main() -> None:
    """Serve the request Apache started this script for."""
    cgikit.run(handle, methods=("GET", "HEAD"), exit_now=True)
