"""The kit as a collection: the tarball ansible-galaxy builds, and an install of it into an
empty folder that a five-line playbook uses by the roles' full names (the no-systemd
Molecule scenario converges a host that way)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from cgirun import PROJECT

BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((PROJECT / "galaxy.yml").read_text())
ROLES = ["apache", "apache_https", "apache_cgi", "apache_exporter"]
FIVE_LINES = """\
- hosts: webservers
  roles:
    - cgikit.kit.apache
    - cgikit.kit.apache_https
    - cgikit.kit.apache_cgi
"""


def run(*command: str, cwd: Path = PROJECT, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(Path.home()), **env}
    result = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("build")
    run(str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(folder), ".")
    [built] = folder.glob("*.tar.gz")
    return built


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> Path:
    """An empty folder with the collection installed into it."""
    folder = tmp_path_factory.mktemp("collections")
    # --force: into this folder even where another copy is installed (Molecule keeps one).
    run(
        str(BIN / "ansible-galaxy"),
        "collection",
        "install",
        "--force",
        "-p",
        str(folder),
        str(tarball),
    )
    return folder


def test_the_tarball_is_named_for_the_collection_and_its_version(tarball):
    assert tarball.name == f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def test_the_tarball_holds_the_roles_and_what_they_deploy_and_no_tests(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    for kept in [
        "roles/apache/tasks/main.yml",
        "roles/apache_cgi/meta/argument_specs.yml",
        "templates/apache_https/etc/apache2/sites-available/cgi-kit-https.conf.j2",
        "cgi-bin/hello.py",
        "cgi-bin/lib/cgikit.py",
        "static/kit.css",
        "meta/runtime.yml",
        "CHANGELOG.md",
        "changelogs/changelog.yaml",
        "tests/sanity/ignore-2.19.txt",
    ]:
        assert kept in names, kept
    for left_out in [
        "tests/unit",
        "tests/live",
        "tests/faults",
        "molecule",
        "benchmark",
        "artifacts",
        "results",
        "scripts",
        ".venv",
    ]:
        assert not [name for name in names if name == left_out or name.startswith(left_out + "/")]
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_the_installed_roles_are_known_by_their_full_names(installed):
    listed = run(
        str(BIN / "ansible-doc"),
        "-t",
        "role",
        "-l",
        "cgikit.kit",
        ANSIBLE_COLLECTIONS_PATH=str(installed),
    ).stdout
    for role in ROLES:
        assert f"cgikit.kit.{role}" in listed


def test_a_five_line_playbook_uses_them(installed, tmp_path):
    (tmp_path / "site.yml").write_text(FIVE_LINES)
    (tmp_path / "hosts.ini").write_text("[webservers]\nweb1.example.org\n")
    result = run(
        str(BIN / "ansible-playbook"),
        "-i",
        "hosts.ini",
        "site.yml",
        "--syntax-check",
        cwd=tmp_path,
        ANSIBLE_COLLECTIONS_PATH=str(installed),
    )
    assert "playbook: site.yml" in result.stdout
