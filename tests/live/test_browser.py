"""A real browser (Debian's chromium, driven by Playwright) uses the pages as a person would.

Screenshots of every page go to artifacts/screenshots/ (named per host).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from conftest import PROJECT, published_port
from test_storage import stored

PASSWORD = os.environ.get("KIT_DASHBOARD_PASSWORD", "")
CHROMIUM = "/usr/bin/chromium"
# Headless, as root, on a machine whose only network is loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = PROJECT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(host) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return f"http://127.0.0.1:{published_port(host.backend.name)}/cgi-bin"


def shot(page, host, name: str) -> Path:
    path = SHOTS / f"{host.backend.name}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_hello_form_in_a_browser(browser, site, host):
    page = browser.new_page()
    page.goto(f"{site}/hello.py")
    page.get_by_label("Your name").fill("Ada <Browser>")
    page.get_by_label("I am happy").check()
    shot(page, host, "hello-form")
    page.get_by_role("button", name="Say hello").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Hello, Ada <Browser>!"
    assert page.get_by_text("You are happy.").is_visible()
    assert page.get_by_text("You are sad.").count() == 0
    shot(page, host, "hello-greeting")
    page.close()


def test_feedback_and_dashboard_in_a_browser(browser, site, host):
    name = f"Browser {uuid.uuid4().hex[:8]}"
    page = browser.new_page()
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    page.goto(f"{site}/feedback.py")
    page.get_by_role("button", name="Send feedback").click()  # required fields: nothing is sent
    page.wait_for_timeout(500)
    assert posts == []
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your mood").select_option("delighted")
    page.get_by_label("Your message").fill("Typed in a real browser.\nSecond line.")
    shot(page, host, "feedback-form")
    page.get_by_role("button", name="Send feedback").click()
    page.wait_for_url("**/feedback.py?thanks=1")
    assert page.get_by_text("Your feedback was saved.").is_visible()
    shot(page, host, "feedback-thanks")
    page.reload()  # post/redirect/get: a reload shows the view again, stores nothing
    assert page.get_by_text("Your feedback was saved.").is_visible()
    assert stored(host, name) == 1
    page.close()

    if PASSWORD:
        context = browser.new_context(http_credentials={"username": "admin", "password": PASSWORD})
        dashboard = context.new_page()
        response = dashboard.goto(f"{site}/dashboard.py")
        assert response.status == 200
        row = dashboard.get_by_role("row").filter(has_text=name)
        assert row.count() == 1
        assert "Typed in a real browser." in row.inner_text()
        shot(dashboard, host, "dashboard")
        context.close()
    else:
        response = browser.new_page().goto(f"{site}/dashboard.py")
        assert response.status == 403
