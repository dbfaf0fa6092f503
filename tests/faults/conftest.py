"""The faults scenario's fixtures: its one host, HTTPS to it, and a watch on the site."""

from __future__ import annotations

import re
import threading
import time

import pytest
from kit import Client

HELLO = "/cgi-bin/hello.py"
ERROR_LOG = "/var/log/apache2/error.log"
ACCESS_LOG = "/var/log/apache2/access.log"
# Apache's own restart window: while a reload re-reads the configuration, the old
# worker processes still accept requests, and the daemon they hand scripts to
# (mod_cgid's, or the site's processes under mod_wsgi) is being re-created; a
# request that reaches it in that moment gets 503.  Under mod_wsgi, the old
# processes end with the reload, cutting the requests they run (500).  Apache
# logs each of these as such.
RESTART_WINDOW = re.compile(
    r"AH02833: .*ScriptSock .* does not exist|AH10246: .*failed reading PID from cgi daemon"
    r"|Unable to connect to WSGI daemon process"
    r"|Truncated or oversized response headers received from daemon process"
)
WINDOW_ANSWERS = {500, 503}
GRACEFUL_RESTART = "AH00493"  # SIGUSR1 received.  Doing graceful restart


class Watch:
    """Requests to the site from the controller, one every 0.1 s, while something else happens.

    ``statuses`` records every answer (or the name of the error instead: a refused
    connection, a broken or cut-short response); ``refusals`` says when and what each
    answer other than 200 was, and ``explain()`` adds what the host's error log said
    meanwhile, for the failure message.
    """

    def __init__(self, host, path: str = HELLO) -> None:
        self.host = host
        self.client = Client(host, "controller")
        self.path = path
        self.statuses: list[int | str] = []
        self.refusals: list[str] = []
        self._log_offset = 0
        self._started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            moment = f"+{time.monotonic() - self._started:.1f} s"
            try:
                reply = self.client.get(self.path)
            except Exception as error:  # noqa: BLE001 - any failure is recorded, never hidden
                self.statuses.append(type(error).__name__)
                self.refusals.append(f"{moment}: {type(error).__name__}: {error}")
            else:
                self.statuses.append(reply.status)
                if reply.status != 200:
                    self.refusals.append(f"{moment}: {reply.status} {reply.body[:120]!r}")
            self._stop.wait(0.1)

    def __enter__(self) -> Watch:
        self._log_offset = log_size(self.host, ERROR_LOG)
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def served_throughout(self) -> bool:
        """Every answer 200, but for one in Apache's restart window: at most one a
        reload (the watch has one request under way at a time), each logged by Apache
        as such."""
        unserved = [status for status in self.statuses if status != 200]
        if len(self.statuses) < 3 or set(unserved) - WINDOW_ANSWERS:
            return False
        if unserved:
            log = self.error_log()
            windows = min(len(RESTART_WINDOW.findall(log)), log.count(GRACEFUL_RESTART))
            print(f"Apache's restart window: answers {unserved} ({windows} logged)")
            return len(unserved) <= windows
        return True

    def error_log(self) -> str:
        """What the host's error log says since the watch began."""
        return log_since(self.host, ERROR_LOG, self._log_offset)

    def explain(self) -> str:
        """Each answer other than 200, and the error log's lines written while watching."""
        log = "\n".join(self.error_log().splitlines()[-40:])
        return (
            f"{len(self.statuses)} requests; not served: {self.refusals}\n"
            f"error log meanwhile:\n{log}"
        )


class Load:
    """ApacheBench on the host itself: ``clients`` at once request the hello form over
    plain HTTP as fast as the server answers, while something else happens.

    ``requests`` and ``failed`` are ab's counts (``failed``: refused, cut short, or an
    answer of another length: one other than the page); ``statuses`` counts the access
    log's answers meanwhile.
    """

    def __init__(self, host, clients: int = 4) -> None:
        self.host = host
        self.clients = clients
        self.requests = self.failed = 0
        self.statuses: dict[int, int] = {}
        self._pid = ""
        self._access_offset = 0
        self._log_offset = 0

    def __enter__(self) -> Load:
        self._access_offset = log_size(self.host, ACCESS_LOG)
        self._log_offset = log_size(self.host, ERROR_LOG)
        self._pid = self.host.check_output(
            f"nohup ab -q -r -t 600 -n 100000000 -c {self.clients} http://127.0.0.1{HELLO}"
            " > /tmp/kit-load.txt 2>&1 < /dev/null & echo $!"
        )
        time.sleep(1)
        return self

    def __exit__(self, *exc_info) -> None:
        # ab prints what it has counted when interrupted.
        self.host.run(f"kill -INT {self._pid}; while kill -0 {self._pid}; do sleep 0.2; done")
        report = self.host.check_output("cat /tmp/kit-load.txt")
        self.requests = int(re.search(r"Complete requests:\s+(\d+)", report)[1])
        self.failed = int(re.search(r"Failed requests:\s+(\d+)", report)[1])
        answers = log_since(self.host, ACCESS_LOG, self._access_offset)
        for status in re.findall(r'" (\d{3}) ', answers):
            self.statuses[int(status)] = self.statuses.get(int(status), 0) + 1

    def restart_window(self) -> int:
        """How many requests Apache logged as answered (503) or cut short (500) in its
        restart window."""
        return len(RESTART_WINDOW.findall(log_since(self.host, ERROR_LOG, self._log_offset)))


def log_size(host, path: str) -> int:
    return int(host.check_output(f"stat -c %s {path} 2>/dev/null || echo 0"))


def log_since(host, path: str, offset: int) -> str:
    """What the log at ``path`` holds past ``offset`` bytes (see ``log_size``)."""
    return host.run(f"tail -c +{offset + 1} {path}").stdout


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
