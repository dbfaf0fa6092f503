"""A real browser (Debian's chromium, driven by Playwright) uses the pages as a person would.

Screenshots of every page go to artifacts/screenshots/ (named per host).
"""

from __future__ import annotations

import csv
import io
import urllib.parse
import uuid
from pathlib import Path

import pytest
from browsing import launch, recording_context
from kit import HTTPS_PORT, PASSWORD, PROJECT, Client, published_port, stored

SHOTS = PROJECT / "artifacts" / "screenshots"


@pytest.fixture
def browser(playwright, host):
    launched = launch(playwright, host, accept_certificate=True)
    yield launched
    launched.close()


@pytest.fixture
def site(host) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = published_port(host.backend.get_hostname(), HTTPS_PORT)
    return f"https://{host.backend.get_hostname()}:{port}/cgi-bin"


@pytest.fixture
def context(browser):
    """A browser context whose pages record any Content-Security-Policy violation."""
    opened = recording_context(browser)
    yield opened
    opened.close()


def test_the_browser_enforces_the_policy_against_inline_script(context, site):
    """An injected inline script (what an XSS would be) does not run, and is reported."""
    page = context.new_page()
    page.goto(f"{site}/hello.py")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true;";
            document.body.appendChild(script);
        }"""
    )
    assert page.evaluate("() => window.injected === undefined")
    page.wait_for_timeout(200)
    assert any("inline script" in violation for violation in context.csp_violations)


def test_without_the_pinned_key_the_browser_refuses_the_certificate(playwright, host, site):
    from playwright.sync_api import Error

    untrusting = launch(playwright, host, accept_certificate=False)
    try:
        with pytest.raises(Error, match="ERR_CERT_AUTHORITY_INVALID"):
            untrusting.new_page().goto(f"{site}/hello.py")
    finally:
        untrusting.close()


def shot(page, host, name: str) -> Path:
    path = SHOTS / f"{host.backend.get_hostname()}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_hello_form_in_a_browser(context, site, host):
    page = context.new_page()
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
    assert page.url.startswith("https://")
    page.close()
    assert context.csp_violations == []


def test_feedback_and_dashboard_in_a_browser(browser, context, site, host):
    name = f"Browser {uuid.uuid4().hex[:8]}"
    page = context.new_page()
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
    assert context.csp_violations == []

    # Every scenario sets a dashboard password.
    logged_in = browser.new_context(http_credentials={"username": "admin", "password": PASSWORD})
    dashboard = logged_in.new_page()
    response = dashboard.goto(f"{site}/dashboard.py")
    assert response.status == 200
    row = dashboard.get_by_role("row").filter(has_text=name)
    assert row.count() == 1
    assert "Typed in a real browser." in row.inner_text()
    shot(dashboard, host, "dashboard")
    logged_in.close()


def test_the_dashboards_chart_filter_and_export_in_a_browser(browser, site, host):
    """The chart is drawn (an SVG image, no script, no policy violation), the filter
    narrows the rows to one mood, and the CSV export downloads what the filter shows,
    a formula-like name made plain text."""
    marker = uuid.uuid4().hex[:8]
    client = Client(host, "controller")
    for name, mood in [(f"=HYPERLINK({marker})", "angry"), (f"Calm {marker}", "neutral")]:
        body = urllib.parse.urlencode({"name": name, "mood": mood, "message": "chart"})
        reply = client.post_form("/cgi-bin/feedback.py", body, Sec_Fetch_Site="same-origin")
        assert reply.status == 303, reply
    context = recording_context(
        browser,
        http_credentials={"username": "admin", "password": PASSWORD},
        accept_downloads=True,
    )
    page = context.new_page()
    assert page.goto(f"{site}/dashboard.py").status == 200
    chart = page.get_by_role("img", name="Submissions per day and mood")
    assert chart.is_visible()
    assert chart.bounding_box()["height"] > 100
    page.get_by_label("Mood", exact=True).select_option("angry")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard.py?mood=angry*")
    assert page.get_by_role("row").filter(has_text=marker).count() == 1
    assert page.get_by_role("row").filter(has_text=f"Calm {marker}").count() == 0
    shot(page, host, "dashboard-filtered")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename == "feedback-angry.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(), newline="")))
    assert [row[2] for row in rows if marker in row[2]] == [f"'=HYPERLINK({marker})"]
    assert {row[3] for row in rows[1:]} == {"angry"}
    context.close()
    assert context.csp_violations == []
