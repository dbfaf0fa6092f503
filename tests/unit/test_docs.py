"""The variables are documented once: argument specs, the defaults that match them, the README."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from cgirun import PROJECT

ROLES = sorted(path.parent.parent.name for path in PROJECT.glob("roles/*/meta/argument_specs.yml"))


def spec_options(role: str) -> dict:
    specs = yaml.safe_load((PROJECT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["options"]


def test_every_role_has_argument_specs():
    roles = sorted(path.name for path in (PROJECT / "roles").iterdir() if path.is_dir())
    assert roles == ROLES
    assert ROLES == ["apache", "apache_cgi", "apache_exporter", "apache_https"]


def test_the_readme_tables_are_the_ones_made_from_the_specs():
    result = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "variables_doc.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("role", ROLES)
def test_the_defaults_are_the_ones_the_specs_give(role):
    """Each public variable in defaults/main.yml has a spec with the same default."""
    defaults = yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())
    options = spec_options(role)
    assert set(defaults) == set(options), role
    for name, value in defaults.items():
        if "default" in options[name]:
            assert options[name]["default"] == value, name


@pytest.mark.parametrize("role", ROLES)
def test_every_option_says_what_it_means(role):
    for name, option in spec_options(role).items():
        assert name.startswith(f"{role}_"), name
        assert option.get("description"), name
        assert option.get("type"), name
