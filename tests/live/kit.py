"""What the live checks share: the project's paths, the scenario's settings, HTTP(S) from both
sides of a test host, the playbook run against the hosts, and what the hosts stored."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpprobe
import testinfra
import yaml

PROJECT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(path for path in (PROJECT / "cgi-bin").iterdir() if path.is_file())
LIB_FILES = sorted((PROJECT / "cgi-bin" / "lib").glob("*.py"))
CGI_DIR = "/usr/lib/cgi-bin"
LIB_DIR = "/usr/local/lib/apache-cgi-kit"
# The copy of cgi-bin/ with the test scripts that molecule/default/side_effect.yml
# converges from (absent before it and in the other scenarios).
SCENARIO_SCRIPTS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "cgi-bin"
WEB_USER = "www-data"
# Sent to the hosts to make requests from inside them.
PROBE_SOURCE = Path(httpprobe.__file__).read_text()


def scenario_settings() -> dict:
    """The roles' variables as the scenario's play gets them: the roles' defaults, and
    over them the group variables molecule.yml gives the webservers (read from the
    scenario's merged configuration, MOLECULE_FILE), so each setting is written once."""
    settings: dict = {}
    for defaults in sorted(PROJECT.glob("roles/*/defaults/main.yml")):
        settings.update(yaml.safe_load(defaults.read_text()))
    if os.environ.get("MOLECULE_FILE"):
        config = yaml.safe_load(Path(os.environ["MOLECULE_FILE"]).read_text())
        group_vars = config["provisioner"].get("inventory", {}).get("group_vars", {})
        settings.update(group_vars.get("webservers", {}))
    return settings


def host_settings() -> dict[str, dict]:
    """The host variables molecule.yml gives each host, by host name."""
    if not os.environ.get("MOLECULE_FILE"):
        return {}
    config = yaml.safe_load(Path(os.environ["MOLECULE_FILE"]).read_text())
    return config["provisioner"].get("inventory", {}).get("host_vars", {}) or {}


SETTINGS = scenario_settings()
HOST_SETTINGS = host_settings()


def cgi_mode(host) -> str:
    """How the host serves the kit's scripts (apache_cgi_mode): its host variable, else
    the scenario's setting."""
    own = HOST_SETTINGS.get(host.backend.get_hostname(), {})
    return own.get("apache_cgi_mode", SETTINGS["apache_cgi_mode"])


def site_processes(host, expected: list[str], patience: float = 10) -> list[str]:
    """The names ps shows for the long-lived processes of persistent mode (wsgi:SITE),
    sorted, once they are ``expected`` or ``patience`` seconds have passed (after a
    reload, the old processes finish their requests first, the new ones start)."""
    deadline = time.monotonic() + patience
    while True:
        lines = host.check_output("ps -eo args=").splitlines()
        names = sorted(line.split()[0] for line in lines if line.startswith("wsgi:"))
        if names == expected or time.monotonic() > deadline:
            return names
        time.sleep(0.5)


HTTPS_PORT = int(SETTINGS["apache_https_port"])
# apache_https_redirect defaults to apache_https_enabled (true in every scenario).
HTTP_REDIRECTS = SETTINGS["apache_https_redirect"] is not False
MPM = SETTINGS["apache_mpm"]
LISTEN_PORTS = [str(port) for port in SETTINGS["apache_listen_ports"]]
# The CA clients trust: the one that signed the certificate the scenario gave
# the play (a file on the controller), or else the host's own CA.
TRUSTED_CA = os.environ.get("KIT_TRUSTED_CA", "")
HOST_CA = "/etc/apache2/ssl/apache-cgi-kit-ca.pem"
DATA_DIR = "/var/lib/apache-cgi-kit"
DB = f"{DATA_DIR}/kit.sqlite3"
PASSWORD = os.environ.get("KIT_DASHBOARD_PASSWORD", "")
SAME_ORIGIN = {"Sec_Fetch_Site": "same-origin"}
# The play recap's line for each host: name, changed, unreachable, failed.
RECAP = re.compile(
    r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


class Reply:
    """An HTTP response as a user sees it."""

    def __init__(self, raw: dict) -> None:
        self.status: int = raw["status"]
        self.headers: dict[str, str] = {name.lower(): value for name, value in raw["headers"]}
        self.header_names: list[str] = [name.lower() for name, _ in raw["headers"]]
        self.raw_headers: list[tuple[str, str]] = [(name, value) for name, value in raw["headers"]]
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


def host_names(pytestconfig) -> list[str]:
    """The names of the hosts under test (--hosts), as the inventory knows them."""
    specs = pytestconfig.getoption("hosts").split(",")
    return [testinfra.get_host(spec).backend.get_hostname() for spec in specs]


def trusted_ca(host) -> str:
    """The PEM of the CA that HTTPS clients of this host trust."""
    return Path(TRUSTED_CA).read_text() if TRUSTED_CA else host.file(HOST_CA).content_string


class Client:
    """HTTPS (or plain HTTP) to one test host, from inside it or from the controller.

    HTTPS trusts only the host's own CA certificate, read from the host.
    """

    def __init__(
        self,
        host,
        side: str,
        scheme: str = "https",
        port: int | None = None,
        source: str = "",
        server_name: str = "",
        certificate: str = "",
    ) -> None:
        self.host = host
        self.side = side
        self.source = source  # inside only: the loopback address to send from
        # The name asked for (Host, SNI), which the certificate must be valid for.
        self.server_name = server_name
        port = port or (HTTPS_PORT if scheme == "https" else 80)
        self.port = (
            published_port(host.backend.get_hostname(), port) if side == "controller" else port
        )
        self.certificate = (certificate or trusted_ca(host)) if scheme == "https" else None

    def request(self, method: str, path: str, body: str = "", **headers: str) -> Reply:
        """Send a request; header names use underscores for dashes (Content_Type)."""
        args = {
            "port": self.port,
            "method": method,
            "path": path,
            "body": body,
            "headers": {name.replace("_", "-"): value for name, value in headers.items()},
            "certificate": self.certificate,
        }
        if self.source:
            args["source"] = self.source
        if self.server_name:
            args["server_name"] = self.server_name
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


def playbook(*args: str, strategy: str = "") -> subprocess.CompletedProcess:
    """Run the project's playbook against the scenario's hosts; its output as text.

    ``strategy`` "mitogen_linear" runs it with Mitogen's strategy (opt-in, see the README).
    """
    env = playbook_env()
    if strategy:
        import ansible_mitogen.plugins.strategy

        plugins = os.path.dirname(ansible_mitogen.plugins.strategy.__file__)
        # The deprecation warning says that a strategy of another package ran.
        env.update(
            ANSIBLE_STRATEGY=strategy,
            ANSIBLE_STRATEGY_PLUGINS=plugins,
            ANSIBLE_DEPRECATION_WARNINGS="True",
        )
    return subprocess.run(
        playbook_command(*args),
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def playbook_command(*args: str) -> list[str]:
    """ansible-playbook with Molecule's inventory of the scenario's hosts, from the
    scripts the scenario last converged with: the side effect's copy of cgi-bin/
    with the test scripts where it made one (from the project's own, the run would
    remove them)."""
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "playbook.yml"]
    if SCENARIO_SCRIPTS.is_dir():
        command += ["-e", f"apache_cgi_scripts_src={SCENARIO_SCRIPTS}"]
    return command + list(args)


def playbook_env() -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"))
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
    return env


def changes(result: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    """(changed, failed) per host, from the play recap."""
    return [(changed, failed) for _, changed, _, failed in RECAP.findall(result.stdout)]


def changed_tasks(result: subprocess.CompletedProcess) -> list[str]:
    """The names of the tasks (and handlers) that reported a change, in order."""
    names, task = [], ""
    for line in result.stdout.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed: ") and (not names or names[-1] != task):
            names.append(task)
    return names


def basic(user: str, password: str) -> str:
    """An Authorization header value for Basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def stored(host, name: str | None = None, db: str = DB) -> int:
    """Rows in the database (with this name), read by the web server's user."""
    query = "SELECT count(*) FROM feedback" + (" WHERE name = ?" if name else "")
    code = (
        f"import sqlite3, sys; c = sqlite3.connect('file:{db}?mode=ro', uri=True); "
        "print(c.execute(sys.argv[1], sys.argv[2:]).fetchone()[0])"
    )
    args = [name] if name else []
    return int(
        host.check_output(
            f"runuser -u {WEB_USER} -- python3 -c %s %s" + " %s" * len(args), code, query, *args
        )
    )


def all_rows(host) -> list[list]:
    """Every stored submission, as the web server's user reads it: id, time, name, mood, text."""
    code = (
        f"import json, sqlite3; c = sqlite3.connect('file:{DB}?mode=ro', uri=True); "
        "print(json.dumps(c.execute('SELECT * FROM feedback ORDER BY id').fetchall()))"
    )
    return json.loads(host.check_output(f"runuser -u {WEB_USER} -- python3 -c %s", code))


def make_certificate(folder, name: str, key_type: str = "mismatched") -> tuple[str, str]:
    """A self-signed certificate for ``name`` and a key, as PEM files.

    ``key_type`` "mismatched": a P-256 certificate and a key that does NOT belong
    to it; "rsa1024": a matching pair whose key is too weak for Mozilla's profile.
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if key_type == "rsa1024":
        signing_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        given_key = signing_key
    else:
        signing_key = ec.generate_private_key(ec.SECP256R1())
        given_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(signing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(signing_key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "server.pem", folder / "given.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        given_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(certificate_file), str(key_file)


def slow_loris(port: int, patience: float) -> tuple[float, bytes]:
    """Send a request's header lines to 127.0.0.1:port one every few seconds, never
    ending them, until the server closes the connection or ``patience`` seconds pass;
    how long that took, and what the server answered."""
    received = b""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(b"GET /cgi-bin/hello.py HTTP/1.1\r\nHost: slow.example\r\n")
        while time.monotonic() - start < patience:
            try:
                connection.sendall(b"X-Slow: 1\r\n")
                chunk = connection.recv(4096)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
    return time.monotonic() - start, received
