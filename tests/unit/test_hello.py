"""hello.py as a CGI process: the form, the greeting and every way to get it wrong."""

from __future__ import annotations

import pytest
from cgirun import run_cgi


def hello(method: str = "GET", **kwargs) -> object:
    return run_cgi("hello.py", method, **kwargs)


def test_get_shows_the_form():
    page = hello()
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(page.headers["Content-Length"]) == len(page.raw_body)
    assert page.body.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<form method="post" action="hello.py">' in page.body
    assert '<label for="name">Your name</label>' in page.body
    assert '<input id="name" name="name" type="text"' in page.body
    assert '<input id="happy" name="happy" type="checkbox">' in page.body
    assert '<input id="sad" name="sad" type="checkbox">' in page.body


@pytest.mark.parametrize(
    ("moods", "lines", "absent"),
    [
        ("&happy=on", ["You are happy."], ["You are sad.", "neither"]),
        ("&sad=on", ["You are sad."], ["You are happy.", "neither"]),
        ("&happy=on&sad=on", ["You are happy.", "You are sad."], ["neither"]),
        ("", ["You are neither happy nor sad."], ["You are happy.", "You are sad."]),
    ],
)
def test_post_greets_with_the_ticked_moods(moods, lines, absent):
    page = hello("POST", body=f"name=Ada+Lovelace{moods}")
    assert page.status == 200
    assert "<h1>Hello, Ada Lovelace!</h1>" in page.body
    for line in lines:
        assert f"<p>{line}</p>" in page.body
    for line in absent:
        assert line not in page.body


def test_get_with_a_query_string_greets():
    page = hello(query="name=Grace&happy=on")
    assert page.status == 200
    assert "<h1>Hello, Grace!</h1>" in page.body
    assert "<p>You are happy.</p>" in page.body


def test_utf8_name_round_trips():
    page = hello("POST", body="name=Zo%C3%AB+%E6%9D%8E&sad=on")
    assert "<h1>Hello, Zoë 李!</h1>" in page.body
    assert "<title>Hello, Zoë 李</title>" in page.body


def test_every_echoed_character_is_escaped():
    page = hello("POST", body="name=%3Cscript%3E%22%27%26&happy=on")
    assert page.status == 200
    assert "<script>" not in page.body
    assert "<h1>Hello, &lt;script&gt;&quot;&#x27;&amp;!</h1>" in page.body
    assert "<title>Hello, &lt;script&gt;&quot;&#x27;&amp;</title>" in page.body


def test_a_rejected_name_is_kept_escaped_in_the_form():
    long_name = '"><script>' + "x" * 100
    page = hello("POST", body=f"name={long_name}&happy=on".replace("<", "%3C").replace(">", "%3E"))
    assert page.status == 400
    assert "at most 100 characters" in page.body
    assert 'value="&quot;&gt;&lt;script&gt;' in page.body
    assert 'name="happy" type="checkbox" checked' in page.body
    assert "<script>" not in page.body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name=", "Please enter your name."),
        ("name=+++&sad=on", "Please enter your name."),
        ("happy=on", "Please enter your name."),
        ("name=" + "a" * 101, "at most 100 characters"),
        ("name=a%00b", "can&#x27;t contain control characters"),
        ("name=a%0Ab", "can&#x27;t contain control characters"),
    ],
)
def test_bad_names_are_400_with_the_form_and_a_message(body, message):
    page = hello("POST", body=body)
    assert page.status == 400
    assert message in page.body
    assert '<form method="post"' in page.body


def test_a_field_sent_twice_is_400():
    page = hello("POST", body="name=a&name=b")
    assert page.status == 400
    assert "sent more than once" in page.body


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_405_with_allow(method):
    page = hello(method, body="name=x")
    assert page.status == 405
    assert page.headers["Allow"] == "GET, HEAD, POST"
    assert f"does not accept {method} requests" in page.body


def test_head_sends_the_headers_of_get_and_no_body():
    head = hello("HEAD")
    get = hello("GET")
    assert head.status == 200
    assert head.raw_body == b""
    assert head.headers == get.headers


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"body": "name=a%zz"}, 400, "broken percent-encoding"),
        ({"body": "name=a%2"}, 400, "broken percent-encoding"),
        ({"body": "name=%C3%28"}, 400, "not valid UTF-8"),
        ({"body": "name=Zo\u00eb"}, 400, "not URL-encoded"),
        (
            {"body": "name=a", "content_type": "text/plain"},
            415,
            "application/x-www-form-urlencoded",
        ),
        ({"body": "name=a", "content_type": "multipart/form-data; boundary=x"}, 415, "urlencoded"),
        (
            {
                "body": "name=a",
                "content_type": f"{'application/x-www-form-urlencoded'}; charset=latin-1",
            },
            415,
            "UTF-8",
        ),
        ({"body": "name=a", "content_length": "abc"}, 400, "invalid Content-Length"),
        ({"body": "name=a", "content_length": "9" * 4400}, 413, "larger than 65536 bytes"),
        ({"body": "name=a", "content_length": "\u0666"}, 400, "invalid Content-Length"),
        ({"body": "name=a", "content_length": "99"}, 400, "shorter than its Content-Length"),
        ({"body": "name=a", "content_length": ""}, 411, "no Content-Length"),
        ({"body": "name=" + "a" * 200, "CGIKIT_MAX_BODY": "100"}, 413, "larger than 100 bytes"),
        ({"body": "a=1&b=2&c=3&d=4", "CGIKIT_MAX_FIELDS": "3"}, 413, "more than 3 fields"),
        # A chunked body: read to its end (else Apache cuts the answer short), then refused.
        (
            {"body": "name=a", "content_length": "", "HTTP_TRANSFER_ENCODING": "chunked"},
            411,
            "Send the form with a Content-Length.",
        ),
        (
            {
                "body": "a" * 300,
                "content_length": "",
                "HTTP_TRANSFER_ENCODING": "chunked",
                "CGIKIT_MAX_BODY": "100",
            },
            413,
            "larger than 100 bytes",
        ),
    ],
)
def test_malformed_posts_get_a_clear_4xx(kwargs, status, message):
    page = hello("POST", **kwargs)
    assert page.status == status
    assert message in page.body
    assert "Hello," not in page.body
    assert page.stderr == ""


def test_a_content_length_with_many_leading_zeros_is_read_as_its_value():
    page = hello("POST", body="name=a", content_length="0" * 4400 + "6")
    assert page.status == 200
    assert "<h1>Hello, a!</h1>" in page.body


@pytest.mark.parametrize("query", [b"name=\xff", b"name=\xff%41", "name=Zo\u00eb".encode()])
def test_a_raw_non_ascii_query_string_is_400(query):
    page = hello(query=query.decode("utf-8", "surrogateescape"))
    assert page.status == 400
    assert "not URL-encoded" in page.body


def test_charset_utf8_is_accepted():
    page = hello(
        "POST", body="name=Ada", content_type="application/x-www-form-urlencoded; charset=UTF-8"
    )
    assert page.status == 200


def test_responses_are_not_cached():
    assert hello("POST", body="name=Ada").headers["Cache-Control"] == "no-store"
