"""Stored submissions on the live hosts: the form, the dashboard, health, and what is stored."""

from __future__ import annotations

import re
import uuid

import pytest
from kit import (
    DATA_DIR,
    DB,
    HTTPS_PORT,
    PASSWORD,
    PROJECT,
    SAME_ORIGIN,
    SETTINGS,
    WEB_USER,
    basic,
    stored,
)

HTPASSWD = "/etc/apache2/cgi-kit.htpasswd"


def unique_name() -> str:
    return f"Tester {uuid.uuid4().hex[:10]}"


def test_data_directory_belongs_to_the_web_user_alone(host):
    directory = host.file(DATA_DIR)
    assert (directory.user, directory.group, directory.mode) == (WEB_USER, WEB_USER, 0o700)
    database = host.file(DB)
    assert (database.user, database.mode) == (WEB_USER, 0o600)  # whatever Apache's umask


def test_a_valid_submission_is_stored_once_and_redirected(http, host):
    name = unique_name()
    reply = http.post_form(
        "/cgi-bin/feedback.py", f"name={name}&mood=sad&message=hello", **SAME_ORIGIN
    )
    assert reply.status == 303
    assert reply.headers["location"] == "feedback.py?thanks=1"
    assert stored(host, name) == 1
    thanks = http.get("/cgi-bin/feedback.py?thanks=1")
    assert thanks.status == 200
    assert "Your feedback was saved." in thanks.body
    assert stored(host, name) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec_Fetch_Site": "cross-site", "Origin": "http://evil.example"},
        {"Origin": "http://evil.example"},
        {},
    ],
    ids=["cross-site", "foreign-origin", "no-origin"],
)
def test_a_forged_post_is_403_and_stores_nothing(http, host, headers):
    name = unique_name()
    reply = http.post_form("/cgi-bin/feedback.py", f"name={name}&mood=sad&message=x", **headers)
    assert reply.status == 403
    assert stored(host, name) == 0


def test_an_origin_equal_to_a_forged_host_is_403(http, host):
    """The virtual host answers any Host: an Origin that matches only the Host the
    request came with (here 127.0.0.1, as DNS rebinding would bring) is not the site's."""
    default = 443 if http.certificate else 80
    origin = f"{'https' if http.certificate else 'http'}://127.0.0.1"
    origin += "" if http.port == default else f":{http.port}"
    name = unique_name()
    reply = http.post_form("/cgi-bin/feedback.py", f"name={name}&mood=sad&message=x", Origin=origin)
    assert reply.status == 403, reply
    assert stored(host, name) == 0


def test_a_post_from_the_sites_own_origin_is_stored(http, host):
    origin = f"https://{host.backend.get_hostname()}"
    origin += "" if HTTPS_PORT == 443 else f":{HTTPS_PORT}"
    name = unique_name()
    reply = http.post_form("/cgi-bin/feedback.py", f"name={name}&mood=sad&message=x", Origin=origin)
    assert reply.status == 303, reply
    assert stored(host, name) == 1


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ("name={name}&mood=furious&message=x", SAME_ORIGIN, 400),
        ("name={name}&mood=sad&message=" + "m" * 70000, SAME_ORIGIN, 413),
        ("name={name}&mood=sad&message=x", {**SAME_ORIGIN, "Content_Type": "text/plain"}, 415),
    ],
    ids=["invalid", "too-large", "wrong-type"],
)
def test_refused_submissions_store_nothing(http, host, body, headers, status):
    name = unique_name()
    reply = http.post_form("/cgi-bin/feedback.py", body.format(name=name), **headers)
    assert reply.status == status
    assert stored(host, name) == 0


def test_health_is_200_json(http):
    reply = http.get("/cgi-bin/health.py")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.body == '{"status": "ok", "database": "writable"}\n'


def test_the_stylesheet_is_served_as_a_static_file(http):
    reply = http.get("/kit-static/kit.css")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/css")
    assert reply.body == (PROJECT / "static" / "kit.css").read_text()
    assert (
        '<link rel="stylesheet" href="/kit-static/kit.css">' in http.get("/cgi-bin/hello.py").body
    )


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/apache-cgi-kit/kit.sqlite3",
        "/kit-static/../kit.sqlite3",
        "/cgi-bin/kit.sqlite3",
        "/kit.sqlite3",
    ],
)
def test_the_database_is_not_served(http, path):
    reply = http.get(path)
    assert reply.status in (400, 403, 404)
    assert "SQLite format" not in reply.body


def test_data_survives_a_converge(host):
    """The side effect stored this row, then converged again."""
    assert stored(host, "Survivor of a converge") == 1


# Every scenario sets a dashboard password (test_playbook checks what the play
# would do without one).
def test_dashboard_needs_the_password(http):
    asked = http.get("/cgi-bin/dashboard.py")
    assert asked.status == 401
    assert asked.headers["www-authenticate"] == 'Basic realm="Dashboard"'
    assert "<table" not in asked.body
    wrong = http.get("/cgi-bin/dashboard.py", Authorization=basic("admin", "not-it"))
    assert wrong.status == 401
    assert wrong.headers["www-authenticate"] == 'Basic realm="Dashboard"'
    assert "<table" not in wrong.body


def test_dashboard_shows_the_submission_with_the_password(http):
    name = unique_name()
    http.post_form(
        "/cgi-bin/feedback.py", f"name={name}&mood=angry&message=%3Cscript%3Ex", **SAME_ORIGIN
    )
    reply = http.get("/cgi-bin/dashboard.py", Authorization=basic("admin", PASSWORD))
    assert reply.status == 200
    assert f"<td>{name}</td><td>angry</td>" in reply.body
    assert "<script>" not in reply.body
    assert "&lt;script&gt;x" in reply.body


def test_the_csv_export_needs_the_password_and_neutralises_formulas(http):
    name = unique_name()
    http.post_form(
        "/cgi-bin/feedback.py", f"name=%40{name}&mood=neutral&message=a%2Cb", **SAME_ORIGIN
    )
    assert http.get("/cgi-bin/dashboard.py?format=csv").status == 401
    reply = http.get(
        "/cgi-bin/dashboard.py?mood=neutral&format=csv", Authorization=basic("admin", PASSWORD)
    )
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/csv; charset=utf-8")
    assert reply.headers["content-disposition"] == 'attachment; filename="feedback-neutral.csv"'
    lines = reply.body.split("\r\n")
    assert lines[0] == "id,received_utc,name,mood,message"
    exported = [line.split(",", 2)[2] for line in lines if name in line]
    assert exported == [f'\'@{name},neutral,"a,b"']


def test_password_file_is_bcrypt_readable_by_apache_only(host):
    htpasswd = host.file(HTPASSWD)
    assert (htpasswd.user, htpasswd.group, htpasswd.mode) == ("root", WEB_USER, 0o640)
    # bcrypt at the scenario's cost (apache_cgi_dashboard_bcrypt_cost)
    cost = int(SETTINGS["apache_cgi_dashboard_bcrypt_cost"])
    pattern = rf"admin:\$2y\${cost:02d}\$[./A-Za-z0-9]{{53}}\n"
    assert re.fullmatch(pattern, htpasswd.content_string), htpasswd.content_string[:7]
