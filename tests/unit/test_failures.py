"""Failures inside a script: a plain 500 for the client, the traceback for the log."""

from __future__ import annotations

import sys

import pytest
from cgirun import CGI_BIN, FIXTURES, run_cgi

sys.path.insert(0, str(CGI_BIN / "lib"))
import cgikit


def test_exception_gives_a_plain_500_and_logs_the_traceback():
    page = run_cgi(FIXTURES / "probe_failure.py")
    assert page.status == 500
    assert "Internal Server Error" in page.body
    for leak in ("Traceback", "RuntimeError", "probe-secret-7f3a"):
        assert leak not in page.body
    assert "Traceback (most recent call last)" in page.stderr
    assert "RuntimeError: probe failure probe-secret-7f3a" in page.stderr


def test_a_new_script_written_with_the_helper_runs():
    """tests/fixtures/cgi-bin/probe_added.py, a script of the kind a user adds (the live
    tests publish it by adding it to cgi-bin/: tests/live/test_http.py)."""
    page = run_cgi(FIXTURES / "probe_added.py", "POST", body="x=1")
    assert page.status == 200
    assert page.body == "added script runs: POST\n"


def test_a_line_break_in_a_header_value_never_reaches_the_output():
    response = cgikit.Response("x", headers=[("Location", "/a\r\nSet-Cookie: evil=1")])
    with pytest.raises(ValueError, match="line break"):
        response.to_bytes()


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("a+b", "a b"),
        ("%41%42c", "ABc"),
        ("%e2%82%ac", "€"),
        ("100%25", "100%"),
        ("", ""),
    ],
)
def test_percent_decode(text, decoded):
    assert cgikit.percent_decode(text) == decoded


@pytest.mark.parametrize("text", ["%", "%4", "%G1", "a%zzb", "%ff", "%C3"])
def test_percent_decode_refuses_broken_input(text):
    with pytest.raises(cgikit.HTTPError) as error:
        cgikit.percent_decode(text)
    assert error.value.status == 400


def test_parse_fields_keeps_order_repeats_and_empty_values():
    assert cgikit.parse_fields("a=1&b=&a=2&&c") == {"a": ["1", "2"], "b": [""], "c": [""]}


def test_escape_covers_the_five_html_specials():
    assert cgikit.escape("<a href=\"x\">'&'</a>") == (
        "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
    )
