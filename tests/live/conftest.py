"""Fixtures for the live checks: the project's paths and HTTP from both sides."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpprobe
import pytest

PROJECT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(path for path in (PROJECT / "cgi-bin").iterdir() if path.is_file())
LIB_FILES = sorted((PROJECT / "cgi-bin" / "lib").glob("*.py"))
CGI_DIR = "/usr/lib/cgi-bin"
LIB_DIR = "/usr/local/lib/apache-cgi-kit"
WEB_USER = "www-data"
# Sent to the hosts to make requests from inside them.
PROBE_SOURCE = Path(httpprobe.__file__).read_text()


class Reply:
    """An HTTP response as a user sees it."""

    def __init__(self, raw: dict) -> None:
        self.status: int = raw["status"]
        self.headers: dict[str, str] = {name.lower(): value for name, value in raw["headers"]}
        self.header_names: list[str] = [name.lower() for name, _ in raw["headers"]]
        self.body: str = raw["body"]

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.headers} {self.body[:300]!r}>"


def published_port(container: str, port: int = 80) -> int:
    """The loopback port on the controller that podman publishes for a container port."""
    output = subprocess.run(
        ["podman", "port", container, f"{port}/tcp"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(output.strip().splitlines()[0].rsplit(":", 1)[1])


class Client:
    """HTTP to one test host, either from inside it or from the controller."""

    def __init__(self, host, side: str) -> None:
        self.host = host
        self.side = side
        self.port = published_port(host.backend.name) if side == "controller" else 80

    def request(self, method: str, path: str, body: str = "", **headers: str) -> Reply:
        """Send a request; header names use underscores for dashes (Content_Type)."""
        args = {
            "port": self.port,
            "method": method,
            "path": path,
            "body": body,
            "headers": {name.replace("_", "-"): value for name, value in headers.items()},
        }
        if self.side == "controller":
            return Reply(httpprobe.exchange(**args))
        result = self.host.run("python3 -c %s %s", PROBE_SOURCE, json.dumps(args))
        assert result.rc == 0, result.stderr
        return Reply(json.loads(result.stdout))

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, **headers)

    def post_form(self, path: str, body: str, **headers: str) -> Reply:
        headers.setdefault("Content_Type", "application/x-www-form-urlencoded")
        return self.request("POST", path, body, **headers)


@pytest.fixture(params=["inside", "controller"])
def http(host, request) -> Client:
    """HTTP to the host under test, from inside it and from the controller."""
    return Client(host, request.param)
