"""What a user sees: every check runs from inside each host and from the controller."""

from __future__ import annotations

import pytest

HELLO = "/cgi-bin/hello.py"
SOURCE_MARKERS = ("import cgikit", "sys.path.insert", "def handle", "#!/usr/bin/python3")


def test_form_page(http):
    reply = http.get(HELLO)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    for field in ('name="name"', 'name="happy" type="checkbox"', 'name="sad" type="checkbox"'):
        assert field in reply.body
    assert '<form method="post" action="hello.py">' in reply.body


def test_post_greets_by_name_with_both_moods(http):
    reply = http.post_form(HELLO, "name=Zo%C3%AB&happy=on&sad=on")
    assert reply.status == 200
    assert "<h1>Hello, Zoë!</h1>" in reply.body
    assert "<p>You are happy.</p>" in reply.body
    assert "<p>You are sad.</p>" in reply.body


def test_get_with_query_string_greets(http):
    reply = http.get(f"{HELLO}?name=Ada&sad=on")
    assert reply.status == 200
    assert "<h1>Hello, Ada!</h1>" in reply.body
    assert "<p>You are sad.</p>" in reply.body
    assert "You are happy." not in reply.body


def test_script_in_the_name_is_escaped(http):
    reply = http.post_form(HELLO, "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&happy=on")
    assert reply.status == 200
    assert "<script>" not in reply.body
    assert "Hello, &lt;script&gt;alert(1)&lt;/script&gt;!" in reply.body


def test_missing_name_is_a_400_with_the_form(http):
    reply = http.post_form(HELLO, "name=+&happy=on")
    assert reply.status == 400
    assert "Please enter your name." in reply.body
    assert 'name="happy" type="checkbox" checked' in reply.body


def test_put_is_405_with_allow(http):
    reply = http.request("PUT", HELLO, "name=x")
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, HEAD, POST"


def test_head_has_headers_and_no_body(http):
    reply = http.request("HEAD", HELLO)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.body == ""


def test_broken_percent_encoding_is_400(http):
    reply = http.post_form(HELLO, "name=%E2%28")
    assert reply.status == 400
    assert "not valid UTF-8" in reply.body


def test_other_content_types_are_415(http):
    reply = http.post_form(HELLO, '{"name": "x"}', Content_Type="application/json")
    assert reply.status == 415


def test_body_over_the_limit_is_413(http):
    reply = http.post_form(HELLO, "name=" + "a" * 70000)
    assert reply.status == 413
    assert "Hello," not in reply.body


@pytest.mark.parametrize("path", ["/cgi-bin/", "/cgi-bin/lib/", "/icons/", "/cgi-bin/__pycache__/"])
def test_no_directory_listing(http, path):
    reply = http.get(path)
    assert reply.status in (403, 404)
    assert "Index of" not in reply.body


@pytest.mark.parametrize(
    "path",
    [
        "/cgi-bin/hello.py",
        "/cgi-bin/hello.py~",
        "/cgi-bin/hello.py.bak",
        "/cgi-bin/lib/cgikit.py",
        "/cgi-bin/%2e%2e/%2e%2e/local/lib/apache-cgi-kit/cgikit.py",
        "/usr/lib/cgi-bin/hello.py",
        "/usr/local/lib/apache-cgi-kit/cgikit.py",
        "/hello.py",
        "/cgi-bin/../../usr/lib/cgi-bin/hello.py",
    ],
)
def test_no_script_source_is_served(http, path):
    reply = http.get(path)
    for marker in SOURCE_MARKERS:
        assert marker not in reply.body


@pytest.mark.parametrize("path", [HELLO, "/", "/no-such-page"])
def test_server_header_has_no_version(http, path):
    reply = http.get(path)
    assert reply.headers["server"] == "Apache"
    assert "Apache/" not in reply.body


def test_trace_is_refused(http):
    reply = http.request("TRACE", "/")
    assert reply.status == 405


def test_added_script_is_published(http):
    reply = http.get("/cgi-bin/probe_added.py")
    assert reply.status == 200
    assert reply.body == "added script runs: GET\n"


def test_failure_is_a_plain_500_with_the_traceback_only_in_the_log(http, host):
    reply = http.get("/cgi-bin/probe_failure.py")
    assert reply.status == 500
    assert "Internal Server Error" in reply.body
    for leak in ("Traceback", "RuntimeError", "probe-secret-7f3a", "probe_failure.py"):
        assert leak not in reply.body
    log = host.file("/var/log/apache2/error.log").content_string
    assert "RuntimeError: probe failure probe-secret-7f3a" in log
