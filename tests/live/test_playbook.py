"""The playbook run again against the converged hosts: check mode and bad input."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from conftest import PROJECT, Client

RECAP = re.compile(
    r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


def playbook(*args: str) -> subprocess.CompletedProcess:
    """Run the project's playbook against Molecule's hosts."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"))
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "playbook.yml", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_diff_on_converged_hosts_changes_nothing(pytestconfig):
    hosts = pytestconfig.getoption("hosts").split(",")
    result = playbook("--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    recap = RECAP.findall(result.stdout)
    assert len(recap) == len(hosts), result.stdout[-2000:]
    for host, changed, unreachable, failed in recap:
        assert (changed, unreachable, failed) == ("0", "0", "0"), f"{host}: {result.stdout[-3000:]}"
    assert "--- before" not in result.stdout  # no diff shown


def test_a_value_apache_rejects_fails_the_play_with_apaches_message(host):
    conf = host.file("/etc/apache2/conf-available/servername.conf")
    before = conf.sha256sum
    client = Client(host, "controller")
    result = playbook("-e", "apache_server_name='two words'", "--limit", host.backend.name)
    assert result.returncode != 0
    assert "ServerName takes one argument" in result.stdout
    assert host.file(conf.path).sha256sum == before
    assert "ServerName two words" not in host.file(conf.path).content_string
    assert client.get("/cgi-bin/hello.py").status == 200
    assert host.service("apache2").is_running


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ("apache_mpm=bogus", "value of apache_mpm must be one of: event, worker, prefork"),
        ("apache_cgi_timeout=soon", "argument 'apache_cgi_timeout' is of type"),
        ("apache_cgi_url_path=cgi-bin", "apache_cgi_url_path starts and ends with"),
        ('{"apache_listen_ports": ["80", "80"]}', "apache_listen_ports must list each port once"),
        ('{"apache_modules_disabled": ["auth_basic"]}', "the kit's own modules"),
        ("apache_cgi_data_dir=/var/www/html/data", "must not be inside"),
    ],
)
def test_a_wrong_variable_fails_before_any_change_with_a_clear_message(host, extra_vars, message):
    result = playbook("-e", extra_vars, "--limit", host.backend.name)
    assert result.returncode != 0
    assert message in result.stdout
    # The play stopped in the validation before the roles: no task that changes anything ran.
    assert "TASK [apache : Install the Apache packages]" not in result.stdout
    assert "TASK [apache_cgi : Deploy the scripts]" not in result.stdout
    recap = RECAP.findall(result.stdout)
    assert [(changed, failed) for _, changed, _, failed in recap] == [("0", "1")]


def test_numbers_given_on_the_command_line_are_accepted(pytestconfig):
    """-e key=value makes every value a string; the roles take the numbers as numbers."""
    result = playbook(
        "--check",
        "-e",
        "apache_cgi_timeout=30",
        "-e",
        "apache_cgi_max_fields=100",
        "-e",
        "apache_cgi_busy_timeout_ms=5000",
        "-e",
        "apache_cgi_dashboard_bcrypt_cost=10",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    recap = RECAP.findall(result.stdout)
    assert len(recap) == len(pytestconfig.getoption("hosts").split(","))
    assert {(changed, failed) for _, changed, _, failed in recap} == {("0", "0")}
