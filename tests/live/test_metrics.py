"""Metrics for a monitor: the server status on loopback (test_http.py checks that no
site answers it) and, where the scenario turns it on, Debian's Prometheus exporter
reading it, on loopback too."""

from __future__ import annotations

import re

import pytest
from kit import SETTINGS, Client

EXPORTER = bool(SETTINGS["apache_exporter_enabled"])
ADDRESS, PORT = str(SETTINGS["apache_exporter_listen_address"]).rsplit(":", 1)
exporter_on = pytest.mark.skipif(not EXPORTER, reason="the scenario leaves the exporter off")
exporter_off = pytest.mark.skipif(EXPORTER, reason="the scenario turns the exporter on")


def metric(host, name: str) -> float:
    """One metric's value, scraped from inside the host."""
    reply = Client(host, "inside", "http", port=int(PORT)).get("/metrics")
    assert reply.status == 200, reply
    found = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", reply.body, re.MULTILINE)
    assert found, f"{name} not in {reply.body[:2000]}"
    return float(found.group(1))


@exporter_on
def test_the_exporter_sees_apache_up_and_counts_requests(host):
    assert metric(host, "apache_up") == 1
    before = metric(host, "apache_accesses_total")
    client = Client(host, "inside")
    for _ in range(5):
        assert client.get("/cgi-bin/health.py").status == 200
    assert metric(host, "apache_accesses_total") >= before + 5


@exporter_on
def test_the_exporter_listens_on_loopback_only_and_runs_unprivileged(host):
    assert host.socket(f"tcp://{ADDRESS}:{PORT}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{PORT}").is_listening
    assert not host.socket(f"tcp://:::{PORT}").is_listening
    users = host.check_output("ps -C prometheus-apache-exporter -o user=").split()
    assert users
    assert set(users) == {"prometheus"}


@exporter_off
def test_without_the_exporter_nothing_listens_for_metrics(host):
    assert not host.package("prometheus-apache-exporter").is_installed
    assert not host.socket(f"tcp://{ADDRESS}:{PORT}").is_listening
