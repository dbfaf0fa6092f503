"""One HTTP exchange, made on the controller or, as a script, inside a test host.

The same code serves both sides so that a check means the same thing from
outside (through the published port) and from inside (on loopback).
Standard library only: the test hosts have nothing but python3.
"""

from __future__ import annotations

import http.client
import json
import socket
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


def connect(
    host: str, port: int, server_name: str, certificate: str | None, source: str
) -> http.client.HTTPConnection:
    """A connection to host:port, for ``server_name`` if one is given."""
    bind = (source, 0) if source else None
    name = server_name or host
    connection: http.client.HTTPConnection
    if certificate:
        context = pinned_context(certificate)
        context.check_hostname = bool(server_name)
        connection = http.client.HTTPSConnection(
            name, port, timeout=60, context=context, source_address=bind
        )
    else:
        connection = http.client.HTTPConnection(name, port, timeout=60, source_address=bind)
    if server_name:

        def to_host(address: tuple, *args, **kwargs) -> socket.socket:
            return socket.create_connection((host, address[1]), *args, **kwargs)

        connection._create_connection = to_host  # type: ignore[attr-defined]
    return connection


def exchange(
    port: int,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    certificate: str | None = None,
    source: str = "",
    server_name: str = "",
) -> dict:
    """Send one request; return its status, headers (name, value pairs) and body.

    With a CA certificate (PEM) the request goes over HTTPS, trusting only that CA.
    ``source`` is the local address to send from (any of 127.0.0.0/8 is this machine's).
    ``server_name``: the name the request is for (Host, and SNI over HTTPS, where the
    certificate must then be valid for it), while the connection still goes to ``host``.
    """
    connection = connect(host, port, server_name, certificate, source)
    try:
        # A Host header the caller gives replaces the one http.client would send.
        given_host = any(name.lower() == "host" for name in headers or {})
        connection.putrequest(method, path, skip_host=given_host, skip_accept_encoding=True)
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
