"""The name constraints of the CA the apache_https role makes, for a DNS name and for an
IPv4 address: the values the role renders (its vars/main.yml, through Ansible), put into
a CA by openssl on this machine, and leaves signed by that CA verified by openssl; the
server's own leaf by a strict verifier (Python's cryptography) too.

The live tests sign leaves with the CA a test host made (a DNS-named host); this covers
the server named by its address too, which no scenario has.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cgirun import PROJECT

BIN = Path(sys.executable).parent
VARS = PROJECT / "roles" / "apache_https" / "vars" / "main.yml"
WANTED = [
    "__apache_https_ca_permitted",
    "__apache_https_ca_excluded",
    "__apache_https_server_cn",
    "__apache_https_selfsigned_names",
]


def rendered(server_name: str, folder: Path) -> dict:
    """The role's values for this server name, as Ansible renders them."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [str(VARS)],
            "vars": {
                "apache_kit": {"conf_dir": "/etc/apache2"},
                "__apache_https_site": {"server_name": server_name, "names": [server_name]},
            },
            "tasks": [{"debug": {"msg": {name: f"{{{{ {name} }}}}" for name in WANTED}}}],
        }
    ]
    playbook = folder / "render.yml"
    playbook.write_text(json.dumps(play))
    environment = dict(
        os.environ,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    task = json.loads(result.stdout)["plays"][0]["tasks"][0]
    return task["hosts"]["localhost"]["msg"]


def openssl_name(name: str) -> str:
    """A constraint as openssl's configuration writes it (an IP network with its mask)."""
    if not name.startswith("IP:"):
        return name
    network = ipaddress.ip_network(name[3:])
    return f"IP:{network.network_address}/{network.netmask}"


def openssl(*args: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", *args], cwd=folder, capture_output=True, text=True, check=False
    )


def make_ca(values: dict, folder: Path) -> None:
    constraints = [f"permitted;{openssl_name(name)}" for name in values[WANTED[0]]]
    constraints += [f"excluded;{openssl_name(name)}" for name in values[WANTED[1]]]
    result = openssl(
        *("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"),
        *("-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test host CA"),
        *("-addext", "basicConstraints=critical,CA:TRUE,pathlen:0"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
        *("-addext", "nameConstraints=critical," + ",".join(constraints)),
        folder=folder,
    )
    assert result.returncode == 0, result.stderr


def verdict(common_name: str, alt_name: str, folder: Path) -> str:
    """Sign a leaf with the CA and verify it: "OK" or openssl's reason."""
    request = openssl(
        *("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"),
        *("-keyout", "leaf.key", "-out", "leaf.csr", "-subj", f"/CN={common_name}"),
        folder=folder,
    )
    assert request.returncode == 0, request.stderr
    (folder / "extensions").write_text(f"subjectAltName={alt_name}\n" if alt_name else "")
    signed = openssl(
        *("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
        *("-set_serial", "1", "-days", "1", "-extfile", "extensions", "-out", "leaf.pem"),
        folder=folder,
    )
    assert signed.returncode == 0, signed.stderr
    verified = openssl("verify", "-CAfile", "ca.pem", "leaf.pem", folder=folder)
    if verified.returncode == 0:
        return "OK"
    return "excluded" if "excluded subtree" in verified.stdout + verified.stderr else "permitted"


@pytest.mark.parametrize(
    ("server_name", "leaves"),
    [
        (
            "kit.example.org",
            [
                ("{cn}", "{san}", "OK"),  # the server's own certificate
                ("kit.example.org", "IP:203.0.113.5", "excluded"),
                ("other.example", "DNS:other.example", "permitted"),
                ("other.example", "", "permitted"),  # a CN-only leaf
            ],
        ),
        (
            "192.0.2.10",
            [
                ("{cn}", "{san}", "OK"),
                ("other", "IP:192.0.2.11", "permitted"),
                ("evil.example", "DNS:evil.example", "permitted"),
                ("evil.example", "", "permitted"),
                ("192.0.2.10", "IP:192.0.2.10", "permitted"),  # an address as CN reads as DNS
            ],
        ),
    ],
)
def test_the_host_ca_signs_for_its_server_alone(tmp_path, server_name, leaves):
    values = rendered(server_name, tmp_path)
    make_ca(values, tmp_path)
    for common_name, alt_name, expected in leaves:
        cn = common_name.format(cn=values["__apache_https_server_cn"])
        san = alt_name.format(san=",".join(values["__apache_https_selfsigned_names"]))
        assert verdict(cn, san, tmp_path) == expected, (server_name, cn, san)
        if expected == "OK":
            assert strictly_verified(server_name, tmp_path)


def strictly_verified(server_name: str, folder: Path) -> bool:
    """The last leaf verified by a strict RFC 5280 verifier too (Python's cryptography,
    as sslyze and rustls-like clients verify): a constraint it finds malformed would
    make it trust nothing from the CA."""
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store

    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    leaf = x509.load_pem_x509_certificate((folder / "leaf.pem").read_bytes())
    try:
        subject: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(server_name))
    except ValueError:
        subject = x509.DNSName(server_name)
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(subject)
    verifier.verify(leaf, [])  # raises VerificationError
    return True
