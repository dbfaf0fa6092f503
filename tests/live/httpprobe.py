"""One HTTP exchange, made on the controller or, as a script, inside a test host.

The same code serves both sides so that a check means the same thing from
outside (through the published port) and from inside (on loopback).
Standard library only: the test hosts have nothing but python3.
"""

from __future__ import annotations

import http.client
import json
import ssl
import sys


def pinned_context(certificate: str) -> ssl.SSLContext:
    """TLS that trusts exactly this CA certificate (PEM) and nothing else.

    Pinned to that one CA, the server's name needn't match the address the
    connection uses (127.0.0.1 and a published port).
    """
    context = ssl.create_default_context(cadata=certificate)
    context.check_hostname = False
    return context


def exchange(
    port: int,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    certificate: str | None = None,
    source: str = "",
) -> dict:
    """Send one request; return its status, headers (name, value pairs) and body.

    With a CA certificate (PEM) the request goes over HTTPS, trusting only that CA.
    ``source`` is the local address to send from (any of 127.0.0.0/8 is this machine's).
    """
    bind = (source, 0) if source else None
    if certificate:
        context = pinned_context(certificate)
        connection = http.client.HTTPSConnection(
            host, port, timeout=60, context=context, source_address=bind
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=60, source_address=bind)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        payload = body.encode("utf-8")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if payload or method == "POST":
            connection.putheader("Content-Length", str(len(payload)))
        connection.endheaders(payload or None)
        response = connection.getresponse()
        data = response.read()
        return {
            "status": response.status,
            "headers": [[name, value] for name, value in response.getheaders()],
            "body": data.decode("utf-8", "replace"),
        }
    finally:
        connection.close()


if __name__ == "__main__":
    print(json.dumps(exchange(**json.loads(sys.argv[1]))))
