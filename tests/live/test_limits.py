"""Limits per client address (mod_qos): a password guesser and a flood of POSTs are
refused with 429, while every other client is served.

Each test sends from an address of its own in 127.0.0.0/8 (all of it is the host's
loopback), new on every run: a refused address stays refused for its window, and the
other tests (from 127.0.0.1 and from the controller) must not be caught by it.
"""

from __future__ import annotations

import random

import pytest
from kit import PASSWORD, SETTINGS, Client, basic, stored

MAX_FAILURES = int(SETTINGS["apache_cgi_dashboard_max_failures"])
POST_LIMIT = int(SETTINGS["apache_cgi_post_limit"])
DASHBOARD = "/cgi-bin/dashboard.py"


def qos_cannot_load(host) -> bool:
    """Debian 12's libapache2-mod-qos can't load into its Apache (undefined symbol
    pcre_free): the play says so and enforces no limit there."""
    info = host.system_info
    return info.distribution == "debian" and info.release.startswith("12")


@pytest.fixture
def qos(host) -> None:
    """mod_qos is what counts: Debian 12's hosts show these tests as skipped."""
    if qos_cannot_load(host):
        pytest.skip("Debian 12's libapache2-mod-qos can't load (undefined symbol pcre_free)")
    assert host.run("a2query -q -m qos").rc == 0, "mod_qos is not enabled"


def fresh_address() -> str:
    """A loopback address no other test sends from (127.0.0.1 is the usual one)."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


@pytest.mark.skipif(
    not (PASSWORD and MAX_FAILURES), reason="no dashboard password, or no limit on guessing"
)
def test_a_password_guesser_is_refused_while_others_log_in(host, qos):
    guesser = Client(host, "inside", source=fresh_address())
    for attempt in range(MAX_FAILURES):
        wrong = guesser.get(DASHBOARD, Authorization=basic("admin", f"guess-{attempt}"))
        assert wrong.status == 401, (attempt, wrong)
    # Past the limit even the right password is refused, and the page is not shown.
    refused = guesser.get(DASHBOARD, Authorization=basic("admin", PASSWORD))
    assert refused.status == 429, refused
    assert "<table" not in refused.body
    assert guesser.get("/cgi-bin/hello.py").status == 429  # the whole site, for a while
    # Another client, with the right password, is served.
    for side in ("controller", "inside"):
        other = Client(host, side).get(DASHBOARD, Authorization=basic("admin", PASSWORD))
        assert other.status == 200, (side, other)
    log = host.file("/var/log/apache2/error.log").content_string
    assert f"c={guesser.source}" in log  # mod_qos says whom it refused


@pytest.mark.skipif(not PASSWORD, reason="no dashboard password")
def test_a_browser_asking_first_without_credentials_is_not_counted(host, qos):
    """A browser's first request for the dashboard sends no password (401, then the
    prompt): many of those are no guessing."""
    client = Client(host, "inside", source=fresh_address())
    for _ in range(MAX_FAILURES + 3):
        assert client.get(DASHBOARD).status == 401
    assert client.get(DASHBOARD, Authorization=basic("admin", PASSWORD)).status == 200


@pytest.mark.skipif(not POST_LIMIT, reason="this scenario sets no limit on POSTs")
def test_a_flood_of_posts_is_refused_while_others_post(host, qos):
    flooder = Client(host, "inside", source=fresh_address())
    # The same script by other spellings of its path count as well.
    paths = ["/cgi-bin/hello.py", "/%63gi-bin/hello.py", "//cgi-bin/hello.py"]
    for number in range(POST_LIMIT):
        accepted = flooder.post_form(paths[number % len(paths)], f"name=Flood{number}")
        assert accepted.status == 200, (number, accepted)
    name = f"Flooder {random.randrange(10**9)}"
    refused = flooder.post_form(
        "/cgi-bin/feedback.py",
        f"name={name}&mood=angry&message=more",
        Sec_Fetch_Site="same-origin",
    )
    assert refused.status == 429, refused
    assert stored(host, name) == 0
    for side in ("controller", "inside"):
        other = Client(host, side).post_form("/cgi-bin/hello.py", "name=Neighbour")
        assert other.status == 200, (side, other)


def test_where_mod_qos_cannot_load_it_is_not_installed(host):
    """Installed, Debian 12's package would break Apache's configuration test."""
    if not qos_cannot_load(host):
        pytest.skip("mod_qos loads on this host")
    assert not host.package("libapache2-mod-qos").is_installed
