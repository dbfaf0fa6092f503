#!/usr/bin/env python3
"""Run some of a scenario's live tests against the hosts Molecule left up.

    molecule converge -s default              # bring the hosts up (and side_effect)
    .venv/bin/python scripts/live_test.py default tests/live/test_http.py -k hello

The first argument names the scenario; the rest go to pytest.  The tests get
what ``molecule verify`` would give them: the scenario's hosts, its
environment (provisioner.env) and Molecule's own variables, read from the
scenario's merged configuration in Molecule's ephemeral folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

__all__ = ["ephemeral_directory", "main"]

PROJECT = Path(__file__).resolve().parents[1]


def ephemeral_directory(scenario: str) -> Path:
    """Molecule's folder for this project's scenario: the one whose configuration names
    this project (Molecule keys it by the project folder's name alone)."""
    if os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY"):
        return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    for folder in sorted(Path.home().glob(f".ansible/tmp/molecule.*.{scenario}")):
        config = folder / "molecule.yml"
        if config.is_file() and str(PROJECT / "roles") in config.read_text():
            return folder
    sys.exit(f"live_test: no hosts of scenario {scenario}: run `molecule converge -s {scenario}`")


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    scenario, pytest_args = argv[0], argv[1:]
    folder = ephemeral_directory(scenario)
    config = yaml.safe_load((folder / "molecule.yml").read_text())
    environment = dict(os.environ)
    # Molecule keeps provisioner.env under "ansible" in the configuration it writes.
    scenario_env = config.get("ansible", {}).get("env") or config["provisioner"].get("env", {})
    environment.update({name: str(value) for name, value in scenario_env.items()})
    environment.update(
        MOLECULE_EPHEMERAL_DIRECTORY=str(folder),
        MOLECULE_FILE=str(folder / "molecule.yml"),
        MOLECULE_INVENTORY_FILE=str(folder / "inventory" / "ansible_inventory.yml"),
        MOLECULE_PROJECT_DIRECTORY=str(PROJECT),
        MOLECULE_SCENARIO_NAME=scenario,
    )
    hosts = " ".join(config["verifier"]["options"]["hosts"].split())
    tests = (PROJECT / "molecule" / scenario / config["verifier"]["directory"]).resolve()
    # Paths given are the caller's; without one, every test of the scenario runs.
    paths = [str(Path(arg).resolve()) if Path(arg).exists() else arg for arg in pytest_args]
    if not any(Path(arg).exists() for arg in pytest_args):
        paths.append(str(tests))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--hosts={hosts}"]
    os.chdir(PROJECT)
    os.execve(sys.executable, [*command, *paths], environment)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
