"""The faults scenario's fixtures: its one host, HTTPS to it, and a watch on the site."""

from __future__ import annotations

import threading

import pytest
from kit import Client

HELLO = "/cgi-bin/hello.py"


class Watch:
    """Requests to the site from the controller, one every 0.1 s, while something else happens.

    ``statuses`` records every answer (or the name of the error instead: a refused
    connection, a broken or cut-short response).
    """

    def __init__(self, host, path: str = HELLO) -> None:
        self.client = Client(host, "controller")
        self.path = path
        self.statuses: list[int | str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.statuses.append(self.client.get(self.path).status)
            except Exception as error:  # noqa: BLE001 - any failure is recorded, never hidden
                self.statuses.append(type(error).__name__)
            self._stop.wait(0.1)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def served_throughout(self) -> bool:
        return len(self.statuses) >= 3 and set(self.statuses) == {200}


def apache_configuration(host) -> str:
    """Every file and link under /etc/apache2 with its checksum or target: the whole state."""
    return host.check_output(
        "cd /etc/apache2 && { find . -type l -printf '%p -> %l\\n';"
        " find . -type f -exec sha256sum {} +; } | sort"
    )


@pytest.fixture
def site(host) -> Client:
    """HTTPS to the host from the controller."""
    return Client(host, "controller")


@pytest.fixture
def serving(host, site):
    """Asserts after the test that the host still serves the hello form."""
    yield
    reply = site.get(HELLO)
    assert reply.status == 200, reply
    assert "Hello form" in reply.body
