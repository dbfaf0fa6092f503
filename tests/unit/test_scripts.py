"""Every script in cgi-bin/, run as a CGI process: what makes it deployable."""

from __future__ import annotations

import os

import pytest
from cgirun import CGI_BIN, run_cgi

SCRIPTS = sorted(path for path in CGI_BIN.iterdir() if path.is_file())


def test_there_are_scripts():
    assert {"hello.py", "feedback.py", "dashboard.py", "health.py"} <= {
        path.name for path in SCRIPTS
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_has_the_isolated_python_shebang_and_is_executable(script):
    assert script.read_text().splitlines()[0] == "#!/usr/bin/python3 -IS"
    assert os.access(script, os.X_OK)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_answers_get_and_refuses_put(script):
    page = run_cgi(script)
    assert page.status == 200
    # UTF-8 either way: declared for HTML, by definition for JSON (RFC 8259).
    assert page.headers["Content-Type"] in ("text/html; charset=utf-8", "application/json")
    assert page.stderr == ""
    refused = run_cgi(script, "PUT", body="x=1", content_type="text/plain")
    assert refused.status == 405
    assert "GET" in refused.headers["Allow"]
