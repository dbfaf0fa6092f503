"""Debian's chromium, driven by Playwright, for the live tests that use pages as a person would."""

from __future__ import annotations

import base64
import hashlib

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


def record_csp_violation(context, message) -> None:
    if "Content Security Policy" in message.text:
        context.csp_violations.append(message.text)


def recording_context(browser, **options):
    """A new browser context (``options``: Playwright's) whose pages record, in its
    ``csp_violations``, every Content-Security-Policy violation the console reports."""
    opened = browser.new_context(**options)
    opened.csp_violations = []
    opened.on("console", lambda message: record_csp_violation(opened, message))
    return opened
