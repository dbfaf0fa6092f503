"""What a user sees: every check runs from inside each host and from the controller."""

from __future__ import annotations

import uuid

import pytest
from kit import LIB_FILES, SCRIPTS, SETTINGS, Client, published_port, slow_loris

HELLO = "/cgi-bin/hello.py"
# A file in the script folder that is not executable: Apache (mod_cgi and mod_cgid
# alike) tries to run it, the exec fails, and the answer is its plain 500.
NOT_EXECUTABLE = 500
# A line of each script and helper module (its longest): seen in a response,
# that file's source was served.
SOURCE_LINES = {
    path.name: max(path.read_text().splitlines(), key=len).strip() for path in SCRIPTS + LIB_FILES
}


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
    ("path", "status"),
    [
        ("/cgi-bin/hello.py", 200),
        # Planted by the side effect beside hello.py: an editor's backup that kept
        # the executable bit, a copy and a swap file are neither run nor served.
        ("/cgi-bin/hello.py~", 403),
        ("/cgi-bin/hello.py.bak", 403),
        ("/cgi-bin/.hello.py.swp", 403),
        # A file the script folder can't run is Apache's plain 500, not its source.
        ("/cgi-bin/not-executable.py", NOT_EXECUTABLE),
        ("/cgi-bin/lib/cgikit.py", 404),
        ("/cgi-bin/cgikit.py", 404),
        # A path that climbs above the root is a bad request.
        ("/cgi-bin/%2e%2e/%2e%2e/local/lib/apache-cgi-kit/cgikit.py", 400),
        ("/usr/lib/cgi-bin/hello.py", 404),
        ("/usr/local/lib/apache-cgi-kit/cgikit.py", 404),
        ("/usr/local/lib/apache-cgi-kit/kitstore.py", 404),
        ("/hello.py", 404),
        ("/cgi-bin/../../usr/lib/cgi-bin/hello.py", 400),
    ],
)
def test_no_script_source_is_served(http, path, status):
    reply = http.get(path)
    assert reply.status == status, reply
    for name, line in SOURCE_LINES.items():
        assert line not in reply.body, f"{path} shows the source of {name}"


def test_the_planted_copies_hold_the_source_the_test_looks_for(host):
    """The side effect's copies of hello.py are on the host, with the line looked for."""
    planted = [("hello.py~", 0o755), ("hello.py.bak", 0o644), (".hello.py.swp", 0o644)]
    for name, mode in [*planted, ("not-executable.py", 0o644)]:
        planted = host.file(f"/usr/lib/cgi-bin/{name}")
        assert planted.mode == mode, name
        assert SOURCE_LINES["hello.py"] in planted.content_string, name


# Files under the document root that must never be served: hidden files (secrets,
# an editor's swap file, a version-control folder), backups and leftovers, databases.
HIDDEN = [
    ".env",
    "settings.py.bak",
    "index.html~",
    ".index.html.swp",
    "index.html.orig",
    "data.sqlite3",
    "site.db",
    ".git/config",
    "old/.svn/entries",
    ".hidden-folder/notes.txt",
]
# Served as any file is: RFC 8615's folder (ACME challenges, security.txt).
WELL_KNOWN = ".well-known/acme-challenge/token-123"


@pytest.fixture(scope="module")
def planted_in_the_web_root(host):
    """Files a careless deploy leaves under the document root, each holding a secret."""
    paths = [*HIDDEN, WELL_KNOWN]
    for path in paths:
        host.run_expect([0], "install -D -m 0644 /dev/null %s", f"/var/www/html/{path}")
        host.run_expect([0], "printf %s > %s", f"secret of {path}\n", f"/var/www/html/{path}")
    yield
    for top in {path.split("/", 1)[0] for path in paths}:
        host.run_expect([0], "rm -rf %s", f"/var/www/html/{top}")


@pytest.mark.parametrize("path", HIDDEN)
def test_hidden_backup_and_database_files_are_refused(http, planted_in_the_web_root, path):
    reply = http.get(f"/{path}")
    assert reply.status == 403, reply
    assert "secret of" not in reply.body


def test_the_well_known_folder_is_served(http, planted_in_the_web_root):
    reply = http.get(f"/{WELL_KNOWN}")
    assert (reply.status, reply.body) == (200, f"secret of {WELL_KNOWN}\n"), reply


def test_server_status_is_refused_on_the_site_for_every_client(http):
    """/server-status shows every client's request line: no site answers it, not even
    to the host itself (a proxy on the host would make everyone local)."""
    reply = http.get("/server-status")
    assert reply.status == 403, reply
    assert "Apache Server Status" not in reply.body


def test_server_status_is_answered_on_loopback_only(host):
    """The status for machines, with ExtendedStatus, on the loopback address alone."""
    address, port = str(SETTINGS["apache_status_listen"]).rsplit(":", 1)
    assert host.socket(f"tcp://{address}:{port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening
    status = Client(host, "inside", "http", port=int(port)).get("/server-status?auto")
    assert status.status == 200, status
    assert "Total Accesses:" in status.body  # ExtendedStatus
    assert "ServerUptimeSeconds:" in status.body
    other = Client(host, "inside", "http", port=int(port)).get("/")
    assert other.status == 403


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
    marker = uuid.uuid4().hex  # this request's own line in the log, not an earlier run's
    reply = http.get(f"/cgi-bin/probe_failure.py?{marker}")
    assert reply.status == 500
    assert "Internal Server Error" in reply.body
    for leak in ("Traceback", "RuntimeError", "probe-secret-7f3a", "probe_failure.py", marker):
        assert leak not in reply.body
    log = host.file("/var/log/apache2/error.log").content_string
    assert f"RuntimeError: probe failure probe-secret-7f3a {marker}" in log


def test_a_slow_loris_client_is_cut_off(host):
    """A client that sends its headers a line at a time, never ending them, would hold a
    worker for as long as it likes without mod_reqtimeout; the kit's RequestReadTimeout
    (headers within 20 to 40 s) answers 408 and closes, long before Timeout's 300 s."""
    seconds, received = slow_loris(published_port(host.backend.get_hostname(), 80), 150)
    assert seconds < 150, "the server kept a slow client's connection open"
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]
