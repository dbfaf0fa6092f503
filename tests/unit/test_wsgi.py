"""Persistent mode: the same scripts answered in a long-lived process, through the
WSGI adapter in cgikit (``handle_request``), under a real WSGI server (wsgiref,
with its PEP 3333 validator) in a process of its own, on the scripts' Python.

Each page is compared with the one the same script gives as a CGI process."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from cgirun import CGI_BIN, FIXTURES, PYTHON, run_cgi

SERVER = Path(__file__).with_name("wsgi_server.py")
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class WSGISite:
    """The server's process and a client for it."""

    def __init__(self, scripts: Path, database: Path) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-I", str(SERVER), str(scripts), str(CGI_BIN / "lib"), str(database)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())

    def request(
        self, method: str, path: str, body: str = "", headers: dict | None = None
    ) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body.encode() or None, headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def stop(self) -> tuple[str, str]:
        """Stop the server; what the requests wrote to their error log (``wsgi.errors``),
        and what went to the process's stderr."""
        self.process.kill()
        return self.process.communicate(timeout=10)


@pytest.fixture
def site(tmp_path, database):
    """A site whose folder holds the kit's scripts and the test fixtures."""
    scripts = tmp_path / "cgi-bin"
    scripts.mkdir()
    for folder in (CGI_BIN, FIXTURES):
        for path in folder.glob("*.py"):
            shutil.copy(path, scripts / path.name)
    served = WSGISite(scripts, database)
    yield served
    served.stop()


@pytest.mark.parametrize(
    ("script", "method", "query", "body"),
    [
        ("hello.py", "GET", "", ""),
        ("hello.py", "POST", "", "name=Ada+%3Cb%3E&happy=on"),
        ("hello.py", "POST", "", "name="),
        ("hello.py", "PUT", "", ""),
        ("hello.py", "GET", "name=%zz", ""),
        ("feedback.py", "GET", "", ""),
        ("health.py", "GET", "", ""),
        ("probe_added.py", "POST", "", "x=1"),
    ],
)
def test_the_page_is_the_one_cgi_gives(site, script, method, query, body):
    cgi = run_cgi(script if script != "probe_added.py" else FIXTURES / script, method, query, body)
    path = f"/cgi-bin/{script}" + (f"?{query}" if query else "")
    status, headers, page = site.request(method, path, body, FORM if body else {})
    assert (status, page) == (cgi.status, cgi.body)
    for name in ("Content-Type", "Allow", "Cache-Control", "Content-Length"):
        assert headers.get(name) == cgi.headers.get(name), name


def test_head_gives_the_headers_without_the_body(site):
    status, headers, page = site.request("HEAD", "/cgi-bin/hello.py")
    assert status == 200
    assert page == ""
    assert int(headers["Content-Length"]) == len(run_cgi("hello.py").raw_body)


def test_a_body_over_the_limit_is_413(site):
    status, _headers, page = site.request("POST", "/cgi-bin/hello.py", "name=" + "a" * 70000, FORM)
    assert status == 413
    assert "larger than 65536 bytes" in page


def test_a_failure_is_a_plain_500_and_its_traceback_goes_to_the_error_log(site):
    status, _headers, page = site.request("GET", "/cgi-bin/probe_failure.py?marker-41")
    assert status == 500
    assert "Internal Server Error" in page
    for leak in ("Traceback", "RuntimeError", "probe-secret-7f3a", "marker-41"):
        assert leak not in page
    # A second request is answered by the same process: it survived the failure.
    assert site.request("GET", "/cgi-bin/hello.py")[0] == 200
    request_log, stderr = site.stop()
    assert "RuntimeError: probe failure probe-secret-7f3a marker-41" in request_log
    assert "probe-secret-7f3a" not in stderr  # the request's own log, not the process's


def test_a_script_that_does_not_serve_through_cgikit_is_refused_by_name(site, tmp_path):
    legacy = tmp_path / "cgi-bin" / "legacy.py"
    legacy.write_text("#!/usr/bin/python3\nprint('Content-Type: text/plain')\nprint()\n")
    status, _headers, page = site.request("GET", "/cgi-bin/legacy.py")
    assert status == 500
    assert "legacy.py" not in page
    assert f"{legacy} does not call cgikit.run" in "".join(site.stop())


def test_concurrent_posts_from_threads_each_store_one_row(site, rows):
    """SQLite's rules with threads: a connection per request, never shared."""
    count, statuses = 200, []

    def post(number: int) -> None:
        body = f"name=Thread+{number}&mood=happy&message=Row+{number}"
        headers = {**FORM, **SAME_ORIGIN}
        statuses.append(site.request("POST", "/cgi-bin/feedback.py", body, headers)[0])

    threads = [threading.Thread(target=post, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * count
    stored = rows()
    assert len(stored) == count
    assert sorted(name for name, _mood, _message in stored) == sorted(
        f"Thread {number}" for number in range(count)
    )


def test_the_helper_needs_no_thread_module_under_cgi():
    """CGI's start-up stays as cheap as before: persistent mode imports nothing more."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import cgikit; "
        "print(sorted(m for m in ('threading', 'traceback', 'wsgiref') if m in sys.modules))"
    )
    output = subprocess.run(
        [PYTHON, "-IS", "-c", probe, str(CGI_BIN / "lib")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == "[]"
