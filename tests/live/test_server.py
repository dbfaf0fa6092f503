"""The server as provisioned: service, modules, configuration, files and modes."""

from __future__ import annotations

import hashlib

import pytest
from kit import (
    CGI_DIR,
    HTTP_REDIRECTS,
    LIB_DIR,
    LIB_FILES,
    LISTEN_PORTS,
    MPM,
    SCRIPTS,
    WEB_USER,
    Client,
)

CTL_ENV = "APACHE_ULIMIT_MAX_FILES=true"


def test_apache_is_running_and_enabled(host):
    """The side effect disabled Apache at boot before its converge: the play enabled it."""
    service = host.service("apache2")
    assert service.is_running
    assert service.is_enabled


def test_the_mpm_with_the_cgi_module_that_fits_it(host):
    mpm = MPM
    cgi, other = ("cgi", "cgid") if mpm == "prefork" else ("cgid", "cgi")
    modules = host.check_output(f"{CTL_ENV} apache2ctl -M")
    loaded = {line.split()[0] for line in modules.splitlines() if line.startswith(" ")}
    assert f"mpm_{mpm}_module" in loaded
    assert len([name for name in loaded if name.startswith("mpm_")]) == 1
    assert f"{cgi}_module" in loaded
    assert f"{other}_module" not in loaded
    assert "autoindex_module" not in loaded
    assert "headers_module" in loaded


@pytest.mark.parametrize("port", LISTEN_PORTS)
def test_apache_listens_on_the_configured_ports(host, port):
    assert (
        host.socket(f"tcp://0.0.0.0:{port}").is_listening
        or host.socket(f"tcp://:::{port}").is_listening
    )
    reply = Client(host, "inside", scheme="http", port=int(port)).get("/cgi-bin/hello.py")
    assert reply.status == (301 if HTTP_REDIRECTS else 200)


def test_configuration_is_clean(host):
    result = host.run(f"{CTL_ENV} apache2ctl configtest")
    assert result.rc == 0, result.stderr
    assert "Syntax OK" in result.stderr
    assert "AH00558" not in result.stderr  # ServerName is set
    assert "overlaps" not in result.stderr  # one ScriptAlias for /cgi-bin/


@pytest.mark.parametrize("path", [CGI_DIR, LIB_DIR])
def test_directories_are_root_owned_and_not_writable_by_apache(host, path):
    directory = host.file(path)
    assert directory.is_directory
    assert (directory.user, directory.group, directory.mode) == ("root", "root", 0o755)
    assert host.run(f"runuser -u {WEB_USER} -- test -w {path}").rc != 0


def assert_root_owned_copy(host, local, remote_dir: str, mode: int):
    """The host's copy of a project file: same bytes, root's, ``mode``, not writable by Apache."""
    deployed = host.file(f"{remote_dir}/{local.name}")
    assert (deployed.user, deployed.group, deployed.mode) == ("root", "root", mode)
    assert deployed.sha256sum == hashlib.sha256(local.read_bytes()).hexdigest()
    assert host.run(f"runuser -u {WEB_USER} -- test -w {deployed.path}").rc != 0
    return deployed


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_project_script_is_deployed_as_root_0755(host, script):
    assert_root_owned_copy(host, script, CGI_DIR, 0o755)


@pytest.mark.parametrize("module", LIB_FILES, ids=lambda path: path.name)
def test_helper_module_is_deployed_and_byte_compiled(host, module):
    deployed = assert_root_owned_copy(host, module, LIB_DIR, 0o644)
    # The cache file the host's own python3 looks for, up to date with the source.
    cached = host.check_output(
        "python3 -c %s %s",
        "import importlib.util, sys; print(importlib.util.cache_from_source(sys.argv[1]))",
        deployed.path,
    )
    pyc = host.file(cached)
    assert (pyc.user, pyc.mode) == ("root", 0o644)
    assert pyc.mtime >= deployed.mtime
    assert host.run(f"runuser -u {WEB_USER} -- test -w {pyc.path}").rc != 0


def test_helper_module_is_outside_the_web_paths(host):
    roots = host.check_output(
        f"{CTL_ENV} apache2ctl -S 2>&1;"
        " cat /etc/apache2/conf-enabled/*.conf /etc/apache2/sites-enabled/*.conf"
    )
    assert LIB_DIR not in roots.replace(f'SetEnv CGIKIT_LIB "{LIB_DIR}"', "")


TOOL = "/usr/local/sbin/apache2-kit-config"


@pytest.mark.parametrize(
    "target",
    [
        "/etc/apache2/../../../root/kit-escape",
        "/etc/apache2/conf-available/../../../root/kit-escape",
        "/etc/apache2/./conf-available//x.conf",
    ],
)
def test_the_root_tool_refuses_a_target_that_climbs_out(host, target):
    """The candidate test writes into a copy of /etc/apache2, as root: a '..' in the
    target would have it write anywhere."""
    result = host.run("%s test /etc/hostname %s", TOOL, target)
    assert result.rc == 2, result.stdout + result.stderr
    assert "is not a plain path" in result.stderr
    assert not host.file("/root/kit-escape").exists


def test_the_root_tool_refuses_a_target_that_is_a_link_out(host):
    """A link in /etc/apache2 (copied as a link) would have the candidate written, as
    root, wherever it points."""
    link = "/etc/apache2/conf-available/kit-test-link.conf"
    target = "/root/kit-test-link-target"
    host.run_expect([0], "printf 'untouched\\n' > %s && ln -sfn %s %s", target, target, link)
    try:
        result = host.run("%s test /etc/hostname %s", TOOL, link)
        assert result.rc == 2, result.stdout + result.stderr
        assert "leads out of /etc/apache2" in result.stderr
        assert host.file(target).content_string == "untouched\n"
    finally:
        host.run_expect([0], "rm -f %s %s", link, target)


@pytest.mark.parametrize("switch", ["+-h", "+--purge", "-..", "+.hidden", "+"])
def test_the_root_tool_refuses_a_name_that_is_an_option(host, switch):
    result = host.run("%s switch mod %s", TOOL, switch)
    assert result.rc == 2, result.stdout + result.stderr
    assert "not a name" in result.stderr or "usage" in result.stderr


def test_a_killed_candidate_test_leaves_no_copy_of_the_keys(host):
    """The candidate test copies /etc/apache2 (private keys included) to /tmp: killed
    half way (TERM while Apache's syntax test runs), it removes the copy."""
    script = f"""
    set -u
    slow=$(mktemp -d)
    printf '#!/bin/sh\\nsleep 3\\n' > "$slow/apache2ctl"
    chmod 0755 "$slow/apache2ctl"
    before=$(find /tmp -maxdepth 2 -name apache2 -type d | wc -l)
    PATH=$slow:$PATH {TOOL} test /etc/apache2/conf-available/security.conf \\
      /etc/apache2/conf-available/security.conf &
    tool=$!
    sleep 1
    during=$(find /tmp -maxdepth 2 -name apache2 -type d | wc -l)
    kill -TERM "$tool"
    wait "$tool"; status=$?
    after=$(find /tmp -maxdepth 2 -name apache2 -type d | wc -l)
    rm -rf "$slow"
    echo "$before $during $after $status"
    """
    before, during, after, status = host.check_output("sh -c %s", script).split()
    assert int(during) == int(before) + 1  # the copy was there when the signal came
    assert after == before
    assert status == "143"
