"""Fuzzing the shared request handling with random methods, headers, lengths, encodings, bodies.

Whatever arrives, ``cgikit.respond`` answers with the script's page or one of the
kit's own 4xx pages: never its plain 500 (which would mean an unexpected exception),
never markup from the input.  ``KIT_FUZZ_EXAMPLES`` sets how many inputs each test
tries (scripts/test runs a long round; a plain ``pytest`` a short one).
"""

from __future__ import annotations

import html
import io
import os
import sys
import urllib.parse

import pytest
from cgirun import CGI_BIN
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(CGI_BIN / "lib"))
import cgikit
import dashboard_view
import feedback_form
import hello_form
import kitstore

EXAMPLES = int(os.environ.get("KIT_FUZZ_EXAMPLES", "200"))
FORM = "application/x-www-form-urlencoded"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Pieces of form data, good and bad: names, escapes broken and whole, markup, controls.
TOKENS = st.sampled_from(
    [
        *("name", "happy", "sad", "mood", "message", "page", "thanks", "neutral", "Ada", "1"),
        *("=", "&", "+", "%", "%2", "%zz", "%FF", "%C3%A9", "%E2%82%AC", "%C3", "%00", "%0D%0A"),
        *("%3Cscript%3E", "<script>", "<", ">", '"', "'", ";", " ", "é", "\x00", "\r\n", "\x7f"),
        # A tag no page of the kit's has: seen raw in an answer, it came from the input.
        *("<zq>", "%3Czq%3E", "%3czq"),
    ]
)
FORM_TEXT = st.lists(TOKENS, max_size=40).map("".join)
METHODS = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "get", "post", ""]),
    st.text(max_size=10),
)
LENGTHS = st.one_of(
    st.none(),
    st.integers(-5, 10**7).map(str),
    st.from_regex(r"0*[0-9]{1,40}", fullmatch=True),
    st.sampled_from(["", " 5", "5 ", "+5", "0x10", "\u0661\u0662", "\u00b2", "1e3"]),
    st.text(max_size=12),
)
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            *(
                FORM,
                f"{FORM}; charset=utf-8",
                f'{FORM}; charset="UTF-8"',
                f"{FORM}; charset=latin1",
            ),
            *("APPLICATION/X-WWW-FORM-URLENCODED", "multipart/form-data; boundary=x", "text/plain"),
        ]
    ),
    st.text(max_size=40),
)
LIMITS = st.one_of(st.none(), st.sampled_from(["", "0", "1", "8", "100", "abc", "-1", "9" * 12]))
FETCH_SITES = st.one_of(
    st.none(), st.sampled_from(["same-origin", "cross-site", "none", ""]), st.text(max_size=12)
)
ORIGINS = st.sampled_from(["http://localhost", "https://localhost"])
HEADER_NAMES = st.from_regex(r"HTTP_[A-Z0-9_]{1,24}", fullmatch=True)


HANDLERS = {
    "hello.py": hello_form.handle,
    "feedback.py": feedback_form.handle,
    "dashboard.py": dashboard_view.handle,
}


# Forms as the scripts expect them (known field names; values of any text,
# properly encoded, or made of good and broken pieces), as well as any text:
# a good share of the requests must get past the parsing to the scripts.
FIELD_NAMES = st.one_of(
    st.sampled_from(["name", "happy", "sad", "mood", "message", "page", "thanks"]), FORM_TEXT
)
VALUES = st.one_of(
    st.sampled_from(["Ada", "<zq>Ada", "Ada<zq>", "on", "sad", "2"]).map(urllib.parse.quote_plus),
    st.text(max_size=30).map(urllib.parse.quote_plus),
    FORM_TEXT,
)
FORMS = st.one_of(
    st.lists(st.tuples(FIELD_NAMES, VALUES), max_size=6).map(
        lambda pairs: "&".join(f"{name}={value}" for name, value in pairs)
    ),
    FORM_TEXT,
    st.text(max_size=60),
)
VERBS = st.sampled_from(["GET", "HEAD", "POST", "GET", "POST", "other"]).flatmap(
    lambda verb: METHODS if verb == "other" else st.just(verb)
)


@st.composite
def requests(draw) -> tuple[dict[str, str], bytes]:
    """A CGI environment and a request body, each part random or nearly right."""
    method = draw(VERBS)
    form = draw(FORMS)
    in_body = draw(st.booleans())
    # Any other headers a client may send (CGI passes them as HTTP_*).
    environ = draw(st.dictionaries(HEADER_NAMES, st.text(max_size=40), max_size=4))
    environ.update(
        REQUEST_METHOD=method,
        QUERY_STRING=draw(FORMS) if in_body else form,
        HTTP_HOST=draw(st.one_of(st.just("localhost"), st.text(max_size=30))),
    )
    optional = {
        "CONTENT_TYPE": draw(
            st.sampled_from([FORM, FORM, "other"]).flatmap(
                lambda kind: CONTENT_TYPES if kind == "other" else st.just(kind)
            )
        ),
        "CGIKIT_MAX_BODY": draw(st.one_of(st.none(), LIMITS)),
        "CGIKIT_MAX_FIELDS": draw(st.one_of(st.none(), LIMITS)),
        "HTTP_SEC_FETCH_SITE": draw(FETCH_SITES),
        "HTTP_ORIGIN": draw(st.one_of(st.none(), ORIGINS, st.text())),
        "HTTPS": draw(st.one_of(st.none(), st.just("on"))),
        "HTTP_TRANSFER_ENCODING": draw(st.sampled_from([None, None, None, "chunked"])),
    }
    environ.update({name: value for name, value in optional.items() if value is not None})
    body = form.encode() if in_body else draw(st.one_of(st.just(b""), st.binary(max_size=200)))
    # Three times in four the body's own length, else anything.
    if draw(st.sampled_from([True, True, True, False])):
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        length = draw(LENGTHS)
        if length is not None:
            environ["CONTENT_LENGTH"] = length
    return environ, body


# The headers the kit's scripts write; any other came from the input.
KIT_HEADERS = {"Content-Type", "Cache-Control", "Content-Length", "Location", "Allow"}
KIT_HEADERS.add("Content-Disposition")  # the dashboard's CSV export


def status_of(output: bytes) -> int:
    head, separator, _ = output.partition(b"\r\n\r\n")
    assert separator, output[:200]
    return int(head.split(b"\r\n", 1)[0].split()[1])


@pytest.fixture(autouse=True)
def database(database, monkeypatch):
    """The feedback and dashboard scripts store in this test's own database."""
    monkeypatch.setitem(cgikit.ENVIRON, "CGIKIT_DB", str(database))
    return database


# The share of random requests, at the least, that each script answers with its page
# (2xx or 3xx) rather than a refusal: a parser that refused everything, or most
# things, would pass every other check.  Measured with 200 and 2,000 examples:
# hello 0.14-0.15, feedback 0.17-0.26, dashboard 0.36-0.41 (hello and feedback
# refuse most forms, as they should); the bounds are a little over half that.
MIN_PAGE_SHARE = {"hello.py": 0.08, "feedback.py": 0.10, "dashboard.py": 0.20}


def check_answer(environ: dict[str, str], output: bytes, log: str) -> int:
    """The answer's status, after the checks that hold for any answer at all."""
    status = status_of(output)
    assert status < 500, (status, log[-2000:])
    assert b"<zq" not in output.lower()
    assert b"<script" not in output.lower()
    head = output.partition(b"\r\n\r\n")[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    assert status_line.startswith("Status: ")
    assert {line.split(":", 1)[0] for line in header_lines} <= KIT_HEADERS
    if environ.get("REQUEST_METHOD", "").upper() == "HEAD":
        assert output.endswith(b"\r\n\r\n")
    return status


@pytest.mark.parametrize("script", sorted(HANDLERS))
def test_any_request_gets_the_page_or_a_4xx(script, capsys):
    statuses: list[int] = []

    @FUZZ
    @given(request=requests())
    def one_request(request: tuple[dict[str, str], bytes]) -> None:
        environ, body = request
        output = cgikit.respond(HANDLERS[script], environ, io.BytesIO(body))
        statuses.append(check_answer(environ, output, capsys.readouterr().err))

    one_request()
    share = sum(status < 400 for status in statuses) / len(statuses)
    assert share >= MIN_PAGE_SHARE[script], (
        f"{script}: {share:.2f} of {len(statuses)} reached the page"
    )


def parse_or_refuse(data: str, max_fields: int):
    """The parsed fields, or the kit's refusal."""
    try:
        return cgikit.parse_fields(data, max_fields), None
    except cgikit.HTTPError as error:
        return {}, error


@FUZZ
@given(data=FORM_TEXT, max_fields=st.integers(1, 50))
def test_parse_fields_returns_text_or_a_4xx(data, max_fields):
    fields, error = parse_or_refuse(data, max_fields)
    if error:
        assert error.status in (400, 413)
        return
    assert sum(len(values) for values in fields.values()) <= max_fields
    for name, values in fields.items():
        assert isinstance(name, str)
        assert all(isinstance(value, str) for value in values)


@FUZZ
@given(text=st.text())
def test_escape_leaves_no_markup(text):
    escaped = cgikit.escape(text)
    assert not set("<>\"'") & set(escaped)
    assert html.unescape(escaped) == text


# Text a browser can send: any character but lone surrogates (which have no UTF-8),
# with a tag now and then that no page of the kit's has.
SENDABLE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.tuples(st.text(max_size=5).filter(str.isprintable), st.just("<zq>")).map("".join),
)
# Names with spaces around them too: the form stores a name without them.
NAMES = st.tuples(st.sampled_from(["", " ", "\t "]), SENDABLE, st.sampled_from(["", " "])).map(
    "".join
)
MOOD_VALUES = st.one_of(st.sampled_from(kitstore.MOODS), SENDABLE)
MESSAGES = st.one_of(SENDABLE, st.text(st.characters(blacklist_categories=("Cs",)), max_size=1100))


def is_valid_feedback(name: str, mood: str, message: str) -> bool:
    """The form's rules, written out here on their own (not the form's code): a name of
    1 to MAX_NAME characters, a message of 1 to MAX_MESSAGE, neither blank, no control
    characters but a message's line breaks and tabs, and one of the moods."""

    def fits(text: str, longest: int, controls: str) -> bool:
        return (
            bool(text.strip())
            and len(text) <= longest
            and all((char >= " " and char != "\x7f") or char in controls for char in text)
        )

    return (
        fits(name, feedback_form.MAX_NAME, "")
        and fits(message, feedback_form.MAX_MESSAGE, "\n\t")
        and mood in kitstore.MOODS
    )


@FUZZ
@given(name=NAMES, mood=MOOD_VALUES, message=MESSAGES)
@example(name=" Ada <zq> ", mood="happy", message="Fine.\r\nThanks")  # valid: stored
@example(name="Ada", mood="glum", message="Fine.")  # not a mood: refused
def test_a_feedback_post_is_stored_as_sent_or_refused_and_stored_nowhere(name, mood, message, rows):
    """Same-origin feedback POSTs of any text reach the storing path: a valid one is
    stored once, as the form keeps it (the name trimmed, CR LF as LF), and answered 303;
    any other is answered 400, names its problems, and is stored nowhere."""
    body = urllib.parse.urlencode({"name": name, "mood": mood, "message": message}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "localhost",
        "HTTP_SEC_FETCH_SITE": "same-origin",
    }
    kept = (name.strip(), mood, message.replace("\r\n", "\n"))
    valid = is_valid_feedback(*kept)
    before = rows()
    output = cgikit.respond(feedback_form.handle, environ, io.BytesIO(body))
    assert status_of(output) == (303 if valid else 400), output[:500]
    assert rows() == ([*before, kept] if valid else before)
    assert b"<zq" not in output.lower()
