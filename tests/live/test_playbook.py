"""The playbook against converged hosts: check mode reports no change."""

from __future__ import annotations

import os
import re
import subprocess

from conftest import PROJECT


def test_check_diff_on_converged_hosts_changes_nothing():
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "--check",
            "--diff",
            "playbook.yml",
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    recap = re.findall(
        r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
        result.stdout,
        re.MULTILINE,
    )
    assert len(recap) == 2, result.stdout[-2000:]
    for host, changed, unreachable, failed in recap:
        assert (changed, unreachable, failed) == ("0", "0", "0"), f"{host}: {result.stdout[-3000:]}"
    assert "--- before" not in result.stdout  # no diff shown
