"""HTTPS as a user and a TLS scanner see it: TLS settings, redirect, HSTS, headers, cookies."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpprobe
import pytest
from kit import (
    HOST_CA,
    HTTP_REDIRECTS,
    HTTPS_PORT,
    PASSWORD,
    TRUSTED_CA,
    basic,
    make_certificate,
    published_port,
    trusted_ca,
)

STAPLING = os.environ.get("KIT_EXPECTED_STAPLING", "no") == "yes"
# Tests that only one kind of scenario can run: the others show them as skipped.
redirecting = pytest.mark.skipif(
    not HTTP_REDIRECTS, reason="this scenario serves plain HTTP (apache_https_redirect: false)"
)
not_redirecting = pytest.mark.skipif(
    HTTP_REDIRECTS, reason="this scenario redirects plain HTTP to HTTPS"
)
stapling = pytest.mark.skipif(
    not STAPLING, reason="this scenario's certificate names no OCSP responder"
)
HSTS = "max-age=63072000"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}
# Responses of every kind: a script's page, a script's 4xx, Apache's 404,
# the dashboard's 401, a static file, a directory.
PATHS = [
    "/cgi-bin/hello.py",
    "/cgi-bin/hello.py?name=%ZZ",
    "/no-such-page",
    "/cgi-bin/dashboard.py",
    "/kit-static/kit.css",
    "/",
]


@pytest.fixture(scope="module")
def sslyze_report(host, tmp_path_factory) -> dict:
    """sslyze's scan of the published HTTPS port against Mozilla's intermediate profile."""
    folder = tmp_path_factory.mktemp("sslyze")
    ca = folder / "ca.pem"
    ca.write_text(trusted_ca(host))
    name = host.backend.get_hostname()
    target = f"{name}:{published_port(name, HTTPS_PORT)}{{127.0.0.1}}"
    command = [sys.executable, "-m", "sslyze", "--mozilla_config=intermediate"]
    command += ["--certinfo_ca_file", str(ca), "--resum", "--http_headers"]
    command += ["--json_out", str(folder / "scan.json"), target]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    scan = json.loads((folder / "scan.json").read_text())["server_scan_results"][0]
    return {"returncode": result.returncode, "output": result.stdout, "scan": scan}


@pytest.fixture(scope="module")
def testssl_findings(host, tmp_path_factory) -> dict[str, dict]:
    """testssl.sh's findings for a script's page over the published HTTPS port, by id;
    the scanner trusts the host's CA, asks for the host's name (SNI), looks up nothing
    in DNS and sends nothing anywhere but to the host."""
    folder = tmp_path_factory.mktemp("testssl")
    ca = folder / "ca.pem"
    ca.write_text(trusted_ca(host))
    name = host.backend.get_hostname()
    url = f"https://{name}:{published_port(name, HTTPS_PORT)}/cgi-bin/hello.py"
    command = ["testssl", "--quiet", "--warnings", "off", "--color", "0", "--nodns", "none"]
    command += ["--ip", "127.0.0.1", "--add-ca", str(ca)]
    # A loaded machine can make one of its many connections fail ("check failed
    # because of connect problem"): such a scan is made again, up to three times; the
    # test then judges the last one, connect problems included.
    for attempt in range(3):
        report = folder / f"findings-{attempt}.json"
        subprocess.run(
            [*command, "--jsonfile", str(report), url],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        findings = {finding["id"]: finding for finding in json.loads(report.read_text())}
        problems = [
            id_
            for id_, finding in findings.items()
            if "connect problem" in finding["finding"] and id_ not in TESTSSL_SCANNER_ONLY
        ]
        if not problems:
            break
    return findings


# What testssl.sh rates above LOW on purpose, and why (the README says the same).
TESTSSL_ACCEPTED = {
    # Mozilla's intermediate profile: every cipher offered is strong, so the client's
    # order wins (a phone without AES hardware picks ChaCha20).
    "cipher_order": "SSLHonorCipherOrder off",
    # The host's own CA signs for this host alone: there is nobody to revoke through
    # (a scenario that gives its certificate names an OCSP responder).
    **({} if TRUSTED_CA else {"cert_revocation": "a certificate from the host's own CA"}),
}


# Warnings about the scanner, not the server: no GOST engine in Debian's openssl; its
# session-resumption checks, which on a loaded machine intermittently fail to connect
# (seen in CI on two of three hosts, never in a scan on an idle one) and which sslyze
# covers strictly (test_only_tls_1_2_and_1_3_without_session_tickets).
TESTSSL_SCANNER_ONLY = {"engine_problem", "sessionresumption_ticket", "sessionresumption_ID"}


def test_testssl_rates_nothing_above_low_but_mozillas_choices(testssl_findings):
    assert testssl_findings["scanTime"]["finding"].isdigit()  # the scan ran to its end
    assert testssl_findings["TLS1_3"]["finding"] == "offered with final"
    assert testssl_findings["cert_chain_of_trust"]["finding"] == "passed."  # it trusts the CA
    assert testssl_findings["cert_trust"]["severity"] == "OK"  # for the name it asked
    assert testssl_findings["BREACH"]["severity"] == "OK", testssl_findings["BREACH"]
    above_low = {
        id_: finding["finding"]
        for id_, finding in testssl_findings.items()
        if finding["severity"] in ("MEDIUM", "HIGH", "CRITICAL", "FATAL")
    }
    assert above_low.keys() <= TESTSSL_ACCEPTED.keys(), above_low
    scanner = {
        id_: finding["finding"]
        for id_, finding in testssl_findings.items()
        if finding["severity"] == "WARN" and id_ not in TESTSSL_SCANNER_ONLY
    }
    assert not scanner, scanner


def test_sslyze_finds_the_server_compliant_with_mozilla_intermediate(sslyze_report):
    assert sslyze_report["scan"]["scan_status"] == "COMPLETED"
    assert "OK - Compliant." in sslyze_report["output"], sslyze_report["output"][-3000:]
    assert sslyze_report["returncode"] == 0


def test_sslyze_finds_no_vulnerability(sslyze_report):
    results = {name: scan["result"] for name, scan in sslyze_report["scan"]["scan_result"].items()}
    assert results["heartbleed"]["is_vulnerable_to_heartbleed"] is False
    assert results["openssl_ccs_injection"]["is_vulnerable_to_ccs_injection"] is False
    assert results["robot"]["robot_result"].startswith("NOT_VULNERABLE")
    assert results["tls_compression"]["supports_compression"] is False
    assert results["tls_fallback_scsv"]["supports_fallback_scsv"] is True
    assert results["session_renegotiation"]["supports_secure_renegotiation"] is True
    assert results["session_renegotiation"]["is_vulnerable_to_client_renegotiation_dos"] is False
    assert results["tls_extended_master_secret"]["supports_ems_extension"] is True


def test_only_tls_1_2_and_1_3_without_session_tickets(sslyze_report):
    results = {name: scan["result"] for name, scan in sslyze_report["scan"]["scan_result"].items()}
    for old in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"):
        assert results[f"{old}_cipher_suites"]["accepted_cipher_suites"] == [], old
    for current in ("tls_1_2", "tls_1_3"):
        assert results[f"{current}_cipher_suites"]["accepted_cipher_suites"], current
    # sslyze tries to resume a TLS 1.2 session with a ticket: the server never issues one.
    resumption = results["session_resumption"]
    assert resumption["tls_ticket_resumption_result"] == "NOT_SUPPORTED", resumption
    assert resumption["tls_ticket_attempted_resumptions_count"] > 0
    assert resumption["tls_ticket_successful_resumptions_count"] == 0


def test_certificate_is_trusted_for_the_server_name(sslyze_report, host):
    """The chain validates against the trusted CA for the name sslyze asked for (SNI)."""
    info = sslyze_report["scan"]["scan_result"]["certificate_info"]["result"]
    assert info["hostname_used_for_server_name_indication"] == host.backend.get_hostname()
    deployment = info["certificate_deployments"][0]
    by_store = {
        result["trust_store"]["name"]: result for result in deployment["path_validation_results"]
    }
    assert by_store["Supplied CA file"]["was_validation_successful"] is True
    # A test certificate: no public trust store vouches for it.
    assert by_store["Mozilla"]["was_validation_successful"] is False
    assert deployment["received_chain_has_valid_order"] is True


def test_hsts_seen_by_sslyze(sslyze_report):
    headers = sslyze_report["scan"]["scan_result"]["http_headers"]["result"]
    assert headers["strict_transport_security_header"]["max_age"] == 63072000


@pytest.mark.parametrize("path", PATHS)
def test_every_https_response_has_the_security_headers_and_hsts(http, path):
    reply = http.get(path)
    assert reply.status < 500, reply
    for name, value in [*SECURITY_HEADERS.items(), ("strict-transport-security", HSTS)]:
        assert reply.header_names.count(name) == 1, (name, reply)
        assert reply.headers[name] == value


@pytest.mark.parametrize("path", PATHS)
def test_every_plain_http_response_has_the_security_headers_but_no_hsts(plain_http, path):
    reply = plain_http.get(path)
    assert (reply.status == 301) if HTTP_REDIRECTS else (reply.status < 500), reply
    for name, value in SECURITY_HEADERS.items():
        assert reply.header_names.count(name) == 1, (name, reply)
        assert reply.headers[name] == value
    assert "strict-transport-security" not in reply.headers


@redirecting
@pytest.mark.parametrize(
    "path", ["/", "/cgi-bin/hello.py?name=Ada&happy=on", "/kit-static/kit.css"]
)
def test_plain_http_redirects_to_the_same_path_over_https(plain_http, host, path):
    reply = plain_http.get(path)
    assert reply.status == 301
    port = "" if HTTPS_PORT == 443 else f":{HTTPS_PORT}"
    assert reply.headers["location"] == f"https://{host.backend.get_hostname()}{port}{path}"


@redirecting
def test_a_post_over_plain_http_is_redirected_not_run(plain_http, host):
    reply = plain_http.post_form("/cgi-bin/hello.py", "name=Ada")
    assert reply.status == 301
    assert "Hello, Ada" not in reply.body


@not_redirecting
def test_plain_http_serves_the_site_when_the_redirect_is_off(plain_http):
    reply = plain_http.get("/cgi-bin/hello.py?name=Ada")
    assert reply.status == 200
    assert "Hello, Ada!" in reply.body


def test_dashboard_credentials_are_never_accepted_over_plain_http(plain_http):
    reply = plain_http.get("/cgi-bin/dashboard.py", Authorization=basic("admin", PASSWORD))
    assert reply.status == (301 if HTTP_REDIRECTS else 403)
    assert "www-authenticate" not in reply.headers  # nobody is asked for a password here
    assert "<table" not in reply.body


def test_dashboard_asks_for_the_password_over_https(http):
    reply = http.get("/cgi-bin/dashboard.py")
    assert reply.status == 401


def test_cookies_get_the_missing_flags_over_https(http):
    """tests/fixtures/cgi-bin/probe_cookie.py, published by the side effect."""
    reply = http.get("/cgi-bin/probe_cookie.py")
    assert reply.status == 200
    cookies = [value for name, value in reply.raw_headers if name.lower() == "set-cookie"]
    assert sorted(cookies) == [
        "bare=1; Path=/; HttpOnly; SameSite=Lax; Secure",
        "flagged=2; Path=/; Secure; HttpOnly; SameSite=Strict",
    ]


@not_redirecting
def test_cookies_over_plain_http_get_httponly_and_samesite_not_secure(plain_http):
    reply = plain_http.get("/cgi-bin/probe_cookie.py")
    assert reply.status == 200
    cookies = [value for name, value in reply.raw_headers if name.lower() == "set-cookie"]
    assert "bare=1; Path=/; HttpOnly; SameSite=Lax" in cookies


def test_keys_are_readable_by_root_only(host):
    keys = host.run("find /etc/apache2/ssl -name 'apache-cgi-kit*.key'").stdout.split()
    assert keys
    for key in keys:
        file = host.file(key)
        assert (file.user, file.group, file.mode) == ("root", "root", 0o600), key


def test_the_certificates_directory_is_roots_alone(host):
    """Keys are written with the umask's mode before they are set to 0600: nobody else
    may enter the directory in that moment."""
    directory = host.file("/etc/apache2/ssl")
    assert (directory.user, directory.group, directory.mode) == ("root", "root", 0o700)


# Signs a leaf with the host's CA (its key never leaves the host) and verifies it.
SIGN_AND_VERIFY = r"""
set -eu
cd "$(mktemp -d)"
trap 'rm -rf "$PWD"' EXIT
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
  -subj "/CN=$1" -out leaf.csr 2>/dev/null
if [ -n "$2" ]; then echo "subjectAltName=$2" > extensions; else : > extensions; fi
openssl x509 -req -in leaf.csr -CA "$3" -CAkey "$4" -set_serial 1 -days 1 \
  -extfile extensions -out leaf.pem 2>/dev/null
openssl verify -CAfile "$3" leaf.pem
"""
host_ca = pytest.mark.skipif(
    bool(TRUSTED_CA), reason="this scenario gives the play its certificate: no host CA"
)


@host_ca
@pytest.mark.parametrize(
    ("common_name", "alt_name", "verdict"),
    [
        ("{name}", "DNS:{name}", "OK"),
        ("{name}", "IP:203.0.113.5", "excluded subtree violation"),
        ("other.example", "DNS:other.example", "permitted subtree violation"),
        ("other.example", "", "permitted subtree violation"),  # a CN-only leaf
    ],
)
def test_the_host_ca_signs_for_the_server_name_alone(host, common_name, alt_name, verdict):
    """The CA the kit makes is trusted by clients: a leaf its key signs for any other
    name, address or subdomain must fail verification."""
    name = host.backend.get_hostname()
    result = host.run(
        "sh -c %s - %s %s %s %s",
        SIGN_AND_VERIFY,
        common_name.format(name=name),
        alt_name.format(name=name),
        HOST_CA,
        HOST_CA.replace(".pem", ".key"),
    )
    output = result.stdout + result.stderr
    assert (result.rc == 0) is (verdict == "OK"), output
    assert ("leaf.pem: OK" if verdict == "OK" else verdict) in output, output


def test_ocsp_stapling_only_for_a_certificate_that_names_a_responder(host):
    site = host.file("/etc/apache2/sites-enabled/cgi-kit-https.conf")
    assert site.is_symlink
    assert ("SSLUseStapling on" in site.content_string) is STAPLING


@stapling
def test_the_ocsp_answer_is_stapled_to_the_handshake(host, tmp_path):
    """The scenario's test CA runs a real OCSP responder on the host: Apache asks it
    and staples its answer: the certificate is good."""
    name = host.backend.get_hostname()
    ca = tmp_path / "ca.pem"
    ca.write_text(trusted_ca(host))
    port = published_port(name, HTTPS_PORT)
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}"]
    command += ["-servername", name, "-status", "-CAfile", str(ca), "-verify_return_error"]
    result = subprocess.run(
        command, input="", capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "OCSP Response Status: successful (0x0)" in result.stdout, result.stdout[-3000:]
    assert "Cert Status: good" in result.stdout


def test_debian_default_sites_are_off_and_the_kits_are_on(host):
    enabled = host.run("ls /etc/apache2/sites-enabled").stdout.split()
    assert sorted(enabled) == ["cgi-kit-http.conf", "cgi-kit-https.conf"]


def test_the_host_itself_does_not_trust_the_kits_ca(host):
    """Asked by its own name, the server's certificate fails only for its issuer: the
    kit's CA is no trusted root on the host (it lives outside /etc/ssl/certs)."""
    name = host.backend.get_hostname()
    result = host.run(
        "python3 -c %s %s",
        "import sys, urllib.request as u; u.urlopen(sys.argv[1])",
        f"https://{name}:{HTTPS_PORT}/",
    )
    assert result.rc != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert "unable to get local issuer certificate" in result.stderr, result.stderr[-500:]


def test_a_client_pinned_to_another_ca_is_refused(host, tmp_path):
    """The tests' pinned client really verifies: pinned to a CA that didn't sign it, it fails."""
    other_ca, _ = make_certificate(tmp_path, "Some other CA")
    port = published_port(host.backend.get_hostname(), HTTPS_PORT)
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        httpprobe.exchange(port, "GET", "/", certificate=Path(other_ca).read_text())
