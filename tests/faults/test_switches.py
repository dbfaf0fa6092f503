"""The HTTPS switches on a live host: each setting changed, seen in real answers, then put back.

The scenario's own settings (HTTPS on 443, HSTS, no redirect) are restored by a
converge after each case, and the site serves afterwards.
"""

from __future__ import annotations

import json

import pytest
from conftest import HELLO, apache_configuration
from kit import (
    PASSWORD,
    SAME_ORIGIN,
    Client,
    basic,
    changes,
    playbook,
    published_port,
    slow_loris,
    stored,
)

FEEDBACK = "/cgi-bin/feedback.py"

pytestmark = pytest.mark.usefixtures("serving")
DEFAULT_HSTS = "max-age=63072000"


@pytest.fixture
def restore(host, site, serving):
    """After the test, a converge with the scenario's own settings puts every file
    under /etc/apache2 back as it was, and Apache serves them (before ``serving``
    checks the site, hence its argument)."""
    before = apache_configuration(host)
    yield
    result = playbook()
    assert result.returncode == 0, result.stdout[-3000:]
    assert apache_configuration(host) == before
    assert site.get(HELLO).headers["strict-transport-security"] == DEFAULT_HSTS


def converge(**settings) -> None:
    result = playbook("-e", json.dumps(settings))
    assert result.returncode == 0, result.stdout[-3000:]
    [(changed, failed)] = changes(result)
    assert (changed != "0", failed) == (True, "0")  # something changed, nothing failed


@pytest.mark.usefixtures("restore")
def test_hsts_max_age_and_subdomains_follow_their_variables(host, site):
    assert site.get(HELLO).headers["strict-transport-security"] == DEFAULT_HSTS
    converge(apache_https_hsts_max_age=300, apache_https_hsts_include_subdomains=True)
    assert site.get(HELLO).headers["strict-transport-security"] == "max-age=300; includeSubDomains"
    converge(apache_https_hsts=False)
    assert "strict-transport-security" not in site.get(HELLO).headers


@pytest.mark.usefixtures("restore")
def test_the_redirect_names_the_https_port_when_it_is_not_443(host):
    """HTTPS moved to 8443 with the redirect on: plain HTTP sends every path there."""
    converge(apache_https_port=8443, apache_https_redirect=True)
    name = host.backend.get_hostname()
    reply = Client(host, "inside", "http").get("/cgi-bin/hello.py?name=Ada")
    assert reply.status == 301
    assert reply.headers["location"] == f"https://{name}:8443/cgi-bin/hello.py?name=Ada"
    moved = Client(host, "inside", "https", port=8443).get("/cgi-bin/hello.py?name=Ada")
    assert moved.status == 200
    assert "Hello, Ada!" in moved.body


@pytest.mark.usefixtures("restore")
def test_https_off_serves_plain_http_and_closes_the_dashboard(host):
    """apache_https_enabled=false: no TLS port, no HSTS, and the dashboard answers 403 to
    everyone, password or not (it would travel in clear text)."""
    converge(apache_https_enabled=False)
    plain = Client(host, "controller", "http")
    reply = plain.get(HELLO)
    assert reply.status == 200
    assert "strict-transport-security" not in reply.headers
    dashboard = plain.get("/cgi-bin/dashboard.py", Authorization=basic("admin", PASSWORD))
    assert dashboard.status == 403
    assert "<table" not in dashboard.body
    listening = host.check_output("ss -Htln")
    assert ":80 " in listening
    assert ":443 " not in listening  # no TLS port


@pytest.mark.usefixtures("restore")
def test_a_full_store_answers_503_and_keeps_every_row(host):
    """apache_cgi_max_rows caps the store: at the cap the form says so and stores nothing."""
    before = stored(host)
    converge(apache_cgi_max_rows=before + 2)
    site = Client(host, "controller")
    for number in range(2):
        reply = site.post_form(FEEDBACK, f"name=Cap{number}&mood=happy&message=x", **SAME_ORIGIN)
        assert reply.status == 303, reply
    full = site.post_form(FEEDBACK, "name=Over&mood=happy&message=x", **SAME_ORIGIN)
    assert full.status == 503, full
    assert "The feedback store is full" in full.body
    assert stored(host) == before + 2
    assert stored(host, "Over") == 0


@pytest.mark.usefixtures("restore")
def test_the_dashboard_answers_only_the_addresses_it_is_given(host):
    converge(apache_cgi_dashboard_allow_from=["192.0.2.1", "127.0.0.0/8"])
    credentials = basic("admin", PASSWORD)
    outside = Client(host, "controller").get("/cgi-bin/dashboard.py", Authorization=credentials)
    assert outside.status == 403, outside
    assert "<table" not in outside.body
    inside = Client(host, "inside").get("/cgi-bin/dashboard.py", Authorization=credentials)
    assert inside.status == 200, inside


@pytest.mark.usefixtures("restore")
def test_the_request_read_timeout_is_the_one_configured(host):
    """apache_request_read_timeout is what Apache applies (not Debian's own reqtimeout
    settings, 20 s for the headers): with 3 s, a slow client is cut off well before."""
    converge(apache_request_read_timeout="header=3 body=20,MinRate=500")
    seconds, received = slow_loris(published_port(host.backend.get_hostname(), 80), 60)
    assert seconds < 12, seconds
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]
