"""feedback.py as a CGI process: store a valid submission once, refuse everything else."""

from __future__ import annotations

import sqlite3
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from cgirun import run_cgi

SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin"}
VALID = "name=Ada&mood=happy&message=Lovely+form%21%0D%0ASecond+line"


def submit(body: str, **env: str):
    return run_cgi("feedback.py", "POST", body=body, **{**SAME_ORIGIN, **env})


def test_get_shows_the_form_with_labels_and_the_moods():
    page = run_cgi("feedback.py")
    assert page.status == 200
    for control in ("name", "mood", "message"):
        assert f'<label for="{control}">' in page.body
        assert f'id="{control}" name="{control}"' in page.body
    for mood in ("delighted", "happy", "neutral", "sad", "angry"):
        assert f'<option value="{mood}">' in page.body


def test_a_valid_post_stores_one_row_and_redirects_with_303(rows):
    page = submit(VALID)
    assert page.status == 303
    assert page.headers["Location"] == "feedback.py?thanks=1"
    assert rows() == [("Ada", "happy", "Lovely form!\nSecond line")]


def test_the_thank_you_view_stores_nothing(rows):
    page = run_cgi("feedback.py", query="thanks=1")
    assert page.status == 200
    assert "Your feedback was saved." in page.body
    assert rows() == []


def test_same_origin_by_origin_header_is_accepted(rows):
    page = run_cgi(
        "feedback.py", "POST", body=VALID, HTTP_ORIGIN="http://example.org", HTTP_HOST="example.org"
    )
    assert page.status == 303
    assert len(rows()) == 1


SITE = "https://Kit.Example.org http://kit.example.org http://kit.example.org:8080"


@pytest.mark.parametrize("origin", [*SITE.lower().split(), "HTTPS://KIT.EXAMPLE.ORG"])
def test_the_sites_configured_origins_are_accepted_whatever_the_host(rows, origin):
    page = submit(
        VALID,
        HTTP_SEC_FETCH_SITE="",
        HTTP_ORIGIN=origin,
        HTTP_HOST="203.0.113.5",
        CGIKIT_ORIGINS=SITE,
    )
    assert page.status == 303
    assert len(rows()) == 1


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        # DNS rebinding: the attacker's name resolves to the server, Host is his.
        ("http://evil.example", "evil.example"),
        ("https://evil.example", "evil.example"),
        ("http://kit.example.org:8081", "kit.example.org:8081"),
        ("https://kit.example.org.evil.example", "kit.example.org"),
    ],
)
def test_an_origin_that_only_matches_its_own_host_is_403(rows, origin, host):
    page = submit(
        VALID, HTTP_SEC_FETCH_SITE="", HTTP_ORIGIN=origin, HTTP_HOST=host, CGIKIT_ORIGINS=SITE
    )
    assert page.status == 403
    assert rows() == []


@pytest.mark.parametrize(
    "env",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_SEC_FETCH_SITE": "none"},
        {
            "HTTP_SEC_FETCH_SITE": "",
            "HTTP_ORIGIN": "http://evil.example",
            "HTTP_HOST": "example.org",
        },
        {"HTTP_SEC_FETCH_SITE": "", "HTTP_ORIGIN": "null", "HTTP_HOST": "example.org"},
        {
            "HTTP_SEC_FETCH_SITE": "",
            "HTTP_ORIGIN": "https://example.org",
            "HTTP_HOST": "example.org",
        },
        {"HTTP_SEC_FETCH_SITE": ""},
    ],
)
def test_a_forged_post_is_403_and_stores_nothing(env, rows):
    page = submit(VALID, **env)
    assert page.status == 403
    assert "only accepts submissions from its own page" in page.body
    assert rows() == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("name=&mood=happy&message=hi", "name", "Please enter your name."),
        ("name=" + "n" * 101 + "&mood=happy&message=hi", "name", "at most 100 characters"),
        ("name=a%07b&mood=happy&message=hi", "name", "control characters"),
        ("name=Ada&mood=&message=hi", "mood", "Please choose one of the moods"),
        ("name=Ada&mood=furious&message=hi", "mood", "Please choose one of the moods"),
        ("name=Ada&mood=happy&message=+", "message", "Please write a message."),
        ("name=Ada&mood=happy&message=" + "m" * 1001, "message", "at most 1000 characters"),
        ("name=Ada&mood=happy&message=a%00b", "message", "control characters"),
    ],
)
def test_an_invalid_post_is_400_with_a_message_per_field_and_stores_nothing(
    body, field, message, rows
):
    page = submit(body)
    assert page.status == 400
    assert f'<p class="error" id="{field}-error">' in page.body
    assert message in page.body
    assert f'id="{field}" name="{field}"' in page.body
    assert rows() == []


def test_the_input_is_kept_escaped_when_the_form_comes_back(rows):
    page = submit("name=%3Cb%3EAda%22&mood=sad&message=")
    assert page.status == 400
    assert 'value="&lt;b&gt;Ada&quot;"' in page.body
    assert '<option value="sad" selected>' in page.body
    assert "<b>" not in page.body
    assert rows() == []


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"body": VALID + "&pad=" + "x" * 300, "CGIKIT_MAX_BODY": "200"}, 413),
        ({"body": VALID + "&a=1&b=2&c=3", "CGIKIT_MAX_FIELDS": "4"}, 413),
        ({"body": VALID, "content_type": "text/plain"}, 415),
        ({"body": VALID, "content_type": "multipart/form-data; boundary=x"}, 415),
        ({"body": "name=Ada&mood=happy&message=%ZZ"}, 400),
        ({"body": "name=Ada&name=Bob&mood=happy&message=hi"}, 400),
    ],
)
def test_limits_and_malformed_bodies_are_refused_and_store_nothing(kwargs, status, rows):
    body = kwargs.pop("body")
    page = submit(body, **kwargs)
    assert page.status == status
    assert rows() == []


def test_an_unusable_database_is_a_clear_503_and_stores_nothing(tmp_path, rows):
    before = sorted(tmp_path.rglob("*"))
    page = submit(VALID, CGIKIT_DB=str(tmp_path))  # a directory, not a database file
    assert page.status == 503
    assert "could not be saved just now" in page.body
    assert "Traceback" not in page.body
    assert "StorageError" in page.stderr
    assert sorted(tmp_path.rglob("*")) == before  # no file was made anywhere
    assert rows() == []


def test_a_write_lock_held_past_the_busy_timeout_is_503_and_earlier_rows_stay(database, rows):
    assert submit(VALID).status == 303
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        page = submit(VALID.replace("Ada", "Bob"), CGIKIT_BUSY_MS="200")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status == 503
    assert rows() == [("Ada", "happy", "Lovely form!\nSecond line")]
    assert submit(VALID.replace("Ada", "Cy")).status == 303
    assert [name for name, _, _ in rows()] == ["Ada", "Cy"]


def test_the_schema_is_versioned_and_in_wal_mode(database):
    submit(VALID)
    submit(VALID)
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (2,)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT count(*) FROM feedback").fetchone() == (2,)


def test_concurrent_submissions_all_land(rows):
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda n: submit(f"name=P{n}&mood=sad&message=m"), range(24)))
    assert [page.status for page in pages] == [303] * 24
    assert sorted(name for name, _, _ in rows()) == sorted(f"P{n}" for n in range(24))


def test_a_full_store_refuses_with_a_clear_503_and_keeps_what_it_has(rows):
    """CGIKIT_MAX_ROWS (apache_cgi_max_rows) caps what a flood of valid posts can store."""
    for _ in range(2):
        assert submit(VALID, CGIKIT_MAX_ROWS="2").status == 303
    page = submit(VALID, CGIKIT_MAX_ROWS="2")
    assert page.status == 503
    assert "The feedback store is full" in page.body
    assert "Nothing was saved." in page.body
    assert "refused a submission: the store holds its 2 submissions" in page.stderr
    assert len(rows()) == 2
    # Without a cap (0, or unset) the store takes it.
    assert submit(VALID, CGIKIT_MAX_ROWS="0").status == 303
    assert len(rows()) == 3


def test_the_database_and_its_side_files_are_private(database, rows):
    """Created 0600 whatever the umask (Apache's is 022); one an earlier version left
    0644 is made private by the next request."""
    assert submit(VALID).status == 303
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    with sqlite3.connect(database) as reader:  # holds the WAL files open while we look
        reader.execute("PRAGMA journal_mode=WAL")
        reader.execute("SELECT count(*) FROM feedback").fetchone()
        assert submit(VALID).status == 303
        for side in database.parent.iterdir():
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side.name
    database.chmod(0o644)
    assert submit(VALID).status == 303
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert len(rows()) == 3
