"""The roles' seams: no role reads another's internal variables; every template names its
role and mirrors the path it is written to; the templates and the tasks agree on that."""

from __future__ import annotations

import re

import pytest
from cgirun import PROJECT

ROLES = sorted(path.name for path in (PROJECT / "roles").iterdir() if path.is_dir())
INTERNAL = re.compile(r"\b__([a-z0-9_]+)")


def files_of(role: str) -> list:
    """The role's task, variable, handler and default files, and its templates."""
    folders = [PROJECT / "roles" / role, PROJECT / "templates" / role]
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in (".yml", ".j2") and not path.is_symlink()
    )


NOT_VARIABLES = {"pycache"}  # __pycache__, named in a comment


@pytest.mark.parametrize("role", ROLES)
def test_a_role_reads_no_internal_variable_of_another(role):
    """Every __name a role's files use is its own: prefixed with its name (the longest
    role name that fits, so apache_cgi's are not apache's)."""
    for path in files_of(role):
        for name in {
            found.rstrip("_") for found in INTERNAL.findall(path.read_text())
        } - NOT_VARIABLES:
            owner = max((r for r in ROLES if name.startswith(r + "_")), key=len, default=None)
            assert owner == role, f"{path.relative_to(PROJECT)} uses __{name} (owner: {owner})"


@pytest.mark.parametrize(
    "template",
    sorted((PROJECT / "templates").rglob("*.j2")),
    ids=lambda path: str(path.relative_to(PROJECT / "templates")),
)
def test_every_template_names_its_role_and_its_own_path(template):
    relative = template.relative_to(PROJECT)
    role = relative.parts[1]
    assert role in ROLES, relative
    first, second = template.read_text().splitlines()[:2]
    assert first == "{{ ansible_managed | comment }}"
    assert second == f"# Written by the {role} role from {relative.as_posix()}."


@pytest.mark.parametrize("role", ROLES)
def test_a_role_uses_only_its_own_templates(role):
    for path in (PROJECT / "roles" / role / "tasks").glob("*.yml"):
        for source in re.findall(r"src: \"\{\{ (__\w+_templates) \}\}", path.read_text()):
            assert source == f"__{role}_templates", path
