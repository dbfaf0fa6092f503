#!/usr/bin/env python3
"""The README's variable tables, made from the roles' argument specs.

    variables_doc.py          rewrite the tables in README.md
    variables_doc.py --check  exit 1, saying which role's table differs, if any does

``roles/ROLE/meta/argument_specs.yml`` is the one source of each variable's type,
default, choices and meaning (``ansible-doc -t role`` shows the same).  In the
README, each role's table sits between ``<!-- variables: ROLE -->`` and
``<!-- end of variables: ROLE -->``; everything else in the README is left alone.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ROLES", "main", "render", "specs", "table"]

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
ROLES = PROJECT / "roles"
HEADER = "| Variable | Type | Default | Meaning |\n| --- | --- | --- | --- |\n"


def specs(role: str) -> dict[str, dict[str, Any]]:
    """The options of a role's main entry point, by variable name, in the file's order."""
    data = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    options: dict[str, dict[str, Any]] = data["argument_specs"]["main"]["options"]
    return options


def shown_default(option: dict[str, Any]) -> str:
    """A default as the table shows it: YAML scalars bare, lists and dicts as JSON."""
    if "default" not in option:
        return "see `defaults/main.yml`"
    value = option["default"]
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{json.dumps(value)}`"


def shown_type(option: dict[str, Any]) -> str:
    kind = str(option.get("type", "str"))
    return f"{kind} of {option['elements']}" if "elements" in option else kind


def meaning(option: dict[str, Any]) -> str:
    """The description on one line, with the choices when there are some."""
    description = option.get("description", "")
    text = " ".join(description) if isinstance(description, list) else str(description)
    if "choices" in option:
        text += " One of: " + ", ".join(f"`{choice}`" for choice in option["choices"]) + "."
    return text.replace("|", "\\|")


def rows(name: str, option: dict[str, Any]) -> list[str]:
    """A variable's row, then one per key of its items (``name[].key``) if it has some."""
    default = shown_default(option)
    if option.get("required"):
        default = "required"
    elif "default" not in option and "[]." in name:
        default = "see its meaning" if "Default" in meaning(option) else "none"
    row = f"| `{name}` | {shown_type(option)} | {default} | {meaning(option)} |\n"
    keys = option.get("options", {})
    return [row] + [line for key, sub in keys.items() for line in rows(f"{name}[].{key}", sub)]


def table(role: str) -> str:
    """The Markdown table of a role's variables."""
    return HEADER + "".join(
        line for name, option in specs(role).items() for line in rows(name, option)
    )


def render(readme: str) -> str:
    """The README with each role's table made anew from its specs."""

    def fill(match: re.Match[str]) -> str:
        role = match.group(2)
        return f"{match.group(1)}\n{table(role)}{match.group(3)}"

    return re.sub(
        r"(<!-- variables: (\w+) -->)\n.*?(<!-- end of variables: \2 -->)",
        fill,
        readme,
        flags=re.DOTALL,
    )


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print("usage: variables_doc.py [--check]", file=sys.stderr)
        return 2
    current = README.read_text()
    made = render(current)
    roles = sorted(path.parent.parent.name for path in ROLES.glob("*/meta/argument_specs.yml"))
    missing = [role for role in roles if f"<!-- variables: {role} -->" not in current]
    if missing:
        print(f"variables_doc: README.md has no table for {', '.join(missing)}", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        if made != current:
            print(
                "variables_doc: README.md's variable tables differ from the argument specs;"
                " run scripts/variables_doc.py",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(made)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
