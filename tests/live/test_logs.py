"""The logs a sysadmin reads: one JSON object per request, whatever the request held;
nothing secret in any log; and Debian's logrotate rule rotating the kit's logs, after
which Apache writes to the new files."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from kit import PASSWORD, SETTINGS, basic

LOGS = "/var/log/apache2"
JSON_LOG = f"{LOGS}/access.json.log"
FIELDS = {"time", "client", "method", "path", "status", "bytes", "duration_us", "site"}
pytestmark = pytest.mark.skipif(
    SETTINGS["apache_access_log"] == "combined", reason="the scenario writes no JSON log"
)


def entries(host) -> list[dict]:
    """Every line of the JSON log, each parsed (a line that is no JSON fails the test)."""
    lines = host.file(JSON_LOG).content_string.splitlines()
    return [json.loads(line) for line in lines]


def logged(host, marker: str) -> dict:
    """The JSON log's entry whose user agent holds ``marker``."""
    found = [entry for entry in entries(host) if marker in entry.get("user_agent", "")]
    assert len(found) == 1, found
    return found[0]


def test_a_request_is_one_json_object_with_its_fields(http, host):
    marker = f"log-probe-{uuid.uuid4().hex}"
    reply = http.get("/cgi-bin/hello.py?name=Ada", User_Agent=marker)
    assert reply.status == 200
    entry = logged(host, marker)
    assert set(entry) >= FIELDS
    assert entry["time"].endswith("Z")
    assert entry["time"][:4] == host.check_output("date -u +%Y")
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/cgi-bin/hello.py", 200)
    assert entry["bytes"] == len(reply.body.encode())
    assert isinstance(entry["duration_us"], int)
    assert entry["duration_us"] > 0
    assert entry["site"] == host.backend.get_hostname()


def test_a_crafted_request_still_gives_one_valid_line(http, host):
    """A quote, a backslash, an encoded line break and other bytes in the path, and a
    long user agent with quotes, backslashes and non-ASCII: one entry, the values as sent."""
    marker = f"crafted-{uuid.uuid4().hex}"
    agent = marker + ' "quoted" \\back\\ ' + "\u00e9" + "x" * 4000
    # Sent as UTF-8 (http.client sends a header's characters as Latin-1 bytes).
    sent = agent.encode("utf-8").decode("latin-1")
    reply = http.get("/cgi-bin/no%22such%5Cpage%0A%7B%7D%ff.py", User_Agent=sent)
    assert reply.status == 404
    entry = logged(host, marker)
    assert entry["path"] == '/cgi-bin/no"such\\page\n{}\\xff.py'
    assert entry["user_agent"] == agent


def test_no_query_string_and_no_password_reach_a_log(http, host):
    if not PASSWORD:
        pytest.fail("the scenario gives no dashboard password to look for")
    query = f"query-marker-{uuid.uuid4().hex}"
    http.get(f"/cgi-bin/hello.py?name={query}")
    http.get("/cgi-bin/dashboard.py", Authorization=basic("admin", PASSWORD))
    secrets = [query, PASSWORD, base64.b64encode(f"admin:{PASSWORD}".encode()).decode()]
    for secret in secrets:
        found = host.run(f"grep -rlF -- %s {LOGS}", secret)
        assert found.rc == 1, f"{secret[:12]}... in {found.stdout}"


def test_a_forced_rotation_leaves_apache_writing_to_new_files(host):
    from kit import Client

    host.run_expect([0], "logrotate -f /etc/logrotate.d/apache2")
    assert host.file(f"{JSON_LOG}.1").exists
    marker = f"after-rotation-{uuid.uuid4().hex}"
    client = Client(host, "inside")
    for _ in range(50):  # the reload after the rotation may still be under way
        client.get("/cgi-bin/health.py", User_Agent=marker)
        if marker in host.file(JSON_LOG).content_string:
            break
        host.run("sleep 0.2")
    assert logged(host, marker)["path"] == "/cgi-bin/health.py"
    assert marker not in host.file(f"{JSON_LOG}.1").content_string
    if SETTINGS["apache_access_log"] == "both":
        assert marker in host.file(f"{LOGS}/access.log").content_string
