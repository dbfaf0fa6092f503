#!/usr/bin/python3 -IS
"""Health check for monitors and load balancers: JSON, 200 when the database
can be reached and written, 503 otherwise."""

import posix  # not os: importing os costs a fifth of the start-up (see cgikit)
import sys

sys.path.insert(0, posix.environ.get(b"CGIKIT_LIB", b"/usr/local/lib/apache-cgi-kit").decode())
import cgikit
import kitstore

JSON = "application/json"


def handle(request: cgikit.Request) -> cgikit.Response:
    """Try to take the database's write lock."""
    try:
        kitstore.check_writable()
    except kitstore.StorageError:
        cgikit.log_exception()
        return cgikit.Response('{"status": "error", "database": "unavailable"}\n', 503, JSON)
    return cgikit.Response('{"status": "ok", "database": "writable"}\n', 200, JSON)


if __name__ == "__main__":
    cgikit.run(handle, methods=("GET", "HEAD"))
