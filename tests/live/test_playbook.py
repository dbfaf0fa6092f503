"""The playbook run again against the converged hosts: check mode and bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from kit import (
    HTTP_REDIRECTS,
    LISTEN_PORTS,
    RECAP,
    SETTINGS,
    TRUSTED_CA,
    Client,
    changed_tasks,
    changes,
    host_names,
    make_certificate,
    playbook,
)

# The scenario's apache_listen_ports, as the play's messages list them.
HTTP_PORTS = ", ".join(LISTEN_PORTS)


def assert_every_host_unchanged(result, pytestconfig) -> None:
    """The play recap names every host under test, each with nothing changed or failed."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    recap = RECAP.findall(result.stdout)
    assert len(recap) == len(host_names(pytestconfig)), result.stdout[-2000:]
    for host, changed, unreachable, failed in recap:
        assert (changed, unreachable, failed) == ("0", "0", "0"), f"{host}: {result.stdout[-3000:]}"


def test_check_diff_on_converged_hosts_changes_nothing(pytestconfig):
    result = playbook("--check", "--diff")
    assert_every_host_unchanged(result, pytestconfig)
    assert "--- before" not in result.stdout  # no diff shown
    # The play says when HTTPS uses a certificate it made itself.
    assert ("from a CA made on the host" in result.stdout) is not bool(TRUSTED_CA)


def test_the_play_run_with_mitogen_finds_nothing_to_change(pytestconfig):
    """Mitogen's strategy (opt-in) runs the same play: on the converged hosts, a real run
    changes nothing and fails nothing."""
    result = playbook(strategy="mitogen_linear")
    assert_every_host_unchanged(result, pytestconfig)
    # ansible-core's word that a strategy of another package ran (Mitogen's, found there).
    assert "strategy plugins not included in ansible.builtin" in result.stderr
    assert "TASK [apache_cgi : Deploy each site's scripts]" in result.stdout


def test_without_a_password_the_dashboard_would_be_closed_to_everyone(pytestconfig):
    """Check mode with the password unset: the dashboard is denied and the hash file goes."""
    first = host_names(pytestconfig)[0]
    result = playbook("--check", "--diff", "-e", "apache_cgi_dashboard_password=", "--limit", first)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "+        Require all denied" in result.stdout
    assert "-            Require valid-user" in result.stdout
    # The password file would go.
    assert (
        '"path": "/etc/apache2/cgi-kit.htpasswd",\n-    "state": "file"\n+    "state": "absent"'
        in result.stdout
    )


def test_https_off_is_one_switch(pytestconfig):
    """Check mode with apache_https_enabled=false alone: the HTTPS site, which alone sends
    HSTS, would be disabled, and the redirect would go."""
    first = host_names(pytestconfig)[0]
    result = playbook(
        "--check", "--diff", "-v", "-e", "apache_https_enabled=false", "--limit", first
    )
    assert result.returncode == 0, result.stdout[-3000:]
    changed = changed_tasks(result)
    assert (
        "apache_https : Enable the virtual hosts; disable Debian's own and those of the kit's"
        " no longer wanted" in changed
    )
    # The kit's tool, asked in check mode, says what it would switch (shown with -v).
    assert '"stdout": "would disable site cgi-kit-https"' in result.stdout, result.stdout[-3000:]
    added = [line for line in result.stdout.splitlines() if line.startswith("+")]
    assert not [line for line in added if "Strict-Transport-Security" in line]
    assert ("-    Redirect permanent / https://" in result.stdout) is HTTP_REDIRECTS


@pytest.mark.skipif(
    not TRUSTED_CA, reason="the play makes its own certificate here (no KIT_TRUSTED_CA)"
)
def test_the_certificate_given_as_vault_content_serves_as_the_files_do(pytestconfig, tmp_path):
    """The scenario gives the certificate and key as files on the controller; given
    instead as content encrypted with Ansible Vault, they are the same: check mode
    with --diff finds nothing to change."""
    tls = Path(TRUSTED_CA).parent
    password = tmp_path / "vault-password"
    password.write_text("a test-only vault password\n")
    lines = ["apache_https_certificate_file: ''", "apache_https_certificate_key_file: ''"]
    encrypt = ["ansible-vault", "encrypt_string", "--vault-password-file", str(password)]
    for name, file in [
        ("apache_https_certificate", "server-chain.pem"),
        ("apache_https_certificate_key", "server.key"),
    ]:
        encrypted = subprocess.run(
            [*encrypt, "--stdin-name", name],
            input=(tls / file).read_text(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "$ANSIBLE_VAULT;" in encrypted
        lines.append(encrypted)
    vault_vars = tmp_path / "vault.yml"
    vault_vars.write_text("\n".join(lines) + "\n")
    result = playbook(
        "--check", "--diff", "-e", f"@{vault_vars}", "--vault-password-file", str(password)
    )
    assert_every_host_unchanged(result, pytestconfig)
    assert "TASK [apache_https : Install the given private key]" in result.stdout
    assert "--- before" not in result.stdout


@pytest.mark.parametrize(
    ("key_type", "message"),
    [
        ("mismatched", "does not match the given private key; nothing was changed"),
        ("rsa1024", "(RSA, 1024 bits) is weaker than Mozilla's intermediate profile allows"),
    ],
)
def test_a_certificate_that_cannot_serve_changes_nothing(host, tmp_path, key_type, message):
    name = host.backend.get_hostname()
    live = host.file("/etc/apache2/ssl/apache-cgi-kit.pem").sha256sum
    certificate, key = make_certificate(tmp_path, name, key_type)
    result = playbook(
        "-e",
        f"apache_https_certificate_file={certificate}",
        "-e",
        f"apache_https_certificate_key_file={key}",
        "--limit",
        name,
    )
    assert result.returncode != 0
    assert message in result.stdout
    assert changes(result) == [("0", "1")]
    assert host.file("/etc/apache2/ssl/apache-cgi-kit.pem").sha256sum == live
    assert Client(host, "controller").get("/cgi-bin/hello.py").status == 200


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ("apache_mpm=bogus", "value of apache_mpm must be one of: event, worker, prefork"),
        ("apache_cgi_timeout=soon", "argument 'apache_cgi_timeout' is of type"),
        ("apache_cgi_url_path=cgi-bin", "apache_cgi_url_path starts and ends with"),
        ('{"apache_listen_ports": ["80", "80"]}', "apache_listen_ports must list each port once"),
        ('{"apache_modules_disabled": ["auth_basic"]}', "the kit's own modules"),
        ("apache_cgi_data_dir=/var/www/html/data", "must not be inside"),
        ("apache_cgi_dashboard_password=short", "at least 12 characters long"),
        (
            '{"apache_https_enabled": false, "apache_https_hsts": true}',
            "(HSTS and a redirect to HTTPS need HTTPS)",
        ),
        (
            '{"apache_https_enabled": false, "apache_https_redirect": true}',
            "(HSTS and a redirect to HTTPS need HTTPS)",
        ),
        ("apache_https_certificate_key=x", "a key without a certificate"),
        ("apache_https_certificate=x", "a certificate without a key can't work"),
        (
            "apache_https_port=80",
            f"that is not also in apache_listen_ports ({HTTP_PORTS}); got 80.",
        ),
        ('{"apache_security_headers": {"X-Test": "a\\"b"}}', "values without double quotes"),
        # A line break from a dynamic inventory must not write directives of its own.
        (
            '{"apache_server_name": "kit.example.org\\nErrorLog \\"|/bin/touch /tmp/owned\\""}',
            "apache_server_name must be a host name",
        ),
        ("apache_server_name=kit.example.org:443", "without a port"),
        ('{"apache_server_name": "kit.example.org\\n"}', "apache_server_name must be a host name"),
        ("apache_server_name=2001:db8::1", "Apache's ServerName takes no IPv6 address"),
        ('{"apache_cgi_dashboard_allow_from": ["10.0.0.1/99"]}', "addresses or networks like"),
        ('{"apache_modules_disabled": ["reqtimeout"]}', "the kit's own modules"),
        ("apache_timeout=0", "apache_timeout is 1 to 3600 seconds (got 0)"),
        ('{"apache_request_read_timeout": "header=20 header=30"}', "RequestReadTimeout's syntax"),
        (
            '{"apache_cgi_htpasswd_file": "/etc/apache2/x\\" \\nAuthUserFile /etc/shadow"}',
            "apache_cgi_htpasswd_file and apache_cgi_backup_dir are absolute paths without spaces,"
            " line breaks, quotes",
        ),
    ],
)
def test_a_wrong_variable_fails_before_any_change_with_a_clear_message(host, extra_vars, message):
    result = playbook("-e", extra_vars, "--limit", host.backend.get_hostname())
    assert result.returncode != 0
    assert message in result.stdout
    # The play stopped in the validation before the roles: no task that changes anything ran.
    assert "TASK [apache : Install the Apache packages]" not in result.stdout
    assert "TASK [apache_cgi : Deploy each site's scripts]" not in result.stdout
    assert changes(result) == [("0", "1")]


def test_numbers_given_on_the_command_line_are_accepted(pytestconfig):
    """-e key=value makes every value a string; the roles take the numbers as numbers."""
    numbers = [
        "apache_cgi_timeout",
        "apache_cgi_max_fields",
        "apache_cgi_busy_timeout_ms",
        "apache_cgi_dashboard_bcrypt_cost",
        "apache_cgi_max_rows",
        "apache_cgi_post_limit",
        "apache_https_hsts_max_age",
        "apache_timeout",
        "apache_limit_request_body",
    ]
    options = [option for name in numbers for option in ("-e", f"{name}={SETTINGS[name]}")]
    result = playbook("--check", *options)
    assert_every_host_unchanged(result, pytestconfig)
