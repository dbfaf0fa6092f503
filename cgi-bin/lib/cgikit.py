"""Shared request and response handling for the kit's CGI scripts.

Standard library only, and only the cheap parts of it: every CGI request
starts a new interpreter, so this module avoids ``re``, ``urllib.parse``,
``html`` and ``traceback`` on the normal path (each costs more than the
interpreter's own start-up under ``python3 -IS``), and even ``os``: under
``-S`` nothing has imported it yet, and importing it costs about a fifth of
the interpreter's start-up (``python3 -X importtime``).  The environment is
read from ``posix.environ``, the mapping ``os.environ`` is built from.
Works on Python 3.9+.

A script defines ``handle(request) -> Response`` and calls ``run(handle)``.
Bad input raises ``HTTPError`` and becomes a clear 4xx page; any other
exception becomes a plain 500 page, its traceback going to stderr (which
Apache writes to its error log).

The same script also runs in a long-lived process (mod_wsgi's daemon mode):
``handle_request`` is the WSGI handler Apache's ``WSGIHandlerScript`` calls for
a script file; it runs the script once per process, takes the handler the
script gives ``run`` instead of serving stdin, and answers each request with it
(``wsgi_application``).  The script itself is untouched.
"""

from __future__ import annotations

import _thread  # already loaded by the interpreter's import machinery: free
import posix
import sys

# typing and collections.abc cost more to import than the interpreter takes
# to start; annotations are not evaluated at run time, so only type checkers
# need these names.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, BinaryIO, TextIO

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_FIELDS",
    "ENVIRON",
    "FORM_CONTENT_TYPE",
    "REASONS",
    "HTTPError",
    "Request",
    "Response",
    "error_page",
    "escape",
    "form_data",
    "handle_request",
    "internal_error_page",
    "limit_from_env",
    "log_exception",
    "message_page",
    "page",
    "parse_fields",
    "parse_request",
    "percent_decode",
    "read_body",
    "require_same_origin",
    "respond",
    "run",
    "see_other",
    "text_problem",
    "unavailable_page",
    "wsgi_application",
]

REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def decoded_environ() -> dict[str, str]:
    """The process environment as text, decoded the way ``os.environ`` decodes it."""
    encoding = sys.getfilesystemencoding()
    return {
        name.decode(encoding, "surrogateescape"): value.decode(encoding, "surrogateescape")
        for name, value in posix.environ.items()
    }


# The CGI request's environment, as Apache set it when it started the script.
ENVIRON = decoded_environ()

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
DEFAULT_MAX_BODY = 65536
DEFAULT_MAX_FIELDS = 100
HEX_DIGITS = "0123456789abcdefABCDEF"


class HTTPError(Exception):
    """A request the script refuses, with the status and a message for the user."""

    def __init__(
        self, status: int, message: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


class Response:
    """A complete response: status, headers and body, sent in one write."""

    def __init__(
        self,
        body: str = "",
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.body = body.encode("utf-8")
        self.headers = [("Content-Type", content_type)] + (headers or [])

    def status_line(self) -> str:
        """The status and its reason: ``200 OK``."""
        return f"{self.status} {REASONS.get(self.status, '')}".rstrip()

    def header_list(self) -> list[tuple[str, str]]:
        """The headers with the body's length; a line break in a value raises ValueError."""
        for name, value in self.headers:
            if "\r" in value or "\n" in value:
                raise ValueError(f"line break in the value of header {name}")
        return [*self.headers, ("Content-Length", str(len(self.body)))]

    def to_bytes(self, head_only: bool = False) -> bytes:
        """The CGI response: a Status header, the other headers, the body."""
        lines = [f"Status: {self.status_line()}"]
        lines += [f"{name}: {value}" for name, value in self.header_list()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


class Request:
    """A parsed CGI request: its method, its form fields and its CGI environment."""

    def __init__(
        self, method: str, fields: dict[str, list[str]], environ: Mapping[str, str]
    ) -> None:
        self.method = method
        self.fields = fields
        self.environ = environ

    def get(self, name: str, default: str = "") -> str:
        """The single value of a field; a field sent twice is a bad request."""
        values = self.fields.get(name)
        if not values:
            return default
        if len(values) > 1:
            raise HTTPError(400, f"The field \u201c{name}\u201d was sent more than once.")
        return values[0]

    def has(self, name: str) -> bool:
        """Whether the field was sent at all (a ticked checkbox, say)."""
        return name in self.fields


def escape(text: str) -> str:
    """Escape text for HTML element content and quoted attribute values."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def text_problem(
    text: str, noun: str, max_length: int, if_empty: str, allowed_controls: str = ""
) -> str:
    """Why a submitted text can't be used, or an empty string when it is fine.

    ``noun`` starts the messages ("Your name"); ``if_empty`` is the message
    for a missing or blank text; ``allowed_controls`` lists control characters
    the text may hold (a message's line breaks).
    """
    if not text.strip():
        return if_empty
    if len(text) > max_length:
        return f"{noun} can be at most {max_length} characters long."
    if any((char < " " and char not in allowed_controls) or char == "\x7f" for char in text):
        return f"{noun} can't contain control characters."
    return ""


def percent_decode(text: str) -> str:
    """Decode one application/x-www-form-urlencoded name or value, strictly.

    ``+`` is a space and ``%XX`` a byte; the bytes must be UTF-8.  A broken
    escape or invalid UTF-8 is a bad request, never silently replaced.
    """
    if "%" not in text:
        return text.replace("+", " ")
    chunks = text.replace("+", " ").split("%")
    decoded = bytearray(chunks[0].encode("utf-8"))
    for chunk in chunks[1:]:
        pair = chunk[:2]
        if len(pair) < 2 or pair[0] not in HEX_DIGITS or pair[1] not in HEX_DIGITS:
            raise HTTPError(400, "The request has a broken percent-encoding.")
        decoded.append(int(pair, 16))
        decoded += chunk[2:].encode("utf-8")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "The request is not valid UTF-8.") from None


def parse_fields(data: str, max_fields: int = DEFAULT_MAX_FIELDS) -> dict[str, list[str]]:
    """Parse ``name=value&...`` into lists of values per name, in order."""
    fields: dict[str, list[str]] = {}
    if not data:
        return fields
    pairs = data.split("&")
    if len(pairs) > max_fields:
        raise HTTPError(413, f"The request has more than {max_fields} fields.")
    for pair in pairs:
        if not pair:
            continue
        name, _equals, value = pair.partition("=")
        fields.setdefault(percent_decode(name), []).append(percent_decode(value))
    return fields


def discard(stdin: BinaryIO, max_body: int) -> None:
    """Read what Apache sends and drop it, up to the size limit (Apache enforces it too)."""
    received = 0
    while received <= max_body:
        chunk = stdin.read(65536)
        if not chunk:
            return
        received += len(chunk)
    raise HTTPError(413, f"The request body is larger than {max_body} bytes.")


def read_body(environ: Mapping[str, str], stdin: BinaryIO, max_body: int) -> bytes:
    """Read the whole request body, whatever the method, within the size limit.

    Read before anything else is judged: a script that answers without
    reading what Apache is sending makes Apache cut its response short.
    """
    length_text = environ.get("CONTENT_LENGTH", "")
    if not length_text:
        if environ.get("HTTP_TRANSFER_ENCODING"):  # a body of unknown length (chunked)
            discard(stdin, max_body)
            raise HTTPError(411, "Send the form with a Content-Length.")
        return b""
    if not length_text.isdigit() or not length_text.isascii():
        raise HTTPError(400, "The request has an invalid Content-Length.")
    digits = length_text.lstrip("0") or "0"  # as text first: int() refuses huge strings
    length = int(digits) if len(digits) <= len(str(max_body)) else max_body + 1
    if length > max_body:
        raise HTTPError(413, f"The request body is larger than {max_body} bytes.")
    body = stdin.read(length)
    if len(body) != length:
        raise HTTPError(400, "The request body is shorter than its Content-Length.")
    return body


def form_data(environ: Mapping[str, str], body: bytes) -> str:
    """The urlencoded form in a POST body, after checking its type and length."""
    media_type, _semicolon, params = environ.get("CONTENT_TYPE", "").partition(";")
    if media_type.strip().lower() != FORM_CONTENT_TYPE:
        raise HTTPError(415, f"Send the form as {FORM_CONTENT_TYPE}.")
    charset = params.strip().lower()
    if charset and charset not in ("charset=utf-8", 'charset="utf-8"'):
        raise HTTPError(415, "Send the form in UTF-8.")
    if not environ.get("CONTENT_LENGTH"):
        raise HTTPError(411, "The request has no Content-Length.")
    try:
        return body.decode("ascii")
    except UnicodeDecodeError:
        raise HTTPError(400, "The form data is not URL-encoded.") from None


def limit_from_env(environ: Mapping[str, str], name: str, default: int) -> int:
    """A positive integer limit set by the server (``SetEnv``), else the default."""
    value = environ.get(name, "")
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return default
    return int(value) or default


def parse_request(environ: Mapping[str, str], stdin: BinaryIO, methods: tuple[str, ...]) -> Request:
    """Build a Request from the CGI environment, or raise HTTPError.

    GET and HEAD take their fields from the query string, POST from its body.
    """
    max_body = limit_from_env(environ, "CGIKIT_MAX_BODY", DEFAULT_MAX_BODY)
    body = read_body(environ, stdin, max_body)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if method not in methods:
        raise HTTPError(
            405,
            f"This page does not accept {method} requests.",
            [("Allow", ", ".join(methods))],
        )
    max_fields = limit_from_env(environ, "CGIKIT_MAX_FIELDS", DEFAULT_MAX_FIELDS)
    data = form_data(environ, body) if method == "POST" else environ.get("QUERY_STRING", "")
    if not data.isascii():
        raise HTTPError(400, "The address is not URL-encoded.")
    return Request(method, parse_fields(data, max_fields), environ)


NAVIGATION = (
    '<nav><a href="hello.py">Hello</a> <a href="feedback.py">Feedback</a>'
    ' <a href="dashboard.py">Dashboard</a></nav>'
)


def page(title: str, body_html: str, status: int = 200) -> Response:
    """A complete HTML5 page; ``title`` is text, ``body_html`` is markup."""
    stylesheet = escape(ENVIRON.get("CGIKIT_STATIC", "/kit-static/") + "kit.css")
    html = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{stylesheet}">\n</head>\n<body>\n'
        f"{NAVIGATION}\n<main>\n{body_html}\n</main>\n</body>\n</html>\n"
    )
    return Response(html, status, headers=[("Cache-Control", "no-store")])


def see_other(location: str) -> Response:
    """303 See Other: after a POST that stored something, the browser GETs ``location``."""
    return Response(f"See {location}\n", 303, "text/plain; charset=utf-8", [("Location", location)])


def require_same_origin(environ: Mapping[str, str]) -> None:
    """Refuse a request a browser sent from another site (cross-site request forgery).

    Browsers say where a request comes from: ``Sec-Fetch-Site`` (all current
    browsers), else ``Origin``.  A request with neither is refused too, so a
    state-changing POST has to come from one of this site's own pages.

    ``Origin`` is compared with the site's own origins, which the kit's virtual
    hosts give as ``CGIKIT_ORIGINS`` (space-separated), never with the request's
    ``Host``: a server that answers any ``Host`` would take a page of any name
    that resolves to it (DNS rebinding) for its own.  Run outside the kit's
    configuration, without ``CGIKIT_ORIGINS``, the script's own URL counts.
    """
    fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "")
    if fetch_site:
        same_origin = fetch_site == "same-origin"
    else:
        origin = environ.get("HTTP_ORIGIN", "").lower()  # a host name's case is no part of it
        same_origin = bool(origin) and origin in _own_origins(environ)
    if not same_origin:
        raise HTTPError(403, "This form only accepts submissions from its own page.")


def _own_origins(environ: Mapping[str, str]) -> list[str]:
    """The origins this site's pages are served from (see ``require_same_origin``)."""
    configured = environ.get("CGIKIT_ORIGINS", "").lower().split()
    if configured:
        return configured
    scheme = "https" if environ.get("HTTPS", "").lower() == "on" else "http"
    return [f"{scheme}://{environ.get('HTTP_HOST', '').lower()}"]


def message_page(status: int, message: str) -> Response:
    """A page that says what happened: the status's name, then ``message`` (text)."""
    reason = REASONS.get(status, "Error")
    return page(reason, f"<h1>{escape(reason)}</h1>\n<p>{escape(message)}</p>", status)


def error_page(error: HTTPError) -> Response:
    """The page for a refused request: its status and what to do about it."""
    response = message_page(error.status, error.message)
    response.headers += error.headers
    return response


def internal_error_page() -> Response:
    """The plain 500 page: nothing about the cause reaches the client."""
    return message_page(500, "The server could not complete your request. Please try again later.")


def unavailable_page(message: str) -> Response:
    """503: the service can't do its job just now; nothing was half-done."""
    return message_page(503, f"{message} Nothing was changed. Please try again in a minute.")


# In a long-lived process, each thread's request has its own error log (the
# site's, through WSGI's ``wsgi.errors``): by thread, while the request runs.
_ERRORS: dict[int, TextIO] = {}


def log_exception() -> None:
    """Write the current exception's traceback to the error log: stderr under CGI (Apache
    writes it to the site's error log), the request's ``wsgi.errors`` in a long-lived process."""
    import traceback  # only on the error path: it is slow to import

    stream = _ERRORS.get(_thread.get_ident(), sys.stderr)
    traceback.print_exc(file=stream)
    stream.flush()


def answer(
    handle: Callable[[Request], Response],
    environ: Mapping[str, str],
    stdin: BinaryIO,
    methods: tuple[str, ...] = ("GET", "HEAD", "POST"),
) -> Response:
    """The response to one request: ``handle``'s, a 4xx page, or a plain 500."""
    try:
        response = handle(parse_request(environ, stdin, methods))
        response.header_list()  # a header that can't be sent is the script's failure
        return response
    except HTTPError as error:
        return error_page(error)
    except Exception:  # noqa: BLE001 - any failure becomes a plain 500 page
        log_exception()
        return internal_error_page()


def respond(
    handle: Callable[[Request], Response],
    environ: Mapping[str, str],
    stdin: BinaryIO,
    methods: tuple[str, ...] = ("GET", "HEAD", "POST"),
) -> bytes:
    """The complete CGI response to one request, as bytes (see ``answer``)."""
    head_only = environ.get("REQUEST_METHOD", "").upper() == "HEAD"
    return answer(handle, environ, stdin, methods).to_bytes(head_only)


def run(
    handle: Callable[[Request], Response],
    methods: tuple[str, ...] = ("GET", "HEAD", "POST"),
    exit_now: bool = False,
) -> None:
    """Serve one CGI request with ``handle`` and write the response to stdout.

    With ``exit_now`` the process ends as soon as the response is out: the
    interpreter's teardown (unloading every module) would only cost time,
    about a tenth of the start-up, before Apache sees the end of the output.
    Only for code that leaves nothing to clean up: ``finally`` blocks that
    are still open and ``atexit`` handlers do not run.  The kit's own scripts
    use it; their database connection is closed before the response is built.
    """
    if _LOADING is not None:  # a long-lived process is loading the script: keep the handler
        _LOADING.append(wsgi_application(handle, methods))
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(respond(handle, ENVIRON, sys.stdin.buffer, methods))
    sys.stdout.buffer.flush()
    if exit_now:
        sys.stderr.flush()
        posix._exit(0)


# -- The same scripts in a long-lived process (mod_wsgi's daemon mode) ---------

# While a long-lived process runs a script to load it, ``run`` gives its
# handler here instead of serving stdin.
_LOADING: list[Callable[..., list[bytes]]] | None = None
# Each script's WSGI application, by path, once loaded in this process.
_APPLICATIONS: dict[str, Callable[..., list[bytes]]] = {}
_LOAD_LOCK = _thread.allocate_lock()


def wsgi_application(
    handle: Callable[[Request], Response], methods: tuple[str, ...] = ("GET", "HEAD", "POST")
) -> Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]:
    """``handle`` as a WSGI application: the same requests, limits and pages as ``run``.

    The request's CGI variables are the environ's text values.  The server's
    settings for the scripts (``CGIKIT_*``, set with ``SetEnv`` for the site the
    process serves) also go into ``ENVIRON``, where the helper modules read them
    as they do under CGI; they are the same for every request a process serves.
    """

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        variables = {name: value for name, value in environ.items() if isinstance(value, str)}
        ENVIRON.update(
            (name, value) for name, value in variables.items() if name.startswith("CGIKIT_")
        )
        thread = _thread.get_ident()
        _ERRORS[thread] = environ["wsgi.errors"]
        try:
            response = answer(handle, variables, environ["wsgi.input"], methods)
        finally:
            del _ERRORS[thread]
        start_response(response.status_line(), response.header_list())
        head_only = variables.get("REQUEST_METHOD", "").upper() == "HEAD"
        return [b"" if head_only else response.body]

    return application


def load_script(path: str, lib: str) -> Callable[..., list[bytes]]:
    """Run the script at ``path`` as CGI would (``__name__`` is ``"__main__"``) and
    return the WSGI application of the handler it gives ``run``.

    ``lib`` is the site's helper folder, which the script looks up in
    ``CGIKIT_LIB`` as under CGI.  A script that never calls ``run`` can't be
    served this way: RuntimeError names it.
    """
    global _LOADING
    posix.environ[b"CGIKIT_LIB"] = lib.encode()
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", dont_inherit=True)
    _LOADING = []
    try:
        exec(code, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})
    except SystemExit:  # a script may end with sys.exit() once run() returned
        pass
    finally:
        loaded, _LOADING = _LOADING, None
    if not loaded:
        raise RuntimeError(f"{path} does not call cgikit.run: it can only run as a CGI program")
    return loaded[0]


def handle_request(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The WSGI handler for any script of the site (``SCRIPT_FILENAME``): loaded once per
    process, then answered by its own handler.  Scripts load one at a time."""
    path = environ["SCRIPT_FILENAME"]
    application = _APPLICATIONS.get(path)
    if application is None:
        with _LOAD_LOCK:
            application = _APPLICATIONS.get(path)
            if application is None:
                application = load_script(path, environ.get("CGIKIT_LIB", ""))
                _APPLICATIONS[path] = application
    return application(environ, start_response)
