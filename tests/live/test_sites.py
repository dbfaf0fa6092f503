"""Several sites on one host (``apache_sites``), on every host under test.

Two sites: alpha.test (with the alias www.alpha.test) serves the kit's scripts over a
certificate from a CA of its own, made on the host; beta.test serves the tutorial's
scripts over a certificate given by the play (a test CA's).  Each name gets its own
site's scripts, certificate, database and logs; a third name gets a plain 404 or 421
and nothing of either site.  A wrong list fails before any change.  Then the list is
emptied: both sites' virtual hosts go, their data stays, the play says where, and the
kit's single site answers again as it did before this module.
"""

from __future__ import annotations

import datetime
import json
import shutil
import ssl
from pathlib import Path

import pytest
import testinfra
import yaml
from kit import (
    DB,
    HTTP_REDIRECTS,
    HTTPS_PORT,
    PROJECT,
    SAME_ORIGIN,
    SCENARIO_SCRIPTS,
    SETTINGS,
    Client,
    cgi_mode,
    changes,
    playbook,
    site_processes,
    stored,
)

LEGACY = PROJECT / "tests" / "fixtures" / "legacy-cgi-bin"
ALPHA, ALPHA_ALIAS, BETA, NOBODY = "alpha.test", "www.alpha.test", "beta.test", "gamma.test"
ALPHA_CA = f"/etc/apache2/ssl/cgi-kit-site-{ALPHA}-ca.pem"
ALPHA_DB = f"/var/lib/apache-cgi-kit-sites/{ALPHA}/kit.sqlite3"
BETA_DATA = f"/var/lib/apache-cgi-kit-sites/{BETA}"
SIDES = ["inside", "controller"]


def make_given_certificate(folder: Path, name: str) -> dict[str, str]:
    """A test CA and, from it, a P-256 certificate for ``name`` and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    # Signs certificates and revocation lists, nothing else.
    ca_usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Sites test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ca_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = {"ca": "ca.pem", "certificate": "chain.pem", "key": "key.pem"}
    files = {role: folder / file for role, file in files.items()}
    files["ca"].write_bytes(ca.public_bytes(pem))
    files["certificate"].write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    files["key"].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return {role: str(path) for role, path in files.items()}


@pytest.fixture(scope="module")
def hosts(pytestconfig) -> list:
    return [testinfra.get_host(spec) for spec in pytestconfig.getoption("hosts").split(",")]


@pytest.fixture(scope="module")
def given(tmp_path_factory) -> dict[str, str]:
    return make_given_certificate(tmp_path_factory.mktemp("beta-tls"), BETA)


def sites_file(folder: Path, sites: list[dict]) -> str:
    path = folder / "sites.yml"
    path.write_text(yaml.safe_dump({"apache_sites": sites}))
    return f"@{path}"


@pytest.fixture(scope="module")
def two_sites(given, tmp_path_factory) -> list[dict]:
    beta_scripts = tmp_path_factory.mktemp("beta") / "cgi-bin"
    beta_scripts.mkdir()
    for name in ("tutorial.py", "hello.sh"):
        shutil.copy2(LEGACY / name, beta_scripts / name)
    alpha_scripts = SCENARIO_SCRIPTS if SCENARIO_SCRIPTS.is_dir() else PROJECT / "cgi-bin"
    return [
        {
            "server_name": ALPHA,
            "server_aliases": [ALPHA_ALIAS],
            "scripts_src": str(alpha_scripts),  # the host's apache_cgi_mode
        },
        {
            "server_name": BETA,
            "mode": "cgi",
            "scripts_src": str(beta_scripts),
            "certificate_file": given["certificate"],
            "certificate_key_file": given["key"],
        },
    ]


class Restore:
    """The converge back to the kit's single site, made once: by the test that looks
    at it, or when the module ends whatever happened before."""

    result = None

    @classmethod
    def run(cls):
        if cls.result is None:
            cls.result = playbook()
        return cls.result


@pytest.fixture(scope="module")
def served(hosts, two_sites, tmp_path_factory):
    """The hosts converged with the two sites."""
    result = playbook("-e", sites_file(tmp_path_factory.mktemp("sites"), two_sites))
    try:
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        yield result
    finally:
        restored = Restore.run()
        assert restored.returncode == 0, restored.stdout[-4000:]


def alpha(host, side: str, name: str = ALPHA, scheme: str = "https") -> Client:
    certificate = host.file(ALPHA_CA).content_string if scheme == "https" else ""
    return Client(host, side, scheme, server_name=name, certificate=certificate)


def beta(host, side: str, given: dict[str, str]) -> Client:
    return Client(host, side, server_name=BETA, certificate=Path(given["ca"]).read_text())


def default_rows(host) -> int | None:
    """The rows of the kit's single site, None where it has no database yet."""
    return stored(host) if host.file(DB).exists else None


def test_each_name_gets_its_own_sites_scripts(hosts, served, given):
    for host in hosts:
        for side in SIDES:
            for client in (alpha(host, side), alpha(host, side, ALPHA_ALIAS)):
                hello = client.get("/cgi-bin/hello.py")
                assert hello.status == 200, hello
                assert "<form" in hello.body
                assert client.get("/cgi-bin/tutorial.py").status == 404
            client = beta(host, side, given)
            tutorial = client.get("/cgi-bin/tutorial.py?name=Ada&happy=on")
            assert tutorial.status == 200, tutorial
            assert "Ada" in tutorial.body
            assert client.get("/cgi-bin/hello.sh").body.startswith("Hello from sh: GET")
            assert client.get("/cgi-bin/hello.py").status == 404


def test_each_site_presents_its_own_certificate_and_no_other(hosts, served, given):
    """Each client checks the certificate against the name it asked for (SNI): alpha's
    CA, made on the host, does not vouch for beta, nor the given CA for alpha."""
    for host in hosts:
        alpha_ca = host.file(ALPHA_CA).content_string
        beta_ca = Path(given["ca"]).read_text()
        for name, wrong in [(BETA, alpha_ca), (ALPHA, beta_ca)]:
            client = Client(host, "controller", server_name=name, certificate=wrong)
            with pytest.raises(ssl.SSLCertVerificationError):
                client.get("/cgi-bin/hello.py")


@pytest.mark.parametrize("side", SIDES)
def test_a_name_no_site_serves_gets_a_plain_refusal(hosts, served, side):
    """Over HTTPS the default host answers 421, over HTTP 404, with nothing of either
    site's; so does a request that names the host by its address."""
    for host in hosts:
        https = Client(host, side, certificate=host.file(ALPHA_CA).content_string)
        http = Client(host, side, "http")
        for name in (NOBODY, "127.0.0.1"):
            for client, status in [(https, 421), (http, 404)]:
                reply = client.get("/cgi-bin/hello.py", Host=name)
                assert reply.status == status, reply
                assert "<form" not in reply.body
                assert "Hello" not in reply.body
                static = client.get("/kit-static/kit.css", Host=name)
                assert static.status == status


def test_plain_http_sends_each_name_to_its_own_https_origin(hosts, served):
    for host in hosts:
        for name in (ALPHA, ALPHA_ALIAS):
            reply = alpha(host, "inside", name, scheme="http").get("/cgi-bin/hello.py?name=Ada")
            if HTTP_REDIRECTS:
                assert reply.status == 301
                origin = f"https://{ALPHA}" + ("" if HTTPS_PORT == 443 else f":{HTTPS_PORT}")
                assert reply.headers["location"] == f"{origin}/cgi-bin/hello.py?name=Ada"
            else:
                assert reply.status == 200


def test_a_submission_lands_in_its_sites_database_alone(hosts, served):
    for host in hosts:
        before_default = default_rows(host)
        client = alpha(host, "controller")
        reply = client.post_form(
            "/cgi-bin/feedback.py",
            "name=Sites+test&mood=happy&message=alpha",
            Origin=f"https://{ALPHA}",
            **SAME_ORIGIN,
        )
        assert reply.status == 303, reply
        assert stored(host, "Sites test", db=ALPHA_DB) == 1
        assert default_rows(host) == before_default
        assert host.file(ALPHA_DB).mode == 0o600
        assert host.run("ls -A %s", BETA_DATA).stdout == ""


def test_each_site_logs_to_its_own_files(hosts, served, given):
    for host in hosts:
        alpha(host, "inside").get("/cgi-bin/hello.py", User_Agent="alpha-log-probe")
        beta(host, "inside", given).get("/cgi-bin/hello.sh", User_Agent="beta-log-probe")
        alpha_log = host.file(f"/var/log/apache2/{ALPHA}-access.log").content_string
        beta_log = host.file(f"/var/log/apache2/{BETA}-access.log").content_string
        assert "alpha-log-probe" in alpha_log
        assert "beta-log-probe" not in alpha_log
        assert "beta-log-probe" in beta_log
        assert "alpha-log-probe" not in beta_log
        assert host.file(f"/var/log/apache2/{ALPHA}-error.log").exists
        json_lines = host.file(f"/var/log/apache2/{ALPHA}-access.json.log").content_string
        probes = [line for line in json_lines.splitlines() if "alpha-log-probe" in line]
        assert [json.loads(line)["site"] for line in probes] == [ALPHA]


def test_each_site_runs_in_its_own_mode(hosts, served):
    """alpha.test in the host's mode (persistent mode: its processes named by the site);
    beta.test as CGI (its own setting), with none; the single site's gone from the list."""
    for host in hosts:
        count = int(SETTINGS["apache_cgi_wsgi_processes"]) if cgi_mode(host) == "wsgi" else 0
        alpha_processes = [f"wsgi:{ALPHA}"] * count
        assert site_processes(host, alpha_processes) == alpha_processes
        reply = alpha(host, "controller").post_form("/cgi-bin/hello.py", "name=Mode")
        assert "Hello, Mode!" in reply.body


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        ([{"scripts_src": "/tmp"}], "missing required arguments: server_name"),
        (
            [
                {"server_name": ALPHA, "scripts_src": str(PROJECT / "cgi-bin")},
                {
                    "server_name": "other.test",
                    "server_aliases": ["ALPHA.test"],
                    "scripts_src": str(PROJECT / "cgi-bin"),
                },
            ],
            "appear once across every site",
        ),
        (
            [{"server_name": ALPHA, "scripts_src": "/nonexistent/cgi-bin"}],
            "/nonexistent/cgi-bin on the controller must hold at least one script",
        ),
    ],
    ids=["no-server-name", "a-name-twice", "no-such-folder"],
)
def test_a_wrong_site_list_fails_before_any_change(hosts, served, given, sites, message, tmp_path):
    result = playbook("-e", sites_file(tmp_path, sites))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output, output[-3000:]
    assert all(changed == "0" for changed, _ in changes(result)), output[-3000:]
    for host in hosts:
        assert alpha(host, "inside").get("/cgi-bin/hello.py").status == 200
        assert beta(host, "inside", given).get("/cgi-bin/tutorial.py").status == 200


@pytest.fixture(scope="module")
def emptied(hosts, served):
    """The list emptied: one converge back to the kit's single site."""
    return Restore.run()


def test_sites_taken_out_of_the_list_lose_their_virtual_hosts(hosts, emptied):
    assert emptied.returncode == 0, emptied.stdout[-4000:]
    for name in (ALPHA, BETA):
        assert f"The site {name} is no longer in apache_sites" in emptied.stdout
    for host in hosts:
        available = host.run("ls /etc/apache2/sites-available").stdout.split()
        assert not [name for name in available if name.startswith(("cgi-kit-site-", "000-cgi-kit"))]
        enabled = host.run("ls /etc/apache2/sites-enabled").stdout.split()
        assert sorted(enabled) == ["cgi-kit-http.conf", "cgi-kit-https.conf"]
        # beta.test now reaches the kit's single site, which has no tutorial.
        reply = Client(host, "inside").get("/cgi-bin/tutorial.py", Host=BETA)
        assert reply.status == 404
        assert Client(host, "inside").get("/cgi-bin/hello.py").status == 200
        # alpha.test's processes gone; the single site's back where the host wants them.
        count = int(SETTINGS["apache_cgi_wsgi_processes"]) if cgi_mode(host) == "wsgi" else 0
        assert site_processes(host, ["wsgi:cgi-kit"] * count) == ["wsgi:cgi-kit"] * count


def test_the_data_of_a_site_taken_out_stays(hosts, emptied):
    for host in hosts:
        assert stored(host, "Sites test", db=ALPHA_DB) == 1
        assert host.file(f"/usr/lib/cgi-kit-sites/{BETA}/cgi-bin/tutorial.py").exists
    assert f"Its data stays in {BETA_DATA}" in emptied.stdout
