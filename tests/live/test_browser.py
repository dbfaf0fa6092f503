"""A real browser (Debian's chromium, driven by Playwright) uses the pages as a person would.

Screenshots of every page go to artifacts/screenshots/ (named per host).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

import pytest
from kit import HTTPS_PORT, PASSWORD, PROJECT, published_port, stored

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


LEAF_CERTIFICATE = "/etc/apache2/ssl/apache-cgi-kit.pem"


def spki_pin(certificate_pem: str) -> str:
    """Chromium's name for a certificate's key: base64 of the SHA-256 of its SPKI (DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


def launch(playwright, host, accept_certificate: bool):
    """Chromium that reaches the host by its own name (mapped to loopback).

    With ``accept_certificate`` it accepts the host's certificate, and only
    that one: its key is pinned (``--ignore-certificate-errors-spki-list``),
    because no CA the browser knows signed it.
    """
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {host.backend.get_hostname()} 127.0.0.1"]
    if accept_certificate:
        pin = spki_pin(host.file(LEAF_CERTIFICATE).content_string)
        args.append(f"--ignore-certificate-errors-spki-list={pin}")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args)


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
    opened = browser.new_context()
    opened.csp_violations = []
    opened.on("console", lambda message: record_csp_violation(opened, message))
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


def record_csp_violation(context, message) -> None:
    if "Content Security Policy" in message.text:
        context.csp_violations.append(message.text)


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
