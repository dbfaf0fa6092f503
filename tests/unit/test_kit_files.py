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


# The script checks (check_scripts) and the manifest: what the apache_cgi role
# deploys as CGI programs.

PYTHON_SHEBANG = f"#!{sys.executable}\n".encode()
PYTHON313 = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions/3.13.0/bin/python3.13"


@pytest.fixture
def scripts(tmp_path) -> tuple[Path, Path]:
    """A folder of scripts that can all run, and their destination after a first deploy."""
    src, dest = tmp_path / "scripts", tmp_path / "cgi-bin"
    src.mkdir()
    (src / "hello.py").write_bytes(PYTHON_SHEBANG + b"print('Content-Type: text/plain\\n')\n")
    (src / "hello.sh").write_bytes(b"#!/bin/sh\necho 'Content-Type: text/plain'\n")
    (src / "env.sh").write_bytes(b"#!/usr/bin/env sh\necho\n")
    (src / "hello.pl").write_bytes(
        b"#!/usr/bin/perl -w\nprint qq(Content-Type: text/plain\\n\\n);\n"
    )
    (src / "true.cgi").write_bytes(Path("/bin/true").read_bytes())  # a compiled program
    deploy(src, dest, check_scripts=True)
    return src, dest


def live(dest: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in dest.iterdir() if path.is_file()}


def test_scripts_that_can_run_pass_the_checks(scripts):
    src, dest = scripts
    assert sorted(live(dest)) == sorted(path.name for path in src.iterdir())
    assert deploy(src, dest, check_scripts=True)["changed"] is False


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        (b"#!/bin/sh\r\necho hi\r\n", "its shebang line ends in a CR (Windows line endings)"),
        (b"print('no shebang')\n", "it has no shebang line (#!) and is not a compiled program"),
        (
            b"#!/usr/bin/nonesuch\n",
            "its interpreter /usr/bin/nonesuch is not installed on the host",
        ),
        (b"#!/usr/bin/env nonesuch\n", "its interpreter 'nonesuch' (through /usr/bin/env) is not"),
        (b"#!python3\n", "its shebang names 'python3', not an absolute path"),
        (b"#!\n", "its shebang line names no interpreter"),
        (b"", "it is empty"),
        (PYTHON_SHEBANG + b"print('a'\n", "line 2: '(' was never closed (Python 3."),
        (PYTHON_SHEBANG + b"x = 1\0\n", "source code"),
        (b"#!/bin/sh\n" + b"#" * 200, "it is 210 bytes, more than the 100 allowed"),
    ],
)
def test_a_script_that_cannot_run_fails_naming_it_and_changes_nothing(scripts, content, fault):
    src, dest = scripts
    before = live(dest)
    (src / "hello.sh").write_bytes(b"#!/bin/sh\necho changed\n")  # a good change: held back
    (src / "broken.cgi").write_bytes(content)
    with pytest.raises(AssertionError) as failure:
        deploy(src, dest, check_scripts=True, max_size=100 if b"#" * 200 in content else 10485760)
    message = str(failure.value)
    assert f"{src}/broken.cgi: {fault}" in message
    assert "nothing on the host was changed" in message
    assert live(dest) == before


def test_every_faulty_script_is_named_at_once(scripts):
    src, dest = scripts
    (src / "a.cgi").write_bytes(b"no shebang\n")
    (src / "b.cgi").write_bytes(b"#!/bin/nonesuch\n")
    with pytest.raises(AssertionError, match=r"2 of the scripts can't run") as failure:
        deploy(src, dest, check_scripts=True)
    assert "a.cgi: it has no shebang" in str(failure.value)
    assert "b.cgi: its interpreter /bin/nonesuch" in str(failure.value)


def test_a_program_built_for_another_machine_is_refused(scripts):
    src, dest = scripts
    program = bytearray(Path("/bin/true").read_bytes())
    program[18:20] = b"\xb7\x00" if program[18:20] != b"\xb7\x00" else b"\x3e\x00"
    (src / "foreign.cgi").write_bytes(bytes(program))
    with pytest.raises(AssertionError, match="a compiled program for another kind of machine"):
        deploy(src, dest, check_scripts=True)


def test_a_broken_link_in_the_source_fails_naming_it(scripts):
    src, dest = scripts
    (src / "gone.py").symlink_to(src / "nowhere")
    with pytest.raises(AssertionError, match=r"gone\.py: not a regular file \(a broken link"):
        deploy(src, dest, check_scripts=True)


def test_the_scan_names_the_scripts_that_import_the_legacy_cgi_modules(scripts):
    src, dest = scripts
    (src / "tutorial.py").write_bytes(PYTHON_SHEBANG + b"import cgi, sys\n")
    (src / "debug.py").write_bytes(PYTHON_SHEBANG + b"if True:\n    from cgitb import enable\n")
    (src / "other.py").write_bytes(PYTHON_SHEBANG + b"import cgikit  # not cgi\n# import cgi\n")
    result = deploy(src, dest, scan=True)
    assert (result["changed"], result["imports_cgi"]) == (False, ["debug.py", "tutorial.py"])
    assert "tutorial.py" not in live(dest)  # the scan writes nothing


def test_the_scan_names_the_scripts_persistent_mode_can_serve(scripts):
    """Python scripts that import cgikit, or a helper of lib/ that does (through another
    too), and no legacy module; not a legacy script, a shell script or a plain one."""
    src, dest = scripts
    (src / "lib").mkdir()
    (src / "lib" / "cgikit.py").write_bytes(b"import posix\n")
    (src / "lib" / "form.py").write_bytes(b"import cgikit\n")
    (src / "lib" / "page.py").write_bytes(b"from form import handle\n")
    (src / "lib" / "plain.py").write_bytes(b"import json\n")
    (src / "direct.py").write_bytes(PYTHON_SHEBANG + b"import cgikit\n")
    (src / "through.py").write_bytes(PYTHON_SHEBANG + b"import sys\nimport page\n")
    (src / "plain.py").write_bytes(PYTHON_SHEBANG + b"import plain\n")
    (src / "legacy.py").write_bytes(PYTHON_SHEBANG + b"import cgi\nimport cgikit\n")
    (src / "shell.sh").write_bytes(b"#!/bin/sh\n# import cgikit\nimport cgikit\n")
    result = deploy(src, dest, scan=True)
    assert result["in_process"] == ["direct.py", "through.py"]


@pytest.mark.skipif(not PYTHON313.exists(), reason=f"no Python 3.13 at {PYTHON313}")
def test_a_script_importing_cgi_fails_where_python_has_no_cgi_module(scripts):
    """Python 3.13 removed the cgi module: without python3-legacy-cgi, the check says so."""
    src, dest = scripts
    (src / "tutorial.py").write_bytes(f"#!{PYTHON313}\nimport cgi\n".encode())
    with pytest.raises(AssertionError) as failure:
        deploy(src, dest, check_scripts=True)
    assert "tutorial.py: imports cgi, which this Python lacks (Python 3.13" in str(failure.value)


def test_a_script_removed_from_the_source_goes_and_nothing_else(scripts, tmp_path):
    src, dest = scripts
    manifest = tmp_path / "state" / "cgi-bin.json"
    assert deploy(src, dest, manifest=str(manifest))["changed"] is True  # recorded
    (dest / "theirs.cgi").write_text("another package's CGI\n")
    (src / "hello.sh").unlink()
    preview = deploy(src, dest, "--check", "--diff", manifest=str(manifest))
    assert (preview["changed"], preview["removed"]) == (True, ["hello.sh"])
    [diff] = preview["diff"]
    assert (diff["before_header"], diff["after_header"]) == (str(dest / "hello.sh"), "/dev/null")
    assert (dest / "hello.sh").exists()
    assert deploy(src, dest, manifest=str(manifest))["removed"] == ["hello.sh"]
    assert not (dest / "hello.sh").exists()
    assert (dest / "theirs.cgi").read_text() == "another package's CGI\n"
    assert json.loads(manifest.read_text())["files"] == sorted(live(dest).keys() - {"theirs.cgi"})
    assert deploy(src, dest, manifest=str(manifest))["changed"] is False


def test_a_removed_module_goes_with_its_byte_code(folders, tmp_path):
    src, dest = folders
    manifest = tmp_path / "lib.json"
    deploy(src, dest, compile=sys.executable, manifest=str(manifest), mode="0644")
    assert list((dest / "__pycache__").glob("a.*.pyc"))
    (src / "a.py").unlink()
    assert deploy(src, dest, manifest=str(manifest), mode="0644")["removed"] == ["a.py"]
    assert not list((dest / "__pycache__").glob("a.*.pyc"))


def test_a_binary_or_empty_file_added_or_removed_shows_in_the_diff(folders, tmp_path):
    """Ansible prints a diff only where before and after differ: a compiled program or
    an empty file has no text to show, so the diff says what it is instead."""
    src, dest = folders
    manifest = tmp_path / "scripts.json"
    (src / "hello.cgi").write_bytes(b"\x7fELF\x02\x01\x01\0" + bytes(100))
    (src / "empty.sh").write_bytes(b"")
    added = deploy(src, dest, "--diff", manifest=str(manifest))
    shown = {Path(diff["after_header"]).name: diff for diff in added["diff"]}
    assert shown["hello.cgi"]["after"].startswith("(binary or large file, 108 bytes, sha256 ")
    assert shown["empty.sh"]["after"] == "(empty file)\n"
    (src / "hello.cgi").unlink()
    (src / "empty.sh").unlink()
    preview = deploy(src, dest, "--check", "--diff", manifest=str(manifest))
    assert sorted(preview["removed"]) == ["empty.sh", "hello.cgi"]
    for diff in preview["diff"]:
        assert diff["after_header"] == "/dev/null"
        assert diff["before"] == shown[Path(diff["before_header"]).name]["after"]
        assert diff["before"] != diff["after"]
