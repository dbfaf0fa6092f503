"""Fixtures for the live checks: HTTPS and plain HTTP to each host, from both sides."""

from __future__ import annotations

import pytest
from kit import Client


@pytest.fixture(params=["inside", "controller"])
def http(host, request) -> Client:
    """HTTPS to the host under test, from inside it and from the controller."""
    return Client(host, request.param)


@pytest.fixture(params=["inside", "controller"])
def plain_http(host, request) -> Client:
    """Plain HTTP (port 80) to the host under test, from inside it and from the controller."""
    return Client(host, request.param, scheme="http")


@pytest.fixture(scope="module")
def playwright():
    """Playwright, started once per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started
