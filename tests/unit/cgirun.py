"""Run a CGI script as Apache would: a new process, a CGI environment, the body on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
CGI_BIN = PROJECT / "cgi-bin"
FIXTURES = PROJECT / "tests" / "fixtures" / "cgi-bin"
FORM = "application/x-www-form-urlencoded"
# The interpreter that runs the scripts: the controller's, or another one to
# prove the scripts on every Python they support (scripts/test sets it).
PYTHON = os.environ.get("KIT_CGI_PYTHON", sys.executable)
# The database the scripts use; tests/unit/conftest.py gives each test its own.
DB_PATH = Path("/nonexistent/kit.sqlite3")


class CGIResult:
    """A script's response, split the way Apache splits it."""

    def __init__(self, stdout: bytes, stderr: str) -> None:
        head, separator, body = stdout.partition(b"\r\n\r\n")
        assert separator, f"no blank line after the headers: {stdout[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        #: Every header line as sent, in order, repeats included.
        self.raw_headers = [tuple(line.split(": ", 1)) for line in lines]
        names = [name.lower() for name, _ in self.raw_headers]
        doubled = {name for name in names if names.count(name) > 1} - {"set-cookie"}
        assert not doubled, f"headers sent more than once: {sorted(doubled)}"
        self.headers = dict(self.raw_headers)
        self.status = int(self.headers.pop("Status").split()[0])
        self.raw_body = body
        self.body = body.decode("utf-8")
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"<CGIResult {self.status} {self.headers} {self.body[:300]!r}>"


def run_cgi(
    script: Path | str,
    method: str = "GET",
    query: str = "",
    body: bytes | str = b"",
    content_type: str | None = None,
    content_length: str | None = None,
    **extra_env: str,
) -> CGIResult:
    """Run one request through ``script`` (a name in cgi-bin/ or a path)."""
    path = script if isinstance(script, Path) else CGI_BIN / script
    data = body.encode("utf-8") if isinstance(body, str) else body
    env = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "Apache",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "SCRIPT_NAME": f"/cgi-bin/{path.name}",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CGIKIT_LIB": str(CGI_BIN / "lib"),
        "CGIKIT_DB": str(DB_PATH),
        "PATH": "/usr/bin:/bin",
    }
    if method == "POST" and content_type is None:
        content_type = FORM
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if content_length is None and data:
        content_length = str(len(data))
    if content_length is not None:
        env["CONTENT_LENGTH"] = content_length
    env.update(extra_env)
    process = subprocess.run(
        [PYTHON, "-IS", str(path)],
        input=data,
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert process.returncode == 0, process.stderr.decode()
    return CGIResult(process.stdout, process.stderr.decode())
