"""Malformed HTTP from a raw socket: every answer is a 4xx or a correct response.

Never a 5xx, never a traceback, never an unescaped echo, never a header the
client injected.  Plain HTTP (this scenario serves the site on port 80 too),
and over TLS every case that doesn't need a half-closed connection.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import httpprobe
import pytest
from kit import published_port, trusted_ca

# After each case a live request shows that the host still serves.
pytestmark = pytest.mark.usefixtures("serving")

HELLO = "/cgi-bin/hello.py"
FEEDBACK = "/cgi-bin/feedback.py"
FORM = "Content-Type: application/x-www-form-urlencoded\r\n"
INJECTED = ("injected", "x-injected")


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def parse_responses(data: bytes) -> list[Response]:
    """Split what the server sent into responses (Content-Length or chunked bodies)."""
    responses = []
    while data:
        head, separator, rest = data.partition(b"\r\n\r\n")
        assert separator, f"a response without the end of its headers: {data[:300]!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
        fields = {name.lower(): value for name, value in headers}
        if "content-length" in fields:
            length = int(fields["content-length"])
            body, data = rest[:length], rest[length:]
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body, data = read_chunked(rest)
        else:
            body, data = rest, b""
        responses.append(Response(status, headers, body))
    return responses


def read_chunked(data: bytes) -> tuple[bytes, bytes]:
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            _, _, data = data.partition(b"\r\n")
            return body, data
        body, data = body + data[:size], data[size + 2 :]


def send(host, request: bytes, tls: bool, half_close: bool = False) -> list[Response]:
    """Send raw bytes on a new connection; read until the server closes it."""
    name = host.backend.get_hostname()
    connection = socket.create_connection(
        ("127.0.0.1", published_port(name, 443 if tls else 80)), timeout=30
    )
    if tls:
        context = httpprobe.pinned_context(trusted_ca(host))
        connection = context.wrap_socket(connection, server_hostname=name)
    with connection:
        connection.sendall(request)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return parse_responses(received)


def request(method: str, target: str, headers: str = "", body: bytes = b"", close=True) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    head = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n{headers}{connection}\r\n"
    return head.encode("latin-1") + body


def post(body: bytes, headers: str = FORM, target: str = HELLO) -> bytes:
    return request("POST", target, f"{headers}Content-Length: {len(body)}\r\n", body)


@dataclass
class Case:
    name: str
    raw: bytes
    statuses: tuple[int, ...]  # what the first answer may be
    half_close: bool = False
    expect_in_body: str = ""


CASES = [
    Case(
        "content-length beyond the body",
        request("POST", HELLO, f"{FORM}Content-Length: 100\r\n", b"name=Ada"),
        (400, 408),
        half_close=True,
    ),
    # What is left over is read as the next request, a malformed one.
    Case(
        "content-length short of the body",
        request(
            "POST", HELLO, f"{FORM}Content-Length: 8\r\n", b"name=Ada&happy=on\r\n\r\n", close=False
        ),
        (200,),
        expect_in_body="Hello, Ada!",
    ),
    Case(
        "no content-length", request("POST", HELLO, FORM, b"name=Ada\r\n\r\n", close=False), (411,)
    ),
    Case(
        "negative content-length",
        request("POST", HELLO, f"{FORM}Content-Length: -5\r\n", b"name=Ada"),
        (400,),
    ),
    Case(
        "non-numeric content-length",
        request("POST", HELLO, f"{FORM}Content-Length: ten\r\n", b"name=Ada"),
        (400,),
    ),
    Case(
        "two content-lengths",
        request("POST", HELLO, f"{FORM}Content-Length: 8\r\nContent-Length: 9\r\n", b"name=Ada"),
        (400,),
    ),
    Case(
        "content-length and chunked",
        request(
            "POST",
            HELLO,
            f"{FORM}Content-Length: 8\r\nTransfer-Encoding: chunked\r\n",
            b"8\r\nname=Ada\r\n0\r\n\r\n",
        ),
        (400, 411),
    ),
    Case(
        "chunked body",
        request(
            "POST", HELLO, f"{FORM}Transfer-Encoding: chunked\r\n", b"8\r\nname=Ada\r\n0\r\n\r\n"
        ),
        (411,),
    ),
    Case("invalid UTF-8, percent-encoded", post(b"name=%FF%FE"), (400,)),
    Case("invalid UTF-8, raw bytes", post(b"name=\xff\xfe"), (400,)),
    Case("broken percent-encoding", post(b"name=%zz"), (400,)),
    Case("thousands of fields", post(b"a=1&" * 5000), (413,)),
    Case("a body over the limit", post(b"name=" + b"a" * 1_000_000), (413,)),
    Case("an enormous header", request("GET", HELLO, "X-Big: " + "a" * 20000 + "\r\n"), (400,)),
    Case(
        "hundreds of headers",
        request("GET", HELLO, "".join(f"X-H{n}: v\r\n" for n in range(300))),
        (400,),
    ),
    Case(
        "CR LF in a value, percent-encoded",
        request("GET", f"{HELLO}?name=a%0D%0AInjected:%20yes"),
        (400,),
    ),
    Case("CR LF in the path", request("GET", f"{HELLO}/%0D%0AInjected:%20yes"), (200, 400, 404)),
    Case("bare CR in a header", request("GET", HELLO, "X-Test: a\rInjected: yes\r\n"), (400,)),
    # Apache joins a folded line to the one before it: one harmless request header.
    Case("folded header", request("GET", HELLO, "X-Test: a\r\n Injected: yes\r\n"), (200, 400)),
    Case("NUL in a value", request("GET", f"{HELLO}?name=a%00b"), (400,)),
    Case("raw non-ASCII in the query", request("GET", HELLO + "?name=\xe9"), (400,)),
    Case("an unknown method", request("FROB", HELLO), (405, 501)),
    Case("a garbage request line", b"HELLO THERE\r\n\r\n", (400,)),
    Case("HTTP/0.9", b"GET /cgi-bin/hello.py\r\n", (400,)),
    Case("a URL of 20,000 characters", request("GET", HELLO + "?name=" + "a" * 20000), (414,)),
    Case(
        "multipart form",
        post(
            b"--x\r\nContent-Disposition: form-data; name=name\r\n\r\nAda\r\n--x--\r\n",
            "Content-Type: multipart/form-data; boundary=x\r\n",
        ),
        (415,),
    ),
    Case(
        "a form in another charset",
        post(b"name=Ada", "Content-Type: application/x-www-form-urlencoded; charset=latin1\r\n"),
        (415,),
    ),
    Case(
        "script in a field",
        post(b"name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        (200,),
        expect_in_body="Hello, &lt;script&gt;alert(1)&lt;/script&gt;!",
    ),
    Case(
        "raw markup in the query string",
        request("GET", f"{HELLO}?name=<script>alert(1)</script>"),
        (200,),
        expect_in_body="Hello, &lt;script&gt;alert(1)&lt;/script&gt;!",
    ),
    Case(
        "raw markup in the path",
        request("GET", "/cgi-bin/<script>alert(1)</script>"),
        (400, 403, 404),
    ),
    Case("a field sent twice", post(b"name=a&name=b"), (400,)),
    Case(
        "a forged feedback post",
        post(b"name=x&mood=sad&message=y", f"{FORM}Origin: https://evil.example\r\n", FEEDBACK),
        (403,),
    ),
]


def check(responses: list[Response], case: Case) -> None:
    assert responses, "no answer at all"
    assert responses[0].status in case.statuses, (responses[0].status, responses[0].body[:300])
    for response in responses:
        body = response.body.decode("utf-8", "replace")
        assert response.status < 500, (response.status, body[:300])
        assert "Traceback" not in body
        assert "<script>" not in body
        names = [name.lower() for name, _ in response.headers]
        assert not set(INJECTED) & set(names), response.headers
        assert all("injected" not in value.lower() for name, value in response.headers)
    if case.expect_in_body:
        assert case.expect_in_body in responses[0].body.decode()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_malformed_request_over_plain_http(host, case):
    check(send(host, case.raw, tls=False, half_close=case.half_close), case)


@pytest.mark.parametrize(
    "case", [case for case in CASES if not case.half_close], ids=lambda case: case.name
)
def test_malformed_request_over_tls(host, case):
    check(send(host, case.raw, tls=True), case)
