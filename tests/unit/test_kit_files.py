"""The collection's kit_files module (the apache_cgi role's deploy), run by ansible-playbook
on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cgirun import PROJECT

PLUGINS = PROJECT / "plugins"
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="kit_files sets owners: run as root")


def deploy(
    src: Path, dest: Path, *options: str, beside: Path | None = None, **args: object
) -> dict:
    """One kit_files task from src to dest, in a playbook ``beside`` the source (its
    folder by default); the task's result."""
    arguments = {"src": str(src), "dest": str(dest), "mode": "0755", **args}
    playbook = (beside or src.parent) / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [{"kit_files": arguments, "register": "r"}, {"debug": {"var": "r"}}],
                }
            ]
        )
    )
    environment = dict(
        os.environ,
        ANSIBLE_LIBRARY=str(PLUGINS / "modules"),
        ANSIBLE_ACTION_PLUGINS=str(PLUGINS / "action"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-c", "local", str(playbook), *options],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    tasks = json.loads(result.stdout)["plays"][0]["tasks"]
    return tasks[0]["hosts"]["localhost"]


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    (src / "a.py").write_text("print('a')\n")
    (src / "b.sh").write_bytes(b"#!/bin/sh\necho b\n")
    (src / "sub").mkdir()  # not a file: left out
    return src, dest


def test_a_new_folder_is_made_and_filled(folders):
    src, dest = folders
    result = deploy(src, dest)
    assert result["changed"] is True
    assert result["written"] == ["a.py", "b.sh"]
    assert sorted(path.name for path in dest.iterdir()) == ["a.py", "b.sh"]
    assert (dest / "b.sh").read_bytes() == b"#!/bin/sh\necho b\n"
    assert oct((dest / "a.py").stat().st_mode & 0o7777) == "0o755"
    assert oct(dest.stat().st_mode & 0o7777) == "0o755"


def test_a_second_run_changes_nothing(folders):
    src, dest = folders
    deploy(src, dest)
    again = deploy(src, dest)
    assert (again["changed"], again["written"], again["fixed"]) == (False, [], [])


def test_only_what_differs_is_written_and_files_not_given_stay(folders):
    src, dest = folders
    deploy(src, dest)
    (src / "a.py").write_text("print('A')\n")
    (dest / "b.sh").chmod(0o700)
    (dest / "theirs.cgi").write_text("not the kit's\n")
    result = deploy(src, dest)
    assert (result["written"], result["fixed"]) == (["a.py"], ["b.sh"])
    assert (dest / "a.py").read_text() == "print('A')\n"
    assert oct((dest / "b.sh").stat().st_mode & 0o7777) == "0o755"
    assert (dest / "theirs.cgi").read_text() == "not the kit's\n"
    assert not [path for path in dest.iterdir() if path.name.startswith(".kit_files-")]


def test_a_verbose_run_shows_the_names_not_the_contents(folders):
    src, dest = folders
    result = deploy(src, dest)
    assert result["invocation"]["module_args"]["files"] == ["a.py", "b.sh"]


def test_check_mode_with_diff_shows_the_change_and_writes_nothing(folders):
    src, dest = folders
    deploy(src, dest)
    (src / "a.py").write_text("print('A')\n")
    result = deploy(src, dest, "--check", "--diff")
    assert (result["changed"], result["written"]) == (True, ["a.py"])
    [diff] = result["diff"]
    assert (diff["before"], diff["after"]) == ("print('a')\n", "print('A')\n")
    assert (dest / "a.py").read_text() == "print('a')\n"


def test_python_files_are_byte_compiled_after_a_change(folders):
    src, dest = folders
    first = deploy(src, dest, compile=sys.executable, mode="0644")
    assert first["compiled"] is True
    assert list((dest / "__pycache__").glob("a.*.pyc"))
    assert deploy(src, dest, compile=sys.executable, mode="0644")["changed"] is False


def test_a_missing_source_folder_fails_unless_it_may_be_missing(folders, tmp_path):
    _, dest = folders
    assert deploy(tmp_path / "none", dest, src_optional=True)["written"] == []
    with pytest.raises(AssertionError, match="is not a folder on the controller"):
        deploy(tmp_path / "none", dest)


def test_hidden_files_stay_behind(folders):
    src, dest = folders
    (src / ".hello.py.swp").write_text("an editor's swap file\n")
    (src / ".DS_Store").write_bytes(b"\0\1")
    assert deploy(src, dest)["written"] == ["a.py", "b.sh"]
    assert not (dest / ".hello.py.swp").exists()


def test_a_link_where_a_file_belongs_is_replaced_not_followed(folders, tmp_path):
    src, dest = folders
    deploy(src, dest)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("print('a')\n")  # the same content
    elsewhere.chmod(0o600)
    (dest / "a.py").unlink()
    (dest / "a.py").symlink_to(elsewhere)
    assert deploy(src, dest)["written"] == ["a.py"]
    assert not (dest / "a.py").is_symlink()
    assert oct(elsewhere.stat().st_mode & 0o7777) == "0o600"  # untouched


def test_a_directory_where_a_file_belongs_fails_naming_it(folders):
    src, dest = folders
    (dest / "a.py").mkdir(parents=True)
    with pytest.raises(AssertionError, match=r"a\.py is not a regular file"):
        deploy(src, dest)


def test_missing_parents_are_made_readable_whatever_the_umask(folders, tmp_path):
    src, _ = folders
    dest = tmp_path / "deep" / "er" / "dest"
    old = os.umask(0o077)
    try:
        deploy(src, dest, mode=0o644)  # a number, as YAML makes of 0644
    finally:
        os.umask(old)
    for folder in (tmp_path / "deep", tmp_path / "deep" / "er", dest):
        assert oct(folder.stat().st_mode & 0o7777) == "0o755", folder
    assert oct((dest / "a.py").stat().st_mode & 0o7777) == "0o644"


def test_a_relative_source_is_found_beside_the_playbook(folders):
    src, dest = folders
    assert deploy(Path(src.name), dest, beside=src.parent)["written"] == ["a.py", "b.sh"]
